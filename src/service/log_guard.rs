//! Never a fork (token.md §7): the latest checkpoint the log signed is kept outside the
//! database (`<data dir>/log/checkpoint`, beside the keys) and asked of the witnesses; a
//! database behind either refuses to append (503 `log_behind`) until `gec log recover`
//! restores the missing entries. The witnesses cosign each new checkpoint
//! (c2sp.org/tlog-witness), and their cosignatures are kept with it.

use crate::db::Db;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use super::keys::KeyRing;
use crate::error::{AppError, AppResult};
use crate::store::tlog::{self, Head};
use crate::tlog::witness::{self, VerifierKey};
use crate::tlog::{Checkpoint, merkle};

/// A witness the log sends its checkpoints to.
#[derive(Clone, Debug)]
pub struct WitnessConfig {
    pub key: VerifierKey,
    /// The witness's submission prefix (`…/add-checkpoint` is appended).
    pub url: String,
}

impl WitnessConfig {
    /// `VKEY=URL`.
    pub fn parse(text: &str) -> Result<WitnessConfig, String> {
        // A verifier key may end in base64 padding (`=`): the URL starts at `=http`.
        let at = text
            .find("=http://")
            .or_else(|| text.find("=https://"))
            .ok_or_else(|| format!("{text:?} is not VKEY=URL"))?;
        let (vkey, url) = (&text[..at], &text[at + 1..]);
        let key = VerifierKey::parse(vkey.trim())?;
        if key.kind != witness::TYPE_COSIGNATURE {
            return Err(format!("{} is not a cosigner's key (type 0x04)", key.name));
        }
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("{url:?} is not an http(s) URL"));
        }
        Ok(WitnessConfig {
            key,
            url: url.to_owned(),
        })
    }
}

/// What keeps this log from forking.
pub struct LogGuard {
    anchor: PathBuf,
    witnesses: Vec<WitnessConfig>,
    /// The size each witness last said it holds (by verifier key).
    witness_sizes: Mutex<HashMap<String, u64>>,
    /// Why appending is refused now, if it is (for `/healthz`, refreshed in the background).
    behind: RwLock<Option<String>>,
    /// Wakes the background task that asks the witnesses to cosign (after each append).
    wake: tokio::sync::Notify,
    /// The kept checkpoint as last read, with the file's identity then: read and verified
    /// again only when the file changed (one `stat` per append otherwise).
    anchor_seen: Mutex<Option<(AnchorStamp, Checkpoint)>>,
    /// The largest committed checkpoint not yet kept, for the next write to take.
    pending: Mutex<Option<(u64, String)>>,
    /// The size this process last kept; also the turn of the writes (one at a time, off the
    /// request's thread, each write covering every append committed before it: appends that
    /// commit together share one flush).
    kept: tokio::sync::Mutex<u64>,
}

/// What tells one version of the kept file from another (a write renames a new file over it).
#[derive(Clone, Copy, PartialEq, Eq)]
struct AnchorStamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    /// Inode and change time (which no one can set back) on Unix.
    inode: u64,
    changed: (i64, i64),
}

impl AnchorStamp {
    fn of(meta: &std::fs::Metadata) -> AnchorStamp {
        #[cfg(unix)]
        let (inode, changed) = {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), (meta.ctime(), meta.ctime_nsec()))
        };
        #[cfg(not(unix))]
        let (inode, changed) = (0, (0, 0));
        AnchorStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
            changed,
        }
    }
}

fn size_of_note(note: &str) -> Option<u64> {
    note.lines().nth(1)?.parse().ok()
}

/// Where the latest signed checkpoint is kept.
pub fn anchor_path(data_dir: &Path) -> PathBuf {
    data_dir.join("log").join("checkpoint")
}

/// The checkpoint kept in the data directory, verified with the log's key.
pub fn read_anchor(path: &Path, ring: &KeyRing) -> AppResult<Option<Checkpoint>> {
    let note = match std::fs::read_to_string(path) {
        Ok(note) => note,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AppError::internal(format!(
                "reading {}: {e}",
                path.display()
            )));
        }
    };
    Checkpoint::verify(&note, &ring.log_origin, &ring.log_key.verifying_key())
        .map(Some)
        .map_err(|e| {
            AppError::internal(format!(
                "{} is not a checkpoint of this log: {e}",
                path.display()
            ))
        })
}

