//! `gec log mirror` and `gec log recover`: copies of the log as C2SP tiles (token.md §7), from
//! the service or from any static host (or folder) serving a mirror.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};

use super::http::server_base;
use crate::code::KeySetDocument;
use crate::code::keys::public_key_from_x;
use crate::tlog::merkle::{self, Hash};
use crate::tlog::tiles::{self, Tile, TileKind, WIDTH};
use crate::tlog::{Checkpoint, witness};

/// Where a copy of the log is read from: a URL prefix (`…/log`) or a folder.
pub enum Source {
    Http(String),
    Dir(PathBuf),
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .build(),
    )
}

impl Source {
    /// A URL or folder; a service's base URL is taken as its `/log` prefix.
    pub fn open(text: &str) -> anyhow::Result<Source> {
        if text.starts_with("http://") || text.starts_with("https://") {
            let base = server_base(text);
            let source = Source::Http(base.clone());
            if source.get("checkpoint")?.is_some() {
                return Ok(source);
            }
            let log = Source::Http(format!("{base}/log"));
            if log.get("checkpoint")?.is_some() {
                return Ok(log);
            }
            bail!(
                "{base} serves no checkpoint (neither {base}/checkpoint nor {base}/log/checkpoint)"
            );
        }
        Ok(Source::Dir(PathBuf::from(text)))
    }

    /// A resource under the prefix, or `None` when there is none.
    pub fn get(&self, relative: &str) -> anyhow::Result<Option<Vec<u8>>> {
        match self {
            Source::Http(base) => {
                let url = format!("{base}/{relative}");
                let mut response = agent()
                    .get(&url)
                    .call()
                    .with_context(|| format!("GET {url}"))?;
                match response.status().as_u16() {
                    200 => Ok(Some(
                        response
                            .body_mut()
                            .with_config()
                            .limit(16 * 1024 * 1024)
                            .read_to_vec()
                            .with_context(|| format!("reading {url}"))?,
                    )),
                    404 => Ok(None),
                    status => bail!("GET {url}: HTTP {status}"),
                }
            }
            Source::Dir(dir) => match std::fs::read(dir.join(relative)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("reading {relative}")),
            },
        }
    }

    pub fn checkpoint(&self) -> anyhow::Result<String> {
        let bytes = self
            .get("checkpoint")?
            .ok_or_else(|| anyhow!("the copy has no checkpoint"))?;
        String::from_utf8(bytes).context("the checkpoint is not UTF-8")
    }

    fn tile(&self, tile: &Tile) -> anyhow::Result<Vec<u8>> {
        let path = format!("tile/{}", tile.path());
        if let Some(bytes) = self.get(&path)? {
            return Ok(bytes);
        }
        // A partial tile may be gone once its full tile exists: a full tile's prefix is the same.
        if tile.width < WIDTH {
            let full = Tile {
                width: WIDTH,
                ..*tile
            };
            if let Some(bytes) = self.get(&format!("tile/{}", full.path()))? {
                return Ok(bytes);
            }
        }
        bail!("the copy has no {path}")
    }
}

/// The entries `from…to−1` of a tree of `size`, from its entry bundles.
pub fn fetch_entries(
    source: &Source,
    from: u64,
    to: u64,
    size: u64,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let mut out = Vec::with_capacity((to - from) as usize);
    if from >= to {
        return Ok(out);
    }
    for index in from / WIDTH..=(to - 1) / WIDTH {
        let width = (size - index * WIDTH).min(WIDTH);
        let tile = Tile {
            kind: TileKind::Entries,
            index,
            width,
        };
        let entries =
            tiles::unbundle(&source.tile(&tile)?).map_err(|e| anyhow!("{}: {e}", tile.path()))?;
        if (entries.len() as u64) < width {
            bail!(
                "{} holds {} entries, not {width}",
                tile.path(),
                entries.len()
            );
        }
        let first = index * WIDTH;
        for (i, entry) in entries.into_iter().take(width as usize).enumerate() {
            let n = first + i as u64;
            if n >= from && n < to {
                out.push(entry);
            }
        }
    }
    Ok(out)
}

