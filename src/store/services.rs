//! `services`: green services that providers publish, listed once a regulator approves them.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a service helps with; matched against the levers of a firm's way up.
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
#[serde(rename_all = "lowercase")]
pub enum Category {
    #[sea_orm(string_value = "energy")]
    Energy,
    #[sea_orm(string_value = "waste")]
    Waste,
    #[sea_orm(string_value = "certification")]
    Certification,
    #[sea_orm(string_value = "carbon")]
    Carbon,
    #[sea_orm(string_value = "finance")]
    Finance,
    #[sea_orm(string_value = "other")]
    Other,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Energy,
        Category::Waste,
        Category::Certification,
        Category::Carbon,
        Category::Finance,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Energy => "energy",
            Category::Waste => "waste",
            Category::Certification => "certification",
            Category::Carbon => "carbon",
            Category::Finance => "finance",
            Category::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// A service is listed only while approved.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "suspended")]
    Suspended,
}

impl ServiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::Pending => "pending",
            ServiceStatus::Approved => "approved",
            ServiceStatus::Suspended => "suspended",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub provider_id: super::ids::AccountId,
    pub name: String,
    pub category: Category,
    pub description: String,
    /// A JSON array of district names; empty: everywhere.
    pub districts: String,
    pub contact: String,
    pub status: ServiceStatus,
    pub created_at: DateTimeUtc,
    pub reviewed_by: Option<super::ids::AccountId>,
    pub reviewed_at: Option<DateTimeUtc>,
}

impl Model {
    pub fn district_list(&self) -> Vec<String> {
        serde_json::from_str(&self.districts).unwrap_or_default()
    }

    /// Offered in this district (an empty list: everywhere).
    pub fn serves(&self, district: &str) -> bool {
        let list = self.district_list();
        list.is_empty() || list.iter().any(|d| d == district)
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