/// Keeps `note` of `size` in `anchor` unless the one there is larger already (another replica
/// sharing the data directory committed after it). Replicas take turns on a lock file; the
/// write is flushed to disk before the rename.
fn keep_file(anchor: &Path, note: &str, size: u64) -> AppResult<()> {
    let fail = |e: std::io::Error| {
        AppError::internal(format!(
            "keeping the checkpoint in {}: {e}",
            anchor.display()
        ))
    };
    let dir = anchor.parent().unwrap_or(Path::new("."));
    crate::files::dir(dir, crate::files::Access::Private).map_err(fail)?;
    let lock = crate::files::options(crate::files::Access::Private)
        .create(true)
        .truncate(false)
        .open(dir.join("checkpoint.lock"))
        .map_err(fail)?;
    lock.lock().map_err(fail)?;
    let kept = std::fs::read_to_string(anchor)
        .ok()
        .and_then(|k| size_of_note(&k));
    let result = if kept.is_none_or(|k| size > k) {
        write_anchor(anchor, note).map_err(fail)
    } else {
        Ok(())
    };
    let _ = lock.unlock();
    result
}

/// Replaces the kept checkpoint: written beside, flushed to disk, then renamed over it.
pub fn write_anchor(path: &Path, note: &str) -> std::io::Result<()> {
    crate::files::replace(path, note.as_bytes(), crate::files::Access::Private)
}

const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);

impl LogGuard {
    pub fn new(data_dir: &Path, witnesses: Vec<WitnessConfig>) -> LogGuard {
        LogGuard {
            anchor: anchor_path(data_dir),
            witnesses,
            witness_sizes: Mutex::new(HashMap::new()),
            behind: RwLock::new(None),
            wake: tokio::sync::Notify::new(),
            anchor_seen: Mutex::new(None),
            pending: Mutex::new(None),
            kept: tokio::sync::Mutex::new(0),
        }
    }

