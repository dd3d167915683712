//! 数据直连: data sources deliver attested readings — a year's or a month's figure of one field
//! for one USCC, with the source's own reference (meter or report number) — as JSON, CSV or
//! XLSX. A batch is all or nothing, every fault named by its row and column; delivering the
//! same reading again changes nothing; a different quantity under the same key is a correction
//! and needs a reason (audited). The answer is a receipt signed with the service's code key
//! (COSE_Sign1 whose payload is the receipt's JSON as a CBOR text string), so that a source can prove what it delivered and when.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::energy::Carrier;
use crate::service::accounts::{Caller, Role};
use crate::service::import::{ImportError, RowError};

mod attested;
pub mod no_touch;
mod rows;
pub mod runs;

use crate::store::audit::{self, Change};
use crate::store::readings::{self, batches};
pub use attested::{
    Attested, BasisKind, Discrepancy, FigureBasis, attested, attested_many, attested_share,
    basis_of, check_declared, discrepancies, flagged_many, summarise,
};
use rows::{Key, check_row, csv_rows, row_error};

/// The most rows one batch takes (a year of monthly readings for 100,000 firms of one field is
/// 1.2 M rows: deliver it in several batches).
pub const MAX_ROWS: usize = 200_000;

/// The fields beside the energy carriers of methodology §2 that a source may attest.
const OTHER_FIELDS: [&str; 5] = [
    "green_power_kwh",
    "value_added_10k_cny",
    "waste_generated_t",
    "waste_utilized_t",
    "waste_stock_utilized_t",
];

/// Whether a field is one a source can attest at all.
pub fn attestable(field: &str) -> bool {
    Carrier::parse(field).is_some() || OTHER_FIELDS.contains(&field)
}

/// Every field a source can attest, in the form's order.
pub fn all_fields() -> Vec<&'static str> {
    Carrier::ALL
        .iter()
        .map(|c| c.name())
        .chain(OTHER_FIELDS)
        .collect()
}

/// The fields a source may attest, as given to `gec accounts add --fields`: checked, in order.
pub fn parse_fields(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for field in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        if !attestable(field) {
            return Err(format!(
                "{field:?} is not a field a source can attest: one of {}",
                all_fields().join(", ")
            ));
        }
        if !out.iter().any(|f| f == field) {
            out.push(field.to_owned());
        }
    }
    if out.is_empty() {
        return Err("a data source needs at least one field it may attest (--fields)".into());
    }
    Ok(out)
}

/// One reading as delivered.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingRow {
    pub uscc: String,
    /// A year (`2025`) or a month (`2025-03`, summed into its year).
    pub period: String,
    /// An energy carrier of methodology §2, `green_power_kwh`, `value_added_10k_cny`, or a
    /// waste amount of §3.
    pub field: String,
    /// A §1 decimal, not negative, in the field's unit.
    pub quantity: String,
    /// The source's own reference (meter or report number).
    pub reference: String,
    /// Why a reading already delivered is replaced (a correction only).
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsRequest {
    pub readings: Vec<ReadingRow>,
}

/// What a batch did, as the receipt states it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub batch: i64,
    /// The source's organisation.
    pub source: String,
    /// SHA-256 of the request body as it arrived (hex).
    pub sha256: String,
    pub format: String,
    pub rows: u32,
    pub created: u32,
    pub corrected: u32,
    pub unchanged: u32,
    pub received_at: chrono::DateTime<chrono::FixedOffset>,
}

/// The receipt with its signature: `signed` is a COSE_Sign1 (base64) whose payload is the
/// receipt's JSON, signed with the key `kid` of the published key set.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SignedReceipt {
    pub receipt: Receipt,
    pub signed: String,
}

