//! What sources attested for a firm's year, field by field.

use std::collections::{BTreeMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::all_fields;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::service::settings::{self, ReadingSettings};
use crate::store::readings;

/// One field's attested figure for a year from one source: the yearly reading when there is
/// one, else the sum of the months delivered.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Attested {
    pub field: String,
    pub quantity: String,
    pub source: String,
    /// How many months the figure sums (0: a yearly reading).
    pub months: u32,
    /// The source's references behind it.
    pub references: Vec<String>,
}

/// What sources attested for a firm's year, field by field (a field attested by two sources
/// is listed for each).
pub async fn attested<C: ConnectionTrait>(
    db: &C,
    uscc: &str,
    year: i32,
) -> AppResult<Vec<Attested>> {
    Ok(attested_many(db, &[(uscc.to_owned(), year)])
        .await?
        .remove(&(uscc.to_owned(), year))
        .unwrap_or_default())
}

/// What sources attested for many firm-years at once (a group of approvals): one statement
/// for the readings of every firm named, keyed by (USCC, year); a firm-year without readings
/// has no entry.
pub async fn attested_many<C: ConnectionTrait>(
    db: &C,
    wanted: &[(String, i32)],
) -> AppResult<std::collections::HashMap<(String, i32), Vec<Attested>>> {
    let mut out = std::collections::HashMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let usccs: Vec<&str> = wanted
        .iter()
        .map(|(u, _)| u.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let years: std::collections::BTreeSet<i32> = wanted.iter().map(|(_, y)| *y).collect();
    let rows = readings::Entity::find()
        .filter(readings::Column::Uscc.is_in(crate::db::in_list(&usccs)))
        .filter(readings::Column::Year.is_in(years))
        .order_by_asc(readings::Column::Id)
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(out);
    }
    let names = crate::service::fields::org_names(db, rows.iter().map(|r| r.source_id)).await?;
    let wanted: HashSet<(&str, i32)> = wanted.iter().map(|(u, y)| (u.as_str(), *y)).collect();
    let mut by: BTreeMap<(&str, i32), Vec<readings::Model>> = BTreeMap::new();
    for r in &rows {
        if wanted.contains(&(r.uscc.as_str(), r.year)) {
            by.entry((r.uscc.as_str(), r.year))
                .or_default()
                .push(r.clone());
        }
    }
    for ((uscc, year), rows) in by {
        out.insert((uscc.to_owned(), year), summarise(&rows, &names));
    }
    Ok(out)
}

/// A firm-year's readings summed field by field and source by source, in the form's order.
pub fn summarise(
    rows: &[readings::Model],
    names: &std::collections::HashMap<crate::store::ids::AccountId, String>,
) -> Vec<Attested> {
    // (field, source) → (its yearly readings, its monthly readings)
    type Split<'a> = (Vec<&'a readings::Model>, Vec<&'a readings::Model>);
    let mut by: BTreeMap<(String, i64), Split> = BTreeMap::new();
    for r in rows {
        let entry = by.entry((r.field.clone(), r.source_id.0)).or_default();
        if r.month == 0 {
            entry.0.push(r);
        } else {
            entry.1.push(r);
        }
    }
    let order = all_fields();
    let mut out: Vec<Attested> = by
        .into_iter()
        .map(|((field, source), (yearly, monthly))| {
            let used = if yearly.is_empty() { &monthly } else { &yearly };
            let sum = used.iter().fold(rust_decimal::Decimal::ZERO, |acc, r| {
                acc + parse_decimal(&r.quantity).unwrap_or_default()
            });
            let months: HashSet<i32> = used.iter().map(|r| r.month).filter(|m| *m > 0).collect();
            Attested {
                quantity: crate::grading::decimal::normalised(sum),
                source: names
                    .get(&crate::store::ids::AccountId(source))
                    .cloned()
                    .unwrap_or_default(),
                months: months.len() as u32,
                references: used.iter().map(|r| r.reference.clone()).collect(),
                field,
            }
        })
        .collect();
    out.sort_by_key(|a| {
        order
            .iter()
            .position(|f| *f == a.field)
            .unwrap_or(usize::MAX)
    });
    out
}

/// One attested figure beside what the submission declared for it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Discrepancy {
    pub field: String,
    /// As declared (absent: not declared, read as 0).
    pub declared: Option<String>,
    pub attested: String,
    pub source: String,
    /// (declared − attested) ÷ attested, per cent to one decimal (absent when attested is 0).
    pub percent: Option<String>,
    /// More than the regulator's tolerance apart (`ReadingSettings`, 2 % unless set).
    pub flagged: bool,
}

