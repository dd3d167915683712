//! What sources attested for a firm's year, field by field.

use std::collections::{BTreeMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::all_fields;
use crate::error::AppResult;
use crate::grading::decimal::parse_decimal;
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
    let rows = readings::Entity::find()
        .filter(readings::Column::Uscc.eq(uscc))
        .filter(readings::Column::Year.eq(year))
        .order_by_asc(readings::Column::Id)
        .all(db)
        .await?;
    let names = crate::service::fields::org_names(db, rows.iter().map(|r| r.source_id)).await?;
    Ok(summarise(&rows, &names))
}

/// A firm-year's readings summed field by field and source by source, in the form's order.
fn summarise(
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

/// A declared figure beside an attested one: more than this share apart (2 %), it needs the
/// regulator's note to be approved.
pub const TOLERANCE_PERCENT: i128 = 2;

/// One attested figure beside what the submission declared for it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Discrepancy {
    pub field: String,
    /// As declared (absent: not declared, read as 0).
    pub declared: Option<String>,
    pub attested: String,
    pub source: String,
    /// (declared − attested) ÷ attested, per cent to one decimal (absent when attested is 0).
    pub percent: Option<String>,
    /// More than `TOLERANCE_PERCENT` apart.
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

/// Each attested figure of the firm's year beside the submission's declared one.
pub async fn discrepancies<C: ConnectionTrait>(
    db: &C,
    uscc: &str,
    year: i32,
    input: &serde_json::Value,
) -> AppResult<Vec<Discrepancy>> {
    Ok(attested(db, uscc, year)
        .await?
        .into_iter()
        .map(|a| compare(a, input))
        .collect())
}

/// One attested figure beside the input's declared one.
fn compare(a: Attested, input: &serde_json::Value) -> Discrepancy {
    use crate::grading::decimal::Fixed;
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
        let limit = Fixed::integer(TOLERANCE_PERCENT);
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
    let usccs: Vec<String> = list.iter().map(|(_, u, _, _)| u.clone()).collect();
    let years: HashSet<i32> = list.iter().map(|(_, _, y, _)| *y).collect();
    let mut rows: Vec<readings::Model> = Vec::new();
    for chunk in usccs.chunks(500) {
        rows.extend(
            readings::Entity::find()
                .filter(readings::Column::Uscc.is_in(chunk.iter().cloned()))
                .filter(readings::Column::Year.is_in(years.iter().copied()))
                .order_by_asc(readings::Column::Id)
                .all(db)
                .await?,
        );
    }
    let names = crate::service::fields::org_names(db, rows.iter().map(|r| r.source_id)).await?;
    Ok(list
        .iter()
        .map(|(id, uscc, year, input)| {
            let of_year: Vec<readings::Model> = rows
                .iter()
                .filter(|r| r.uscc == *uscc && r.year == *year)
                .cloned()
                .collect();
            let fields = summarise(&of_year, &names)
                .into_iter()
                .map(|a| compare(a, input))
                .filter(|d| d.flagged)
                .map(|d| d.field)
                .collect();
            (*id, fields)
        })
        .collect())
}

/// Claim 8 (token.md §1): the per cent of the firm's energy, in tce, whose declared figure is
/// backed by an attested one (within the tolerance), rounded down; `None` when no data source
/// delivered anything for the firm's year (the claim is left out).
pub fn attested_share(trace: &crate::grading::Trace, attested: &[Attested]) -> Option<u8> {
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
        .map(|a| compare(a.clone(), &input))
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
