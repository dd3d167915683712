//! No-touch filing of every firm at once, as a run in the background: its progress is kept in
//! `no_touch_runs` after each chunk, so that the page and the API show it from any replica; a
//! run whose heartbeat stopped (its replica went away) is said to be interrupted, and a new one
//! may start.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder};
use serde::Serialize;

use super::no_touch::{Incomplete, Progress, file_all};
use crate::db::Db;
use crate::error::{AppError, AppResult, Conflict};
use crate::service::accounts::{Caller, Role};
use crate::store::audit::Change;
use crate::store::settings::no_touch_runs;

/// A run whose heartbeat is older than this is no longer running.
const STALE: Duration = Duration::seconds(60);
/// The firms not filed that a finished run keeps, to show and download.
const KEPT: usize = 1000;

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Finished,
    Failed,
    /// Its replica stopped before it finished (what it filed stays filed).
    Interrupted,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: i64,
    pub year: i32,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// USCCs with readings of the year, and how many were looked at so far.
    pub total: i32,
    pub done: i32,
    pub filed: i32,
    pub incomplete: i32,
    pub already_filed: i32,
    /// The firms not filed and what they miss (the first 1,000), once finished.
    pub not_filed: Vec<Incomplete>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

impl RunView {
    fn of(run: no_touch_runs::Model, now: DateTime<Utc>) -> Self {
        let state = match (&run.finished_at, &run.error) {
            (_, Some(_)) => RunState::Failed,
            (Some(_), None) => RunState::Finished,
            (None, None) if now - run.heartbeat_at > STALE => RunState::Interrupted,
            (None, None) => RunState::Running,
        };
        RunView {
            id: run.id,
            year: run.year,
            state,
            started_at: run.started_at,
            finished_at: run.finished_at,
            total: run.total,
            done: run.done,
            filed: run.filed,
            incomplete: run.incomplete,
            already_filed: run.already_filed,
            not_filed: run
                .report
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default(),
            error: run.error,
        }
    }
}

/// The newest run, if any (regulators).
pub async fn latest(db: &Db, caller: &Caller) -> AppResult<Option<RunView>> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    Ok(no_touch_runs::Entity::find()
        .order_by_desc(no_touch_runs::Column::Id)
        .one(db)
        .await?
        .map(|r| RunView::of(r, Utc::now())))
}

/// One run (regulators).
pub async fn run(db: &Db, caller: &Caller, id: i64) -> AppResult<RunView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    no_touch_runs::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|r| RunView::of(r, Utc::now()))
        .ok_or(AppError::NotFound)
}

/// Starts a run for `year` in the background (regulators; audited); a run still going is a
/// conflict naming it.
pub async fn start(
    db: &Db,
    caches: &crate::service::cache::Caches,
    caller: &Caller,
    year: i32,
) -> AppResult<RunView> {
    if caller.role != Role::Regulator {
        return Err(AppError::Forbidden);
    }
    if !(2000..chrono::Datelike::year(&crate::service::records::today())).contains(&year) {
        return Err(AppError::field_fault(
            crate::grading::Fault::YearOpen,
            "year",
            "must be a completed reporting year",
        ));
    }
    let run = crate::service::write::audited(db, &caller.actor(), async |txn, now| {
        if let Some(going) = no_touch_runs::Entity::find()
            .order_by_desc(no_touch_runs::Column::Id)
            .one(txn)
            .await?
            .map(|r| RunView::of(r, now))
            .filter(|r| r.state == RunState::Running)
        {
            return Err(AppError::Conflict(
                Conflict::AlreadyDone,
                format!(
                    "no-touch run {} for {} is still going",
                    going.id, going.year
                ),
            ));
        }
        let run = no_touch_runs::ActiveModel {
            year: Set(year),
            started_by: Set(caller.account_id),
            started_at: Set(now),
            heartbeat_at: Set(now),
            finished_at: Set(None),
            total: Set(0),
            done: Set(0),
            filed: Set(0),
            incomplete: Set(0),
            already_filed: Set(0),
            report: Set(None),
            error: Set(None),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let change = Change {
            action: "no_touch.start",
            target_type: "no_touch_run",
            target_id: run.id.to_string(),
            before: None,
            after: Some(serde_json::json!({"year": year})),
        };
        Ok(crate::service::write::Audited::one(run, change))
    })
    .await?;
    let view = RunView::of(run.clone(), Utc::now());
    let (db, caches, caller) = (db.clone(), caches.clone(), caller.clone());
    tokio::spawn(async move {
        let id = run.id;
        if let Err(err) = go(&db, &caches, &caller, run).await {
            tracing::error!(run = id, error = %err, "no-touch run failed");
            let failed = no_touch_runs::ActiveModel {
                id: sea_orm::ActiveValue::Unchanged(id),
                error: Set(Some(err.to_string())),
                finished_at: Set(Some(Utc::now())),
                ..Default::default()
            };
            if let Err(e) = failed.update(&db).await {
                tracing::error!(run = id, error = %e, "no-touch run: the failure was not kept");
            }
        }
    });
    Ok(view)
}

/// Does the run, keeping its progress after each chunk.
async fn go(
    db: &Db,
    caches: &crate::service::cache::Caches,
    caller: &Caller,
    run: no_touch_runs::Model,
) -> AppResult<()> {
    let (tx, mut rx) = tokio::sync::watch::channel(Progress::default());
    let keeper = {
        let db = db.clone();
        let id = run.id;
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let p = *rx.borrow_and_update();
                let row = no_touch_runs::ActiveModel {
                    id: sea_orm::ActiveValue::Unchanged(id),
                    heartbeat_at: Set(Utc::now()),
                    total: Set(p.total as i32),
                    done: Set(p.done as i32),
                    filed: Set(p.filed as i32),
                    incomplete: Set(p.incomplete as i32),
                    already_filed: Set(p.already_filed as i32),
                    ..Default::default()
                };
                if let Err(e) = row.update(&db).await {
                    tracing::warn!(run = id, error = %e, "no-touch run: progress not kept");
                }
            }
        })
    };
    let actor = caller.actor();
    let report = file_all(
        db,
        caches,
        &actor,
        Some(caller.account_id),
        run.year,
        &mut |p| {
            let _ = tx.send(p);
        },
    )
    .await;
    drop(tx);
    let _ = keeper.await;
    let report = report?;
    let kept: Vec<&Incomplete> = report.incomplete.iter().take(KEPT).collect();
    no_touch_runs::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(run.id),
        heartbeat_at: Set(Utc::now()),
        finished_at: Set(Some(Utc::now())),
        done: Set(report.filed.len() as i32
            + report.incomplete.len() as i32
            + report.already_filed as i32
            + report.unregistered as i32),
        filed: Set(report.filed.len() as i32),
        incomplete: Set(report.incomplete.len() as i32),
        already_filed: Set(report.already_filed as i32),
        report: Set(Some(
            serde_json::to_string(&kept).map_err(AppError::internal)?,
        )),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
