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
    // (field, source) → (its yearly readings, its monthly readings)
    type Split<'a> = (Vec<&'a readings::Model>, Vec<&'a readings::Model>);
    let mut by: BTreeMap<(String, i64), Split> = BTreeMap::new();
    for r in &rows {
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
    Ok(out)
}
