//! The regulator's settings: a key and its JSON value, each read with its default when never
//! set, each change checked at the boundary and audited.

use chrono::Utc;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::grading::Fault;
use crate::grading::decimal::{Fixed, parse_decimal};
use crate::service::accounts::{Caller, Role};
use crate::service::write::{Audited, audited};
use crate::store::audit::Change;
use crate::store::settings;

/// A setting: its key and its default.
pub trait Setting: Serialize + DeserializeOwned + Default {
    const KEY: &'static str;
    /// Checks a new value (the field and the reason on refusal).
    fn check(&mut self) -> AppResult<()>;
}

/// The setting `S` as in force: its stored value, or its default.
pub async fn get<S: Setting, C: ConnectionTrait>(db: &C) -> AppResult<S> {
    Ok(settings::Entity::find_by_id(S::KEY)
        .one(db)
        .await?
        .and_then(|row| serde_json::from_str(&row.value).ok())
        .unwrap_or_default())
}

/// Sets `S` (regulators), audited with the value before and after.
pub async fn put<S: Setting>(db: &Db, caller: &Caller, value: S) -> AppResult<S> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    put_as(db, &caller.actor(), Some(caller.account_id), value).await
}

/// Sets `S` on behalf of `actor` (a regulator, or the operator), checked and audited.
pub async fn put_as<S: Setting>(
    db: &Db,
    actor: &crate::store::audit::Actor,
    actor_id: Option<crate::store::ids::AccountId>,
    mut value: S,
) -> AppResult<S> {
    value.check()?;
    let text = serde_json::to_string(&value).map_err(AppError::internal)?;
    audited(db, actor, async |txn, now| {
        let before = settings::Entity::find_by_id(S::KEY).one(txn).await?;
        let before_value = before
            .as_ref()
            .and_then(|row| serde_json::from_str::<serde_json::Value>(&row.value).ok());
        let row = settings::ActiveModel {
            key: Set(S::KEY.to_owned()),
            value: Set(text.clone()),
            updated_at: Set(now),
            updated_by: Set(actor_id),
        };
        if before.is_some() {
            row.update(txn).await?;
        } else {
            row.insert(txn).await?;
        }
        let change = Change {
            action: "settings.update",
            target_type: "settings",
            target_id: S::KEY.to_owned(),
            before: before_value,
            after: Some(serde_json::from_str(&text).map_err(AppError::internal)?),
        };
        Ok(Audited::one(value, change))
    })
    .await
}

/// 数据直连: how far a declared figure may stray from an attested one before it needs the
/// firm's reason and the regulator's note, and which figures must come from a source where one
/// attested them.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingSettings {
    /// Per cent, 0 to 50, at most one decimal place (default "2").
    pub tolerance_percent: String,
    /// Fields (as a source attests them: `electricity_kwh`, `value_added_10k_cny` …) whose
    /// declared figure must be the attested one whenever a source attested it.
    pub source_required: Vec<String>,
}

impl Default for ReadingSettings {
    fn default() -> Self {
        ReadingSettings {
            tolerance_percent: "2".to_owned(),
            source_required: Vec::new(),
        }
    }
}

impl ReadingSettings {
    /// The tolerance as a number (the default when the stored text cannot be read).
    pub fn tolerance(&self) -> Fixed {
        parse_decimal(&self.tolerance_percent)
            .map(Fixed::from)
            .unwrap_or(Fixed::integer(2))
    }

    /// Whether `field`'s figure must come from its source.
    pub fn required(&self, field: &str) -> bool {
        self.source_required.iter().any(|f| f == field)
    }
}

impl Setting for ReadingSettings {
    const KEY: &'static str = "readings";

    fn check(&mut self) -> AppResult<()> {
        let bad = || {
            AppError::field_fault(
                Fault::Range,
                "tolerance_percent",
                "must be a per cent from 0 to 50 with at most one decimal place",
            )
        };
        let tolerance = parse_decimal(self.tolerance_percent.trim()).map_err(|_| bad())?;
        if tolerance.scale() > 1 || tolerance > rust_decimal::Decimal::from(50) {
            return Err(bad());
        }
        self.tolerance_percent = crate::grading::decimal::normalised(tolerance);
        for (i, field) in self.source_required.iter().enumerate() {
            if !crate::service::readings::attestable(field) {
                return Err(AppError::field_fault(
                    Fault::OneOf,
                    format!("source_required[{i}]"),
                    format!("{field:?} is not a field a source can attest"),
                ));
            }
        }
        let order = crate::service::readings::all_fields();
        self.source_required
            .sort_by_key(|f| order.iter().position(|o| o == f));
        self.source_required.dedup();
        Ok(())
    }
}

/// The time a setting was last changed, if ever.
pub async fn updated_at<S: Setting, C: ConnectionTrait>(
    db: &C,
) -> AppResult<Option<chrono::DateTime<Utc>>> {
    Ok(settings::Entity::find_by_id(S::KEY)
        .one(db)
        .await?
        .map(|row| row.updated_at))
}
