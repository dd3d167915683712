//! `gec witness serve`: a witness (c2sp.org/tlog-witness) for the logs named by their verifier
//! keys. It cosigns a checkpoint only when it is consistent with the last one it cosigned for
//! that log, and keeps that one on disk (written before it answers), so a split view needs the
//! witnesses to collude (token.md §7).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, anyhow};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tlog::merkle;
use crate::tlog::witness::{self, TYPE_COSIGNATURE, VerifierKey};

#[derive(clap::Subcommand)]
pub enum WitnessCommand {
    /// Serve a witness: `POST /add-checkpoint`, and its verifier key at `GET /`.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: SocketAddr,
        /// A log to witness, by its verifier key (`"vkey"` of keys.json's `"log"`); repeatable.
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
        /// The witness's name (its cosignatures' key name).
        #[arg(long, default_value = "gec-witness")]
        name: String,
    },
}

/// What the witness remembers of a log.
#[derive(Serialize, Deserialize)]
struct LogState {
    origin: String,
    size: u64,
    root: String,
    note: String,
}

struct Witness {
    name: String,
    key: SigningKey,
    dir: PathBuf,
    logs: HashMap<String, VerifierKey>,
    /// Checking against the stored size and storing the new one happen under this lock.
    lock: tokio::sync::Mutex<()>,
}

fn key_file(dir: &Path) -> PathBuf {
    dir.join("witness.pem")
}

fn state_file(dir: &Path, origin: &str) -> PathBuf {
    dir.join("logs").join(format!(
        "{}.json",
        hex::encode(Sha256::digest(origin.as_bytes()))
    ))
}

fn load_or_create_key(dir: &Path) -> anyhow::Result<SigningKey> {
    crate::files::dir(dir, crate::files::Access::Private)
        .with_context(|| format!("creating {}", dir.display()))?;
    let path = key_file(dir);
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow!("{}: not an Ed25519 PKCS#8 key: {e}", path.display()));
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness: {e}"))?;
    let key = SigningKey::from_bytes(&secret);
    let pem = key
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .map_err(|e| anyhow!("encoding the key: {e}"))?;
    use std::io::Write;
    let mut file = crate::files::options(crate::files::Access::Private)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(pem.as_bytes())?;
    file.sync_all()?;
    Ok(key)
}

impl Witness {
    fn vkey(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            kind: TYPE_COSIGNATURE,
            key: self.key.verifying_key(),
        }
    }
}

/// Serves the witness; `--data-dir` (the global option) is where it keeps its key and the
/// last checkpoint of each log.
pub async fn run(dir: &Path, command: &WitnessCommand) -> anyhow::Result<ExitCode> {
    let WitnessCommand::Serve { bind, logs, name } = command;
    if name.is_empty() || name.contains(['+', ' ', '\n']) {
        anyhow::bail!("--name must be a key name without spaces or '+'");
    }
    let key = load_or_create_key(dir)?;
    let mut known = HashMap::new();
    for text in logs {
        let log = VerifierKey::parse(text).map_err(|e| anyhow!("--log {text}: {e}"))?;
        known.insert(log.name.clone(), log);
    }
    let witness = Arc::new(Witness {
        name: name.clone(),
        key,
        dir: dir.to_owned(),
        logs: known,
        lock: tokio::sync::Mutex::new(()),
    });
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding {bind}"))?;
    println!("witness {}", witness.vkey().encode());
    println!("witness serving on http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/", get(show_key))
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(witness);
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown_signal())
        .await?;
    Ok(ExitCode::SUCCESS)
}

async fn show_key(State(witness): State<Arc<Witness>>) -> String {
    format!("{}\n", witness.vkey().encode())
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.into(),
    )
        .into_response()
}

fn conflict(size: u64) -> Response {
    (
        StatusCode::CONFLICT,
        [(header::CONTENT_TYPE, "text/x.tlog.size")],
        format!("{size}\n"),
    )
        .into_response()
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let Ok(body) = std::str::from_utf8(&body) else {
        return answer(StatusCode::BAD_REQUEST, "the body is not UTF-8\n");
    };
    let request = match witness::parse_request(body) {
        Ok(request) => request,
        Err(e) => return answer(StatusCode::BAD_REQUEST, format!("{e}\n")),
    };
    let origin = request.note.split('\n').next().unwrap_or("");
    let Some(log) = witness.logs.get(origin) else {
        return answer(StatusCode::NOT_FOUND, "unknown log\n");
    };
    let checkpoint = match witness::verify_log(&request.note, log) {
        Ok(checkpoint) => checkpoint,
        Err(e) => return answer(StatusCode::FORBIDDEN, format!("{e}\n")),
    };
    if request.old > checkpoint.size {
        return answer(
            StatusCode::BAD_REQUEST,
            "the old size is above the checkpoint's\n",
        );
    }
    if request.old == 0 && !request.proof.is_empty() {
        return answer(
            StatusCode::BAD_REQUEST,
            "a proof from size 0 must be empty\n",
        );
    }
    let _atomic = witness.lock.lock().await;
    let path = state_file(&witness.dir, origin);
    let held: Option<LogState> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let held_size = held.as_ref().map_or(0, |s| s.size);
    if request.old != held_size {
        return conflict(held_size);
    }
    let held_root = held
        .as_ref()
        .and_then(|s| STANDARD.decode(&s.root).ok())
        .unwrap_or_default();
    if request.old == checkpoint.size {
        if request.old > 0 && held_root != checkpoint.root {
            return conflict(held_size);
        }
    } else if request.old > 0 {
        let proof: Vec<Vec<u8>> = request.proof.iter().map(|h| h.to_vec()).collect();
        if let Err(e) = merkle::verify_consistency(
            request.old,
            checkpoint.size,
            &held_root,
            &checkpoint.root,
            &proof,
        ) {
            tracing::warn!(origin, "inconsistent checkpoint refused: {e}");
            return answer(StatusCode::UNPROCESSABLE_ENTITY, format!("{e}\n"));
        }
    }
    let state = LogState {
        origin: origin.to_owned(),
        size: checkpoint.size,
        root: STANDARD.encode(checkpoint.root),
        note: request.note.clone(),
    };
    let bytes = serde_json::to_vec_pretty(&state).unwrap_or_default();
    if let Err(e) = crate::service::log_guard::write_anchor(&path, &String::from_utf8_lossy(&bytes))
    {
        return answer(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("keeping the checkpoint failed: {e}\n"),
        );
    }
    let Some(note_body) = witness::note_body(&request.note) else {
        return answer(StatusCode::BAD_REQUEST, "no note body\n");
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    answer(
        StatusCode::OK,
        witness::cosign(note_body, &witness.name, &witness.key, now),
    )
}
