//! Reading codes as the API, the scan page and the firm's desk show them: one read each, so
//! the front ends only render.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::code::{Claims, cose};
use crate::error::{AppError, AppResult};
use crate::grading::Trace;
use crate::store::{assessments, certifications, codes, firms};

/// A code on record with its firm and its claims.
pub struct CodeRecord {
    pub code: codes::Model,
    pub firm: firms::Model,
    pub claims: Claims,
}

/// The code with this serial, its firm and claims; not found when there is none.
pub async fn load<C: ConnectionTrait>(db: &C, serial: i64) -> AppResult<CodeRecord> {
    let code = codes::Entity::find_by_id(serial)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let firm = firms::Entity::find_by_id(code.firm_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let claims = cose::decode(&code.cose).map_err(AppError::internal)?.claims;
    Ok(CodeRecord { code, firm, claims })
}

/// The code with this serial alone.
pub async fn find<C: ConnectionTrait>(db: &C, serial: i64) -> AppResult<codes::Model> {
    codes::Entity::find_by_id(serial)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the scan page shows beyond the verification: the code on record, its firm, the trace
/// it was issued on, and — for a superseded code — the firm's current code.
pub struct ScanRecord {
    pub code: codes::Model,
    pub firm: Option<firms::Model>,
    pub trace: Option<Trace>,
    /// The assessment's carbon trace (methodology §10), when it was kept.
    pub carbon_trace: Option<serde_json::Value>,
    pub current: Option<codes::Model>,
}

pub async fn scan_record<C: ConnectionTrait>(db: &C, serial: i64) -> AppResult<Option<ScanRecord>> {
    let Some(code) = codes::Entity::find_by_id(serial).one(db).await? else {
        return Ok(None);
    };
    let firm = firms::Entity::find_by_id(code.firm_id).one(db).await?;
    let assessment = assessments::Entity::find_by_id(code.assessment_id)
        .one(db)
        .await?;
    let trace = assessment
        .as_ref()
        .and_then(|a| serde_json::from_str(&a.trace).ok());
    let carbon_trace = assessment
        .as_ref()
        .and_then(|a| a.carbon_trace.as_deref())
        .and_then(|t| serde_json::from_str(t).ok());
    let current = match firm.as_ref().and_then(|f| f.current_serial) {
        Some(current) if current != serial && code.status == codes::CodeStatus::Superseded => {
            codes::Entity::find_by_id(current).one(db).await?
        }
        _ => None,
    };
    Ok(Some(ScanRecord {
        code,
        firm,
        trace,
        carbon_trace,
        current,
    }))
}

/// A firm's own desk: the firm, its current code, its submissions (newest first) and its
/// certifications.
pub struct Dashboard {
    pub firm: firms::Model,
    pub current: Option<codes::Model>,
    /// The firm's newest code, in force or not (a revoked one is named on the desk).
    pub latest: Option<codes::Model>,
    pub submissions: Vec<assessments::Model>,
    pub certifications: Vec<certifications::Model>,
}

pub async fn dashboard<C: ConnectionTrait>(
    db: &C,
    firm_id: crate::store::ids::FirmId,
) -> AppResult<Dashboard> {
    let firm = firms::Entity::find_by_id(firm_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = match firm.current_serial {
        Some(serial) => codes::Entity::find_by_id(serial).one(db).await?,
        None => None,
    };
    let latest = codes::Entity::find()
        .filter(codes::Column::FirmId.eq(firm.id))
        .order_by_desc(codes::Column::Serial)
        .one(db)
        .await?;
    let submissions = assessments::Entity::find()
        .filter(assessments::Column::FirmId.eq(firm.id))
        .order_by_desc(assessments::Column::Id)
        .all(db)
        .await?;
    let certifications = certifications::of_firm(db, firm.id).await?;
    Ok(Dashboard {
        firm,
        current,
        latest,
        submissions,
        certifications,
    })
}

/// The firms that hold a grade now (for the distribution charts).
pub async fn graded_firms<C: ConnectionTrait>(db: &C) -> AppResult<Vec<firms::Model>> {
    Ok(firms::Entity::find()
        .filter(firms::Column::CurrentGrade.is_not_null())
        .all(db)
        .await?)
}

/// For each USCC: `None` when no firm has it, else the firm's current code (its COSE bytes), or
/// its latest code when it holds none in force, if it ever held one.
pub async fn current_by_uscc<C: ConnectionTrait>(
    db: &C,
    usccs: &[&str],
) -> AppResult<std::collections::HashMap<String, Option<Vec<u8>>>> {
    let found = firms::Entity::find()
        .filter(firms::Column::Uscc.is_in(usccs.iter().copied()))
        .all(db)
        .await?;
    let serials: Vec<i64> = found.iter().filter_map(|f| f.current_serial).collect();
    let mut cose: std::collections::HashMap<i64, Vec<u8>> = codes::Entity::find()
        .filter(codes::Column::Serial.is_in(serials))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.serial, c.cose))
        .collect();
    // A firm without a current code: its latest code, whatever became of it (a revoked
    // borrower reads as revoked, with its day and reason, not as a firm without a code).
    let mut latest: std::collections::HashMap<crate::store::ids::FirmId, Vec<u8>> =
        std::collections::HashMap::new();
    for f in found.iter().filter(|f| f.current_serial.is_none()) {
        if let Some(code) = codes::Entity::find()
            .filter(codes::Column::FirmId.eq(f.id))
            .order_by_desc(codes::Column::Serial)
            .one(db)
            .await?
        {
            latest.insert(f.id, code.cose);
        }
    }
    Ok(found
        .into_iter()
        .map(|f| {
            let code = match f.current_serial {
                Some(s) => cose.remove(&s),
                None => latest.remove(&f.id),
            };
            (f.uscc.to_string(), code)
        })
        .collect())
}

/// One code's record, by serial.
pub async fn by_serial<C: ConnectionTrait>(db: &C, serial: i64) -> AppResult<Option<codes::Model>> {
    Ok(codes::Entity::find_by_id(serial).one(db).await?)
}