    /// The kept checkpoint, verified; from memory while the file is the one last read.
    fn kept_checkpoint(&self, ring: &KeyRing) -> AppResult<Option<Checkpoint>> {
        let stamp = match std::fs::metadata(&self.anchor) {
            Ok(meta) => AnchorStamp::of(&meta),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(AppError::internal(format!(
                    "reading {}: {e}",
                    self.anchor.display()
                )));
            }
        };
        if let Ok(seen) = self.anchor_seen.lock()
            && let Some((seen_stamp, checkpoint)) = seen.as_ref()
            && *seen_stamp == stamp
        {
            return Ok(Some(checkpoint.clone()));
        }
        let checkpoint = read_anchor(&self.anchor, ring)?;
        // The stamp is taken again after reading: a file replaced meanwhile is read next time.
        if let (Some(checkpoint), Ok(meta)) = (&checkpoint, std::fs::metadata(&self.anchor))
            && let Ok(mut seen) = self.anchor_seen.lock()
        {
            *seen = Some((AnchorStamp::of(&meta), checkpoint.clone()));
        }
        Ok(checkpoint)
    }

    /// Where the latest signed checkpoint is kept.
    pub fn anchor(&self) -> &Path {
        &self.anchor
    }

    pub fn witnesses(&self) -> &[WitnessConfig] {
        &self.witnesses
    }

    /// Why appending is refused, as last found (no I/O).
    pub fn behind(&self) -> Option<String> {
        self.behind.read().ok().and_then(|b| b.clone())
    }

    fn set_behind(&self, why: Option<String>) {
        if let Ok(mut behind) = self.behind.write() {
            if why.is_some() && *behind != why {
                tracing::error!(
                    why = why.as_deref().unwrap_or(""),
                    "the log refuses appends"
                );
            }
            *behind = why;
        }
    }

    fn max_witness_size(&self) -> Option<(String, u64)> {
        let sizes = self.witness_sizes.lock().ok()?;
        sizes
            .iter()
            .max_by_key(|(_, size)| **size)
            .map(|(k, s)| (k.clone(), *s))
    }

    /// Refuses when the database's log is behind the kept checkpoint or a witness's, or has a
    /// different root at the kept size. Called under the head's lock before an append, and by
    /// the background check.
    pub fn check(&self, head: Head, ring: &KeyRing) -> AppResult<()> {
        let result = self.find_behind(head, ring);
        self.set_behind(result.as_ref().err().map(|e| e.to_string()));
        result
    }

    fn find_behind(&self, head: Head, ring: &KeyRing) -> AppResult<()> {
        if let Some(kept) = self.kept_checkpoint(ring)? {
            if head.size < kept.size {
                return Err(AppError::LogBehind(format!(
                    "the database holds {} log entries but the log has signed a checkpoint of {} \
                     (kept in {}): restore the missing entries with `gec log recover --from URL`",
                    head.size,
                    kept.size,
                    self.anchor.display()
                )));
            }
            if head.size == kept.size && head.root != kept.root {
                return Err(AppError::LogBehind(format!(
                    "the database's log of {} entries has another root than the checkpoint the \
                     log signed for that size: this database is not the log's",
                    head.size
                )));
            }
        }
        if let Some((witness, size)) = self.max_witness_size()
            && head.size < size
        {
            let name = witness.split('+').next().unwrap_or("").to_owned();
            return Err(AppError::LogBehind(format!(
                "the database holds {} log entries but witness {name} has cosigned a checkpoint \
                 of {size}: restore the missing entries with `gec log recover --from URL`",
                head.size
            )));
        }
        Ok(())
    }

    /// Keeps `note` (just committed) as the latest checkpoint, unless the one kept is larger
    /// already; returns once a checkpoint at least as large is kept. Writes take turns: one
    /// waiting for its turn finds its checkpoint kept by a larger one, or writes the largest
    /// committed so far (appends committed meanwhile share its flush). The write runs off the
    /// request's thread.
    pub async fn keep(&self, note: &str) -> AppResult<()> {
        let size =
            size_of_note(note).ok_or_else(|| AppError::internal("a checkpoint without a size"))?;
        if let Ok(mut pending) = self.pending.lock()
            && pending.as_ref().is_none_or(|(s, _)| size > *s)
        {
            *pending = Some((size, note.to_owned()));
        }
        let mut kept = self.kept.lock().await;
        if *kept >= size {
            return Ok(());
        }
        let Some((largest, note)) = self.pending.lock().ok().and_then(|mut p| p.take()) else {
            return Ok(());
        };
        let anchor = self.anchor.clone();
        tokio::task::spawn_blocking(move || keep_file(&anchor, &note, largest))
            .await
            .map_err(AppError::internal)??;
        *kept = largest;
        Ok(())
    }

    /// Checks the database against the kept checkpoint and the witnesses (start-up and every
    /// few seconds): what `/healthz` reports.
    pub async fn refresh(&self, db: &Db, ring: &KeyRing) {
        match tlog::read_head(db).await {
            Ok(head) => {
                let _ = self.check(head, ring);
            }
            Err(err) => tracing::warn!(%err, "reading the log head failed"),
        }
    }

    /// Sends the latest checkpoint to every witness and keeps the cosignatures they return;
    /// learns each witness's size on the way (a witness ahead of the database makes it
    /// behind).
    pub async fn cosign_latest(&self, db: &Db, ring: &KeyRing) {
        if self.witnesses.is_empty() {
            self.refresh(db, ring).await;
            return;
        }
        let Ok(Some(latest)) = tlog::latest_checkpoint(db).await else {
            self.refresh(db, ring).await;
            return;
        };
        let size = latest.size as u64;
        let mut tasks = Vec::new();
        for witness in self.witnesses.clone() {
            let known = self
                .witness_sizes
                .lock()
                .ok()
                .and_then(|s| s.get(&witness.key.encode()).copied());
            if known == Some(size)
                && tlog::cosignatures(db, size)
                    .await
                    .is_ok_and(|c| c.iter().any(|(w, _)| *w == witness.key.encode()))
            {
                continue;
            }
            let db = db.clone();
            let note = latest.note.clone();
            tasks.push(tokio::spawn(async move {
                let outcome = submit(&db, &witness, &note, size, known.unwrap_or(0)).await;
                (witness, outcome)
            }));
        }
        for task in tasks {
            let Ok((witness, outcome)) = task.await else {
                continue;
            };
            let vkey = witness.key.encode();
            match outcome {
                Ok(Submitted::Cosigned(line)) => {
                    if let Ok(mut sizes) = self.witness_sizes.lock() {
                        sizes.insert(vkey.clone(), size);
                    }
                    if let Err(err) = tlog::store_cosignature(db, size, &vkey, &line).await {
                        tracing::warn!(%err, "keeping a cosignature failed");
                    }
                }
                Ok(Submitted::Holds(theirs)) => {
                    if let Ok(mut sizes) = self.witness_sizes.lock() {
                        sizes.insert(vkey, theirs);
                    }
                }
                Err(err) => {
                    tracing::warn!(witness = %witness.key.name, %err, "the witness did not cosign")
                }
            }
        }
        self.refresh(db, ring).await;
    }

    /// Asks the background task to send the latest checkpoint to the witnesses now (an append
    /// never waits for them).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// After each append, and every few seconds: the witnesses get the latest checkpoint (one
    /// that missed one gets it again), and the check that `/healthz` reports is refreshed.
    /// `ring` gives the current key ring, or `None` once the service is going away.
    pub fn watch(
        self: &std::sync::Arc<Self>,
        db: Db,
        ring: impl Fn() -> Option<std::sync::Arc<KeyRing>> + Send + 'static,
    ) {
        let guard = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let Some(woken) = guard.upgrade() else { return };
                tokio::select! {
                    _ = tick.tick() => {},
                    _ = woken.wake.notified() => {},
                }
                drop(woken);
                let (Some(guard), Some(ring)) = (guard.upgrade(), ring()) else {
                    return;
                };
                // Refreshes what `/healthz` reports too.
                guard.cosign_latest(&db, &ring).await;
            }
        });
    }
}

