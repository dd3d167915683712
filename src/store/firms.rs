//! `firms`: the industrial firms that hold codes.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "firms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub uscc: String,
    pub name: String,
    pub industry_code: String,
    pub district: String,
    pub created_at: DateTimeUtc,
    /// The grade of the firm's active code, if it has one.
    pub current_grade: Option<super::columns::StoredGrade>,
    pub current_score: Option<String>,
    pub current_serial: Option<i64>,
    pub current_period: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn find_by_uscc<C: ConnectionTrait>(db: &C, uscc: &str) -> Result<Option<Model>, DbErr> {
    Entity::find().filter(Column::Uscc.eq(uscc)).one(db).await
}

/// The firms with these ids, by id (asked in chunks, so any number of ids is one call).
pub async fn by_ids<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, Model>, DbErr> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for part in ids.chunks(500) {
        for firm in Entity::find()
            .filter(Column::Id.is_in(part.to_vec()))
            .all(db)
            .await?
        {
            found.insert(firm.id, firm);
        }
    }
    Ok(found)
}
