//! `webhooks`, their outbox of deliveries and every attempt, and the codes whose "expiring"
//! notice has gone out.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bank_id: super::ids::AccountId,
    pub url: String,
    /// `whsec_…`: needed to sign every delivery, so kept; shown once, never again.
    #[serde(skip)]
    pub secret: String,
    pub created_at: DateTimeUtc,
    pub disabled_at: Option<DateTimeUtc>,
    /// When its deliveries began failing (none while the endpoint answers 2xx).
    pub failing_since_ms: Option<i64>,
    /// Why the service stopped it (failing for five days); none when the bank stopped it.
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub mod deliveries {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub webhook_id: i64,
        pub message_id: String,
        pub event_type: String,
        pub payload: String,
        pub created_ms: i64,
        pub next_attempt_ms: i64,
        /// A worker holds the delivery until then (another replica skips it).
        pub claimed_until_ms: i64,
        pub attempts: i32,
        pub delivered_ms: Option<i64>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attempts {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub delivery_id: i64,
        pub at_ms: i64,
        pub status: Option<i32>,
        pub error: Option<String>,
        pub duration_ms: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod expiry_notices {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "expiry_notices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub serial: i64,
        pub at_ms: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
