//! Proofs from a log of 1,000,000 entries stored in SQLite, read the way the service reads them
//! (one query for the O(log n) subtree hashes a proof needs). The target: ≤ 5 ms per proof.
//! The log is built once into target/bench-log/log.db (about a minute), then reused.
//! Run: `cargo bench --bench log`.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use gec::store::tlog;
use gec::tlog::merkle::{self, MemoryTree};
use sea_orm::ActiveValue::Set;
use sea_orm::{EntityTrait, TransactionTrait};

const SIZE: u64 = 1_000_000;

async fn build(url: &str) -> gec::db::Db {
    let db = gec::db::connect(url).await.expect("database");
    tlog::ensure_head(&db).await.unwrap();
    if tlog::read_head(&db).await.unwrap().size == SIZE {
        return db;
    }
    eprintln!("building a log of {SIZE} entries (once)…");
    let mut tree = MemoryTree::default();
    let txn = db.begin().await.unwrap();
    let mut entries = Vec::new();
    let now = chrono::Utc::now();
    for i in 0..SIZE {
        let bytes = format!("{{\"serial\":{i},\"type\":\"issue\"}}");
        let leaf = merkle::leaf_hash(bytes.as_bytes());
        tree.append(leaf);
        entries.push(tlog::entry::ActiveModel {
            idx: Set(i as i64),
            kind: Set("issue".into()),
            bytes: Set(bytes),
            leaf_hash: Set(hex::encode(leaf)),
            created_at: Set(now),
        });
        if entries.len() == 5000 {
            tlog::entry::Entity::insert_many(std::mem::take(&mut entries))
                .exec_without_returning(&txn)
                .await
                .unwrap();
        }
    }
    let nodes: Vec<tlog::node::ActiveModel> = tree
        .nodes
        .iter()
        .map(|(id, hash)| tlog::node::ActiveModel {
            level: Set(i16::from(id.level)),
            idx: Set(id.index as i64),
            hash: Set(hex::encode(hash)),
        })
        .collect();
    for chunk in nodes.chunks(5000) {
        tlog::node::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    let head = tlog::Head {
        size: 0,
        root: merkle::empty_root(),
    };
    let _ = head;
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    tlog::head::Entity::update_many()
        .col_expr(tlog::head::Column::Size, Expr::value(SIZE as i64))
        .col_expr(
            tlog::head::Column::Root,
            Expr::value(hex::encode(tree.root(SIZE))),
        )
        .filter(tlog::head::Column::Id.eq(1))
        .exec(&txn)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    db
}

fn bench_log(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-log");
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("log.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(build(&url));
    let head = rt.block_on(tlog::read_head(&db)).unwrap();
    let mut index = 12_345u64;
    c.bench_function("log: inclusion proof in 1,000,000 entries (SQLite)", |b| {
        b.iter(|| {
            index = (index * 7919 + 13) % SIZE;
            let plan = merkle::inclusion_plan(index, SIZE);
            let nodes = rt.block_on(tlog::nodes(&db, &plan.nodes())).unwrap();
            let proof = plan.resolve(&nodes).unwrap();
            assert!(!proof.is_empty());
        })
    });
    let mut old = 1u64;
    c.bench_function(
        "log: consistency proof in 1,000,000 entries (SQLite)",
        |b| {
            b.iter(|| {
                old = (old * 7919 + 13) % (SIZE - 1) + 1;
                let plan = merkle::consistency_plan(old, SIZE);
                let nodes = rt.block_on(tlog::nodes(&db, &plan.nodes())).unwrap();
                plan.resolve(&nodes).unwrap()
            })
        },
    );
    // Check once that what was measured is right.
    let plan = merkle::inclusion_plan(777_777, SIZE);
    let nodes = rt.block_on(tlog::nodes(&db, &plan.nodes())).unwrap();
    let proof: Vec<Vec<u8>> = plan
        .resolve(&nodes)
        .unwrap()
        .iter()
        .map(|h| h.to_vec())
        .collect();
    let leaf = merkle::leaf_hash(b"{\"serial\":777777,\"type\":\"issue\"}");
    merkle::verify_inclusion(777_777, SIZE, &leaf, &proof, &head.root).expect("the proof verifies");
}

criterion_group!(benches, bench_log);
criterion_main!(benches);
