//! `gec verify`, `gec qr` and `gec keys`: codes and keys at the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;

use super::http::{http_get, server_base};
use crate::code::Algorithm;
use crate::code::keys::KeySetDocument;
use crate::code::qr::{self, Level};
use crate::code::status_list::{ListedStatus, StatusList};
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
    /// The service's signed status list (`/.well-known/gec/status`), to check the status
    /// offline (token.md §8).
    #[arg(long)]
    status: Option<PathBuf>,
    /// Where the highest status-list version seen is kept (a lower one is refused); by default
    /// under the data directory.
    #[arg(long)]
    status_state: Option<PathBuf>,
    /// With --status: a list made longer ago than this (e.g. `36h`, `7d`, `900s`) is not
    /// trusted to say "active" (a code revoked since would look active); the answer is then
    /// `status_unknown`. A revoked or superseded status is final and still reported.
    #[arg(long, value_parser = parse_age)]
    max_age: Option<i64>,
    /// With --server: the code must be in the log's checkpoint, cosigned as required.
    #[command(flatten)]
    witnesses: super::log::WitnessPolicy,
}

/// Prints the verdict and claims as JSON; exit 0 when valid.
pub fn run_verify(data_dir: &Path, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
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
    if let (Some(path), Some(claims)) = (&args.status, &verdict.claims)
        && valid
    {
        let state = args
            .status_state
            .clone()
            .unwrap_or_else(|| data_dir.join("verifier").join("status-version.json"));
        let fresh = |iat: u64| match args.max_age {
            Some(max) => now - i64::try_from(iat).unwrap_or(i64::MAX) <= max,
            None => true,
        };
        match offline_status(path, &state, &trusted, claims.serial) {
            Ok((ListedStatus::Active, version, iat)) if !fresh(iat) => {
                valid = false;
                output["valid"] = json!(false);
                output["reason"] = json!("status_unknown");
                output["status_list_version"] = json!(version);
                output["detail"] = json!(format!(
                    "the status list was made {} s ago, longer than --max-age allows: fetch a newer one",
                    now - i64::try_from(iat).unwrap_or(i64::MAX)
                ));
            }
            Ok((status, version, _)) => {
                output["status"] = json!(status.as_str());
                output["status_list_version"] = json!(version);
                if status != ListedStatus::Active {
                    valid = false;
                    output["valid"] = json!(false);
                    output["reason"] = json!(status.as_str());
                }
            }
            Err(e) => {
                valid = false;
                output["valid"] = json!(false);
                output["reason"] = json!("status_unknown");
                output["detail"] = json!(e.to_string());
            }
        }
    }
    if (!args.witnesses.witnesses.is_empty() || args.witnesses.min_cosignatures > 0) && valid {
        let result = match (&args.server, &verdict.claims) {
            (Some(server), Some(_)) => {
                in_witnessed_log(server, &args.code, &document, &args.witnesses)
            }
            _ => Err(anyhow!("checking the log's cosignatures needs --server")),
        };
        match result {
            Ok(names) => output["cosigned_by"] = json!(names),
            Err(e) => {
                valid = false;
                output["valid"] = json!(false);
                output["reason"] = json!("not_in_witnessed_log");
                output["detail"] = json!(e.to_string());
            }
        }
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

/// `36h`, `7d`, `30m`, `900s` or plain seconds, as seconds.
fn parse_age(text: &str) -> Result<i64, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let number: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not an age such as 36h, 7d, 30m or 900s"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too long an age"))
}

/// The largest status-list file read: a list of ten million codes is about 2.5 MB inflated.
const MAX_STATUS_FILE: u64 = 64 << 20;

/// The code's status from a signed list file, refusing a list older than one seen before;
/// with the list's version and when it was made.
fn offline_status(
    list: &Path,
    state: &Path,
    trusted: &TrustedKeys,
    serial: u64,
) -> anyhow::Result<(ListedStatus, u64, u64)> {
    let size = std::fs::metadata(list)
        .with_context(|| format!("reading {}", list.display()))?
        .len();
    if size > MAX_STATUS_FILE {
        bail!(
            "{} is {size} bytes: a status list is at most {MAX_STATUS_FILE}",
            list.display()
        );
    }
    let bytes = std::fs::read(list).with_context(|| format!("reading {}", list.display()))?;
    let list = StatusList::open(&bytes, trusted).map_err(|e| anyhow!("status list: {e}"))?;
    let seen: u64 = std::fs::read_to_string(state)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v[&list.issuer]["version"].as_u64())
        .unwrap_or(0);
    if list.version < seen {
        bail!(
            "the status list's version {} is older than version {seen} seen before",
            list.version
        );
    }
    let status = list.get(serial).ok_or_else(|| {
        anyhow!(
            "the status list (version {}) covers serials below {}, not {serial}: fetch a newer one",
            list.version,
            list.size
        )
    })?;
    if list.version > seen {
        let mut all: serde_json::Value = std::fs::read_to_string(state)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| json!({}));
        all[&list.issuer] = json!({"version": list.version, "iat": list.iat});
        crate::files::replace(
            state,
            &serde_json::to_vec_pretty(&all)?,
            crate::files::Access::Private,
        )
        .with_context(|| format!("writing {}", state.display()))?;
    }
    Ok((status, list.version, list.iat))
}

