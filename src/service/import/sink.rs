//! Where the first pass puts each chunk it has checked, and how the second pass gets it.
//!
//! On SQLite, the plan file: the chunks are written in one transaction once the whole file is
//! checked, because a write transaction holds SQLite's one write turn — and with it every other
//! writer — for as long as it lasts. On PostgreSQL writers do not wait for one another, so the
//! import's transaction is opened first and a writer task writes each chunk as soon as it is
//! checked, while the next one is checked: the database writes while the file is read. A fault
//! anywhere in the file rolls that transaction back, so a file is still all or nothing.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::format::ImportError;
use super::plan::{PlanFile, PlannedChunk, Written};
use crate::db::{Db, WriteTxn};
use crate::error::AppError;
use crate::store::audit::Actor;
use crate::store::ids::AccountId;

/// The chunks written and the transaction they were written in, not committed yet.
type Done = Result<(WriteTxn, Written), ImportError>;

pub(super) enum Sink {
    Plan(PlanFile),
    Writer {
        /// `None` once the writer stopped at a fault (reported by [`Sink::finish`]).
        chunks: Option<mpsc::Sender<PlannedChunk>>,
        task: JoinHandle<Done>,
    },
}

impl Sink {
    pub(super) async fn open(
        db: &Db,
        scratch: &std::path::Path,
        actor: &Actor,
        actor_id: Option<AccountId>,
    ) -> Result<Sink, ImportError> {
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            return Ok(Sink::Plan(PlanFile::create(scratch)?));
        }
        let txn = crate::db::begin_write(db).await?;
        // Two chunks waiting at most: the checking stays at most that far ahead.
        let (chunks, mut waiting) = mpsc::channel::<PlannedChunk>(2);
        let actor = actor.clone();
        let task = tokio::spawn(async move {
            let mut written = Written::default();
            while let Some(chunk) = waiting.recv().await {
                // On a fault the transaction is dropped, which rolls it back.
                written.write(&txn, &actor, actor_id, chunk).await?;
            }
            Ok((txn, written))
        });
        Ok(Sink::Writer {
            chunks: Some(chunks),
            task,
        })
    }

    pub(super) async fn push(&mut self, chunk: PlannedChunk) -> Result<(), ImportError> {
        match self {
            Sink::Plan(plan) => plan.push(&chunk),
            Sink::Writer { chunks, .. } => {
                if let Some(sender) = chunks
                    && sender.send(chunk).await.is_err()
                {
                    *chunks = None;
                }
                Ok(())
            }
        }
    }

    /// Every chunk written, in the transaction that is still open: the import's own audit
    /// event and the commit follow.
    pub(super) async fn finish(
        self,
        db: &Db,
        actor: &Actor,
        actor_id: Option<AccountId>,
    ) -> Result<(WriteTxn, Written), ImportError> {
        match self {
            Sink::Plan(plan) => {
                let txn = crate::db::begin_write(db).await?;
                let mut written = Written::default();
                for chunk in plan.chunks()? {
                    if let Err(err) = written.write(&txn, actor, actor_id, chunk?).await {
                        txn.rollback().await?;
                        return Err(err);
                    }
                }
                Ok((txn, written))
            }
            Sink::Writer { chunks, task } => {
                drop(chunks);
                task.await
                    .map_err(|e| ImportError::Failed(AppError::internal(e)))?
            }
        }
    }

    /// The file had a fault: whatever was written is rolled back.
    pub(super) async fn abandon(self) -> Result<(), ImportError> {
        if let Sink::Writer { chunks, task } = self {
            drop(chunks);
            if let Ok(Ok((txn, _))) = task.await {
                txn.rollback().await?;
            }
        }
        Ok(())
    }
}
