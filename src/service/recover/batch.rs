//! One batch of issue entries: read, decided and its statements built.

use super::steps::Prepared;
use super::*;

/// An issue entry's code, checked against the entry.
pub(super) struct Restoring {
    serial: u64,
    entry: Value,
    cose_bytes: Vec<u8>,
    sha: String,
    claims: crate::code::Claims,
}

pub(super) fn decoded(
    serial: u64,
    entry: Value,
    report: &mut Recovered,
) -> AppResult<Option<Restoring>> {
    let Some(code) = entry["code"].as_str() else {
        report.notes.push(format!(
            "code {serial}: its entry predates the code bytes; not restored"
        ));
        return Ok(None);
    };
    let cose_bytes = URL_SAFE_NO_PAD
        .decode(code)
        .map_err(|_| bad(format!("entry {serial}: the code is not base64url")))?;
    let sha = hex::encode(Sha256::digest(&cose_bytes));
    let claims = cose::decode(&cose_bytes)
        .map_err(|e| bad(format!("entry {serial}: the code does not decode: {e}")))?
        .claims;
    if Some(sha.as_str()) != entry["code_sha256"].as_str()
        || claims.serial != serial
        || Some(claims.sub.as_str()) != entry["uscc"].as_str()
    {
        return Err(bad(format!(
            "entry {serial}: the code is not the one the entry names"
        )));
    }
    Ok(Some(Restoring {
        serial,
        entry,
        cose_bytes,
        sha,
        claims,
    }))
}

/// A batch of issue entries decoded, with the notes of those not restored.
pub(super) struct Decoded {
    restoring: Vec<Restoring>,
    report: Recovered,
}

/// The batch's entries decoded and checked against their codes.
pub(super) fn decode(entries: Vec<(u64, Value)>) -> AppResult<Decoded> {
    let mut report = Recovered::default();
    let mut restoring = Vec::with_capacity(entries.len());
    for (serial, entry) in entries {
        restoring.extend(decoded(serial, entry, &mut report)?);
    }
    Ok(Decoded { restoring, report })
}

