//! `gec regrade [--apply]` and `gec log verify --server URL`: dynamic management and
//! witnessing the log.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::http::{http_get, server_base};
use crate::code::KeySetDocument;
use crate::code::keys::public_key_from_x;
use crate::service::cache::Caches;
use crate::service::regrade;
use crate::store::audit::Actor;
use crate::tlog::{Checkpoint, merkle};

#[derive(clap::Args)]
pub struct RegradeArgs {
    /// Submit each changed grade for review (a submission per firm).
    #[arg(long, conflicts_with = "carbon")]
    apply: bool,
    /// Compute the carbon-efficiency level (methodology §10) of every stored assessment that
    /// has none, from its stored input; no grade or code changes.
    #[arg(long)]
    carbon: bool,
}

pub async fn run_regrade(db: &crate::db::Db, args: &RegradeArgs) -> anyhow::Result<ExitCode> {
    if args.carbon {
        let report = regrade::carbon_backfill(db, &Caches::default(), &Actor::system("cli"))
            .await
            .map_err(|e| anyhow!("{e}"))?;
        eprintln!(
            "{} assessments had no carbon level: {} computed, {} left without (input not readable, or no carbon baseline)",
            report.assessments, report.computed, report.skipped
        );
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut progress: Box<dyn FnMut(u64, u64) + Send> = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} regrading [{bar:40}] {pos}/{len} firms {elapsed_precise}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Box::new(move |done, total| {
            bar.set_length(total);
            bar.set_position(done);
            if done >= total {
                bar.finish_and_clear();
            }
        })
    } else {
        Box::new(|done, total| eprintln!("regrade: {done}/{total} firms"))
    };
    let report = regrade::regrade(
        db,
        &Caches::default(),
        &Actor::system("cli"),
        args.apply,
        &mut *progress,
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    for change in &report.changed {
        eprintln!(
            "{}  {} ({}) -> {} ({}){}",
            change.uscc,
            change.current,
            change.current_score,
            change.recomputed.map_or("-", |g| g.as_str()),
            change.recomputed_score,
            change
                .submission
                .map(|id| format!("  submitted as assessment {id}"))
                .or(change.note.clone().map(|n| format!("  {n}")))
                .unwrap_or_default()
        );
    }
    eprintln!(
        "{} firms regraded with {}: {} would change",
        report.firms,
        report.benchmarks,
        report.changed.len()
    );
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand)]
pub enum LogCommand {
    /// Check the service's latest checkpoint: its signature with the published log key, and
    /// its consistency with the checkpoint seen last time (kept in a state file), as a witness.
    Verify {
        #[arg(long)]
        server: String,
        /// Where the last checkpoint seen is kept; by default under the data directory.
        #[arg(long)]
        state: Option<PathBuf>,
        #[command(flatten)]
        witnesses: WitnessPolicy,
    },
    /// Keep a verified copy of the log's tiles in a folder that any static host can serve.
    Mirror {
        #[arg(long)]
        server: String,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Restore the log entries a restored database lacks from a copy of the log (the service's
    /// tiles, a mirror's URL or folder), checked against the checkpoint the log signed.
    Recover {
        #[arg(long)]
        from: String,
    },
}

/// Which witnesses' cosignatures a checkpoint needs.
#[derive(clap::Args, Clone, Default)]
pub struct WitnessPolicy {
    /// A witness whose cosignature counts, by its verifier key (repeatable).
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
    /// How many of those must have cosigned the checkpoint.
    #[arg(long = "min-cosignatures", default_value_t = 0)]
    pub min_cosignatures: usize,
}

impl WitnessPolicy {
    /// Checks the note's cosignatures: `Ok(names of the witnesses that cosigned)`.
    pub fn check(&self, note: &str) -> anyhow::Result<Vec<String>> {
        let keys = self
            .witnesses
            .iter()
            .map(|t| {
                crate::tlog::witness::VerifierKey::parse(t)
                    .map_err(|e| anyhow!("--witness {t}: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if self.min_cosignatures > keys.len() {
            bail!(
                "--min-cosignatures {} needs at least as many --witness keys",
                self.min_cosignatures
            );
        }
        let found: Vec<String> = crate::tlog::witness::cosigners(note, &keys)
            .into_iter()
            .map(|(vkey, _)| vkey.split('+').next().unwrap_or("").to_owned())
            .collect();
        if found.len() < self.min_cosignatures {
            bail!(
                "the checkpoint has {} valid cosignatures of the {} required",
                found.len(),
                self.min_cosignatures
            );
        }
        Ok(found)
    }
}

/// What a witness remembers of a log between runs.
#[derive(Serialize, Deserialize)]
struct WitnessState {
    origin: String,
    log_key: String,
    size: u64,
    root: String,
}

fn state_path(data_dir: &Path, server: &str) -> PathBuf {
    let name: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    data_dir.join("witness").join(format!("{name}.json"))
}

pub fn run_log(data_dir: &Path, command: &LogCommand) -> anyhow::Result<ExitCode> {
    let LogCommand::Verify {
        server,
        state,
        witnesses,
    } = command
    else {
        bail!("not a verify command");
    };
    let base = server_base(server);
    let path = state.clone().unwrap_or_else(|| state_path(data_dir, &base));
    let keys: KeySetDocument =
        serde_json::from_str(&http_get(&format!("{base}/.well-known/gec/keys.json"))?)
            .context("the server's key set is not a key-set document")?;
    let log = keys
        .log
        .ok_or_else(|| anyhow!("the key set publishes no log key"))?;
    let log_key = public_key_from_x(&log.x).map_err(anyhow::Error::msg)?;
    let note = http_get(&format!("{base}/log/checkpoint"))?;
    let checkpoint = Checkpoint::verify(&note, &log.key_name, &log_key)
        .map_err(|e| anyhow!("checkpoint: {e}"))?;
    if checkpoint.origin != log.origin {
        bail!(
            "the checkpoint's origin {} is not the published {}",
            checkpoint.origin,
            log.origin
        );
    }
    let previous: Option<WitnessState> = match std::fs::read(&path) {
        Ok(bytes) => Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let root_b64 = STANDARD.encode(checkpoint.root);
    let mut verdict = json!({"ok": true, "origin": checkpoint.origin, "size": checkpoint.size, "root": root_b64,
                             "previous_size": previous.as_ref().map(|p| p.size)});
    match witnesses.check(&note) {
        Ok(names) => verdict["cosigned_by"] = json!(names),
        Err(e) => {
            verdict["ok"] = json!(false);
            verdict["error"] = json!(e.to_string());
        }
    }
    let fail = |verdict: &mut serde_json::Value, why: String| {
        verdict["ok"] = json!(false);
        verdict["error"] = json!(why);
    };
    if let Some(old) = previous.as_ref().filter(|_| verdict["ok"] == json!(true)) {
        let old_root = STANDARD.decode(&old.root).context("state file root")?;
        if old.origin != checkpoint.origin || old.log_key != log.x {
            fail(
                &mut verdict,
                "the log's origin or key changed since the last check".into(),
            );
        } else if checkpoint.size < old.size {
            fail(
                &mut verdict,
                format!(
                    "the log shrank from {} to {} entries",
                    old.size, checkpoint.size
                ),
            );
        } else if checkpoint.size == old.size {
            if old_root != checkpoint.root {
                fail(
                    &mut verdict,
                    "same size, different root: the log forked".into(),
                );
            }
        } else if old.size > 0 {
            let proof: serde_json::Value = serde_json::from_str(&http_get(&format!(
                "{base}/log/proof/consistency?from={}&to={}",
                old.size, checkpoint.size
            ))?)?;
            let hashes: Vec<Vec<u8>> = proof["proof"]
                .as_array()
                .ok_or_else(|| anyhow!("the consistency proof has no hashes"))?
                .iter()
                .map(|h| {
                    STANDARD
                        .decode(h.as_str().unwrap_or(""))
                        .unwrap_or_default()
                })
                .collect();
            if let Err(e) = merkle::verify_consistency(
                old.size,
                checkpoint.size,
                &old_root,
                &checkpoint.root,
                &hashes,
            ) {
                fail(
                    &mut verdict,
                    format!("not consistent with the checkpoint seen before: {e}"),
                );
            }
        }
    }
    let ok = verdict["ok"] == json!(true);
    if ok {
        let state = WitnessState {
            origin: checkpoint.origin,
            log_key: log.x,
            size: checkpoint.size,
            root: root_b64,
        };
        crate::files::replace(
            &path,
            &serde_json::to_vec_pretty(&state)?,
            crate::files::Access::Private,
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{}", serde_json::to_string_pretty(&verdict)?);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
