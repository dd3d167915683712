//! Vetoes: serious incidents recorded by regulators; each caps the grade at D while it counts.

use crate::db::Db;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};
use crate::grading::input::VetoKind;
use crate::service::accounts::Caller;
use crate::store::audit::Change;
use crate::store::{firms, vetoes};

use super::{optional_note, today};
use crate::service::write::{Audited, audited};
use chrono::NaiveDate;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VetoRequest {
    pub kind: VetoKind,
    #[serde(deserialize_with = "crate::service::fields::de_date")]
    pub occurred_on: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VetoView {
    pub id: i64,
    pub uscc: String,
    pub kind: String,
    pub occurred_on: String,
    pub note: Option<String>,
    /// Who issued the document, for a veto from an incident list.
    pub authority: Option<String>,
    pub document_no: Option<String>,
}

impl VetoView {
    pub fn of(v: &vetoes::Model, uscc: &str) -> Self {
        VetoView {
            id: v.id,
            uscc: uscc.to_owned(),
            kind: v.kind.clone(),
            occurred_on: v.occurred_on.to_string(),
            note: v.note.clone(),
            authority: v.authority.clone(),
            document_no: v.document_no.clone(),
        }
    }
}

pub async fn record_veto(
    db: &Db,
    caller: &Caller,
    firm: &firms::Model,
    request: VetoRequest,
) -> AppResult<VetoView> {
    let (kind, occurred_on) = (request.kind, request.occurred_on);
    if occurred_on > today() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            "occurred_on",
            "must not be in the future",
        ));
    }
    let note = optional_note("note", request.note.as_deref())?;
    audited(db, &caller.actor(), async |txn, now| {
        let model = vetoes::ActiveModel {
            firm_id: Set(firm.id),
            kind: Set(kind.name().to_owned()),
            occurred_on: Set(occurred_on),
            note: Set(note),
            recorded_by: Set(Some(caller.account_id)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let view = VetoView::of(&model, firm.uscc.as_str());
        let change = Change {
            action: "veto.record",
            target_type: "veto",
            target_id: model.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&view).map_err(AppError::internal)?),
        };
        Ok(Audited::one(view, change))
    })
    .await
}

/// A firm's vetoes.
pub async fn vetoes_of(db: &crate::db::Db, firm: &firms::Model) -> AppResult<Vec<VetoView>> {
    Ok(vetoes::of_firm(db, firm.id)
        .await?
        .iter()
        .map(|v| VetoView::of(v, firm.uscc.as_str()))
        .collect())
}
