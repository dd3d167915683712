//! token.md §4: code-signing keys, their status and validity windows, and the published
//! key-set document (`/.well-known/gec/keys.json`), which also carries the log's key.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use super::alg::{Algorithm, PublicKey};
use super::cose::Kid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    Active,
    Retired,
    Compromised,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Compromised => "compromised",
        }
    }
}

/// One code-signing key as published: a JWK of its algorithm (OKP/Ed25519/EdDSA by default)
/// with its status and window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedKey {
    pub kid: String,
    pub kty: String,
    pub crv: String,
    pub alg: String,
    pub x: String,
    /// The second coordinate of an SM2 key (token.md §9); absent for Ed25519.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    pub status: KeyStatus,
    pub not_before: DateTime<Utc>,
    pub not_after: Option<DateTime<Utc>>,
    pub compromised_at: Option<DateTime<Utc>>,
}

impl PublishedKey {
    pub fn new(public: &PublicKey, status: KeyStatus, not_before: DateTime<Utc>) -> Self {
        let (kty, crv, alg) = public.algorithm().jwk();
        PublishedKey {
            kid: hex::encode(public.kid()),
            kty: kty.into(),
            crv: crv.into(),
            alg: alg.into(),
            x: public.x(),
            y: public.y(),
            status,
            not_before,
            not_after: None,
            compromised_at: None,
        }
    }

    /// The key's algorithm, from its `kty`, `crv` and `alg`.
    pub fn algorithm(&self) -> Result<Algorithm, String> {
        Algorithm::from_jwk(&self.kty, &self.crv, &self.alg).ok_or_else(|| {
            let known: Vec<String> = Algorithm::ALL
                .iter()
                .map(|a| {
                    let (kty, crv, alg) = a.jwk();
                    format!("{kty}/{crv}/{alg}")
                })
                .collect();
            format!(
                "key {}: only {} keys are supported",
                self.kid,
                known.join(", ")
            )
        })
    }

    /// The public key, checked against its kid.
    pub fn public_key(&self) -> Result<PublicKey, String> {
        let key = PublicKey::from_jwk_coordinates(self.algorithm()?, &self.x, self.y.as_deref())
            .map_err(|e| format!("key {}: {e}", self.kid))?;
        if hex::encode(key.kid()) != self.kid {
            return Err(format!("key {}: kid does not match the key", self.kid));
        }
        Ok(key)
    }
}

/// The log's key as published with the code keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublishedLogKey {
    pub origin: String,
    pub key_name: String,
    pub x: String,
    /// The key as a signed-note verifier key, `<origin>+<hex key id>+<base64(0x01 ‖ key)>`:
    /// what witnesses are configured with (token.md §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vkey: Option<String>,
}

/// `/.well-known/gec/keys.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeySetDocument {
    pub issuer: String,
    pub keys: Vec<PublishedKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<PublishedLogKey>,
}

impl KeySetDocument {
    /// The code keys as a plain JWKS (`/.well-known/jwks.json`).
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": self.keys.iter().map(|k| {
                let mut jwk = serde_json::json!({
                    "kty": k.kty, "crv": k.crv, "alg": k.alg, "kid": k.kid, "x": k.x,
                });
                if let Some(y) = &k.y {
                    jwk["y"] = y.clone().into();
                }
                jwk["use"] = "sig".into();
                jwk
            }).collect::<Vec<_>>()
        })
    }
}

/// Parses a base64url (no padding) Ed25519 public key.
pub fn public_key_from_x(x: &str) -> Result<VerifyingKey, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(x)
        .map_err(|e| format!("x is not base64url: {e}"))?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| "x is not 32 bytes")?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| format!("x is not an Ed25519 point: {e}"))
}

/// A key ready for verification: parsed once, looked up by kid.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub key: PublicKey,
    pub status: KeyStatus,
    pub not_before: i64,
    pub not_after: Option<i64>,
    pub compromised_at: Option<i64>,
}

/// The keys a verifier trusts, with the issuer they speak for.
#[derive(Clone, Debug, Default)]
pub struct TrustedKeys {
    pub issuer: String,
    keys: HashMap<Kid, TrustedKey>,
}

impl TrustedKeys {
    /// Reads a key-set document, checking that each kid matches its key.
    pub fn from_document(doc: &KeySetDocument) -> Result<TrustedKeys, String> {
        let mut keys = HashMap::new();
        for published in &doc.keys {
            let key = published.public_key()?;
            let kid = key.kid();
            keys.insert(
                kid,
                TrustedKey {
                    key,
                    status: published.status,
                    not_before: published.not_before.timestamp(),
                    not_after: published.not_after.map(|t| t.timestamp()),
                    compromised_at: published.compromised_at.map(|t| t.timestamp()),
                },
            );
        }
        Ok(TrustedKeys {
            issuer: doc.issuer.clone(),
            keys,
        })
    }

    pub fn get(&self, kid: &Kid) -> Option<&TrustedKey> {
        self.keys.get(kid)
    }
}
