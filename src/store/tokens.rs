//! `api_tokens` and `sessions`: bearer tokens and page sessions, stored only as SHA-256 hashes.

use sea_orm::entity::prelude::*;

pub mod api_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: crate::store::ids::AccountId,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sessions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub account_id: crate::store::ids::AccountId,
        #[sea_orm(unique)]
        pub token_hash: String,
        pub created_at: DateTimeUtc,
        pub expires_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Which table a credential lives in: API bearer tokens or page sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Api,
    Session,
}

/// The account behind a live (unexpired) credential with this hash, in one statement (every
/// authenticated request asks).
pub async fn account_for<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    token_hash: &str,
    now: DateTimeUtc,
) -> Result<Option<super::accounts::Model>, DbErr> {
    use sea_orm::sea_query::Query;
    let live = match kind {
        Kind::Api => Query::select()
            .column(api_token::Column::AccountId)
            .from(api_token::Entity)
            .and_where(api_token::Column::TokenHash.eq(token_hash))
            .and_where(api_token::Column::ExpiresAt.gt(now))
            .to_owned(),
        Kind::Session => Query::select()
            .column(session::Column::AccountId)
            .from(session::Entity)
            .and_where(session::Column::TokenHash.eq(token_hash))
            .and_where(session::Column::ExpiresAt.gt(now))
            .to_owned(),
    };
    super::accounts::Entity::find()
        .filter(super::accounts::Column::Id.in_subquery(live))
        .one(db)
        .await
}

pub async fn insert<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    account_id: crate::store::ids::AccountId,
    token_hash: String,
    now: DateTimeUtc,
    expires_at: DateTimeUtc,
) -> Result<(), DbErr> {
    use sea_orm::ActiveValue::Set;
    match kind {
        Kind::Api => {
            api_token::ActiveModel {
                account_id: Set(account_id),
                token_hash: Set(token_hash),
                created_at: Set(now),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
        Kind::Session => {
            session::ActiveModel {
                account_id: Set(account_id),
                token_hash: Set(token_hash),
                created_at: Set(now),
                expires_at: Set(expires_at),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

pub async fn delete_session<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<(), DbErr> {
    session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash))
        .exec(db)
        .await?;
    Ok(())
}

/// One live credential of an account (either kind), without its hash.
pub struct Live {
    pub id: i64,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

/// An account's live credentials of `kind`, oldest first.
pub async fn live_of<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    account_id: crate::store::ids::AccountId,
    now: DateTimeUtc,
) -> Result<Vec<Live>, DbErr> {
    use sea_orm::QueryOrder;
    Ok(match kind {
        Kind::Api => api_token::Entity::find()
            .filter(api_token::Column::AccountId.eq(account_id))
            .filter(api_token::Column::ExpiresAt.gt(now))
            .order_by_asc(api_token::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|t| Live {
                id: t.id,
                created_at: t.created_at,
                expires_at: t.expires_at,
            })
            .collect(),
        Kind::Session => session::Entity::find()
            .filter(session::Column::AccountId.eq(account_id))
            .filter(session::Column::ExpiresAt.gt(now))
            .order_by_asc(session::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|t| Live {
                id: t.id,
                created_at: t.created_at,
                expires_at: t.expires_at,
            })
            .collect(),
    })
}

/// Deletes one of an account's credentials of `kind`; `false` when it has none with that id.
pub async fn delete_of<C: ConnectionTrait>(
    db: &C,
    kind: Kind,
    account_id: crate::store::ids::AccountId,
    id: i64,
) -> Result<bool, DbErr> {
    let deleted = match kind {
        Kind::Api => {
            api_token::Entity::delete_many()
                .filter(api_token::Column::Id.eq(id))
                .filter(api_token::Column::AccountId.eq(account_id))
                .exec(db)
                .await?
        }
        Kind::Session => {
            session::Entity::delete_many()
                .filter(session::Column::Id.eq(id))
                .filter(session::Column::AccountId.eq(account_id))
                .exec(db)
                .await?
        }
    };
    Ok(deleted.rows_affected > 0)
}
