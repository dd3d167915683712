//! The transparency log's tables: `log_entries` (the exact bytes of each entry), `log_nodes`
//! (every complete subtree's hash), `log_head` (size and root, the row appends lock) and
//! `checkpoints` (one signed note per size).

use crate::db::WriteTxn;
use std::collections::HashMap;

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{Condition, DatabaseBackend, ExprTrait, QuerySelect};

use crate::tlog::merkle::{self, Hash, NodeId};

pub mod entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "log_entries")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i64,
        pub kind: String,
        pub bytes: String,
        pub leaf_hash: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod node {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "log_nodes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub level: i16,
        #[sea_orm(primary_key, auto_increment = false)]
        pub idx: i64,
        pub hash: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod head {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "log_head")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i32,
        pub size: i64,
        pub root: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod checkpoint {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub size: i64,
        pub root: String,
        pub note: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

const HEAD_ID: i32 = 1;

fn decode_hash(text: &str) -> Result<Hash, DbErr> {
    hex::decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| DbErr::Custom(format!("stored hash {text:?} is not 32 bytes of hex")))
}

/// The log's size and root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
}

/// Creates the head of the empty log if there is none (idempotent, safe under concurrency).
pub async fn ensure_head<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    head::Entity::insert(head::ActiveModel {
        id: Set(HEAD_ID),
        size: Set(0),
        root: Set(hex::encode(merkle::empty_root())),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(OnConflict::column(head::Column::Id).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn read_head<C: ConnectionTrait>(db: &C) -> Result<Head, DbErr> {
    let row = head::Entity::find_by_id(HEAD_ID)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("log head".into()))?;
    Ok(Head {
        size: row.size as u64,
        root: decode_hash(&row.root)?,
    })
}

/// Reads the head for an append, locking it until the transaction ends: `FOR UPDATE` on
/// PostgreSQL; on SQLite the `BEGIN IMMEDIATE` transaction already holds the write lock.
pub async fn lock_head<C: ConnectionTrait>(txn: &C) -> Result<Head, DbErr> {
    let mut select = head::Entity::find_by_id(HEAD_ID);
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        select = select.lock_exclusive();
    }
    let row = select
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("log head".into()))?;
    Ok(Head {
        size: row.size as u64,
        root: decode_hash(&row.root)?,
    })
}

