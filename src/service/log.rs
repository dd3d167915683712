//! Reading the public log (token.md §5): the latest checkpoint, an entry's bytes, and
//! inclusion and consistency proofs planned by the pure maths over stored subtree hashes.

use crate::db::Db;
use std::collections::HashMap;

use axum::body::Bytes;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::keystore::Keys;
use crate::error::{AppError, AppResult};
use crate::store::tlog;
use crate::tlog::merkle;
use crate::tlog::tiles::{self, Tile, TileKind};

#[derive(Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    pub leaf_hash: String,
    pub proof: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

/// The latest signed checkpoint (a C2SP signed note) with the witnesses' cosignatures on it.
/// While the database is behind the checkpoint kept outside it (a restored backup), that one is
/// served: the log never shows a smaller tree than one it has signed.
pub async fn checkpoint(db: &Db, keys: &Keys) -> AppResult<String> {
    if keys.guard.behind().is_some()
        && let Ok(note) = std::fs::read_to_string(keys.guard.anchor())
    {
        return Ok(note);
    }
    let latest = tlog::latest_checkpoint(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut note = latest.note;
    for (_, line) in tlog::cosignatures(db, latest.size as u64).await? {
        note.push_str(&line);
    }
    Ok(note)
}

/// Tiles already served. A tile — full or partial, of a given width — never changes once the
/// log has it, so it is kept until the budget is spent (then the oldest half goes).
#[derive(Default)]
pub struct TileCache {
    tiles: std::sync::RwLock<(
        HashMap<Tile, Bytes>,
        std::collections::VecDeque<Tile>,
        usize,
    )>,
}

/// What the tile cache may hold: 4,096 hash tiles, or some 200 entry bundles.
const TILE_CACHE_BYTES: usize = 32 * 1024 * 1024;

impl TileCache {
    pub fn get(&self, tile: &Tile) -> Option<Bytes> {
        self.tiles.read().ok()?.0.get(tile).cloned()
    }

    fn put(&self, tile: Tile, bytes: Bytes) {
        let Ok(mut guard) = self.tiles.write() else {
            return;
        };
        let (map, order, total) = &mut *guard;
        if map.contains_key(&tile) {
            return;
        }
        *total += bytes.len();
        map.insert(tile, bytes);
        order.push_back(tile);
        while *total > TILE_CACHE_BYTES && order.len() > 1 {
            if let Some(old) = order.pop_front()
                && let Some(gone) = map.remove(&old)
            {
                *total -= gone.len();
            }
        }
    }
}

/// A tile's bytes (hashes concatenated, or an entry bundle), when the log has all of it: from
/// memory once served.
pub async fn tile(db: &Db, cache: &TileCache, tile: &Tile) -> AppResult<Bytes> {
    if let Some(bytes) = cache.get(tile) {
        return Ok(bytes);
    }
    let bytes = Bytes::from(read_tile(db, tile).await?);
    cache.put(*tile, bytes.clone());
    Ok(bytes)
}

async fn read_tile(db: &Db, tile: &Tile) -> AppResult<Vec<u8>> {
    let head = tlog::read_head(db).await?;
    if !tile.within(head.size) {
        return Err(AppError::NotFound);
    }
    let (from, to) = (tile.first(), tile.first() + tile.width);
    match tile.kind {
        TileKind::Hashes(_) => {
            let level = u8::try_from(tile.node_level()).map_err(|_| AppError::NotFound)?;
            let hashes = tlog::node_range(db, level, from, to).await?;
            if hashes.len() as u64 != tile.width {
                return Err(AppError::internal("a log node is missing"));
            }
            Ok(tiles::hash_tile_bytes(&hashes))
        }
        TileKind::Entries => {
            let entries = tlog::entry_range(db, from, to).await?;
            if entries.len() as u64 != tile.width {
                return Err(AppError::internal("a log entry is missing"));
            }
            tiles::bundle(entries.iter().map(|e| e.as_bytes())).map_err(AppError::internal)
        }
    }
}

/// Entry `index`'s exact bytes.
pub async fn entry(db: &Db, index: u64) -> AppResult<String> {
    Ok(tlog::entry_bytes(db, index)
        .await?
        .ok_or(AppError::NotFound)?
        .bytes)
}

fn encode(hashes: &[merkle::Hash]) -> Vec<String> {
    hashes.iter().map(|h| STANDARD.encode(h)).collect()
}

async fn resolve(db: &Db, plan: &merkle::Plan) -> AppResult<Vec<merkle::Hash>> {
    let nodes = tlog::nodes(db, &plan.nodes()).await?;
    plan.resolve(&nodes)
        .ok_or_else(|| AppError::internal("a log node is missing"))
}

/// The proof that entry `index` is in the tree of `size` (default: the latest).
pub async fn inclusion(db: &Db, index: u64, size: Option<u64>) -> AppResult<InclusionProof> {
    let head = tlog::read_head(db).await?;
    let size = size.unwrap_or(head.size);
    if size > head.size {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "size",
            format!("the log has {} entries", head.size),
        ));
    }
    if index >= size {
        return Err(AppError::field_fault(
            crate::grading::Fault::Combination,
            "index",
            "must be below size",
        ));
    }
    let entry = tlog::entry_bytes(db, index)
        .await?
        .ok_or(AppError::NotFound)?;
    let leaf = hex::decode(&entry.leaf_hash).map_err(AppError::internal)?;
    let proof = resolve(db, &merkle::inclusion_plan(index, size)).await?;
    Ok(InclusionProof {
        index,
        size,
        leaf_hash: STANDARD.encode(leaf),
        proof: encode(&proof),
    })
}

/// The proof that the tree of `to` (default: the latest) extends the tree of `from`.
pub async fn consistency(db: &Db, from: u64, to: Option<u64>) -> AppResult<ConsistencyProof> {
    let head = tlog::read_head(db).await?;
    let to = to.unwrap_or(head.size);
    if to > head.size {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "to",
            format!("the log has {} entries", head.size),
        ));
    }
    if from == 0 || from > to {
        return Err(AppError::field_fault(
            crate::grading::Fault::Combination,
            "from",
            "must be from 1 to `to`",
        ));
    }
    let proof = resolve(db, &merkle::consistency_plan(from, to)).await?;
    Ok(ConsistencyProof {
        from,
        to,
        proof: encode(&proof),
    })
}
