//! `policies`: support policies (惠企政策) that regulators publish; firms are matched to them
//! without applying.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub issuer: String,
    /// JSON arrays of strings; empty divisions or districts: any.
    pub grades: String,
    pub divisions: String,
    pub districts: String,
    pub requires_certification: Option<String>,
    pub benefit: String,
    pub amount_10k_cny: Option<String>,
    pub valid_from: Date,
    pub valid_until: Date,
    pub url: Option<String>,
    pub created_by: Option<super::ids::AccountId>,
    pub created_at: DateTimeUtc,
}

impl Model {
    pub fn list(text: &str) -> Vec<String> {
        serde_json::from_str(text).unwrap_or_default()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
