//! How an assessment and a preview read in the API: the input, the trace and where it stands.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::grading::way_up::WayUp;
use crate::grading::{Fault, Grade, Trace, finance};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::firms;

/// The members a client sends to preview or submit (methodology §1 without the members the
/// service attaches): what the API documents and what a handler receives. Each member is kept
/// as sent, so that the grading core names the first fault in §1's order; what is refused here
/// is only the body's shape — not an object, a member the service attaches, an unknown member.
#[derive(Debug, Clone, Default, utoipa::ToSchema)]
pub struct AssessmentRequest {
    /// The firm's USCC; a firm account may leave it out (its own).
    #[schema(value_type = Option<String>)]
    pub uscc: Option<Value>,
    /// The reporting year.
    #[schema(value_type = i32, required = true)]
    pub period: Option<Value>,
    /// YYYY-MM-DD; defaults to today (China).
    #[schema(value_type = Option<String>)]
    pub assessed_on: Option<Value>,
    /// Industrial value added, 10,000 CNY: a plain decimal (string or number).
    #[schema(value_type = String, required = true)]
    pub value_added_10k_cny: Option<Value>,
    /// One entry per energy carrier: `{"carrier", "quantity"}`.
    #[schema(value_type = Vec<Object>, required = true)]
    pub energy: Option<Value>,
    /// `{"generated_t", "stock_utilized_t", "utilized_t"}`.
    #[schema(value_type = Object, required = true)]
    pub waste: Option<Value>,
    /// Electricity bought as green power (绿电), kWh, within `electricity_kwh` (methodology
    /// §10.1); absent means 0.
    #[schema(value_type = Option<String>)]
    pub green_power_kwh: Option<Value>,
    /// Why a figure differs from what a data source attested by more than the regulator's
    /// tolerance (数据直连); required then, ignored otherwise. Not part of methodology §1.
    #[schema(value_type = Option<String>)]
    pub discrepancy_reason: Option<Value>,
    /// The first thing wrong with the body's shape: the member and why.
    #[schema(ignore)]
    refused: Option<(String, Fault, &'static str)>,
}

/// The members the service attaches from the firm's records; a client may not send them.
const RECORD_FIELDS: [&str; 3] = ["industry_code", "certifications", "vetoes"];

impl AssessmentRequest {
    /// Sorts a JSON body into its members, remembering the first one refused.
    pub fn from_json(body: Value) -> Self {
        let Value::Object(members) = body else {
            return AssessmentRequest {
                refused: Some(("$".into(), Fault::Format, "must be a JSON object")),
                ..Default::default()
            };
        };
        let mut request = AssessmentRequest::default();
        for (name, value) in members {
            let slot = match name.as_str() {
                "uscc" => &mut request.uscc,
                "period" => &mut request.period,
                "assessed_on" => &mut request.assessed_on,
                "value_added_10k_cny" => &mut request.value_added_10k_cny,
                "energy" => &mut request.energy,
                "waste" => &mut request.waste,
                "green_power_kwh" => &mut request.green_power_kwh,
                "discrepancy_reason" => &mut request.discrepancy_reason,
                _ => {
                    if request.refused.is_none() {
                        let why = if RECORD_FIELDS.contains(&name.as_str()) {
                            "is attached by the service from the firm's records"
                        } else {
                            "unknown field"
                        };
                        request.refused = Some((name, Fault::NotAccepted, why));
                    }
                    continue;
                }
            };
            *slot = Some(value);
        }
        request
    }

    /// The body's shape is acceptable: every member is one a client may send.
    pub fn check_shape(&self) -> AppResult<()> {
        match &self.refused {
            Some((field, kind, why)) => Err(AppError::field_fault(*kind, field, *why)),
            None => Ok(()),
        }
    }

    /// The USCC the caller named, if any (a firm may leave it out; `null` is the same).
    pub fn uscc(&self) -> AppResult<Option<&str>> {
        match &self.uscc {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(AppError::field_fault(
                Fault::Uscc,
                "uscc",
                "not a valid unified social credit code",
            )),
        }
    }

    /// The firm's reason for figures apart from the attested ones, if it gave one.
    pub fn discrepancy_reason(&self) -> AppResult<Option<&str>> {
        match &self.discrepancy_reason {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(AppError::field_fault(
                Fault::Format,
                "discrepancy_reason",
                "must be a string",
            )),
        }
    }

