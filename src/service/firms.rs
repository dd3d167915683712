//! Firms: creating one (with its audit event).

use chrono::Utc;
use sea_orm::ActiveModelTrait;
use sea_orm::ActiveValue::Set;
use sea_orm::ConnectionTrait;
use serde::Serialize;

use super::accounts::{Caller, Role};
use crate::error::{AppError, AppResult};
use crate::grading;
use crate::grading::Uscc;
use crate::store::audit::{self, Actor, Change};
use crate::store::firms;
use sea_orm::EntityTrait;

/// A new firm, parsed at the boundary.
pub struct NewFirm {
    pub uscc: Uscc,
    pub name: String,
    pub industry_code: String,
    pub district: String,
}

#[derive(Debug, Serialize)]
pub struct FirmRecord {
    pub id: i64,
    pub uscc: String,
    pub name: String,
    pub industry_code: String,
    pub district: String,
}

impl From<&firms::Model> for FirmRecord {
    fn from(f: &firms::Model) -> Self {
        FirmRecord {
            id: f.id.0,
            uscc: f.uscc.to_string(),
            name: f.name.clone(),
            industry_code: f.industry_code.clone(),
            district: f.district.clone(),
        }
    }
}

pub fn check_name(field: &str, name: &str) -> AppResult<()> {
    super::text::line(field, name, 200).map(drop)
}

/// Inserts the firm and its audit event on `txn` (the caller commits).
pub async fn insert_firm<C: ConnectionTrait>(
    txn: &C,
    actor: &Actor,
    new: NewFirm,
) -> AppResult<firms::Model> {
    check_name("name", &new.name)?;
    check_name("district", &new.district)?;
    if new.industry_code.len() != 4 || !new.industry_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::field_fault(
            crate::grading::Fault::Format,
            "industry_code",
            "must be exactly 4 digits",
        ));
    }
    if firms::find_by_uscc(txn, new.uscc.as_str()).await?.is_some() {
        return Err(AppError::Conflict(
            crate::error::Conflict::Exists,
            format!("a firm with USCC {} exists", new.uscc),
        ));
    }
    let now = Utc::now();
    let firm = firms::ActiveModel {
        uscc: Set(new.uscc.clone().into()),
        name: Set(new.name.trim().to_owned()),
        industry_code: Set(new.industry_code),
        district: Set(new.district.trim().to_owned()),
        created_at: Set(now),
        current_grade: Set(None),
        current_score: Set(None),
        current_serial: Set(None),
        current_period: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit::record(
        txn,
        actor,
        now,
        Change {
            action: "firm.create",
            target_type: "firm",
            target_id: firm.uscc.to_string(),
            before: None,
            after: Some(serde_json::to_value(FirmRecord::from(&firm)).map_err(AppError::internal)?),
        },
    )
    .await?;
    Ok(firm)
}

/// `POST /api/v1/firms`: a firm, and optionally its first user, in one transaction.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFirmRequest {
    #[schema(value_type = String)]
    pub uscc: Uscc,
    pub name: String,
    pub industry_code: String,
    pub district: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedFirm {
    #[serde(flatten)]
    pub firm: FirmSummary,
    pub account: Option<super::accounts::AccountSummary>,
}

/// Parses the USCC, the industry class and its division against the table in force.
pub fn parse_new_firm(
    uscc: &str,
    name: &str,
    industry_code: &str,
    district: &str,
    table: &crate::grading::BenchmarkTable,
) -> AppResult<NewFirm> {
    let uscc = Uscc::parse(uscc).map_err(|_| {
        AppError::field_fault(
            crate::grading::Fault::Uscc,
            "uscc",
            "not a valid unified social credit code",
        )
    })?;
    new_firm(uscc, name, industry_code, district, table)
}

/// A new firm from its parsed USCC and the other fields as given.
pub fn new_firm(
    uscc: Uscc,
    name: &str,
    industry_code: &str,
    district: &str,
    table: &crate::grading::BenchmarkTable,
) -> AppResult<NewFirm> {
    let code = crate::grading::input::IndustryCode::parse(industry_code)
        .map_err(|m| AppError::field_fault(crate::grading::Fault::Format, "industry_code", m))?;
    if table.get(code.division()).is_none() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Unknown,
            "industry_code",
            "division not in the benchmark table",
        ));
    }
    check_name("name", name)?;
    check_name("district", district)?;
    Ok(NewFirm {
        uscc,
        name: name.into(),
        industry_code: code.as_str().into(),
        district: district.into(),
    })
}

