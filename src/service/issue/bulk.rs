//! Bulk approval (批量审核通过): a regulator approves many submissions at once — those that need
//! nothing more than the approval — each through the group commit, as one approval would be.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::db::Db;
use crate::error::{AppError, AppResult, Problem};
use crate::grading::Fault;
use crate::service::accounts::{Caller, Role};
use crate::service::cache::Caches;
use crate::service::keystore::Keys;
use crate::store::assessments::{self, AssessmentStatus};

/// The most submissions one request approves.
pub const MAX_IDS: usize = 10_000;
/// How many approvals wait in the queue at once (several groups' worth, so that the writer
/// always finds a full group).
const IN_FLIGHT: usize = 2048;

/// What a bulk approval did, submission by submission.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkApproval {
    pub approved: usize,
    pub refused: usize,
    /// The codes issued, in the order asked.
    pub codes: Vec<BulkIssued>,
    /// The submissions not approved, in the order asked, each with why.
    pub refusals: Vec<BulkRefusal>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkIssued {
    pub assessment_id: i64,
    pub serial: u64,
    pub uscc: String,
    pub grade: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkRefusal {
    pub assessment_id: i64,
    /// The problem document that approving it alone would have answered.
    pub problem: Problem,
}

/// The ids asked, checked at the boundary: 1 to [`MAX_IDS`] of them, each a positive id,
/// none twice.
fn checked_ids(ids: &[i64]) -> AppResult<()> {
    if ids.is_empty() {
        return Err(AppError::field_fault(
            Fault::Required,
            "ids",
            "give the ids of the submissions to approve",
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(AppError::field_fault(
            Fault::Range,
            "ids",
            format!("at most {MAX_IDS} submissions at once; split the list"),
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    for (at, &id) in ids.iter().enumerate() {
        if id < 1 {
            return Err(AppError::field_fault(
                Fault::Range,
                format!("ids[{at}]"),
                "an id is a positive integer",
            ));
        }
        if !seen.insert(id) {
            return Err(AppError::field_fault(
                Fault::Combination,
                format!("ids[{at}]"),
                format!("{id} is asked twice"),
            ));
        }
    }
    Ok(())
}

/// Approves each submission asked that needs no more than the approval: one whose data were
/// found abnormal (it needs the record of a check) or whose declared figures differ from the
/// attested ones beyond the tolerance (it needs the regulator's note) is refused, as is one not
/// found or not under review — each for itself. The rest are approved through the group commit,
/// [`IN_FLIGHT`] waiting at once: one log append per group, each code as one approval's.
pub async fn approve_many(
    db: &Db,
    caches: &Caches,
    keys: &Arc<Keys>,
    caller: &Caller,
    ids: &[i64],
    public_url: &str,
) -> AppResult<BulkApproval> {
    caller.must_be(Role::Regulator)?;
    checked_ids(ids)?;
    let mut refusals: BTreeMap<usize, AppError> = BTreeMap::new();
    let mut ready: Vec<(usize, i64)> = Vec::with_capacity(ids.len());
    for (chunk_at, chunk) in ids.chunks(512).enumerate() {
        let found = read_chunk(db, chunk).await?;
        let flagged = crate::service::readings::flagged_many(
            db,
            &found
                .values()
                .map(|(a, uscc)| {
                    let input = serde_json::from_str(&a.input).unwrap_or_default();
                    (a.id, uscc.clone(), a.period, input)
                })
                .collect::<Vec<_>>(),
        )
        .await?;
        for (k, &id) in chunk.iter().enumerate() {
            let at = chunk_at * 512 + k;
            match refusal(found.get(&id).map(|(a, _)| a), flagged.get(&id)) {
                Some(err) => {
                    refusals.insert(at, err);
                }
                None => ready.push((at, id)),
            }
        }
    }
    let mut issued: BTreeMap<usize, BulkIssued> = BTreeMap::new();
    let mut approvals = tokio::task::JoinSet::new();
    // A fault of the service (not of one submission) fails the request, as it would one
    // approval: the first in the list's order is kept aside.
    let mut fault: Option<(usize, AppError)> = None;
    let mut answer = |at: usize, outcome: AppResult<super::IssuedCode>| match outcome {
        Ok(code) => {
            issued.insert(
                at,
                BulkIssued {
                    assessment_id: code.assessment_id,
                    serial: code.serial,
                    uscc: code.uscc,
                    grade: code.grade,
                },
            );
        }
        Err(err @ (AppError::Internal(_) | AppError::LogBehind(_) | AppError::Unavailable(_))) => {
            if fault.as_ref().is_none_or(|(first, _)| at < *first) {
                fault = Some((at, err));
            }
        }
        Err(err) => {
            refusals.insert(at, err);
        }
    };
    for (at, id) in ready {
        if approvals.len() >= IN_FLIGHT
            && let Some(done) = approvals.join_next().await
        {
            let (at, outcome) = done.map_err(AppError::internal)?;
            answer(at, outcome);
        }
        let (db, caches, keys) = (db.clone(), caches.clone(), keys.clone());
        let (caller, url) = (caller.clone(), public_url.to_owned());
        approvals.spawn(async move {
            (
                at,
                super::approve(&db, &caches, &keys, &caller, id, &url).await,
            )
        });
    }
    while let Some(done) = approvals.join_next().await {
        let (at, outcome) = done.map_err(AppError::internal)?;
        answer(at, outcome);
    }
    if let Some((_, err)) = fault {
        return Err(err);
    }
    Ok(BulkApproval {
        approved: issued.len(),
        refused: refusals.len(),
        codes: issued.into_values().collect(),
        refusals: refusals
            .into_iter()
            .map(|(at, err)| BulkRefusal {
                assessment_id: ids[at],
                problem: err.problem(),
            })
            .collect(),
    })
}

/// A chunk's submissions with their firms' USCCs, by id (one statement).
async fn read_chunk(
    db: &Db,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, (assessments::Model, String)>> {
    Ok(assessments::with_firms(db, ids)
        .await?
        .into_iter()
        .filter_map(|(a, f)| Some((a.id, (a, f?.uscc.to_string()))))
        .collect())
}

/// Why a submission cannot be approved without more than the approval, if it cannot.
fn refusal(found: Option<&assessments::Model>, flagged: Option<&Vec<String>>) -> Option<AppError> {
    let Some(assessment) = found else {
        return Some(AppError::NotFound);
    };
    if assessment.status != AssessmentStatus::Submitted {
        return Some(AppError::Conflict(
            crate::error::Conflict::AlreadyDone,
            format!(
                "assessment {} is {}, not submitted",
                assessment.id,
                assessment.status.as_str()
            ),
        ));
    }
    let abnormal = crate::service::abnormal::of(assessment);
    if !abnormal.is_empty() {
        let checks: Vec<&str> = abnormal.iter().map(|f| f.check.as_str()).collect();
        return Some(AppError::field_fault(
            Fault::Required,
            "check",
            format!(
                "the data were found abnormal ({}): approve it alone, with the record of a check",
                checks.join(", ")
            ),
        ));
    }
    match flagged {
        Some(fields) if !fields.is_empty() => Some(AppError::field_fault(
            Fault::Required,
            "note",
            format!(
                "{} differ from the attested figures beyond the tolerance: approve it alone, \
                 with the regulator's note of the check",
                fields.join(", ")
            ),
        )),
        _ => None,
    }
}