/// The figure a §1 input declares for a field a source attests.
fn declared(input: &serde_json::Value, field: &str) -> Option<String> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(energy) = input["energy"].as_array()
        && crate::grading::energy::Carrier::parse(field).is_some()
    {
        return energy
            .iter()
            .find(|e| e["carrier"] == field)
            .and_then(|e| text(&e["quantity"]));
    }
    match field {
        "value_added_10k_cny" | "green_power_kwh" => text(&input[field]),
        other => other
            .strip_prefix("waste_")
            .and_then(|member| text(&input["waste"][member])),
    }
}

/// Each attested figure of the firm's year beside the submission's declared one, with the
/// tolerance in force.
pub async fn discrepancies<C: ConnectionTrait>(
    db: &C,
    uscc: &str,
    year: i32,
    input: &serde_json::Value,
) -> AppResult<Vec<Discrepancy>> {
    let tolerance = settings::get::<ReadingSettings, _>(db).await?.tolerance();
    Ok(attested(db, uscc, year)
        .await?
        .into_iter()
        .map(|a| compare(a, input, tolerance))
        .collect())
}

/// One attested figure beside the input's declared one.
fn compare(a: Attested, input: &serde_json::Value, limit: Fixed) -> Discrepancy {
    let zero = Fixed::integer(0);
    let declared_text = declared(input, &a.field);
    let d = declared_text
        .as_deref()
        .and_then(|t| parse_decimal(t).ok())
        .map(Fixed::from)
        .unwrap_or(zero);
    let at = parse_decimal(&a.quantity).map(Fixed::from).unwrap_or(zero);
    let (percent, flagged) = if at.is_zero() {
        (None, !d.is_zero())
    } else {
        let pct = (d - at).div_round(at, 6) * Fixed::integer(100);
        (
            Some(pct.round(1).fixed_text()),
            pct > limit || pct < zero - limit,
        )
    };
    Discrepancy {
        field: a.field,
        declared: declared_text,
        attested: a.quantity,
        source: a.source,
        percent,
        flagged,
    }
}

/// For the review queue: of each submission `(id, uscc, year, input)`, the fields whose
/// declared figure is more than the tolerance from the attested one (one read of the readings).
pub async fn flagged_many<C: ConnectionTrait>(
    db: &C,
    list: &[(i64, String, i32, serde_json::Value)],
) -> AppResult<std::collections::HashMap<i64, Vec<String>>> {
    let mut attested = std::collections::HashMap::new();
    let wanted: Vec<(String, i32)> = list.iter().map(|(_, u, y, _)| (u.clone(), *y)).collect();
    for chunk in wanted.chunks(512) {
        attested.extend(attested_many(db, chunk).await?);
    }
    let tolerance = settings::get::<ReadingSettings, _>(db).await?.tolerance();
    Ok(list
        .iter()
        .map(|(id, uscc, year, input)| {
            let fields = attested
                .get(&(uscc.clone(), *year))
                .into_iter()
                .flatten()
                .map(|a| compare(a.clone(), input, tolerance))
                .filter(|d| d.flagged)
                .map(|d| d.field)
                .collect();
            (*id, fields)
        })
        .collect())
}

/// Claim 8 (token.md §1): the per cent of the firm's energy, in tce, whose declared figure is
/// backed by an attested one (within `tolerance`, per cent), rounded down; `None` when no data
/// source delivered anything for the firm's year (the claim is left out).
pub fn attested_share(
    trace: &crate::grading::Trace,
    attested: &[Attested],
    tolerance: Fixed,
) -> Option<u8> {
    if attested.is_empty() {
        return None;
    }
    let entries = &trace.energy.entries;
    let input = serde_json::json!({
        "energy": entries
            .iter()
            .map(|e| serde_json::json!({"carrier": e.carrier, "quantity": e.quantity}))
            .collect::<Vec<_>>()
    });
    let backed: HashSet<String> = attested
        .iter()
        .filter(|a| crate::grading::energy::Carrier::parse(&a.field).is_some())
        .map(|a| compare(a.clone(), &input, tolerance))
        .filter(|d| !d.flagged && d.declared.is_some())
        .map(|d| d.field)
        .collect();
    let kgce =
        |e: &crate::grading::trace::EnergyEntryTrace| parse_decimal(&e.kgce).unwrap_or_default();
    let total: rust_decimal::Decimal = entries.iter().map(kgce).sum();
    if total.is_zero() {
        return Some(0);
    }
    let part: rust_decimal::Decimal = entries
        .iter()
        .filter(|e| backed.contains(&e.carrier))
        .map(kgce)
        .sum();
    let share = (part * rust_decimal::Decimal::ONE_HUNDRED / total).floor();
    u8::try_from(share.mantissa() / 10i128.pow(share.scale())).ok()
}