/// Decides what a batch of issue entries restores, in order: their firms, assessments,
/// certifications, vetoes and superseded codes read once on `conn`, their writes held to be
/// made once per table. A firm missing from the database is recreated in `creating`, the
/// transaction; reading outside it (`None`), the batch is handed back to be decided inside it.
pub(super) async fn prepare<C: sea_orm::ConnectionTrait>(
    conn: &C,
    creating: Option<&crate::db::WriteTxn>,
    table: &BenchmarkTable,
    actor: &Actor,
    decoded: Decoded,
) -> AppResult<Result<Prepared, Decoded>> {
    use std::collections::HashMap;
    let Decoded {
        restoring,
        mut report,
    } = decoded;
    let mut firms: HashMap<String, firms::Model> =
        firms::by_usccs(conn, restoring.iter().map(|r| r.claims.sub.clone()))
            .await?
            .into_iter()
            .map(|f| (f.uscc.to_string(), f))
            .collect();
    if creating.is_none() && restoring.iter().any(|r| !firms.contains_key(&r.claims.sub)) {
        return Ok(Err(Decoded { restoring, report }));
    }
    let report = &mut report;
    for r in &restoring {
        if let (false, Some(txn)) = (firms.contains_key(&r.claims.sub), creating) {
            let at =
                DateTime::<Utc>::from_timestamp(r.claims.iat as i64, 0).unwrap_or_else(Utc::now);
            let firm = recreate_firm(txn, actor, &r.claims, &r.entry, at, report).await?;
            firms.insert(r.claims.sub.clone(), firm);
        }
    }
    let firm_ids: Vec<crate::store::ids::FirmId> = firms.values().map(|f| f.id).collect();
    let mut of_firm: HashMap<(crate::store::ids::FirmId, i32), Vec<Candidate>> = HashMap::new();
    for c in Candidate::of_firms(conn, &firm_ids).await? {
        of_firm.entry((c.firm_id, c.period)).or_default().push(c);
    }
    for list in of_firm.values_mut() {
        list.sort_by_key(|a| std::cmp::Reverse(a.id));
    }
    let (mut certs, mut vets) = crate::store::certifications_and_vetoes(conn, &firm_ids).await?;
    let earlier: Vec<i64> = restoring
        .iter()
        .filter_map(|r| r.entry["supersedes"].as_i64())
        .collect();
    let mut previous: HashMap<i64, codes::Model> =
        crate::store::rows_in::<codes::Entity, _, _>(conn, codes::Column::Serial, earlier)
            .await?
            .into_iter()
            .map(|c| (c.serial, c))
            .collect();
    let mut writes = crate::service::issue::writes::Writes::default();
    let mut approvals = Vec::new();
    for r in restoring {
        let Restoring {
            serial,
            entry,
            cose_bytes,
            sha,
            claims,
        } = r;
        let firm = &firms[&claims.sub];
        let trace_hash = entry["trace_hash"].as_str().unwrap_or("");
        let period = i32::try_from(claims.period).unwrap_or(0);
        let at = DateTime::<Utc>::from_timestamp(claims.iat as i64, 0).unwrap_or_else(Utc::now);
        let of_period = of_firm.remove(&(firm.id, period)).unwrap_or_default();
        // The approval graded the submission again as of its day (China time): do the same,
        // and the assessment whose grading gives the entry's trace is the one approved.
        let approved_on = (at + chrono::Duration::hours(8)).date_naive();
        let certs = certs.remove(&firm.id).unwrap_or_default();
        let vets = vets.remove(&firm.id).unwrap_or_default();
        let mut regraded = None;
        for candidate in &of_period {
            if candidate.trace_hash == trace_hash {
                regraded = Some((candidate, None));
                break;
            }
            let Ok(stored) = serde_json::from_str::<Value>(&candidate.input) else {
                continue;
            };
            let mut data = stored.as_object().cloned().unwrap_or_default();
            data.insert("assessed_on".into(), Value::String(approved_on.to_string()));
            if let Ok(checked) =
                grading::check(&assemble_input(firm.into(), &data, &certs, &vets), table)
                && checked.graded.trace_hash == trace_hash
            {
                regraded = Some((candidate, Some(checked)));
                break;
            }
        }
        let Some((assessment, checked)) = regraded.or(of_period.first().map(|a| (a, None))) else {
            report.notes.push(format!(
                "code {serial}: firm {} has no {period} assessment in the database; the code is \
                 in the log but its record is not restored",
                claims.sub
            ));
            continue;
        };
        if assessment.trace_hash == trace_hash || checked.is_some() {
            let regraded = match &checked {
                Some(checked) => {
                    let graded = &checked.graded;
                    Some(Regraded {
                        input: checked.canonical_input(),
                        trace: String::from_utf8(graded.trace.canonical_bytes())
                            .map_err(AppError::internal)?,
                        trace_hash: graded.trace_hash.clone(),
                        score: graded.trace.score.clone(),
                        grade: graded.grade,
                        benchmarks: graded.trace.benchmarks.clone(),
                    })
                }
                None => None,
            };
            approvals.push(Approval {
                id: assessment.id,
                reviewed_at: at,
                serial: serial as i64,
                regraded,
            });
        } else {
            report.notes.push(format!(
                "code {serial}: no assessment of firm {} grades to the code's trace; linked to \
                 assessment {} as it is (review it)",
                claims.sub, assessment.id
            ));
        }
        let score = entry["score"].as_str().unwrap_or("").to_owned();
        writes.codes.push(codes::Model {
            serial: serial as i64,
            firm_id: firm.id,
            assessment_id: assessment.id,
            cose: cose_bytes,
            code_sha256: sha,
            iat: claims.iat as i64,
            exp: claims.exp as i64,
            status: CodeStatus::Active,
            kid: entry["kid"].as_str().unwrap_or("").to_owned(),
            grade: claims.grade.into(),
            score: score.clone(),
            period,
            superseded_by: None,
            revoked_reason: None,
            revoked_at: None,
            revoke_entry: None,
            created_at: at,
            waste_score: None,
        });
        if let Some(earlier) = entry["supersedes"].as_i64() {
            // In this batch (not written yet), or in the database.
            if let Some(old) = writes.codes.iter_mut().find(|c| c.serial == earlier) {
                old.status = CodeStatus::Superseded;
                old.superseded_by = Some(serial as i64);
            } else if let Some(mut old) = previous.remove(&earlier) {
                if old.status == CodeStatus::Active {
                    old.status = CodeStatus::Superseded;
                }
                old.superseded_by = Some(serial as i64);
                writes.superseded.push(old);
            }
        }
        writes.firms.push(firms::Model {
            current_grade: Some(claims.grade.into()),
            current_score: Some(score),
            current_serial: Some(serial as i64),
            current_period: Some(period),
            ..firm.clone()
        });
        writes.audits.push((
            actor.clone(),
            Change {
                action: "code.restore",
                target_type: "code",
                target_id: serial.to_string(),
                before: None,
                after: Some(json!({"status": CodeStatus::Active, "from_log": serial})),
            },
        ));
        report.codes.push(serial);
    }
    let backend = conn.get_database_backend();
    let mut statements = writes.statements(backend);
    statements.extend(Approval::statement(backend, approvals));
    let changes = writes.audits.drain(..).map(|(_, c)| c).collect();
    statements.extend(audit::statements(backend, actor, Utc::now(), changes));
    Ok(Ok(Prepared {
        statements,
        report: std::mem::take(report),
    }))
}

