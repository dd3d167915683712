//! `gec verify`, `gec qr` and `gec keys`: codes and keys at the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::code::keys::KeySetDocument;
use crate::code::qr::{self, Level};
use crate::code::{TrustedKeys, verify};
use crate::service::keys;

#[derive(Args)]
pub struct VerifyArgs {
    /// The code's URL (or its base32 text).
    code: String,
    /// A key-set document (token.md §4) to verify against, offline.
    #[arg(long, conflicts_with = "server", required_unless_present = "server")]
    keys: Option<PathBuf>,
    /// A service to fetch the key set (and the code's status) from.
    #[arg(long)]
    server: Option<String>,
    /// Verify as of this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<DateTime<Utc>>,
}

pub fn http_get(url: &str) -> anyhow::Result<String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(20)))
            .build(),
    );
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading {url}"))
}

pub fn server_base(server: &str) -> String {
    server.trim_end_matches('/').to_owned()
}

/// Prints the verdict and claims as JSON; exit 0 when valid.
pub fn run_verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let document: KeySetDocument = match (&args.keys, &args.server) {
        (Some(path), _) => serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a key-set document", path.display()))?,
        (None, Some(server)) => serde_json::from_str(&http_get(&format!(
            "{}/.well-known/gec/keys.json",
            server_base(server)
        ))?)
        .context("the server's key set is not a key-set document")?,
        (None, None) => bail!("give --keys FILE or --server URL"),
    };
    let trusted = TrustedKeys::from_document(&document).map_err(|e| anyhow!("key set: {e}"))?;
    let now = args.at.unwrap_or_else(Utc::now).timestamp();
    let verdict = verify::verify(&args.code, &trusted, now);
    let mut output = serde_json::to_value(&verdict)?;
    let mut valid = verdict.valid;
    if let (Some(server), Some(claims)) = (&args.server, &verdict.claims)
        && valid
    {
        let url = format!(
            "{}/api/v1/codes/{}/status",
            server_base(server),
            claims.serial
        );
        let status = http_get(&url)
            .ok()
            .and_then(|body| serde_json::from_str::<serde_json::Value>(&body).ok())
            .and_then(|v| v["status"].as_str().map(str::to_owned));
        if let Some(status) = &status
            && status != "active"
        {
            valid = false;
            output["valid"] = json!(false);
            output["reason"] = json!(status);
        }
        output["status"] = json!(status);
    }
    if trusted.issuer
        != verdict
            .claims
            .as_ref()
            .map(|c| c.iss.as_str())
            .unwrap_or(&trusted.issuer)
    {
        output["issuer_mismatch"] = json!(true);
    }
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Args)]
pub struct QrArgs {
    /// The text to encode (a code URL is written as one alphanumeric segment).
    text: String,
    #[arg(long, value_parser = ["png", "svg"], default_value = "png")]
    format: String,
    #[arg(long, value_parser = ["M", "Q", "m", "q"], default_value = "M")]
    level: String,
    /// Pixels per module (PNG).
    #[arg(long, default_value_t = qr::PNG_MODULE_PX, value_parser = clap::value_parser!(u32).range(1..=64))]
    scale: u32,
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run_qr(args: &QrArgs) -> anyhow::Result<ExitCode> {
    let level = Level::parse(&args.level).ok_or_else(|| anyhow!("--level must be M or Q"))?;
    let code = qr::encode(&args.text, level).map_err(anyhow::Error::msg)?;
    let bytes = match args.format.as_str() {
        "svg" => qr::svg(&code).into_bytes(),
        _ => qr::png(&code, args.scale).map_err(anyhow::Error::msg)?,
    };
    std::fs::write(&args.output, bytes)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "wrote {} (QR version {:?}, level {})",
        args.output.display(),
        code.version(),
        args.level.to_uppercase()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the code keys and the log key.
    List,
    /// Make a new code key active and retire the current one.
    Rotate {
        /// When the change takes effect (RFC 3339); now by default.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// Use this PKCS#8 PEM Ed25519 key instead of generating one.
        #[arg(long)]
        pem: Option<PathBuf>,
    },
    /// Mark a code key compromised from a time on.
    Compromise {
        #[arg(long)]
        kid: String,
        #[arg(long)]
        at: DateTime<Utc>,
    },
}

pub fn run_keys(
    data_dir: &Path,
    log_origin: &str,
    command: &KeysCommand,
) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::List => {
            let ring = keys::load_or_create(data_dir, log_origin)?;
            for key in &ring.keys {
                println!(
                    "{}  {:<11} not_before {}  not_after {}  compromised_at {}",
                    key.kid,
                    key.status.as_str(),
                    key.not_before.to_rfc3339(),
                    key.not_after.map_or("-".into(), |t| t.to_rfc3339()),
                    key.compromised_at.map_or("-".into(), |t| t.to_rfc3339()),
                );
            }
            let log = ring.document().log.map(|l| l.x).unwrap_or_default();
            println!("log origin {}  key {log}", ring.log_origin);
        }
        KeysCommand::Rotate { at, pem } => {
            keys::load_or_create(data_dir, log_origin)?;
            let key = keys::rotate(data_dir, at.unwrap_or_else(Utc::now), pem.as_deref())?;
            println!("{}", serde_json::to_string(&key)?);
        }
        KeysCommand::Compromise { kid, at } => {
            let key = keys::compromise(data_dir, kid, *at)?;
            println!("{}", serde_json::to_string(&key)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