pub async fn create_firm(
    db: &crate::db::Db,
    caches: &super::cache::Caches,
    actor: &Actor,
    request: CreateFirmRequest,
) -> AppResult<CreatedFirm> {
    let table = super::benchmarks::in_force(db, caches).await?;
    let new = new_firm(
        request.uscc,
        &request.name,
        &request.industry_code,
        &request.district,
        &table,
    )?;
    let account = match (request.username, request.password) {
        (Some(username), Some(password)) => {
            let mut new_account = super::accounts::NewAccount {
                username,
                password,
                role: super::accounts::Role::Firm,
                firm: Some(new.uscc.clone()),
                org: None,
                attests: Vec::new(),
            };
            let hash = super::accounts::prepare_account(&mut new_account).await?;
            Some((new_account, hash))
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(AppError::field_fault(
                crate::grading::Fault::Combination,
                "password",
                "is required with a username",
            ));
        }
        (None, Some(_)) => {
            return Err(AppError::field_fault(
                crate::grading::Fault::Combination,
                "username",
                "is required with a password",
            ));
        }
    };
    let txn = crate::db::begin_write(db).await?;
    let firm = insert_firm(&txn, actor, new).await?;
    let account = match account {
        Some((new_account, hash)) => {
            Some(super::accounts::insert_account(&txn, actor, new_account, hash).await?)
        }
        None => None,
    };
    txn.commit().await?;
    Ok(CreatedFirm {
        firm: FirmSummary::of(&firm, &table),
        account,
    })
}

/// What anyone may read about a firm: identity, industry, and its current grade and code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FirmSummary {
    pub uscc: String,
    pub name: String,
    pub industry_code: String,
    pub division: String,
    pub division_name_zh: Option<String>,
    pub division_name_en: Option<String>,
    pub district: String,
    pub grade: Option<crate::grading::Grade>,
    pub score: Option<String>,
    pub period: Option<i32>,
    pub code_serial: Option<i64>,
    /// Recreated by a log recovery from its code: its name, industry and district are still
    /// to be completed by the regulator (`PATCH /api/v1/firms/{uscc}`).
    pub to_complete: bool,
}

impl FirmSummary {
    pub fn of(f: &firms::Model, table: &crate::grading::BenchmarkTable) -> Self {
        let division = f.industry_code.get(..2).unwrap_or_default().to_owned();
        let bench = table.get(&division);
        FirmSummary {
            uscc: f.uscc.to_string(),
            name: f.name.clone(),
            industry_code: f.industry_code.clone(),
            division_name_zh: bench.map(|b| b.name_zh.clone()),
            division_name_en: bench.map(|b| b.name_en.clone()),
            division,
            district: f.district.clone(),
            grade: f.current_grade.map(crate::grading::Grade::from),
            score: f.current_score.clone(),
            period: f.current_period,
            code_serial: f.current_serial,
            to_complete: f.restored_at.is_some(),
        }
    }
}

/// The regulator's corrections of a firm's record: its name, industry and district (each left
/// as it is when absent). A firm recreated by a log recovery is complete once it has all three.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmUpdate {
    pub name: Option<String>,
    /// GB/T 4754 class, four digits, of a division in the benchmark table.
    pub industry_code: Option<String>,
    pub district: Option<String>,
}

