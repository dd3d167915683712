//! 惠企政策: regulators publish support policies; a firm is matched to those it qualifies for
//! today — from its current code (the grade, in force) and its records (division, district, a
//! verified certification) — without applying.

use crate::db::Db;
use crate::service::write::{Audited, audited};
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::accounts::{Caller, Role};
use super::fields;
use crate::error::{AppError, AppResult};
use crate::grading::Grade;
use crate::grading::input::CertificationKind;
use crate::store::audit::Change;
use crate::store::codes::{self, CodeStatus};
use crate::store::{certifications, firms, policies};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    pub title: String,
    pub issuer: String,
    /// The grades that qualify.
    pub grades: Vec<Grade>,
    /// Two-digit GB/T 4754 divisions; empty: any.
    #[serde(default)]
    pub divisions: Vec<String>,
    /// Districts; empty: any.
    #[serde(default)]
    pub districts: Vec<String>,
    /// A certification kind the firm must hold, verified and valid.
    #[serde(default)]
    pub requires_certification: Option<CertificationKind>,
    pub benefit: String,
    #[serde(default)]
    pub amount_10k_cny: Option<String>,
    #[serde(deserialize_with = "fields::de_date")]
    pub valid_from: NaiveDate,
    #[serde(deserialize_with = "fields::de_date")]
    pub valid_until: NaiveDate,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    pub id: i64,
    pub title: String,
    pub issuer: String,
    pub grades: Vec<Grade>,
    pub divisions: Vec<String>,
    pub districts: Vec<String>,
    pub requires_certification: Option<String>,
    pub benefit: String,
    pub amount_10k_cny: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub fn view(p: &policies::Model) -> PolicyView {
    PolicyView {
        id: p.id,
        title: p.title.clone(),
        issuer: p.issuer.clone(),
        grades: policies::Model::list(&p.grades)
            .iter()
            .filter_map(|g| Grade::parse(g))
            .collect(),
        divisions: policies::Model::list(&p.divisions),
        districts: policies::Model::list(&p.districts),
        requires_certification: p.requires_certification.clone(),
        benefit: p.benefit.clone(),
        amount_10k_cny: p.amount_10k_cny.clone(),
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        url: p.url.clone(),
        created_at: p.created_at,
    }
}

/// A regulator publishes a policy.
pub async fn publish(db: &Db, caller: &Caller, new: NewPolicy) -> AppResult<PolicyView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let title = super::text::line("title", &new.title, 200)?;
    let issuer = super::text::line("issuer", &new.issuer, 200)?;
    let grades = fields::grades("grades", &new.grades)?;
    let divisions = fields::divisions("divisions", &new.divisions)?;
    let districts = fields::districts("districts", &new.districts)?;
    let requires_certification = new.requires_certification.map(|k| k.name().to_owned());
    let benefit = super::text::note("benefit", &new.benefit, 2000)?;
    let amount = match new.amount_10k_cny.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) => Some(
            crate::grading::decimal::parse_decimal(a)
                .map(crate::grading::decimal::normalised)
                .map_err(|e| {
                    AppError::fault("amount_10k_cny", crate::grading::Fault::Decimal(e))
                })?,
        ),
    };
    let (valid_from, valid_until) = (new.valid_from, new.valid_until);
    if valid_until < valid_from {
        return Err(AppError::fault(
            "valid_until",
            crate::grading::Fault::DateOrder,
        ));
    }
    let url = match new.url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => {
            let u = super::text::line("url", u, 500)?;
            if !(u.starts_with("https://") || u.starts_with("http://")) || u.contains(' ') {
                return Err(AppError::field_fault(
                    crate::grading::Fault::Address,
                    "url",
                    "must be an http(s) address",
                ));
            }
            Some(u)
        }
    };
    let list = |v: &[String]| serde_json::to_string(v).map_err(AppError::internal);
    let grade_names: Vec<String> = grades.iter().map(|g| g.as_str().to_owned()).collect();
    let (grades, divisions, districts) =
        (list(&grade_names)?, list(&divisions)?, list(&districts)?);
    audited(db, &caller.actor(), async |txn, now| {
        let model = policies::ActiveModel {
            title: Set(title),
            issuer: Set(issuer),
            grades: Set(grades),
            divisions: Set(divisions),
            districts: Set(districts),
            requires_certification: Set(requires_certification),
            benefit: Set(benefit),
            amount_10k_cny: Set(amount),
            valid_from: Set(valid_from),
            valid_until: Set(valid_until),
            url: Set(url),
            created_by: Set(Some(caller.account_id)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let shown = view(&model);
        let change = Change {
            action: "policy.publish",
            target_type: "policy",
            target_id: model.id.to_string(),
            before: None,
            after: Some(json!({"title": shown.title, "issuer": shown.issuer,
                           "grades": grade_names, "valid_from": valid_from,
                           "valid_until": valid_until})),
        };
        Ok(Audited::one(shown, change))
    })
    .await
}

/// The policies in force on `day`, newest first.
pub async fn in_force<C: ConnectionTrait>(db: &C, day: NaiveDate) -> AppResult<Vec<PolicyView>> {
    Ok(policies::Entity::find()
        .filter(policies::Column::ValidFrom.lte(day))
        .filter(policies::Column::ValidUntil.gte(day))
        .order_by_desc(policies::Column::Id)
        .all(db)
        .await?
        .iter()
        .map(view)
        .collect())
}

/// What a policy looks at in a firm.
pub struct Standing<'a> {
    pub grade: Option<Grade>,
    pub division: &'a str,
    pub district: &'a str,
    /// The certification kinds verified, not revoked and valid today.
    pub certified: Vec<String>,
}

