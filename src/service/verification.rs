//! Verifying codes for banks and the public: the offline checks of token.md §3, then the
//! code's status on record (§3 step 6), the firm's name, and what the grade links to (§8).
//! Many codes at once use Ed25519 batch verification.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, VerifyingKey};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;

use crate::code::verify::{self, Reason, Verdict};
use crate::code::{TrustedKeys, cose, text};
use crate::error::AppResult;
use crate::grading::Grade;
use crate::grading::finance::{self, Finance, Item};
use crate::store::codes::{self, CodeStatus};
use crate::store::firms;

/// The claims as the API shows them: times in RFC 3339, the score as the trace writes it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClaimsView {
    pub uscc: String,
    pub grade: Grade,
    pub score: String,
    pub period: u32,
    pub methodology: String,
    pub iat: DateTime<Utc>,
    pub exp: DateTime<Utc>,
    pub serial: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FirmName {
    pub name: String,
}

/// A code's status as a verifier sees it: on record, or `unknown` when not on record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    Superseded,
    Revoked,
    Expired,
    Unknown,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Superseded => "superseded",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Expired => "expired",
            RecordStatus::Unknown => "unknown",
        }
    }
}

impl From<CodeStatus> for RecordStatus {
    fn from(status: CodeStatus) -> Self {
        match status {
            CodeStatus::Active => RecordStatus::Active,
            CodeStatus::Superseded => RecordStatus::Superseded,
            CodeStatus::Revoked => RecordStatus::Revoked,
            CodeStatus::Expired => RecordStatus::Expired,
        }
    }
}

/// Why a code does not count: a reason of token.md §3 (it does not verify), or its status on
/// record (it verifies but is no longer in force).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerifyReason {
    Malformed,
    UnknownKey,
    BadSignature,
    KeyCompromised,
    NotYetValid,
    Expired,
    Superseded,
    Revoked,
    Unknown,
}

impl VerifyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyReason::Malformed => "malformed",
            VerifyReason::UnknownKey => "unknown_key",
            VerifyReason::BadSignature => "bad_signature",
            VerifyReason::KeyCompromised => "key_compromised",
            VerifyReason::NotYetValid => "not_yet_valid",
            VerifyReason::Expired => "expired",
            VerifyReason::Superseded => "superseded",
            VerifyReason::Revoked => "revoked",
            VerifyReason::Unknown => "unknown",
        }
    }

    /// The code is authentic (its signature holds); it is only no longer in force.
    pub fn is_status(self) -> bool {
        matches!(
            self,
            VerifyReason::Superseded | VerifyReason::Revoked | VerifyReason::Expired
        )
    }
}

impl From<Reason> for VerifyReason {
    fn from(reason: Reason) -> Self {
        match reason {
            Reason::Malformed => VerifyReason::Malformed,
            Reason::UnknownKey => VerifyReason::UnknownKey,
            Reason::BadSignature => VerifyReason::BadSignature,
            Reason::KeyCompromised => VerifyReason::KeyCompromised,
            Reason::NotYetValid => VerifyReason::NotYetValid,
            Reason::Expired => VerifyReason::Expired,
        }
    }
}

impl RecordStatus {
    /// Why a code with this status does not count (`None`: active, it does).
    fn refusal(self) -> Option<VerifyReason> {
        match self {
            RecordStatus::Active => None,
            RecordStatus::Superseded => Some(VerifyReason::Superseded),
            RecordStatus::Revoked => Some(VerifyReason::Revoked),
            RecordStatus::Expired => Some(VerifyReason::Expired),
            RecordStatus::Unknown => Some(VerifyReason::Unknown),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    pub valid: bool,
    pub reason: Option<VerifyReason>,
    pub detail: Option<String>,
    pub status: Option<RecordStatus>,
    pub claims: Option<ClaimsView>,
    pub firm: Option<FirmName>,
    pub finance: Option<Finance>,
    pub services: Vec<Item>,
}

fn time(seconds: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX), 0).unwrap_or_default()
}

/// One code's offline stage: the verdict, or the signature still to be checked.
enum Stage {
    Done(Verdict),
    Pending {
        decoded: Box<cose::Decoded>,
        key: VerifyingKey,
    },
}