/// The log's name and key, from a service's key set.
pub fn log_key_of(server: &str) -> anyhow::Result<witness::VerifierKey> {
    let base = server_base(server);
    let doc: KeySetDocument = serde_json::from_str(&super::http::http_get(&format!(
        "{base}/.well-known/gec/keys.json"
    ))?)
    .context("the server's key set is not a key-set document")?;
    let log = doc
        .log
        .ok_or_else(|| anyhow!("the key set publishes no log key"))?;
    Ok(witness::VerifierKey::of_log(
        &log.key_name,
        &public_key_from_x(&log.x).map_err(anyhow::Error::msg)?,
    ))
}

fn hashes(bytes: &[u8], tile: &Tile) -> anyhow::Result<Vec<Hash>> {
    let all = tiles::parse_hash_tile(bytes)
        .ok_or_else(|| anyhow!("{} is not a hash tile", tile.path()))?;
    if (all.len() as u64) < tile.width {
        bail!(
            "{} holds {} hashes, not {}",
            tile.path(),
            all.len(),
            tile.width
        );
    }
    Ok(all[..tile.width as usize].to_vec())
}

/// A mirror's tiles are for publishing: readable by all.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::files::dir(dir, crate::files::Access::Public)
        .with_context(|| format!("creating {}", dir.display()))?;
    crate::files::replace(path, bytes, crate::files::Access::Public)
        .with_context(|| format!("replacing {}", path.display()))
}

/// `gec log mirror --server URL --dir DIR`: brings the copy in DIR up to the service's latest
/// checkpoint. Every new tile is checked — each entry bundle against its level-0 tile, each
/// hash against the full tile below it, the checkpoint's root rebuilt from the tiles, and the
/// copy's previous checkpoint rebuilt from the new tiles (the log only grew) — before the new
/// checkpoint replaces the old one. Full tiles already in DIR are kept (they never change).
pub fn run_mirror(server: &str, dir: &Path) -> anyhow::Result<ExitCode> {
    let log = log_key_of(server)?;
    let source = Source::open(server)?;
    let note = source.checkpoint()?;
    let checkpoint = witness::verify_log(&note, &log).map_err(|e| anyhow!("checkpoint: {e}"))?;
    let local = Source::Dir(dir.to_owned());
    let previous = match local.get("checkpoint")? {
        Some(bytes) => Some(
            witness::verify_log(&String::from_utf8_lossy(&bytes), &log)
                .map_err(|e| anyhow!("the copy's own checkpoint: {e}"))?,
        ),
        None => None,
    };
    if let Some(old) = &previous
        && old.size > checkpoint.size
    {
        bail!(
            "the service's checkpoint ({}) is smaller than the copy's ({}): the log shrank",
            checkpoint.size,
            old.size
        );
    }
    let size = checkpoint.size;
    // Every tile of the new tree: full ones kept in DIR are read from there.
    let mut held: HashMap<(TileKind, u64), Vec<u8>> = HashMap::new();
    let mut fetched = 0usize;
    for tile in tiles::tiles_of(size) {
        let path = dir.join("tile").join(tile.path());
        let bytes = match (tile.width == WIDTH, std::fs::read(&path)) {
            (true, Ok(bytes)) => bytes,
            _ => {
                fetched += 1;
                source.tile(&tile)?
            }
        };
        held.insert((tile.kind, tile.index), bytes);
    }
    let lookup = |tile: &Tile| -> Option<Vec<Hash>> {
        held.get(&(tile.kind, tile.index))
            .and_then(|b| hashes(b, tile).ok())
    };
    for tile in tiles::tiles_of(size) {
        match tile.kind {
            TileKind::Entries => {
                let entries = tiles::unbundle(&held[&(tile.kind, tile.index)])
                    .map_err(|e| anyhow!("{}: {e}", tile.path()))?;
                let level0 = Tile {
                    kind: TileKind::Hashes(0),
                    ..tile
                };
                let leaves: Vec<Hash> = entries
                    .iter()
                    .take(tile.width as usize)
                    .map(|e| merkle::leaf_hash(e))
                    .collect();
                if Some(leaves) != lookup(&level0) {
                    bail!(
                        "{}: the entries do not hash to tile 0/{}",
                        tile.path(),
                        tiles::encode_index(tile.index)
                    );
                }
            }
            TileKind::Hashes(level) if level > 0 => {
                let above =
                    lookup(&tile).ok_or_else(|| anyhow!("{} is not a hash tile", tile.path()))?;
                for (i, hash) in above.iter().enumerate() {
                    let below = Tile {
                        kind: TileKind::Hashes(level - 1),
                        index: tile.first() + i as u64,
                        width: WIDTH,
                    };
                    let run =
                        lookup(&below).ok_or_else(|| anyhow!("{} is missing", below.path()))?;
                    if merkle::root_from_leaves(&run) != *hash {
                        bail!(
                            "{}: hash {i} is not the root of {}",
                            tile.path(),
                            below.path()
                        );
                    }
                }
            }
            TileKind::Hashes(_) => {}
        }
    }
    let root = tiles::root_from_tiles(size, lookup).map_err(|e| anyhow!(e))?;
    if root != checkpoint.root {
        bail!("the tiles do not rebuild the checkpoint's root");
    }
    if let Some(old) = &previous
        && tiles::root_from_tiles(old.size, lookup).map_err(|e| anyhow!(e))? != old.root
    {
        bail!("the new tiles do not rebuild the copy's previous checkpoint: the log forked");
    }
    for tile in tiles::tiles_of(size) {
        let path = dir.join("tile").join(tile.path());
        if tile.width == WIDTH && path.exists() {
            continue;
        }
        write_atomic(&path, &held[&(tile.kind, tile.index)])?;
    }
    write_atomic(&dir.join("checkpoint"), note.as_bytes())?;
    println!(
        "{}",
        serde_json::json!({"ok": true, "size": size, "previous_size": previous.map(|p| p.size), "tiles_fetched": fetched})
    );
    Ok(ExitCode::SUCCESS)
}