/// Does a firm with this standing qualify for the policy on its own terms?
pub fn qualifies(p: &PolicyView, s: &Standing<'_>) -> bool {
    s.grade.is_some_and(|g| p.grades.contains(&g))
        && (p.divisions.is_empty() || p.divisions.iter().any(|d| d == s.division))
        && (p.districts.is_empty() || p.districts.iter().any(|d| d == s.district))
        && p.requires_certification
            .as_ref()
            .is_none_or(|k| s.certified.contains(k))
}

/// The grades firms hold today: those of current codes that are active and not expired.
async fn grades_in_force<C: ConnectionTrait>(
    db: &C,
    list: &[firms::Model],
) -> AppResult<HashMap<crate::store::ids::FirmId, Grade>> {
    let now = Utc::now().timestamp();
    let serials: Vec<i64> = list.iter().filter_map(|f| f.current_serial).collect();
    let mut out = HashMap::new();
    for chunk in serials.chunks(500) {
        for c in codes::Entity::find()
            .filter(codes::Column::Serial.is_in(chunk.iter().copied()))
            .filter(codes::Column::Status.eq(CodeStatus::Active))
            .filter(codes::Column::Exp.gt(now))
            .all(db)
            .await?
        {
            out.insert(c.firm_id, c.grade.0);
        }
    }
    Ok(out)
}

/// The certification kinds each firm holds, verified and valid on `day`.
async fn certified<C: ConnectionTrait>(
    db: &C,
    firm_ids: &[crate::store::ids::FirmId],
    day: NaiveDate,
) -> AppResult<HashMap<crate::store::ids::FirmId, Vec<String>>> {
    let mut out: HashMap<crate::store::ids::FirmId, Vec<String>> = HashMap::new();
    for chunk in firm_ids.chunks(500) {
        for c in certifications::Entity::find()
            .filter(certifications::Column::FirmId.is_in(chunk.iter().copied()))
            .filter(certifications::Column::Verified.eq(true))
            .filter(certifications::Column::Revoked.eq(false))
            .filter(certifications::Column::ValidFrom.lte(day))
            .filter(certifications::Column::ValidUntil.gte(day))
            .all(db)
            .await?
        {
            out.entry(c.firm_id).or_default().push(c.kind);
        }
    }
    Ok(out)
}