fn offline_stage(code_or_url: &str, keys: &TrustedKeys) -> Stage {
    let bytes = match text::decode(text::code_part(code_or_url)) {
        Ok(b) => b,
        Err(e) => return Stage::Done(invalid(Reason::Malformed, e)),
    };
    let decoded = match cose::decode(&bytes) {
        Ok(d) => d,
        Err(e) => return Stage::Done(invalid(Reason::Malformed, e)),
    };
    if let Err((reason, detail)) = verify::check_key(&decoded, keys) {
        let mut verdict = invalid(reason, detail);
        verdict.kid = Some(hex::encode(decoded.kid));
        verdict.claims = Some(decoded.claims);
        return Stage::Done(verdict);
    }
    match keys.get(&decoded.kid) {
        Some(trusted) => Stage::Pending {
            key: trusted.key,
            decoded: Box::new(decoded),
        },
        None => Stage::Done(invalid(Reason::UnknownKey, "no published key has this kid")),
    }
}

fn invalid(reason: Reason, detail: impl Into<String>) -> Verdict {
    Verdict {
        valid: false,
        reason: Some(reason),
        detail: Some(detail.into()),
        kid: None,
        claims: None,
    }
}

/// Verifies codes offline: signatures in batches (falling back to one by one to find a bad
/// one), with exactly the verdicts of [`verify::verify`].
pub fn verify_offline(codes: &[String], keys: &TrustedKeys, now: i64) -> Vec<Verdict> {
    let stages: Vec<Stage> = codes.iter().map(|c| offline_stage(c, keys)).collect();
    let pending: Vec<(usize, &cose::Decoded, &VerifyingKey)> = stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Stage::Pending { decoded, key } => Some((i, &**decoded, key)),
            Stage::Done(_) => None,
        })
        .collect();
    let mut signature_ok: HashMap<usize, bool> = HashMap::new();
    for chunk in pending.chunks(64) {
        let messages: Vec<&[u8]> = chunk.iter().map(|(_, d, _)| d.signed.as_slice()).collect();
        let signatures: Vec<Signature> = chunk.iter().map(|(_, d, _)| d.signature).collect();
        let public: Vec<VerifyingKey> = chunk.iter().map(|(_, _, k)| **k).collect();
        // A batch that passes proves every signature in it; one that fails is checked one by
        // one with verify_strict to find the bad ones. (The only signatures a batch accepts and
        // verify_strict refuses have a small-order R, which only the key's holder can make:
        // they prove nothing a forger could use.)
        let batch_ok =
            chunk.len() > 1 && ed25519_dalek::verify_batch(&messages, &signatures, &public).is_ok();
        for (i, decoded, key) in chunk {
            let ok = batch_ok
                || key
                    .verify_strict(&decoded.signed, &decoded.signature)
                    .is_ok();
            signature_ok.insert(*i, ok);
        }
    }
    stages
        .into_iter()
        .enumerate()
        .map(|(i, stage)| match stage {
            Stage::Done(verdict) => verdict,
            Stage::Pending { decoded, .. } => {
                if signature_ok.get(&i) == Some(&true) {
                    verify::check_time(&decoded, now)
                } else {
                    let mut verdict =
                        invalid(Reason::BadSignature, "the signature does not verify");
                    verdict.kid = Some(hex::encode(decoded.kid));
                    verdict.claims = Some(decoded.claims);
                    verdict
                }
            }
        })
        .collect()
}

/// What verification needs of a code's record, kept for a moment: a busy bank or a popular
/// scan page then costs no database round trip. Approving and revoking forget the codes they
/// change, so this process answers a change at once; other replicas within [`FRESH_FOR`].
#[derive(Clone)]
struct Record {
    status: CodeStatus,
    iat: i64,
    exp: i64,
    kid: String,
    firm_name: Option<String>,
    waste_score: Option<String>,
}

impl Record {
    fn status_at(&self, now: i64) -> RecordStatus {
        if self.status == CodeStatus::Active && now > self.exp {
            RecordStatus::Expired
        } else {
            self.status.into()
        }
    }
}

pub const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(1);
const CACHE_MAX: usize = 100_000;

/// Records by (kid, serial): a serial is unique in one log, and the kid tells logs (and so
/// databases sharing this process, as in the tests) apart.
type Cache = HashMap<(String, i64), (std::time::Instant, Record)>;

fn cache() -> &'static std::sync::Mutex<Cache> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Drops what is kept of these codes (after they were issued, superseded or revoked).
pub fn forget(serials: &[i64]) {
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(_, serial), _| !serials.contains(serial));
}