/// Corrects a firm's name, industry or district, with its audit event. Who may: regulator.
pub async fn update_firm(
    db: &crate::db::Db,
    caches: &super::cache::Caches,
    actor: &Actor,
    uscc: &Uscc,
    update: FirmUpdate,
) -> AppResult<FirmSummary> {
    let table = super::benchmarks::in_force(db, caches).await?;
    let firm = firms::find_by_uscc(db, uscc.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    // The whole record checked as a new one would be, with the fields not given as they are.
    let checked = new_firm(
        uscc.clone(),
        update.name.as_deref().unwrap_or(&firm.name),
        update
            .industry_code
            .as_deref()
            .unwrap_or(&firm.industry_code),
        update.district.as_deref().unwrap_or(&firm.district),
        &table,
    )?;
    let before = serde_json::json!({"name": firm.name, "industry_code": firm.industry_code,
                        "district": firm.district, "to_complete": firm.restored_at.is_some()});
    let after = serde_json::json!({"name": checked.name.trim(), "industry_code": checked.industry_code,
                       "district": checked.district.trim(), "to_complete": false});
    crate::service::write::audited(db, actor, async |txn, _| {
        let mut model: firms::ActiveModel = firm.clone().into();
        model.name = Set(checked.name.trim().to_owned());
        model.industry_code = Set(checked.industry_code.clone());
        model.district = Set(checked.district.trim().to_owned());
        model.restored_at = Set(None);
        let updated = model.update(txn).await?;
        Ok(crate::service::write::Audited::one(
            FirmSummary::of(&updated, &table),
            Change {
                action: "firm.update",
                target_type: "firm",
                target_id: uscc.to_string(),
                before: Some(before),
                after: Some(after),
            },
        ))
    })
    .await
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FirmQuery {
    pub grade: Option<String>,
    pub division: Option<String>,
    pub district: Option<String>,
    /// A part of the firm's name, or the start of its USCC (full-width characters taken).
    pub q: Option<String>,
    /// `name` (A→Z), `score` (best first, ungraded last), `score_asc`, `newest`; by default
    /// in the order registered.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

/// How the firm list is ordered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FirmSort {
    Registered,
    Name,
    ScoreDesc,
    ScoreAsc,
    Newest,
}

impl FirmSort {
    fn parse(text: Option<&str>) -> AppResult<Self> {
        Ok(match text.map(str::trim).unwrap_or_default() {
            "" => FirmSort::Registered,
            "name" => FirmSort::Name,
            "score" => FirmSort::ScoreDesc,
            "score_asc" => FirmSort::ScoreAsc,
            "newest" => FirmSort::Newest,
            _ => {
                return Err(AppError::field_fault(
                    crate::grading::Fault::OneOf,
                    "sort",
                    "must be name, score, score_asc or newest",
                ));
            }
        })
    }
}

/// The regulator's list of firms, filtered by current grade, industry division and district.
pub async fn list_firms(
    db: &crate::db::Db,
    caches: &super::cache::Caches,
    query: FirmQuery,
) -> AppResult<super::assessments::Page<FirmSummary>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let mut select = firms::Entity::find();
    if let Some(grade) = &query.grade {
        if grade == "none" {
            select = select.filter(firms::Column::CurrentGrade.is_null());
        } else {
            let grade = crate::grading::Grade::parse(grade).ok_or_else(|| {
                AppError::field_fault(
                    crate::grading::Fault::OneOf,
                    "grade",
                    "must be A+, A, B, C, D or none",
                )
            })?;
            select = select
                .filter(firms::Column::CurrentGrade.eq(crate::store::columns::StoredGrade(grade)));
        }
    }
    if let Some(division) = &query.division {
        if division.len() != 2 || !division.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::field_fault(
                crate::grading::Fault::Format,
                "division",
                "must be 2 digits",
            ));
        }
        select = select.filter(firms::Column::IndustryCode.starts_with(division.as_str()));
    }
    if let Some(district) = &query.district {
        select = select.filter(firms::Column::District.eq(district.as_str()));
    }
    if let Some(q) = query
        .q
        .as_deref()
        .map(search_text)
        .filter(|q| !q.is_empty())
    {
        if q.chars().count() > 100 {
            return Err(AppError::field_fault(
                crate::grading::Fault::Range,
                "q",
                "at most 100 characters",
            ));
        }
        let uscc_start = format!("{}%", q.to_ascii_uppercase());
        select = select.filter(
            sea_orm::Condition::any()
                .add(firms::Column::Name.like(format!("%{q}%")))
                .add(firms::Column::Uscc.like(uscc_start)),
        );
    }
    let sort = FirmSort::parse(query.sort.as_deref())?;
    let page = if sort == FirmSort::Registered {
        super::paging::keyset(
            db,
            select,
            firms::Column::Id,
            |f| f.id.0,
            query.cursor.as_deref(),
            query.limit,
        )
        .await?
    } else {
        sorted_page(db, select, sort, query.cursor.as_deref(), query.limit).await?
    };
    let table = super::benchmarks::in_force(db, caches).await?;
    Ok(page.map(|f| FirmSummary::of(&f, &table)))
}

/// A search as typed: full-width letters and digits folded (NFKC), the LIKE wildcards dropped.
fn search_text(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.trim()
        .nfkc()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect()
}