/// The policies a firm qualifies for today (the firm itself, regulators).
pub async fn for_firm(db: &Db, caller: &Caller, uscc: &str) -> AppResult<Vec<PolicyView>> {
    let firm = super::services::readable_firm(db, caller, uscc).await?;
    let today = super::records::today();
    let grades = grades_in_force(db, std::slice::from_ref(&firm)).await?;
    let certs = certified(db, &[firm.id], today).await?;
    let standing = Standing {
        grade: grades.get(&firm.id).copied(),
        division: firm.industry_code.get(..2).unwrap_or_default(),
        district: &firm.district,
        certified: certs.get(&firm.id).cloned().unwrap_or_default(),
    };
    Ok(in_force(db, today)
        .await?
        .into_iter()
        .filter(|p| qualifies(p, &standing))
        .collect())
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QualifyingFirm {
    pub uscc: String,
    pub name: String,
    pub district: String,
    pub industry_code: String,
    pub grade: Grade,
}

/// One policy and the firms that qualify for it today (regulators).
pub async fn qualifying_firms(
    db: &Db,
    caller: &Caller,
    id: i64,
) -> AppResult<(PolicyView, Vec<QualifyingFirm>)> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    let policy = view(
        &policies::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?,
    );
    let today = super::records::today();
    let mut select = firms::Entity::find()
        .filter(
            firms::Column::CurrentGrade.is_in(
                policy
                    .grades
                    .iter()
                    .map(|g| crate::store::columns::StoredGrade(*g)),
            ),
        )
        .order_by_asc(firms::Column::Uscc);
    if !policy.districts.is_empty() {
        select = select.filter(firms::Column::District.is_in(policy.districts.clone()));
    }
    let candidates: Vec<firms::Model> = select
        .all(db)
        .await?
        .into_iter()
        .filter(|f| {
            policy.divisions.is_empty()
                || policy
                    .divisions
                    .iter()
                    .any(|d| f.industry_code.starts_with(d.as_str()))
        })
        .collect();
    let grades = grades_in_force(db, &candidates).await?;
    let ids: Vec<crate::store::ids::FirmId> = candidates.iter().map(|f| f.id).collect();
    let certs = certified(db, &ids, today).await?;
    let in_force = policy.valid_from <= today && today <= policy.valid_until;
    let firms = candidates
        .into_iter()
        .filter(|_| in_force)
        .filter_map(|f| {
            let standing = Standing {
                grade: grades.get(&f.id).copied(),
                division: f.industry_code.get(..2).unwrap_or_default(),
                district: &f.district,
                certified: certs.get(&f.id).cloned().unwrap_or_default(),
            };
            qualifies(&policy, &standing).then(|| QualifyingFirm {
                grade: standing.grade.unwrap_or(Grade::D),
                uscc: f.uscc.to_string(),
                name: f.name.clone(),
                district: f.district.clone(),
                industry_code: f.industry_code.clone(),
            })
        })
        .collect();
    Ok((policy, firms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(grades: &[Grade], divisions: &[&str], cert: Option<&str>) -> PolicyView {
        PolicyView {
            id: 1,
            title: "t".into(),
            issuer: "i".into(),
            grades: grades.to_vec(),
            divisions: divisions.iter().map(|d| (*d).to_owned()).collect(),
            districts: vec!["渝北区".into()],
            requires_certification: cert.map(str::to_owned),
            benefit: "b".into(),
            amount_10k_cny: None,
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            url: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_firm_qualifies_on_every_condition_at_once() {
        let firm = Standing {
            grade: Some(Grade::A),
            division: "36",
            district: "渝北区",
            certified: vec!["iso_50001".into()],
        };
        assert!(qualifies(
            &policy(&[Grade::APlus, Grade::A], &["36"], Some("iso_50001")),
            &firm
        ));
        assert!(
            !qualifies(&policy(&[Grade::APlus], &[], None), &firm),
            "grade"
        );
        assert!(
            !qualifies(&policy(&[Grade::A], &["39"], None), &firm),
            "division"
        );
        assert!(
            !qualifies(&policy(&[Grade::A], &[], Some("iso_14001")), &firm),
            "certification"
        );
        let elsewhere = Standing {
            district: "璧山区",
            ..firm
        };
        assert!(
            !qualifies(&policy(&[Grade::A], &[], None), &elsewhere),
            "district"
        );
        let no_code = Standing {
            grade: None,
            ..elsewhere
        };
        assert!(
            !qualifies(&policy(&[Grade::A, Grade::D], &[], None), &no_code),
            "no code in force"
        );
    }
}
