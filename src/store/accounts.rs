//! `accounts`: who may log in, with which role, for which firm.

use std::fmt;
use std::str::FromStr;

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// What an account may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, utoipa::ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[sea_orm(string_value = "regulator")]
    Regulator,
    #[sea_orm(string_value = "bank")]
    Bank,
    #[sea_orm(string_value = "firm")]
    Firm,
    /// A green-service provider (服务机构): publishes services, answers firms' requests.
    #[sea_orm(string_value = "provider")]
    Provider,
    /// A data source (数据源单位): a power or gas company, the statistics bureau, an energy
    /// monitoring platform; delivers attested readings of the fields it may attest.
    #[sea_orm(string_value = "source")]
    Source,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Regulator => "regulator",
            Role::Bank => "bank",
            Role::Firm => "firm",
            Role::Provider => "provider",
            Role::Source => "source",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "regulator" => Ok(Role::Regulator),
            "bank" => Ok(Role::Bank),
            "firm" => Ok(Role::Firm),
            "provider" => Ok(Role::Provider),
            "source" => Ok(Role::Source),
            other => Err(format!(
                "unknown role {other:?}: expected regulator, bank, firm, provider or source"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "accounts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: super::ids::AccountId,
    #[sea_orm(unique)]
    pub username: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub firm_id: Option<super::ids::FirmId>,
    pub org: Option<String>,
    /// For a data source: the fields it may attest (JSON list of names), none otherwise.
    pub attests: Option<String>,
    /// A person and a telephone, shown to the other party of an application or a request.
    pub contact: Option<String>,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find_by_username<C: ConnectionTrait>(
    db: &C,
    username: &str,
) -> Result<Option<Model>, DbErr> {
    use sea_orm::QueryOrder;
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    // Usernames are one whatever their case (NFKC and case folded on the way in); accounts
    // made before that rule keep their spelling and are found by their lower case.
    Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(Column::Username)))
                .eq(crate::service::accounts::normal_username(username)),
        )
        .order_by_asc(Column::Id)
        .one(db)
        .await
}

/// The accounts of these ids.
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<Model>, DbErr> {
    super::rows_in::<Entity, _, _>(db, Column::Id, ids).await
}