enum Submitted {
    /// The witness's cosignature line.
    Cosigned(String),
    /// The witness holds a checkpoint of this size (not the one sent).
    Holds(u64),
}

/// One `add-checkpoint` exchange (two when the witness's size was not known: the 409 says it).
async fn submit(
    db: &Db,
    witness: &WitnessConfig,
    note: &str,
    size: u64,
    mut old: u64,
) -> Result<Submitted, String> {
    for _ in 0..2 {
        if old > size {
            return Ok(Submitted::Holds(old));
        }
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            let plan = merkle::consistency_plan(old, size);
            let nodes = tlog::nodes(db, &plan.nodes())
                .await
                .map_err(|e| e.to_string())?;
            plan.resolve(&nodes).ok_or("a log node is missing")?
        };
        let body = witness::request_body(old, &proof, note);
        let url = format!("{}/add-checkpoint", witness.url);
        let answer = tokio::task::spawn_blocking(move || post(&url, body))
            .await
            .map_err(|e| e.to_string())??;
        match answer {
            (200, text) => {
                let cosigned = format!("{note}{text}");
                if witness::cosigners(&cosigned, std::slice::from_ref(&witness.key)).is_empty() {
                    return Err("the answer holds no valid cosignature by this witness".into());
                }
                let line = text
                    .lines()
                    .find(|l| {
                        let one = format!("{note}{l}\n");
                        !witness::cosigners(&one, std::slice::from_ref(&witness.key)).is_empty()
                    })
                    .map(|l| format!("{l}\n"))
                    .unwrap_or_default();
                return Ok(Submitted::Cosigned(line));
            }
            (409, text) => {
                let theirs: u64 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("409 without a size: {text:?}"))?;
                if theirs == old {
                    // Same size, another root: the witness saw a different log.
                    return Err(format!("the witness holds another tree of size {theirs}"));
                }
                old = theirs;
            }
            (status, text) => return Err(format!("HTTP {status}: {}", text.trim())),
        }
    }
    Ok(Submitted::Holds(old))
}

fn post(url: &str, body: String) -> Result<(u16, String), String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(WITNESS_TIMEOUT))
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
    );
    let mut response = agent
        .post(url)
        .content_type("text/plain; charset=utf-8")
        .send(body.as_bytes())
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, text))
}