async fn records(
    db: &DatabaseConnection,
    wanted: &[(String, i64)],
) -> AppResult<HashMap<i64, Record>> {
    let mut found = HashMap::new();
    let mut missing = Vec::new();
    {
        let cache = cache().lock().unwrap_or_else(|p| p.into_inner());
        for key in wanted {
            match cache.get(key) {
                Some((at, record)) if at.elapsed() < FRESH_FOR => {
                    found.insert(key.1, record.clone());
                }
                _ => missing.push(key.1),
            }
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let mut rows: Vec<codes::Model> = Vec::new();
    for part in missing.chunks(500) {
        rows.extend(
            codes::Entity::find()
                .filter(codes::Column::Serial.is_in(part.to_vec()))
                .all(db)
                .await?,
        );
    }
    let firm_ids: Vec<i64> = rows.iter().map(|c| c.firm_id).collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    for part in firm_ids.chunks(500) {
        for firm in firms::Entity::find()
            .filter(firms::Column::Id.is_in(part.to_vec()))
            .all(db)
            .await?
        {
            names.insert(firm.id, firm.name);
        }
    }
    let now = std::time::Instant::now();
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    if cache.len() > CACHE_MAX {
        cache.clear();
    }
    for code in rows {
        let record = Record {
            firm_name: names.get(&code.firm_id).cloned(),
            status: code.status,
            iat: code.iat,
            exp: code.exp,
            kid: code.kid,
            waste_score: code.waste_score,
        };
        cache.insert((record.kid.clone(), code.serial), (now, record.clone()));
        found.insert(code.serial, record);
    }
    Ok(found)
}

/// Verifies codes and adds what is on record: status, firm, finance and services.
pub async fn verify_codes(
    db: &DatabaseConnection,
    keys: &TrustedKeys,
    codes_in: &[String],
) -> AppResult<Vec<VerifyResult>> {
    let now = Utc::now().timestamp();
    let verdicts = verify_offline(codes_in, keys, now);
    let mut wanted: Vec<(String, i64)> = verdicts
        .iter()
        .filter_map(|v| Some((v.kid.clone()?, v.claims.as_ref()?.serial as i64)))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let on_record = records(db, &wanted).await?;
    Ok(verdicts
        .into_iter()
        .map(|verdict| {
            let Some(claims) = verdict.claims.clone() else {
                return VerifyResult {
                    valid: false,
                    reason: verdict.reason.map(VerifyReason::from),
                    detail: verdict.detail,
                    status: None,
                    claims: None,
                    firm: None,
                    finance: None,
                    services: Vec::new(),
                };
            };
            // A signed code whose serial names another code was not issued here as it stands.
            let record = on_record.get(&(claims.serial as i64)).filter(|c| {
                verdict.valid && Some(&c.kid) == verdict.kid.as_ref() && c.iat == claims.iat as i64
            });
            let status = match record {
                Some(code) => code.status_at(now),
                None if verdict.valid => RecordStatus::Unknown,
                None => on_record
                    .get(&(claims.serial as i64))
                    .map_or(RecordStatus::Unknown, |c| c.status_at(now)),
            };
            let (mut valid, mut reason) = (verdict.valid, verdict.reason.map(VerifyReason::from));
            if valid && let Some(refusal) = status.refusal() {
                valid = false;
                reason = Some(refusal);
            }
            let firm = record
                .and_then(|c| c.firm_name.clone())
                .map(|name| FirmName { name });
            let waste_score = record
                .and_then(|c| c.waste_score.as_deref())
                .and_then(|s| crate::grading::decimal::parse_decimal(s).ok())
                .map(crate::grading::Fixed::from);
            VerifyResult {
                valid,
                reason,
                detail: verdict.detail,
                status: Some(status),
                finance: verdict.valid.then(|| finance::finance(claims.grade)),
                services: if verdict.valid {
                    finance::services(claims.grade, waste_score)
                } else {
                    Vec::new()
                },
                claims: Some(ClaimsView {
                    uscc: claims.sub.clone(),
                    grade: claims.grade,
                    score: claims.score_text(),
                    period: claims.period,
                    methodology: claims.methodology.clone(),
                    iat: time(claims.iat),
                    exp: time(claims.exp),
                    serial: claims.serial,
                }),
                firm,
            }
        })
        .collect())
}