/// The fields an account may attest (none for any other role).
pub fn attests_of(account: &crate::store::accounts::Model) -> Vec<String> {
    account
        .attests
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Delivers a batch: `format` is `json`, `csv` or `xlsx` (the body as it arrived).
pub async fn deliver(
    db: &Db,
    keys: &crate::service::keystore::Keys,
    caller: &Caller,
    format: &str,
    body: &[u8],
) -> AppResult<SignedReceipt> {
    if caller.role != Role::Source {
        return Err(AppError::Forbidden);
    }
    let account = crate::store::accounts::Entity::find_by_id(caller.account_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let may = attests_of(&account);
    let sha256 = hex::encode(Sha256::digest(body));
    let rows: Vec<(u64, ReadingRow)> = match format {
        "json" => {
            let request: ReadingsRequest = serde_json::from_slice(body)
                .map_err(|e| AppError::BadRequest(format!("the JSON body: {e}")))?;
            if request.readings.len() > MAX_ROWS {
                return Err(AppError::field_fault(
                    crate::grading::Fault::Range,
                    "readings",
                    format!("a batch takes at most {MAX_ROWS} readings"),
                ));
            }
            request
                .readings
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i as u64, r))
                .collect()
        }
        "csv" => csv_rows(body)?,
        "xlsx" => {
            let bytes = body.to_vec();
            let csv =
                tokio::task::spawn_blocking(move || crate::service::import::xlsx::to_csv(&bytes))
                    .await
                    .map_err(AppError::internal)??;
            csv_rows(&csv)?
        }
        other => {
            return Err(AppError::UnsupportedMediaType(format!(
                "{other}: send application/json, text/csv or an Excel workbook"
            )));
        }
    };
    // A field the source may not attest is a matter of authority, not of form: 403.
    if let Some((line, row)) = rows
        .iter()
        .find(|(_, r)| attestable(r.field.trim()) && !may.iter().any(|f| f == r.field.trim()))
    {
        return Err(AppError::ForbiddenBecause(format!(
            "row {line}: this source may not attest {:?} (it may attest {})",
            row.field.trim(),
            may.join(", ")
        )));
    }
    let mut faults = Vec::new();
    let mut checked = Vec::with_capacity(rows.len());
    let mut seen: HashSet<Key> = HashSet::new();
    for (line, row) in rows {
        if let Some(c) = check_row(line, row, &mut faults) {
            if !seen.insert(c.key()) {
                faults.push(row_error(
                    line,
                    Some("reference"),
                    "the same reading (USCC, period, field, reference) twice in one batch",
                ));
                continue;
            }
            checked.push(c);
        }
        if faults.len() >= 1000 {
            break;
        }
    }
    if checked.is_empty() && faults.is_empty() {
        return Err(AppError::fault("readings", crate::grading::Fault::Required));
    }
    let json_rows = format == "json";
    let refuse = |faults: Vec<RowError>| -> AppError {
        let mut faults = faults;
        if json_rows {
            // JSON rows are counted from 0, as `readings[i]`.
            RowError::json_rows(&mut faults, "readings");
        }
        ImportError::Rows(faults).into()
    };
    if !faults.is_empty() {
        return Err(refuse(faults));
    }
    let source_name = account.org.clone().unwrap_or(account.username.clone());
    let txn = crate::db::begin_write(db).await?;
    // What this source already delivered for these firms.
    let mut existing: HashMap<Key, readings::Model> = HashMap::new();
    let usccs: Vec<String> = checked
        .iter()
        .map(|c| c.uscc.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in usccs.chunks(500) {
        for r in readings::Entity::find()
            .filter(readings::Column::SourceId.eq(caller.account_id))
            .filter(readings::Column::Uscc.is_in(chunk.iter().cloned()))
            .all(&txn)
            .await?
        {
            existing.insert(
                (
                    r.uscc.clone(),
                    r.year,
                    r.month,
                    r.field.clone(),
                    r.reference.clone(),
                ),
                r,
            );
        }
    }
    let mut faults = Vec::new();
    let (mut created, mut corrected, mut unchanged) = (Vec::new(), Vec::new(), 0u32);
    for (i, c) in checked.into_iter().enumerate() {
        match existing.get(&c.key()) {
            None => created.push(c),
            Some(old) if old.quantity == c.quantity => unchanged += 1,
            Some(old) if c.reason.is_some() => corrected.push((old.clone(), c)),
            Some(old) => faults.push(row_error(
                i as u64 + if json_rows { 0 } else { 2 },
                Some("quantity"),
                format!(
                    "differs from the reading already delivered ({}): a correction needs a reason",
                    old.quantity
                ),
            )),
        }
    }
    if !faults.is_empty() {
        return Err(refuse(faults));
    }
    let now = Utc::now();
    let rows_total = created.len() as u32 + corrected.len() as u32 + unchanged;
    let (n_created, n_corrected) = (created.len() as u32, corrected.len() as u32);
    let batch = batches::ActiveModel {
        source_id: Set(caller.account_id),
        sha256: Set(sha256.clone()),
        format: Set(format.to_owned()),
        rows: Set(rows_total as i32),
        created: Set(n_created as i32),
        corrected: Set(n_corrected as i32),
        unchanged: Set(unchanged as i32),
        received_at: Set(now),
        receipt: Set(Vec::new()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for chunk in created.chunks(1000) {
        readings::Entity::insert_many(chunk.iter().map(|c| readings::ActiveModel {
            source_id: Set(caller.account_id),
            uscc: Set(c.uscc.clone()),
            year: Set(c.year),
            month: Set(c.month),
            field: Set(c.field.clone()),
            quantity: Set(c.quantity.clone()),
            reference: Set(c.reference.clone()),
            batch_id: Set(batch.id),
            correction_reason: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    for (old, c) in &corrected {
        let mut model: readings::ActiveModel = old.clone().into();
        model.quantity = Set(c.quantity.clone());
        model.batch_id = Set(batch.id);
        model.correction_reason = Set(c.reason.clone());
        model.updated_at = Set(now);
        model.update(&txn).await?;
        audit::record(
            &txn,
            &caller.actor(),
            now,
            Change {
                action: "reading.correct",
                target_type: "reading",
                target_id: old.id.to_string(),
                before: Some(serde_json::json!({"uscc": old.uscc, "year": old.year,
                    "month": old.month, "field": old.field, "quantity": old.quantity,
                    "reference": old.reference})),
                after: Some(serde_json::json!({"quantity": c.quantity, "reason": c.reason})),
            },
        )
        .await?;
    }
    let receipt = Receipt {
        batch: batch.id,
        source: source_name,
        sha256,
        format: format.to_owned(),
        rows: rows_total,
        created: n_created,
        corrected: n_corrected,
        unchanged,
        received_at: now.with_timezone(&china()),
    };
    let signed = sign(keys, &receipt)?;
    let mut model: batches::ActiveModel = batch.into();
    model.receipt = Set(signed.clone());
    model.update(&txn).await?;
    audit::record(
        &txn,
        &caller.actor(),
        now,
        Change {
            action: "readings.deliver",
            target_type: "reading_batch",
            target_id: receipt.batch.to_string(),
            before: None,
            after: Some(
                serde_json::json!({"sha256": receipt.sha256, "rows": rows_total,
                "created": n_created, "corrected": n_corrected, "unchanged": unchanged}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(SignedReceipt {
        receipt,
        signed: base64_of(&signed),
    })
}

fn china() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is an offset")
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The receipt signed as a COSE_Sign1 with the active code key; the payload is one CBOR text
/// string holding the receipt's JSON, exactly as the answer gives it.
fn sign(keys: &crate::service::keystore::Keys, receipt: &Receipt) -> AppResult<Vec<u8>> {
    let (key, _) = keys.ring.active.as_ref().ok_or_else(|| {
        AppError::Conflict(
            crate::error::Conflict::NoActiveKey,
            "no active signing key: rotate in a new key (gec keys rotate)".into(),
        )
    })?;
    let json = serde_json::to_string(receipt).map_err(AppError::internal)?;
    let payload = crate::code::cose::encode(&ciborium::Value::Text(json));
    Ok(crate::code::cose::sign_payload(&payload, key))
}

/// A source's name and the fields it may attest.
pub async fn source_profile(db: &Db, caller: &Caller) -> AppResult<(String, Vec<String>)> {
    if caller.role != Role::Source {
        return Err(AppError::Forbidden);
    }
    let account = crate::store::accounts::Entity::find_by_id(caller.account_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let fields = attests_of(&account);
    Ok((account.org.unwrap_or(account.username), fields))
}

/// One of the source's own signed receipts, as the COSE bytes it was given.
pub async fn receipt_bytes(db: &Db, caller: &Caller, batch: i64) -> AppResult<Vec<u8>> {
    if caller.role != Role::Source {
        return Err(AppError::Forbidden);
    }
    batches::Entity::find_by_id(batch)
        .one(db)
        .await?
        .filter(|b| b.source_id == caller.account_id)
        .map(|b| b.receipt)
        .ok_or(AppError::NotFound)
}

/// The source's own receipts, newest first.
pub async fn receipts(db: &Db, caller: &Caller) -> AppResult<Vec<SignedReceipt>> {
    if caller.role != Role::Source {
        return Err(AppError::Forbidden);
    }
    let account = crate::store::accounts::Entity::find_by_id(caller.account_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthorized)?;
    let source = account.org.unwrap_or(account.username);
    Ok(batches::Entity::find()
        .filter(batches::Column::SourceId.eq(caller.account_id))
        .order_by_desc(batches::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|b| SignedReceipt {
            receipt: Receipt {
                batch: b.id,
                source: source.clone(),
                sha256: b.sha256,
                format: b.format,
                rows: b.rows as u32,
                created: b.created as u32,
                corrected: b.corrected as u32,
                unchanged: b.unchanged as u32,
                received_at: b.received_at.with_timezone(&china()),
            },
            signed: base64_of(&b.receipt),
        })
        .collect())
}

/// A data source account and what it has delivered, for the regulator's page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceSummary {
    pub id: i64,
    pub username: String,
    pub org: Option<String>,
    pub attests: Vec<String>,
    pub batches: u64,
    pub rows: u64,
    pub last_delivery: Option<chrono::DateTime<Utc>>,
}

/// Every data source account with its deliveries (regulators).
pub async fn sources(db: &Db, caller: &Caller) -> AppResult<Vec<SourceSummary>> {
    use sea_orm::QuerySelect;
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let accounts = crate::store::accounts::Entity::find()
        .filter(crate::store::accounts::Column::Role.eq(Role::Source))
        .order_by_asc(crate::store::accounts::Column::Id)
        .all(db)
        .await?;
    type Delivered = (
        crate::store::ids::AccountId,
        i64,
        Option<i64>,
        Option<chrono::DateTime<Utc>>,
    );
    let delivered: Vec<Delivered> = batches::Entity::find()
        .select_only()
        .column(batches::Column::SourceId)
        .column_as(batches::Column::Id.count(), "batches")
        .column_as(batches::Column::Rows.sum(), "rows")
        .column_as(batches::Column::ReceivedAt.max(), "last")
        .group_by(batches::Column::SourceId)
        .into_tuple()
        .all(db)
        .await?;
    let by: HashMap<_, _> = delivered
        .into_iter()
        .map(|(id, n, rows, last)| (id, (n, rows, last)))
        .collect();
    Ok(accounts
        .into_iter()
        .map(|a| {
            let (n, rows, last) = by.get(&a.id).cloned().unwrap_or((0, None, None));
            SourceSummary {
                attests: attests_of(&a),
                id: a.id.0,
                username: a.username,
                org: a.org,
                batches: n.max(0) as u64,
                rows: rows.unwrap_or(0).max(0) as u64,
                last_delivery: last,
            }
        })
        .collect())
}

/// A data source account created by a regulator, with a one-time password made for it (shown
/// once, to be handed over; never stored but as its hash).
pub async fn add_source(
    db: &Db,
    caller: &Caller,
    username: &str,
    org: &str,
    fields: Vec<String>,
) -> AppResult<(crate::service::accounts::AccountSummary, String)> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let org = crate::service::text::line("org", org, 200)?;
    if fields.is_empty() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Required,
            "attests",
            "name at least one field the source may attest",
        ));
    }
    let password = crate::service::credentials::new_token()
        .map_err(AppError::internal)?
        .trim_start_matches("gec_")
        .chars()
        .take(20)
        .collect::<String>();
    let summary = crate::service::accounts::create_account(
        db,
        &caller.actor(),
        crate::service::accounts::NewAccount {
            username: username.trim().to_owned(),
            password: password.clone(),
            role: Role::Source,
            firm: None,
            org: Some(org),
            attests: fields,
        },
    )
    .await?;
    Ok((summary, password))
}
