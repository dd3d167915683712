//! How an assessment and a preview read in the API: the input, the trace and where it stands.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::grading::way_up::WayUp;
use crate::grading::{Grade, Trace, finance};
use crate::store::assessments::{self, AssessmentStatus};
use crate::store::firms;

/// The members a client sends to preview or submit (methodology §1 without the members the
/// service attaches). The body is read as JSON and parsed once by the grading input parser,
/// which names the exact member at fault; this type describes it for the API document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AssessmentRequest {
    /// The firm's USCC; a firm account may leave it out (its own).
    uscc: Option<String>,
    /// The reporting year.
    period: i32,
    /// YYYY-MM-DD; defaults to today (China).
    assessed_on: Option<String>,
    /// Industrial value added, 10,000 CNY: a plain decimal (string or number).
    #[schema(value_type = String)]
    value_added_10k_cny: String,
    /// One entry per energy carrier: `{"carrier", "quantity"}`.
    #[schema(value_type = Vec<Object>)]
    energy: Vec<String>,
    /// `{"generated_t", "stock_utilized_t", "utilized_t"}`.
    #[schema(value_type = Object)]
    waste: String,
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
}

impl AssessmentView {
    pub fn of(a: &assessments::Model, firm: &firms::Model) -> Self {
        AssessmentView {
            id: a.id,
            uscc: firm.uscc.clone(),
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
}
