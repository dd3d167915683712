//! Verifying codes for banks and the public: the offline checks of token.md §3, then the
//! code's status on record (§3 step 6), the firm's name, and what the grade links to (§8).
//! Many codes at once use Ed25519 batch verification.

use crate::db::Db;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::cache::{Caches, CodeCache, CodeFacts};
pub use super::verdict::{ClaimsView, FirmName, RecordStatus, VerifyReason, VerifyResult};
use crate::code::alg::{self, PublicKey};
use crate::code::verify::{self, Reason, Verdict};
use crate::code::{TrustedKeys, cose, text};
use crate::error::AppResult;
use crate::grading::finance;
use crate::store::codes::{self, CodeStatus};
use crate::store::firms;

/// The most codes one bulk request may carry.
pub const BULK_MAX: usize = 1000;

fn time(seconds: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX), 0).unwrap_or_default()
}

/// One code's offline stage: the verdict, or the signature still to be checked.
enum Stage {
    Done(Verdict),
    Pending {
        decoded: Box<cose::Decoded>,
        key: PublicKey,
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
    // A code whose key is out of its window, or whose header names another algorithm than
    // the key's (malformed, token.md §9, as in the core's `verify_bytes`), says who it claims
    // to be: its kid and claims go with the verdict.
    let refused = |(reason, detail): (Reason, String), decoded: cose::Decoded| {
        let mut verdict = invalid(reason, detail);
        verdict.kid = Some(hex::encode(decoded.kid));
        verdict.claims = Some(decoded.claims);
        Stage::Done(verdict)
    };
    if let Err(fault) = verify::check_key(&decoded, keys) {
        return refused(fault, decoded);
    }
    let Some(trusted) = keys.get(&decoded.kid) else {
        return Stage::Done(invalid(Reason::UnknownKey, "no published key has this kid"));
    };
    if let Err(fault) = verify::check_algorithm(&decoded, &trusted.key) {
        return refused(fault, decoded);
    }
    Stage::Pending {
        key: trusted.key.clone(),
        decoded: Box::new(decoded),
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

/// Verifies codes offline: signatures in batches per algorithm (falling back to one by one to
/// find a bad one), with exactly the verdicts of [`verify::verify`].
pub fn verify_offline(codes: &[String], keys: &TrustedKeys, now: i64) -> Vec<Verdict> {
    let stages: Vec<Stage> = codes.iter().map(|c| offline_stage(c, keys)).collect();
    let pending: Vec<(usize, alg::Signed)> = stages
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Stage::Pending { decoded, key } => Some((
                i,
                alg::Signed {
                    message: &decoded.signed,
                    signature: &decoded.signature,
                    key,
                },
            )),
            Stage::Done(_) => None,
        })
        .collect();
    let (indices, signed): (Vec<usize>, Vec<alg::Signed>) = pending.into_iter().unzip();
    let signature_ok: HashMap<usize, bool> =
        indices.into_iter().zip(alg::verify_many(&signed)).collect();
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

fn status_at(facts: &CodeFacts, now: i64) -> RecordStatus {
    if facts.status == CodeStatus::Active && now > facts.exp {
        RecordStatus::Expired
    } else {
        facts.status.into()
    }
}

/// The facts of the wanted codes: fresh ones from the cache, the others read (and kept).
async fn records(
    db: &Db,
    cache: &CodeCache,
    wanted: &[(String, i64)],
) -> AppResult<HashMap<i64, CodeFacts>> {
    let (mut found, missing) = cache.fresh(wanted);
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
    let firms = firms::by_ids(db, rows.iter().map(|c| c.firm_id)).await?;
    let read: Vec<(i64, CodeFacts)> = rows
        .into_iter()
        .map(|code| {
            let facts = CodeFacts {
                firm_name: firms.get(&code.firm_id).map(|f| f.name.clone()),
                status: code.status,
                iat: code.iat,
                exp: code.exp,
                kid: code.kid,
                waste_score: code.waste_score,
            };
            (code.serial, facts)
        })
        .collect();
    cache.put(read.iter().cloned());
    found.extend(read);
    Ok(found)
}

/// Verifies codes and adds what is on record: status, firm, finance and services.
pub async fn verify_codes(
    db: &Db,
    caches: &Caches,
    keys: &TrustedKeys,
    codes_in: &[String],
) -> AppResult<Vec<VerifyResult>> {
    let now = Utc::now().timestamp();
    // A bank's list is CPU work for as long as it takes (1,000 SM2 codes: about 0.2 s of
    // signatures): off the async runtime, so that other requests are served meanwhile.
    let verdicts = if codes_in.len() > 16 {
        let (codes, keys) = (codes_in.to_vec(), keys.clone());
        tokio::task::spawn_blocking(move || verify_offline(&codes, &keys, now))
            .await
            .map_err(crate::error::AppError::internal)?
    } else {
        verify_offline(codes_in, keys, now)
    };
    let mut wanted: Vec<(String, i64)> = verdicts
        .iter()
        .filter_map(|v| Some((v.kid.clone()?, v.claims.as_ref()?.serial as i64)))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let on_record = records(db, &caches.codes, &wanted).await?;
    Ok(verdicts
        .into_iter()
        .map(|verdict| {
            // Only a code whose signature holds says anything: a forged or unreadable one, or one
            // under an unknown or compromised key, yields its verdict and reason alone — no
            // claims, no status, no firm. (An expired or not yet valid code is authentic.)
            let authentic = verdict.valid
                || matches!(verdict.reason, Some(Reason::Expired | Reason::NotYetValid));
            let Some(claims) = verdict.claims.clone().filter(|_| authentic) else {
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
            let record = on_record
                .get(&(claims.serial as i64))
                .filter(|c| Some(&c.kid) == verdict.kid.as_ref() && c.iat == claims.iat as i64);
            let status = record.map_or(RecordStatus::Unknown, |code| status_at(code, now));
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
                    carbon_level: claims.carbon_level,
                    attested_share: claims.attested_share,
                }),
                firm,
            }
        })
        .collect())
}