    /// The members the client sent that go into §1's object, in its order (not `uscc`, which
    /// the service takes from the firm's record).
    pub fn graded_members(&self) -> [(&'static str, Option<&Value>); 6] {
        [
            ("period", self.period.as_ref()),
            ("assessed_on", self.assessed_on.as_ref()),
            ("value_added_10k_cny", self.value_added_10k_cny.as_ref()),
            ("energy", self.energy.as_ref()),
            ("waste", self.waste.as_ref()),
            ("green_power_kwh", self.green_power_kwh.as_ref()),
        ]
    }
}

impl<'de> serde::Deserialize<'de> for AssessmentRequest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(AssessmentRequest::from_json)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    pub id: i64,
    pub uscc: String,
    pub firm_name: String,
    pub period: i32,
    pub status: AssessmentStatus,
    #[schema(value_type = Object)]
    pub input: Value,
    /// The trace (methodology §6), parsed once from its stored canonical bytes.
    #[schema(value_type = Object)]
    pub trace: Option<Trace>,
    pub trace_hash: String,
    pub score: String,
    pub grade: Grade,
    pub methodology: String,
    pub benchmarks: String,
    pub submitted_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub reject_reason: Option<String>,
    pub code_serial: Option<i64>,
    /// The way up (methodology §9): on one assessment's own answer, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub way_up: Option<WayUp>,
    /// The carbon-efficiency level beside the grade (methodology §10); none for assessments
    /// made before it was kept (`gec regrade --carbon`).
    pub carbon: Option<CarbonView>,
    /// Each figure's basis (数据直连): declared, or attested by which source; none for
    /// assessments submitted before sources were kept, and for imports.
    pub basis: Option<Vec<crate::service::readings::FigureBasis>>,
    /// The firm's reason for figures apart from the attested ones.
    pub declared_reason: Option<String>,
    /// What the checks against the previous approved year and the industry found abnormal
    /// (approving then needs the record of a check).
    pub abnormal: Vec<crate::service::abnormal::Finding>,
}

impl AssessmentView {
    pub fn of(a: &assessments::Model, firm: &firms::Model) -> Self {
        AssessmentView {
            id: a.id,
            uscc: firm.uscc.to_string(),
            firm_name: firm.name.clone(),
            period: a.period,
            status: a.status,
            input: serde_json::from_str(&a.input).unwrap_or(Value::Null),
            trace: serde_json::from_str(&a.trace).ok(),
            trace_hash: a.trace_hash.clone(),
            score: a.score.clone(),
            grade: a.grade.0,
            methodology: a.methodology.clone(),
            benchmarks: a.benchmarks.clone(),
            submitted_at: a.submitted_at,
            reviewed_at: a.reviewed_at,
            reject_reason: a.reject_reason.clone(),
            code_serial: a.code_serial,
            way_up: None,
            basis: a
                .basis
                .as_deref()
                .and_then(|b| serde_json::from_str(b).ok()),
            declared_reason: a.declared_reason.clone(),
            abnormal: crate::service::abnormal::of(a),
            carbon: match (&a.carbon_trace, &a.carbon_hash, a.carbon_level) {
                (Some(trace), Some(hash), Some(level)) => Some(CarbonView {
                    level: u8::try_from(level).unwrap_or(0),
                    trace: serde_json::from_str(trace).unwrap_or(Value::Null),
                    trace_hash: hash.clone(),
                    way_up: None,
                }),
                _ => None,
            },
        }
    }

    /// The audit record of a submission: what identifies it and what it concluded.
    pub(super) fn audit(a: &assessments::Model, uscc: &str) -> Value {
        serde_json::json!({
            "id": a.id, "uscc": uscc, "period": a.period, "status": a.status, "grade": a.grade,
            "score": a.score, "trace_hash": a.trace_hash, "benchmarks": a.benchmarks,
            "reject_reason": a.reject_reason, "code_serial": a.code_serial,
        })
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PreviewResponse {
    pub uscc: String,
    #[schema(value_type = Object)]
    pub input: Value,
    #[schema(value_type = Object)]
    pub trace: Trace,
    pub trace_hash: String,
    pub score: String,
    pub grade: Grade,
    pub finance: finance::Finance,
    pub services: Vec<finance::Item>,
    /// What single change reaches each higher grade (methodology §9).
    pub way_up: WayUp,
    /// The carbon-efficiency level beside the grade (methodology §10); none when the carbon
    /// benchmark table has no baseline for the firm's division.
    pub carbon: Option<CarbonView>,
}

/// A carbon computation (methodology §10): the level, the trace and its hash.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CarbonView {
    /// 1 (the best) to 5.
    pub level: u8,
    #[schema(value_type = Object)]
    pub trace: Value,
    pub trace_hash: String,
    /// The way to each better level (GEC-CP 2025.1): on a preview and on one assessment's own
    /// answer, not in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub way_up: Option<crate::grading::carbon_way_up::CarbonWayUp>,
}

impl From<crate::grading::carbon::Carbon> for CarbonView {
    fn from(c: crate::grading::carbon::Carbon) -> Self {
        CarbonView {
            level: c.level,
            trace: c.trace(),
            trace_hash: c.trace_hash,
            way_up: None,
        }
    }
}
