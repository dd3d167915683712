//! `applications`: a firm applies for a product with its consent to share its figures; the bank
//! decides. `application_accesses` records every read of consented data.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "declined")]
    Declined,
    #[sea_orm(string_value = "more_info")]
    MoreInfo,
}

impl ApplicationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Approved => "approved",
            ApplicationStatus::Declined => "declined",
            ApplicationStatus::MoreInfo => "more_info",
        }
    }

    /// Still waiting for the bank's decision.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Submitted | ApplicationStatus::MoreInfo
        )
    }
}

/// What the firm lets the bank see: the grade only, or its figures and trace too.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    #[sea_orm(string_value = "grade")]
    Grade,
    #[sea_orm(string_value = "trace")]
    Trace,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_id: i64,
    pub firm_id: super::ids::FirmId,
    pub code_serial: i64,
    pub amount_10k_cny: String,
    pub purpose: String,
    pub consent_scope: ConsentScope,
    pub consent_expires_on: Date,
    pub consent_withdrawn_at: Option<DateTimeUtc>,
    pub status: ApplicationStatus,
    pub decision_amount_10k_cny: Option<String>,
    pub decision_rate_step_bp: Option<i32>,
    pub decision_term_months: Option<i32>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<crate::store::ids::AccountId>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_by: Option<crate::store::ids::AccountId>,
    pub created_at: DateTimeUtc,
}

impl Model {
    /// The consent holds on `today`: not withdrawn, not past its last day.
    pub fn consent_in_force(&self, today: Date) -> bool {
        self.consent_withdrawn_at.is_none() && today <= self.consent_expires_on
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// `application_messages`: a bank's request for more and the firm's answers, in order.
pub mod messages {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "application_messages")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: i64,
        /// `bank` or `firm`.
        pub author: String,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `application_files`: the files a firm attached to an answer (content kept in the database).
pub mod files {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "application_files")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: i64,
        /// The answer (`application_messages`) it came with.
        pub message_id: i64,
        pub name: String,
        pub media_type: String,
        pub size: i64,
        pub sha256: String,
        pub content: Vec<u8>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod accesses {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "application_accesses")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: i64,
        pub account_id: Option<crate::store::ids::AccountId>,
        pub actor: String,
        /// `application` (the grade and the code), or `application_trace` (with the figures).
        pub what: String,
        pub at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
