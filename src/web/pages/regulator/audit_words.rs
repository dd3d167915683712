//! The audit trail in plain sentences ("两江某公司提交了 2025 年度数据") with each change as a
//! before/after table: no raw JSON on the page.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::super::views::{self, status_key};
use crate::service::audit::AuditEventView;
use crate::web::i18n::Texts;

/// The actions the trail records, in the order the filter lists them.
pub const ACTIONS: [&str; 46] = [
    "assessment.submit",
    "assessment.approve",
    "assessment.reject",
    "assessment.discrepancy_note",
    "assessment.abnormal_check",
    "code.issue",
    "code.supersede",
    "code.revoke",
    "firm.create",
    "certification.declare",
    "certification.record",
    "certification.verify",
    "certification.revoke",
    "veto.record",
    "appeal.raise",
    "appeal.close",
    "account.create",
    "account.contact",
    "token.revoke",
    "benchmarks.publish",
    "carbon_tables.publish",
    "assessment.carbon_backfill",
    "import.csv",
    "service.publish",
    "service.approve",
    "service.suspend",
    "service_request.create",
    "service_request.answer",
    "policy.publish",
    "product.publish",
    "product.withdraw",
    "application.submit",
    "application.decide",
    "application.reply",
    "application.consent_withdraw",
    "webhook.register",
    "webhook.disable",
    "firm.update",
    "readings.deliver",
    "reading.correct",
    "settings.update",
    "no_touch.start",
    "reporting_year.open",
    "ladder.move",
    "award.record",
    "award.pay",
];

/// The kinds of record the trail names, for the filter.
pub const TARGETS: [&str; 23] = [
    "assessment",
    "code",
    "firm",
    "certification",
    "veto",
    "appeal",
    "account",
    "api_token",
    "benchmark_set",
    "carbon_table",
    "import",
    "service",
    "service_request",
    "policy",
    "product",
    "application",
    "webhook",
    "reading_batch",
    "reading",
    "settings",
    "no_touch_run",
    "reporting_year",
    "award",
];

/// What the sentence needs to name who and whom.
pub struct Names {
    /// Account id → how the trail names it (a firm's user by the firm's name).
    pub actors: HashMap<crate::store::ids::AccountId, String>,
    /// USCC → firm name.
    pub firms: HashMap<String, String>,
    /// Code serial → USCC.
    pub code_firms: HashMap<i64, String>,
    /// Appeal id → USCC.
    pub appeal_firms: HashMap<i64, String>,
    /// Assessment id → (USCC, reporting year).
    pub assessments: HashMap<i64, (String, i32)>,
}

/// One event as the page shows it.
pub struct AuditRow {
    pub at: String,
    pub sentence: String,
    /// (what, before, after, changed)
    pub changes: Vec<(String, String, String, bool)>,
    pub uscc: Option<String>,
}

fn text_of(v: &Value) -> Option<&str> {
    v.as_str()
}

/// The USCC an event concerns, from its record or its target.
pub fn uscc_of(e: &AuditEventView, names: &Names) -> Option<String> {
    let from_json = |v: &Option<Value>| {
        v.as_ref()
            .and_then(|v| v.get("uscc").or_else(|| v.get("sub")))
            .and_then(text_of)
            .map(str::to_owned)
    };
    from_json(&e.after)
        .or_else(|| from_json(&e.before))
        .or_else(|| (e.target_type == "firm").then(|| e.target_id.clone()))
        .or_else(|| match e.target_type.as_str() {
            "code" => e
                .target_id
                .parse()
                .ok()
                .and_then(|s: i64| names.code_firms.get(&s).cloned()),
            "appeal" => e
                .target_id
                .parse()
                .ok()
                .and_then(|s: i64| names.appeal_firms.get(&s).cloned()),
            "assessment" => e
                .target_id
                .parse()
                .ok()
                .and_then(|s: i64| names.assessments.get(&s).map(|(u, _)| u.clone())),
            _ => None,
        })
}

