//! The key ring on disk: the secrets of the code keys (each of its algorithm, Ed25519 by
//! default) and of the log's Ed25519 key as PKCS#8 PEM files (mode 0600, in a 0700 folder
//! under the data directory, never in the database), and their public halves, algorithms,
//! status and windows in `keyring.json`. Rotation and compromise rewrite that file
//! atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, SubsecRound, Utc};
use ed25519_dalek::SigningKey as LogKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use serde::{Deserialize, Serialize};

use crate::code::keys::{KeySetDocument, PublishedKey, PublishedLogKey};
use crate::code::{Algorithm, KeyStatus, SigningKey, TrustedKeys};

pub const DEFAULT_ISSUER: &str = "CQ-GEC";

/// `keyring.json`: what is public about the keys, plus where each secret is.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct KeyringFile {
    issuer: String,
    log_origin: String,
    log_x: String,
    keys: Vec<PublishedKey>,
}

/// The keys a running service signs and publishes with.
#[derive(Clone)]
pub struct KeyRing {
    pub issuer: String,
    pub log_origin: String,
    pub keys: Vec<PublishedKey>,
    /// The active code key and its published record.
    pub active: Option<(SigningKey, PublishedKey)>,
    pub log_key: LogKey,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.debug_struct("KeyRing")
            .field("issuer", &self.issuer)
            .field("keys", &self.keys)
            .finish()
    }
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

fn secret_path(data_dir: &Path, kid: &str) -> PathBuf {
    keys_dir(data_dir).join(format!("code-{kid}.pem"))
}

fn log_secret_path(data_dir: &Path) -> PathBuf {
    keys_dir(data_dir).join("log.pem")
}

fn now_seconds() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

fn seed() -> anyhow::Result<[u8; 32]> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow!("no randomness: {e}"))?;
    Ok(secret)
}

fn generate_log_key() -> anyhow::Result<LogKey> {
    Ok(LogKey::from_bytes(&seed()?))
}

fn generate(algorithm: Algorithm) -> anyhow::Result<SigningKey> {
    Ok(SigningKey::from_seed(algorithm, &seed()?))
}

/// A code key as PKCS#8 PEM.
fn code_key_pem(key: &SigningKey) -> anyhow::Result<String> {
    key.to_pkcs8_pem().map_err(|e| anyhow!(e))
}

fn log_key_pem(key: &LogKey) -> anyhow::Result<String> {
    Ok(key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow!("encoding PKCS#8: {e}"))?
        .to_string())
}

