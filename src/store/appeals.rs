//! `appeals`: a firm's objection to an issued grade, a note for the regulators' queue.

use sea_orm::entity::prelude::*;
use serde::Serialize;

pub const OPEN: &str = "open";
pub const CLOSED: &str = "closed";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "appeals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub firm_id: i64,
    pub code_serial: Option<i64>,
    pub note: String,
    pub status: String,
    pub raised_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub resolved_by: Option<i64>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
