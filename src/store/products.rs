//! `products`: banks' green-finance products, in force between two dates unless withdrawn.

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
pub enum ProductKind {
    #[sea_orm(string_value = "green_loan")]
    GreenLoan,
    #[sea_orm(string_value = "transition_loan")]
    TransitionLoan,
    #[sea_orm(string_value = "retrofit_loan")]
    RetrofitLoan,
    #[sea_orm(string_value = "green_bond")]
    GreenBond,
    #[sea_orm(string_value = "credit_line")]
    CreditLine,
    #[sea_orm(string_value = "other")]
    Other,
}

impl ProductKind {
    pub const ALL: [ProductKind; 6] = [
        ProductKind::GreenLoan,
        ProductKind::TransitionLoan,
        ProductKind::RetrofitLoan,
        ProductKind::GreenBond,
        ProductKind::CreditLine,
        ProductKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProductKind::GreenLoan => "green_loan",
            ProductKind::TransitionLoan => "transition_loan",
            ProductKind::RetrofitLoan => "retrofit_loan",
            ProductKind::GreenBond => "green_bond",
            ProductKind::CreditLine => "credit_line",
            ProductKind::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Option<ProductKind> {
        ProductKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub bank_id: super::ids::AccountId,
    pub name: String,
    pub kind: ProductKind,
    /// JSON array of grades.
    pub grades: String,
    /// JSON object grade → basis points.
    pub rate_steps: String,
    pub max_amount_10k_cny: String,
    pub term_months: i32,
    pub divisions: String,
    pub districts: String,
    /// JSON array of the carbon-efficiency levels taken (1–5); `[]`: any, or none stated.
    pub carbon_levels: String,
    /// The least share of the firm's energy its code must state as attested (claim 8), per
    /// cent; `None`: any.
    pub min_attested_share: Option<i32>,
    pub valid_from: Date,
    pub valid_until: Date,
    pub description: String,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