/// The sentence of an event in the page's language.
pub fn sentence(t: &Texts, e: &AuditEventView, names: &Names) -> String {
    let actor = e
        .actor_id
        .and_then(|id| names.actors.get(&crate::store::ids::AccountId(id)).cloned())
        .unwrap_or_else(|| t.get("audit_system").replace("{name}", &e.actor));
    let firm = uscc_of(e, names)
        .map(|u| names.firms.get(&u).cloned().unwrap_or(u))
        .unwrap_or_else(|| t.get("audit_a_firm").to_owned());
    let period = e
        .after
        .as_ref()
        .or(e.before.as_ref())
        .and_then(|v| v.get("period"))
        .map(|p| p.to_string())
        .or_else(|| {
            let id: i64 = e.target_id.parse().ok()?;
            (e.target_type == "assessment")
                .then(|| names.assessments.get(&id).map(|(_, p)| p.to_string()))
                .flatten()
        })
        .unwrap_or_default();
    let key = if ACTIONS.contains(&e.action.as_str()) {
        format!("audit_s_{}", e.action.replace('.', "_"))
    } else {
        "audit_s_other".to_owned()
    };
    let key = if e.action == "settings.update" && e.target_id == "abnormal" {
        format!("{key}_abnormal")
    } else {
        key
    };
    // A firm acting on its own record: "两江某公司提交了 2025 年度数据".
    let own = format!("{key}_own");
    let key = if actor == firm && t.has(&own) {
        own
    } else {
        key
    };
    let said = t
        .get(&key)
        .replace("{actor}", &actor)
        .replace("{firm}", &firm)
        .replace("{period}", &period)
        .replace("{target}", &e.target_id);
    // A code's share of energy from data sources (claim 8), said as the scan page says it.
    match e
        .after
        .as_ref()
        .and_then(|v| v.get("attested_share"))
        .and_then(Value::as_u64)
    {
        Some(pct) if e.action == "code.issue" => format!(
            "{said}{}{}",
            t.comma(),
            t.get("attested_share").replace("{pct}", &pct.to_string())
        ),
        _ => said,
    }
}

/// A JSON object flattened one level (`a.b`), arrays as their length.
fn flat(value: &Option<Value>) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(Value::Object(map)) = value {
        flatten_into(&mut out, "", map, 0);
    }
    out
}

fn flatten_into(out: &mut Vec<(String, Value)>, prefix: &str, map: &Map<String, Value>, depth: u8) {
    for (k, v) in map {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(inner) if depth < 1 => flatten_into(out, &key, inner, depth + 1),
            other => out.push((key, other.clone())),
        }
    }
}

/// A value in words: statuses and booleans translated, lists by their length.
fn shown(t: &Texts, key: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::Bool(true) => t.get("yes").to_owned(),
        Value::Bool(false) => t.get("no").to_owned(),
        Value::String(s) if key.ends_with("status") => t.get(status_key(s)).to_owned(),
        Value::String(s) if key == "kind" => {
            let cert = views::kind_name(t, s);
            if cert == *s {
                views::veto_name(t, s)
            } else {
                cert
            }
        }
        Value::String(s) => s.chars().take(120).collect(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => t
            .get("audit_items")
            .replace("{n}", &items.len().to_string()),
        Value::Object(_) => t.get("audit_details").to_owned(),
    }
}

/// The name of a recorded field in the page's language (the field itself when unnamed).
fn field_name(t: &Texts, key: &str) -> String {
    let k = format!("field_{}", key.replace('.', "_"));
    if t.has(&k) {
        t.get(&k).to_owned()
    } else {
        key.to_owned()
    }
}

/// The before/after table of an event: every field either side has.
pub fn changes(t: &Texts, e: &AuditEventView) -> Vec<(String, String, String, bool)> {
    let before = flat(&e.before);
    let after = flat(&e.after);
    let mut keys: Vec<&str> = after.iter().map(|(k, _)| k.as_str()).collect();
    for (k, _) in &before {
        if !keys.contains(&k.as_str()) {
            keys.push(k);
        }
    }
    let get = |list: &[(String, Value)], k: &str| {
        list.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone())
    };
    keys.into_iter()
        .filter(|k| !matches!(*k, "type" | "uscc" | "sub" | "id" | "code_sha256" | "kid"))
        .map(|k| {
            let b = get(&before, k);
            let a = get(&after, k);
            let changed = b != a;
            (
                field_name(t, k),
                b.map(|v| shown(t, k, &v)).unwrap_or_default(),
                a.map(|v| shown(t, k, &v)).unwrap_or_default(),
                changed && e.before.is_some(),
            )
        })
        .collect()
}

pub fn row(t: &Texts, lang: crate::web::i18n::Lang, e: &AuditEventView, names: &Names) -> AuditRow {
    AuditRow {
        at: views::local_time(lang, e.at),
        sentence: sentence(t, e, names),
        changes: changes(t, e),
        uscc: uscc_of(e, names),
    }
}
