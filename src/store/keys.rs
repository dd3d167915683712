//! `signing_keys`: the public halves of code and log keys with their status and windows, as
//! published (the secrets stay in files under the data directory).

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;

use super::columns::StoredAlgorithm;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    pub purpose: String,
    /// The key's signature algorithm (the log's is always Ed25519).
    pub algorithm: StoredAlgorithm,
    pub public_x: String,
    /// An SM2 key's second coordinate (token.md §9); none for Ed25519.
    pub public_y: Option<String>,
    pub status: String,
    pub not_before: DateTimeUtc,
    pub not_after: Option<DateTimeUtc>,
    pub compromised_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Inserts or updates a key's public record.
pub async fn upsert<C: ConnectionTrait>(db: &C, model: Model) -> Result<(), DbErr> {
    Entity::insert(ActiveModel {
        kid: Set(model.kid),
        purpose: Set(model.purpose),
        algorithm: Set(model.algorithm),
        public_x: Set(model.public_x),
        public_y: Set(model.public_y),
        status: Set(model.status),
        not_before: Set(model.not_before),
        not_after: Set(model.not_after),
        compromised_at: Set(model.compromised_at),
    })
    .on_conflict(
        OnConflict::column(Column::Kid)
            .update_columns([Column::Status, Column::NotAfter, Column::CompromisedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}