/// Writes a secret readable by the service's user alone, never replacing an existing file.
fn write_secret(path: &Path, pem: &str) -> anyhow::Result<()> {
    let mut file = crate::files::options(crate::files::Access::Private)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(pem.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn read_log_secret(path: &Path) -> anyhow::Result<LogKey> {
    let pem = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    LogKey::from_pkcs8_pem(&pem)
        .map_err(|e| anyhow!("{}: not an Ed25519 PKCS#8 PEM key: {e}", path.display()))
}

/// Reads a code key of `algorithm` from its PKCS#8 PEM file.
fn read_secret(path: &Path, algorithm: Algorithm) -> anyhow::Result<SigningKey> {
    let pem = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    SigningKey::from_pkcs8_pem(algorithm, &pem).map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn save(data_dir: &Path, file: &KeyringFile) -> anyhow::Result<()> {
    let path = keys_dir(data_dir).join("keyring.json");
    crate::files::replace(
        &path,
        &serde_json::to_vec_pretty(file)?,
        crate::files::Access::Private,
    )
    .with_context(|| format!("replacing {}", path.display()))
}

fn load_file(data_dir: &Path) -> anyhow::Result<Option<KeyringFile>> {
    let path = keys_dir(data_dir).join("keyring.json");
    match fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn ensure_dir(data_dir: &Path) -> anyhow::Result<()> {
    let dir = keys_dir(data_dir);
    crate::files::dir(&dir, crate::files::Access::Private)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Whether `data_dir` has a key ring already.
pub fn exists(data_dir: &Path) -> anyhow::Result<bool> {
    Ok(load_file(data_dir)?.is_some())
}

/// Opens the key ring, creating an Ed25519 code key and a log key on first start.
pub fn load_or_create(data_dir: &Path, log_origin: &str) -> anyhow::Result<KeyRing> {
    load_or_create_with(data_dir, log_origin, Algorithm::DEFAULT)
}

/// Opens the key ring, creating a code key of `algorithm` and a log key on first start (an
/// existing ring keeps its keys: the algorithm changes by rotation).
pub fn load_or_create_with(
    data_dir: &Path,
    log_origin: &str,
    algorithm: Algorithm,
) -> anyhow::Result<KeyRing> {
    ensure_dir(data_dir)?;
    if load_file(data_dir)?.is_none() {
        let code_key = generate(algorithm)?;
        let log_key = generate_log_key()?;
        let record = PublishedKey::new(&code_key.public(), KeyStatus::Active, now_seconds());
        write_secret(
            &secret_path(data_dir, &record.kid),
            &code_key_pem(&code_key)?,
        )?;
        write_secret(&log_secret_path(data_dir), &log_key_pem(&log_key)?)?;
        save(
            data_dir,
            &KeyringFile {
                issuer: DEFAULT_ISSUER.into(),
                log_origin: log_origin.into(),
                log_x: base64_url(log_key.verifying_key().as_bytes()),
                keys: vec![record],
            },
        )?;
        tracing::info!(
            "created a code-signing key ({algorithm}) and a log key in {}",
            keys_dir(data_dir).display()
        );
    }
    load(data_dir)
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Opens an existing key ring, checking every secret against its published half.
pub fn load(data_dir: &Path) -> anyhow::Result<KeyRing> {
    let file = load_file(data_dir)?
        .ok_or_else(|| anyhow!("no key ring in {}", keys_dir(data_dir).display()))?;
    let log_key = read_log_secret(&log_secret_path(data_dir))?;
    if base64_url(log_key.verifying_key().as_bytes()) != file.log_x {
        bail!("log.pem does not match the published log key");
    }
    let mut active = None;
    for record in &file.keys {
        if record.status == KeyStatus::Active {
            if active.is_some() {
                bail!("keyring.json names more than one active key");
            }
            let public = record.public_key().map_err(anyhow::Error::msg)?;
            let key = read_secret(&secret_path(data_dir, &record.kid), public.algorithm())?;
            if public != key.public() {
                bail!(
                    "the secret of key {} does not match its published half",
                    record.kid
                );
            }
            active = Some((key, record.clone()));
        }
    }
    Ok(KeyRing {
        issuer: file.issuer,
        log_origin: file.log_origin,
        keys: file.keys,
        active,
        log_key,
    })
}

/// Makes a new key of `algorithm` active (generated, or the operator's PKCS#8 PEM) and retires
/// the old one as of `at`: it stays published so that the codes it signed still verify. The
/// algorithm may change at a rotation.
pub fn rotate(
    data_dir: &Path,
    at: DateTime<Utc>,
    pem: Option<&Path>,
    algorithm: Algorithm,
) -> anyhow::Result<PublishedKey> {
    let mut file =
        load_file(data_dir)?.ok_or_else(|| anyhow!("no key ring yet: start the service once"))?;
    let key = match pem {
        Some(path) => read_secret(path, algorithm)?,
        None => generate(algorithm)?,
    };
    let at = at.trunc_subsecs(0);
    let record = PublishedKey::new(&key.public(), KeyStatus::Active, at);
    if file.keys.iter().any(|k| k.kid == record.kid) {
        bail!("key {} is already in the key ring", record.kid);
    }
    write_secret(&secret_path(data_dir, &record.kid), &code_key_pem(&key)?)?;
    for old in file
        .keys
        .iter_mut()
        .filter(|k| k.status == KeyStatus::Active)
    {
        old.status = KeyStatus::Retired;
        old.not_after = Some(at);
    }
    file.keys.push(record.clone());
    save(data_dir, &file)?;
    Ok(record)
}

/// Marks a key compromised from `at` on: codes it signed at or after `at` no longer verify.
/// A compromised active key leaves the ring without an active key until the next rotation.
pub fn compromise(data_dir: &Path, kid: &str, at: DateTime<Utc>) -> anyhow::Result<PublishedKey> {
    let mut file = load_file(data_dir)?.ok_or_else(|| anyhow!("no key ring yet"))?;
    let key = file
        .keys
        .iter_mut()
        .find(|k| k.kid == kid)
        .ok_or_else(|| anyhow!("no key with kid {kid}"))?;
    key.status = KeyStatus::Compromised;
    key.compromised_at = Some(at.trunc_subsecs(0));
    let updated = key.clone();
    save(data_dir, &file)?;
    Ok(updated)
}

impl KeyRing {
    /// The published key-set document (token.md §4).
    pub fn document(&self) -> KeySetDocument {
        KeySetDocument {
            issuer: self.issuer.clone(),
            keys: self.keys.clone(),
            log: Some(PublishedLogKey {
                origin: self.log_origin.clone(),
                key_name: self.log_origin.clone(),
                x: base64_url(self.log_key.verifying_key().as_bytes()),
                vkey: Some(
                    crate::tlog::witness::VerifierKey::of_log(
                        &self.log_origin,
                        &self.log_key.verifying_key(),
                    )
                    .encode(),
                ),
            }),
        }
    }

    pub fn trusted(&self) -> TrustedKeys {
        // The document is built from keys this ring loaded and checked.
        TrustedKeys::from_document(&self.document()).unwrap_or_default()
    }

    pub fn active_kid(&self) -> Option<String> {
        self.active
            .as_ref()
            .map(|(key, _)| hex::encode(key.public().kid()))
    }
}