/// `gec log recover --from URL`: restores the entries the database lacks (see
/// [`crate::service::recover`]).
pub async fn run_recover(
    data_dir: &Path,
    db: &crate::db::Db,
    from: &str,
) -> anyhow::Result<ExitCode> {
    let ring = crate::service::keys::load(data_dir)?;
    let kept = crate::service::log_guard::read_anchor(
        &crate::service::log_guard::anchor_path(data_dir),
        &ring,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let text = from.to_owned();
    let (note, source) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let source = Source::open(&text)?;
        let note = source.checkpoint()?;
        Ok((note, source))
    })
    .await??;
    let signed = Checkpoint::verify(&note, &ring.log_origin, &ring.log_key.verifying_key())
        .map_err(|e| anyhow!("the copy's checkpoint is not this log's: {e}"))?;
    crate::store::tlog::ensure_head(db).await?;
    let have = crate::store::tlog::read_head(db).await?.size;
    if signed.size < have {
        bail!("the copy has {} entries, the database {have}", signed.size);
    }
    let started = std::time::Instant::now();
    let size = signed.size;
    let source = std::sync::Arc::new(source);
    let fetching = std::sync::Arc::new(std::sync::Mutex::new(std::time::Duration::ZERO));
    let fetch = |from: u64, to: u64| {
        let (source, fetching) = (source.clone(), fetching.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let began = std::time::Instant::now();
                let entries = fetch_entries(&source, from, to, size);
                if let Ok(mut total) = fetching.lock() {
                    *total += began.elapsed();
                }
                entries.map_err(|e| crate::error::AppError::BadRequest(format!("{e:#}")))
            })
            .await
            .map_err(crate::error::AppError::internal)?
        }
    };
    let report = crate::service::recover::recover(db, &ring, kept.as_ref(), &note, fetch)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let fetched = fetching.lock().map(|t| *t).unwrap_or_default();
    if kept.as_ref().is_none_or(|k| k.size < size) {
        crate::service::log_guard::write_anchor(
            &crate::service::log_guard::anchor_path(data_dir),
            &signed.sign(&ring.log_key),
        )?;
    }
    eprintln!(
        "recovered entries {}…{} ({} codes, {} revocations) in {:.1} s (fetching {:.1} s)",
        report.from,
        report.to,
        report.codes.len(),
        report.revoked.len(),
        started.elapsed().as_secs_f64(),
        fetched.as_secs_f64()
    );
    for note in &report.notes {
        eprintln!("  {note}");
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}