/// The code is entry `serial` of the log, included in its checkpoint, which carries the log's
/// signature and the cosignatures the policy needs.
fn in_witnessed_log(
    server: &str,
    code: &str,
    document: &KeySetDocument,
    policy: &super::log::WitnessPolicy,
) -> anyhow::Result<Vec<String>> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use sha2::{Digest, Sha256};
    let base = server_base(server);
    let log = document
        .log
        .as_ref()
        .ok_or_else(|| anyhow!("the key set publishes no log key"))?;
    let log_key = crate::tlog::witness::VerifierKey::of_log(
        &log.key_name,
        &crate::code::keys::public_key_from_x(&log.x).map_err(anyhow::Error::msg)?,
    );
    let note = http_get(&format!("{base}/log/checkpoint"))?;
    let checkpoint = crate::tlog::witness::verify_log(&note, &log_key)
        .map_err(|e| anyhow!("checkpoint: {e}"))?;
    let names = policy.check(&note)?;
    let cose = crate::code::text::decode(crate::code::text::code_part(code))
        .map_err(|e| anyhow!("the code: {e}"))?;
    let serial = crate::code::cose::decode(&cose)
        .map_err(|e| anyhow!("the code: {e}"))?
        .claims
        .serial;
    let entry = http_get(&format!("{base}/log/entries/{serial}"))?;
    let stated: serde_json::Value = serde_json::from_str(&entry)?;
    if stated["code_sha256"].as_str() != Some(hex::encode(Sha256::digest(&cose)).as_str()) {
        bail!("log entry {serial} is not this code");
    }
    let proof: serde_json::Value = serde_json::from_str(&http_get(&format!(
        "{base}/log/proof/inclusion?index={serial}&size={}",
        checkpoint.size
    ))?)?;
    let hashes: Vec<Vec<u8>> = proof["proof"]
        .as_array()
        .ok_or_else(|| anyhow!("the inclusion proof has no hashes"))?
        .iter()
        .map(|h| {
            STANDARD
                .decode(h.as_str().unwrap_or(""))
                .unwrap_or_default()
        })
        .collect();
    crate::tlog::merkle::verify_inclusion(
        serial,
        checkpoint.size,
        &crate::tlog::merkle::leaf_hash(entry.as_bytes()),
        &hashes,
        &checkpoint.root,
    )
    .map_err(|e| anyhow!("inclusion in the checkpoint: {e}"))?;
    Ok(names)
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
    crate::files::replace(&args.output, &bytes, crate::files::Access::Public)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "wrote {} (QR version {:?}, level {})",
        args.output.display(),
        code.version(),
        args.level.to_uppercase()
    );
    Ok(ExitCode::SUCCESS)
}

/// A signature algorithm by its name (`ed25519`, `sm2`).
pub(crate) fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    Algorithm::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown algorithm {name:?}: one of {}", names.join(", "))
    })
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the code keys and the log key.
    List,
    /// Create the key ring of a new deployment: a code key of `--alg` and the log key.
    Init {
        /// The code key's signature algorithm.
        #[arg(long, default_value = "ed25519", value_parser = parse_algorithm)]
        alg: Algorithm,
    },
    /// Make a new code key active and retire the current one.
    Rotate {
        /// When the change takes effect (RFC 3339); now by default.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
        /// Use this PKCS#8 PEM key (of the algorithm `--alg` names) instead of generating one.
        #[arg(long)]
        pem: Option<PathBuf>,
        /// The new key's signature algorithm (it may differ from the retired key's).
        #[arg(long, default_value = "ed25519", value_parser = parse_algorithm)]
        alg: Algorithm,
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
        KeysCommand::Init { alg } => {
            if keys::exists(data_dir)? {
                anyhow::bail!(
                    "{} already has a key ring: `gec keys rotate --alg {alg}` changes its \
                     algorithm",
                    data_dir.display()
                );
            }
            let ring = keys::load_or_create_with(data_dir, log_origin, *alg)?;
            let active = ring.active.as_ref().map(|(_, record)| record);
            println!("{}", serde_json::to_string(&active)?);
        }
        KeysCommand::Rotate { at, pem, alg } => {
            keys::load_or_create(data_dir, log_origin)?;
            let at = at.unwrap_or_else(Utc::now);
            let key = keys::rotate(data_dir, at, pem.as_deref(), *alg)?;
            println!("{}", serde_json::to_string(&key)?);
        }
        KeysCommand::Compromise { kid, at } => {
            let key = keys::compromise(data_dir, kid, *at)?;
            println!("{}", serde_json::to_string(&key)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
