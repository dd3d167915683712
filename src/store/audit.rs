//! `audit_events`: the append-only record of who changed what, written in the same transaction
//! as the change. Nothing in the service updates or deletes a row of it.

use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub actor_id: Option<super::ids::AccountId>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who did it: an account, or the operator at the command line / the system itself.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<crate::store::ids::AccountId>,
    pub name: String,
}

impl Actor {
    pub fn account(id: crate::store::ids::AccountId, username: &str) -> Self {
        Actor {
            id: Some(id),
            name: username.to_owned(),
        }
    }

    pub fn system(name: &str) -> Self {
        Actor {
            id: None,
            name: name.to_owned(),
        }
    }
}

/// One change: what was done to which record, with its state before and after.
#[derive(Clone)]
pub struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    at: DateTimeUtc,
    change: Change<'_>,
) -> Result<(), DbErr> {
    record_many(db, actor, at, vec![change]).await
}

/// Many changes by one actor at one time, in one statement per chunk (bulk imports).
pub async fn record_many<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    at: DateTimeUtc,
    changes: Vec<Change<'_>>,
) -> Result<(), DbErr> {
    for statement in statements(db.get_database_backend(), actor, at, changes) {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The statements [`record_many`] runs, built apart from running them.
pub fn statements(
    backend: sea_orm::DatabaseBackend,
    actor: &Actor,
    at: DateTimeUtc,
    changes: Vec<Change<'_>>,
) -> Vec<sea_orm::Statement> {
    use sea_orm::QueryTrait;
    // 9 columns a row: stay well below SQLite's and PostgreSQL's bound-parameter limits.
    let rows: Vec<ActiveModel> = changes
        .into_iter()
        .map(|change| ActiveModel {
            at: Set(at),
            actor_id: Set(actor.id),
            actor: Set(actor.name.clone()),
            action: Set(change.action.to_owned()),
            target_type: Set(change.target_type.to_owned()),
            target_id: Set(change.target_id),
            before: Set(change.before.map(|v| v.to_string())),
            after: Set(change.after.map(|v| v.to_string())),
            ..Default::default()
        })
        .collect();
    let mut rows = rows.into_iter().peekable();
    let mut statements = Vec::new();
    while rows.peek().is_some() {
        statements.push(backend.build(&Entity::insert_many(rows.by_ref().take(1000)).into_query()));
    }
    statements
}