/// One page of a sorted firm list; the cursor is the number of rows before it.
async fn sorted_page(
    db: &crate::db::Db,
    select: sea_orm::Select<firms::Entity>,
    sort: FirmSort,
    cursor: Option<&str>,
    limit: Option<u64>,
) -> AppResult<super::assessments::Page<firms::Model>> {
    use sea_orm::sea_query::{Expr, NullOrdering, Order};
    use sea_orm::{QueryOrder, QuerySelect};
    let limit = super::paging::page_limit(limit)?;
    let skip = u64::try_from(super::paging::page_cursor(cursor)?).unwrap_or(0);
    let score = || Expr::cust("CAST(current_score AS REAL)");
    let select = match sort {
        FirmSort::Name => select.order_by_asc(firms::Column::Name),
        FirmSort::ScoreDesc => select.order_by_with_nulls(score(), Order::Desc, NullOrdering::Last),
        FirmSort::ScoreAsc => select.order_by_with_nulls(score(), Order::Asc, NullOrdering::Last),
        FirmSort::Newest | FirmSort::Registered => select.order_by_desc(firms::Column::Id),
    };
    let mut rows = select
        .order_by_asc(firms::Column::Id)
        .offset(skip)
        .limit(limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    Ok(super::assessments::Page {
        items: rows,
        next_cursor: more.then(|| (skip + limit).to_string()),
    })
}

/// A firm's public summary: name, industry, current grade and code.
pub async fn summary(
    db: &crate::db::Db,
    caches: &super::cache::Caches,
    uscc: &Uscc,
) -> AppResult<FirmSummary> {
    let firm = firms::find_by_uscc(db, uscc.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let table = super::benchmarks::in_force(db, caches).await?;
    Ok(FirmSummary::of(&firm, &table))
}

/// The firm a caller may act for: its own for a firm account (another firm's is "not found"),
/// any for a regulator.
pub async fn firm_for<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    uscc: Option<&str>,
) -> AppResult<firms::Model> {
    match caller.role {
        Role::Firm => {
            let own_id = caller.firm_id.ok_or(AppError::Forbidden)?;
            let firm = firms::Entity::find_by_id(own_id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound)?;
            match uscc {
                Some(u) if !u.eq_ignore_ascii_case(firm.uscc.as_str()) => Err(AppError::NotFound),
                _ => Ok(firm),
            }
        }
        Role::Regulator => {
            let text = uscc.ok_or_else(|| AppError::fault("uscc", grading::Fault::Required))?;
            let uscc = Uscc::parse(text).map_err(|_| {
                AppError::field_fault(
                    crate::grading::Fault::Uscc,
                    "uscc",
                    "not a valid unified social credit code",
                )
            })?;
            firms::find_by_uscc(db, uscc.as_str())
                .await?
                .ok_or_else(|| {
                    AppError::field_fault(
                        crate::grading::Fault::Unknown,
                        "uscc",
                        "no firm with this USCC",
                    )
                })
        }
        Role::Bank | Role::Provider | Role::Source => Err(AppError::Forbidden),
    }
}

/// The firm a path's USCC names, if the caller may act for it: a firm account its own
/// (another firm's is "not found"), a regulator any; no such firm is "not found".
pub async fn firm_at<C: ConnectionTrait>(
    db: &C,
    caller: &Caller,
    uscc: &Uscc,
) -> AppResult<firms::Model> {
    let firm = match caller.role {
        Role::Firm => {
            let own_id = caller.firm_id.ok_or(AppError::Forbidden)?;
            firms::Entity::find_by_id(own_id).one(db).await?
        }
        Role::Regulator => firms::find_by_uscc(db, uscc.as_str()).await?,
        Role::Bank | Role::Provider | Role::Source => return Err(AppError::Forbidden),
    };
    firm.filter(|f| f.uscc == *uscc).ok_or(AppError::NotFound)
}

/// The districts firms are registered in, sorted (the choices of the regulator's filter).
pub async fn districts<C: sea_orm::ConnectionTrait>(db: &C) -> AppResult<Vec<String>> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(firms::Entity::find()
        .select_only()
        .column(firms::Column::District)
        .distinct()
        .order_by_asc(firms::Column::District)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// The names of the firms holding a code, by USCC (public, as the scan page shows them).
pub async fn names_with_codes<C: sea_orm::ConnectionTrait>(
    db: &C,
) -> AppResult<serde_json::Map<String, serde_json::Value>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let rows: Vec<(crate::store::columns::StoredUscc, String)> = firms::Entity::find()
        .select_only()
        .column(firms::Column::Uscc)
        .column(firms::Column::Name)
        .filter(firms::Column::CurrentSerial.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(uscc, name)| (uscc.to_string(), name.into()))
        .collect())
}