/// The stored hashes of these nodes (those that exist).
pub async fn nodes<C: ConnectionTrait>(
    db: &C,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, DbErr> {
    let mut found = HashMap::with_capacity(ids.len());
    for part in ids.chunks(200) {
        let mut condition = Condition::any();
        for id in part {
            condition = condition.add(
                node::Column::Level
                    .eq(i16::from(id.level))
                    .and(node::Column::Idx.eq(id.index as i64)),
            );
        }
        for row in node::Entity::find().filter(condition).all(db).await? {
            found.insert(
                NodeId {
                    level: row.level as u8,
                    index: row.idx as u64,
                },
                decode_hash(&row.hash)?,
            );
        }
    }
    Ok(found)
}

/// Appends an entry at `head.size` on a transaction that holds the head's lock: stores the
/// entry, the subtrees it completes, and the new head. Returns the new head.
pub async fn append(txn: &WriteTxn, head: Head, kind: &str, bytes: &str) -> Result<Head, DbErr> {
    append_many(txn, head, &[(kind.to_owned(), bytes.to_owned())]).await
}

pub async fn entry_bytes<C: ConnectionTrait>(
    db: &C,
    index: u64,
) -> Result<Option<entry::Model>, DbErr> {
    entry::Entity::find_by_id(index as i64).one(db).await
}

/// Stores the signed checkpoint of a size (once: a size has one root, and one note).
pub async fn store_checkpoint<C: ConnectionTrait>(
    db: &C,
    head: Head,
    note: &str,
) -> Result<(), DbErr> {
    checkpoint::Entity::insert(checkpoint::ActiveModel {
        size: Set(head.size as i64),
        root: Set(hex::encode(head.root)),
        note: Set(note.to_owned()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(checkpoint::Column::Size)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn latest_checkpoint<C: ConnectionTrait>(
    db: &C,
) -> Result<Option<checkpoint::Model>, DbErr> {
    use sea_orm::QueryOrder;
    checkpoint::Entity::find()
        .order_by_desc(checkpoint::Column::Size)
        .one(db)
        .await
}

/// Appends `entry` and stores the new size's checkpoint, signed by `sign`, on a transaction
/// that holds the head's lock: the log never has an entry without a checkpoint over it.
pub async fn append_signed(
    txn: &WriteTxn,
    head: Head,
    entry: &crate::tlog::Entry,
    sign: impl FnOnce(Head) -> String,
) -> Result<(Head, String), DbErr> {
    let new_head = append(txn, head, entry.kind(), &entry.canonical_text()).await?;
    let note = sign(new_head);
    store_checkpoint(txn, new_head, &note).await?;
    Ok((new_head, note))
}

/// The stored hashes of nodes `(level, from…to-1)`, in order (those that exist).
pub async fn node_range<C: ConnectionTrait>(
    db: &C,
    level: u8,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, DbErr> {
    use sea_orm::QueryOrder;
    node::Entity::find()
        .filter(node::Column::Level.eq(i16::from(level)))
        .filter(node::Column::Idx.gte(from as i64))
        .filter(node::Column::Idx.lt(to as i64))
        .order_by_asc(node::Column::Idx)
        .all(db)
        .await?
        .iter()
        .map(|row| decode_hash(&row.hash))
        .collect()
}

/// The bytes of entries `from…to-1`, in order (those that exist).
pub async fn entry_range<C: ConnectionTrait>(
    db: &C,
    from: u64,
    to: u64,
) -> Result<Vec<String>, DbErr> {
    use sea_orm::QueryOrder;
    Ok(entry::Entity::find()
        .filter(entry::Column::Idx.gte(from as i64))
        .filter(entry::Column::Idx.lt(to as i64))
        .order_by_asc(entry::Column::Idx)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.bytes)
        .collect())
}

pub mod cosignature {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "checkpoint_cosignatures")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub size: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub witness: String,
        pub line: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The witnesses' cosignature lines on the checkpoint of `size`: `(verifier key, line)`.
pub async fn cosignatures<C: ConnectionTrait>(
    db: &C,
    size: u64,
) -> Result<Vec<(String, String)>, DbErr> {
    use sea_orm::QueryOrder;
    Ok(cosignature::Entity::find()
        .filter(cosignature::Column::Size.eq(size as i64))
        .order_by_asc(cosignature::Column::Witness)
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.witness, row.line))
        .collect())
}

/// Keeps a witness's cosignature on the checkpoint of `size` (the latest one it gave).
pub async fn store_cosignature<C: ConnectionTrait>(
    db: &C,
    size: u64,
    witness: &str,
    line: &str,
) -> Result<(), DbErr> {
    cosignature::Entity::insert(cosignature::ActiveModel {
        size: Set(size as i64),
        witness: Set(witness.to_owned()),
        line: Set(line.to_owned()),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([cosignature::Column::Size, cosignature::Column::Witness])
            .update_columns([cosignature::Column::Line, cosignature::Column::CreatedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Appends many entries at `head.size` on a transaction that holds the head's lock (a
/// recovery): the new subtrees are computed in memory from the frontier of the stored tree and
/// written in batches. Returns the new head.
pub async fn append_many(
    txn: &WriteTxn,
    head: Head,
    entries: &[(String, String)],
) -> Result<Head, DbErr> {
    let mut known: HashMap<NodeId, Hash> = match txn.log_frontier().of(head.size, head.root) {
        Some(known) => known,
        None if head.size == 0 => HashMap::new(),
        None => nodes(txn, &merkle::root_plan(head.size).nodes()).await?,
    };
    let mut created: Vec<(NodeId, Hash)> = Vec::with_capacity(entries.len() * 2);
    let mut rows = Vec::with_capacity(entries.len());
    let now = Utc::now();
    for (offset, (kind, bytes)) in entries.iter().enumerate() {
        let index = head.size + offset as u64;
        let leaf = merkle::leaf_hash(bytes.as_bytes());
        let leaf_id = NodeId { level: 0, index };
        known.insert(leaf_id, leaf);
        created.push((leaf_id, leaf));
        for (parent, left, right) in merkle::completed_by_append(index) {
            let (Some(l), Some(r)) = (known.get(&left), known.get(&right)) else {
                return Err(DbErr::Custom(format!("log node {left:?} is missing")));
            };
            let hash = merkle::node_hash(l, r);
            known.insert(parent, hash);
            created.push((parent, hash));
        }
        rows.push(entry::ActiveModel {
            idx: Set(index as i64),
            kind: Set(kind.clone()),
            bytes: Set(bytes.clone()),
            leaf_hash: Set(hex::encode(leaf)),
            created_at: Set(now),
        });
    }
    let size = head.size + entries.len() as u64;
    let root = if size == 0 {
        merkle::empty_root()
    } else {
        merkle::root_plan(size)
            .resolve(&known)
            .and_then(|h| h.first().copied())
            .ok_or_else(|| DbErr::Custom("a node of the new root is missing".into()))?
    };
    for part in rows.chunks(500) {
        entry::Entity::insert_many(part.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for part in created.chunks(2000) {
        node::Entity::insert_many(part.iter().map(|(id, hash)| node::ActiveModel {
            level: Set(i16::from(id.level)),
            idx: Set(id.index as i64),
            hash: Set(hex::encode(hash)),
        }))
        .exec_without_returning(txn)
        .await?;
    }
    head::Entity::update_many()
        .col_expr(head::Column::Size, Expr::value(size as i64))
        .col_expr(head::Column::Root, Expr::value(hex::encode(root)))
        .col_expr(head::Column::UpdatedAt, Expr::value(now))
        .filter(head::Column::Id.eq(HEAD_ID))
        .exec(txn)
        .await?;
    let new_head = Head { size, root };
    txn.log_frontier()
        .remember(new_head.size, new_head.root, &known);
    Ok(new_head)
}

/// The root of the first `size` entries, from the stored nodes.
pub async fn root_at<C: ConnectionTrait>(db: &C, size: u64) -> Result<Hash, DbErr> {
    if size == 0 {
        return Ok(merkle::empty_root());
    }
    let plan = merkle::root_plan(size);
    let nodes = nodes(db, &plan.nodes()).await?;
    plan.resolve(&nodes)
        .map(|h| h[0])
        .ok_or_else(|| DbErr::Custom("a node of the root is missing".into()))
}