/// What recovery reads of an assessment to find the one a code was issued from — not its
/// trace or carbon trace, kilobytes it would read only to write them back unchanged.
pub(super) struct Candidate {
    id: i64,
    firm_id: crate::store::ids::FirmId,
    period: i32,
    input: String,
    trace_hash: String,
}

impl Candidate {
    async fn of_firms<C: sea_orm::ConnectionTrait>(
        conn: &C,
        firm_ids: &[crate::store::ids::FirmId],
    ) -> AppResult<Vec<Candidate>> {
        use assessments::Column as A;
        use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
        if firm_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(assessments::Entity::find()
            .select_only()
            .columns([A::Id, A::FirmId, A::Period, A::Input, A::TraceHash])
            .filter(A::FirmId.is_in(crate::db::in_list(firm_ids)))
            .into_tuple::<(i64, crate::store::ids::FirmId, i32, String, String)>()
            .all(conn)
            .await?
            .into_iter()
            .map(|(id, firm_id, period, input, trace_hash)| Candidate {
                id,
                firm_id,
                period,
                input,
                trace_hash,
            })
            .collect())
    }
}

/// An assessment approved again by its code's issue entry.
pub(super) struct Approval {
    id: i64,
    reviewed_at: DateTime<Utc>,
    serial: i64,
    /// Its grading as of the approval's day, when that is not the one stored.
    regraded: Option<Regraded>,
}

pub(super) struct Regraded {
    input: String,
    trace: String,
    trace_hash: String,
    score: String,
    grade: grading::Grade,
    benchmarks: String,
}

impl Approval {
    /// One statement for a batch's approvals: each row's status, review time and code, and
    /// — for one graded again — its input, trace, hash, score, grade and benchmarks (the
    /// columns left as they are where a row gives none).
    fn statement(
        backend: sea_orm::DatabaseBackend,
        approvals: Vec<Approval>,
    ) -> Option<sea_orm::Statement> {
        use sea_orm::Value;
        if approvals.is_empty() {
            return None;
        }
        const KEPT: [&str; 6] = [
            "input",
            "trace",
            "trace_hash",
            "score",
            "grade",
            "benchmarks",
        ];
        let mut values: Vec<Value> = vec![AssessmentStatus::Approved.as_str().into()];
        let place = |values: &mut Vec<Value>, value: Value| {
            values.push(value);
            match backend {
                sea_orm::DatabaseBackend::Postgres => format!("${}", values.len()),
                _ => "?".to_owned(),
            }
        };
        let status = match backend {
            sea_orm::DatabaseBackend::Postgres => "$1",
            _ => "?",
        };
        let mut rows = Vec::with_capacity(approvals.len());
        for a in approvals {
            let (input, trace, hash, score, grade, benchmarks) = match a.regraded {
                Some(r) => (
                    Some(r.input),
                    Some(r.trace),
                    Some(r.trace_hash),
                    Some(r.score),
                    Some(r.grade.as_str().to_owned()),
                    Some(r.benchmarks),
                ),
                None => (None, None, None, None, None, None),
            };
            let cells = [
                place(&mut values, a.id.into()),
                place(&mut values, a.reviewed_at.into()),
                place(&mut values, a.serial.into()),
                place(&mut values, input.into()),
                place(&mut values, trace.into()),
                place(&mut values, hash.into()),
                place(&mut values, score.into()),
                place(&mut values, grade.into()),
                place(&mut values, benchmarks.into()),
            ];
            rows.push(format!("({})", cells.join(", ")));
        }
        let kept: Vec<String> = KEPT
            .iter()
            .enumerate()
            .map(|(k, column)| {
                format!(
                    "\"{column}\" = COALESCE(\"v\".\"column{}\", \"assessments\".\"{column}\")",
                    k + 4
                )
            })
            .collect();
        let sql = format!(
            "UPDATE \"assessments\" SET \"status\" = {status}, \"reviewed_at\" = \"v\".\"column2\", \
             \"code_serial\" = \"v\".\"column3\", {} FROM (VALUES {}) AS \"v\" \
             WHERE \"assessments\".\"id\" = \"v\".\"column1\"",
            kept.join(", "),
            rows.join(", ")
        );
        Some(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
    }
}