/// How a figure of a submission stands beside the sources (数据直连).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    /// The declared figure is the attested one.
    Attested,
    /// Declared, within the tolerance of an attested figure.
    WithinTolerance,
    /// Declared, further than the tolerance from an attested figure (the firm gave a reason).
    Apart,
    /// Declared; no source attested it.
    Declared,
}

/// One figure of a submission and its basis.
#[derive(Clone, Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FigureBasis {
    pub field: String,
    pub declared: Option<String>,
    pub basis: BasisKind,
    /// The source it was compared with, its figure, its references and the difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attested: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub references: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<String>,
}

/// Each figure's basis, in the form's order: every figure the input declares and every figure a
/// source attested (a field attested by two sources is compared with the nearer one).
pub fn basis_of(
    input: &serde_json::Value,
    attested: &[Attested],
    tolerance: Fixed,
) -> Vec<FigureBasis> {
    all_fields()
        .into_iter()
        .filter_map(|field| {
            let declared = declared(input, field);
            let compared = attested
                .iter()
                .filter(|a| a.field == field)
                .map(|a| (a, compare(a.clone(), input, tolerance)))
                .min_by_key(|(_, d)| d.flagged);
            match compared {
                None => declared.map(|declared| FigureBasis {
                    field: field.to_owned(),
                    declared: Some(declared),
                    basis: BasisKind::Declared,
                    source: None,
                    attested: None,
                    references: Vec::new(),
                    percent: None,
                }),
                Some((a, d)) => {
                    let same = d
                        .declared
                        .as_deref()
                        .and_then(|t| parse_decimal(t).ok())
                        .zip(parse_decimal(&a.quantity).ok())
                        .is_some_and(|(x, y)| x == y);
                    Some(FigureBasis {
                        field: field.to_owned(),
                        basis: if same {
                            BasisKind::Attested
                        } else if d.flagged {
                            BasisKind::Apart
                        } else {
                            BasisKind::WithinTolerance
                        },
                        declared: d.declared,
                        source: Some(a.source.clone()),
                        attested: Some(a.quantity.clone()),
                        references: a.references.clone(),
                        percent: d.percent,
                    })
                }
            }
        })
        .collect()
}

/// The path of a figure in a §1 input (for a refusal to name it): `energy[i].quantity`,
/// `waste.generated_t`, or the member itself.
fn path_of(input: &serde_json::Value, field: &str) -> String {
    if crate::grading::energy::Carrier::parse(field).is_some() {
        return match input["energy"]
            .as_array()
            .and_then(|e| e.iter().position(|x| x["carrier"] == field))
        {
            Some(i) => format!("energy[{i}].quantity"),
            None => "energy".to_owned(),
        };
    }
    match field.strip_prefix("waste_") {
        Some(member) => format!("waste.{member}"),
        None => field.to_owned(),
    }
}

/// A submission's figures checked against what sources attested for the firm's year, with the
/// regulator's settings: a figure the regulator requires from its source must be the attested
/// one (refused at its path otherwise); a figure further than the tolerance needs the firm's
/// `reason` (refused at `discrepancy_reason` otherwise). Answers each figure's basis and the
/// reason to keep (none when nothing is apart).
pub async fn check_declared<C: ConnectionTrait>(
    db: &C,
    uscc: &str,
    year: i32,
    input: &serde_json::Value,
    reason: Option<&str>,
) -> AppResult<(Vec<FigureBasis>, Option<String>)> {
    let settings = settings::get::<ReadingSettings, _>(db).await?;
    let figures = attested(db, uscc, year).await?;
    let basis = basis_of(input, &figures, settings.tolerance());
    for b in &basis {
        if settings.required(&b.field)
            && matches!(b.basis, BasisKind::WithinTolerance | BasisKind::Apart)
        {
            return Err(AppError::field_fault(
                Fault::NotAttested,
                path_of(input, &b.field),
                format!(
                    "{} must be the figure {} attested: {}",
                    b.field,
                    b.source.as_deref().unwrap_or_default(),
                    b.attested.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    let apart: Vec<&FigureBasis> = basis
        .iter()
        .filter(|b| b.basis == BasisKind::Apart)
        .collect();
    if apart.is_empty() {
        return Ok((basis, None));
    }
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => crate::service::text::note("discrepancy_reason", r, 2000)?,
        None => {
            let said: Vec<String> = apart
                .iter()
                .map(|b| {
                    format!(
                        "{} {} % from {}",
                        b.field,
                        b.percent.as_deref().unwrap_or("?"),
                        b.source.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            return Err(AppError::field_fault(
                Fault::Required,
                "discrepancy_reason",
                format!(
                    "{} — more than {} % from the attested figures: give the reason",
                    said.join("; "),
                    settings.tolerance_percent
                ),
            ));
        }
    };
    Ok((basis, Some(reason)))
}
