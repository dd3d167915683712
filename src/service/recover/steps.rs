//! A chunk's entries as steps, and their restoring in order with the next batch read ahead.

use super::batch::{decode, prepare};
use super::*;

/// A chunk's entries in order as steps: issue entries in batches (a firm at most once in a
/// batch, so that each entry reads what the ones before it wrote), a revocation alone.
pub(super) enum Step {
    Issues(Vec<(u64, Value)>),
    Revoke(u64, Value),
}

/// How many issue entries are restored together.
pub(super) const BATCH: usize = 512;

/// What the recovery has restored so far, as far as reading it outside its transaction is
/// concerned: a batch none of whose rows it wrote reads the same there as inside.
#[derive(Default)]
pub(super) struct Seen {
    /// The database's log size when the recovery began: codes from there on are its own.
    pub(super) restored_from: u64,
    /// The firms of the batches formed so far.
    pub(super) firms: std::collections::HashSet<String>,
    /// Codes from before the recovery that it changed (revoked).
    pub(super) codes: std::collections::HashSet<i64>,
}

impl Seen {
    /// Whether the batch reads only rows the recovery has not written (its firms in no
    /// earlier batch, no code it supersedes restored or revoked by the recovery).
    fn untouched(&self, entries: &[(u64, Value)]) -> bool {
        entries.iter().all(|(_, e)| {
            !self.firms.contains(e["uscc"].as_str().unwrap_or(""))
                && e["supersedes"].as_i64().is_none_or(|s| {
                    u64::try_from(s).is_ok_and(|s| s < self.restored_from)
                        && !self.codes.contains(&s)
                })
        })
    }
}

/// The chunk's entries as steps, each batch with whether it is [`Seen::untouched`].
pub(super) fn steps(from: u64, values: Vec<Value>, seen: &mut Seen) -> Vec<(Step, bool)> {
    #[derive(Default)]
    struct Forming {
        entries: Vec<(u64, Value)>,
        usccs: std::collections::HashSet<String>,
    }
    fn end(batch: &mut Forming, seen: &mut Seen, steps: &mut Vec<(Step, bool)>) {
        if !batch.entries.is_empty() {
            let untouched = seen.untouched(&batch.entries);
            seen.firms.extend(batch.usccs.drain());
            steps.push((Step::Issues(std::mem::take(&mut batch.entries)), untouched));
        }
    }
    let mut steps = Vec::new();
    let mut batch = Forming::default();
    for (offset, value) in values.into_iter().enumerate() {
        let index = from + offset as u64;
        if value["type"] == "issue" {
            let uscc = value["uscc"].as_str().unwrap_or("").to_owned();
            if batch.entries.len() >= BATCH || batch.usccs.contains(&uscc) {
                end(&mut batch, seen, &mut steps);
            }
            batch.usccs.insert(uscc);
            batch.entries.push((index, value));
        } else {
            end(&mut batch, seen, &mut steps);
            if let Some(target) = value["target"].as_i64() {
                seen.codes.insert(target);
            }
            steps.push((Step::Revoke(index, value), false));
        }
    }
    end(&mut batch, seen, &mut steps);
    steps
}

/// Restores the steps in order. While one batch is written in the transaction, the next —
/// when it reads only rows the recovery has not written — is read and decided on another
/// connection (the committed rows it reads are the ones the transaction sees): the reading,
/// regrading and decoding of a batch overlap the writing of the one before it.
pub(super) async fn restore_steps(
    txn: &crate::db::WriteTxn,
    db: &Db,
    table: &std::sync::Arc<BenchmarkTable>,
    actor: &Actor,
    steps: Vec<(Step, bool)>,
    mut ahead: Option<Ahead>,
    report: &mut Recovered,
) -> AppResult<()> {
    let mut steps = steps.into_iter().peekable();
    while let Some((step, _)) = steps.next() {
        let prepared = match step {
            Step::Revoke(index, value) => {
                restore_revoke(txn, actor, index, &value, report).await?;
                None
            }
            // Read ahead, the batch's entries were handed to the task.
            Step::Issues(entries) => {
                let decided = match ahead.take() {
                    Some(task) => task.await.map_err(AppError::internal)??,
                    None => Err(decode(entries)?),
                };
                Some(match decided {
                    Ok(prepared) => prepared,
                    // Not read ahead, or a firm to recreate: decided in the transaction.
                    Err(decoded) => prepare(txn, Some(txn), table, actor, decoded)
                        .await?
                        .map_err(|_| AppError::internal("a batch left undecided"))?,
                })
            }
        };
        ahead = self::ahead(db, table, actor, steps.peek_mut());
        if let Some(prepared) = prepared {
            prepared.write(txn, report).await?;
        }
    }
    Ok(())
}

/// A batch being read and decided outside the transaction: its writes, or the batch handed
/// back to be decided inside it.
pub(super) type Ahead = tokio::task::JoinHandle<AppResult<Result<Prepared, super::batch::Decoded>>>;

/// Starts reading and deciding `step` outside the transaction, if it is a batch that reads
/// only rows the recovery has not written; the task takes its entries.
pub(super) fn ahead(
    db: &Db,
    table: &std::sync::Arc<BenchmarkTable>,
    actor: &Actor,
    step: Option<&mut (Step, bool)>,
) -> Option<Ahead> {
    let Some((Step::Issues(entries), true)) = step else {
        return None;
    };
    let entries = std::mem::take(entries);
    let (db, table, actor) = (db.clone(), table.clone(), actor.clone());
    Some(tokio::spawn(async move {
        prepare(&db, None, &table, &actor, decode(entries)?).await
    }))
}

/// A batch's writes, decided, and what it adds to the report.
pub(super) struct Prepared {
    /// Its writes, a statement per table.
    pub(super) statements: Vec<sea_orm::Statement>,
    /// The batch's part of the report.
    pub(super) report: Recovered,
}

impl Prepared {
    async fn write(self, txn: &crate::db::WriteTxn, report: &mut Recovered) -> AppResult<()> {
        use sea_orm::ConnectionTrait;
        for statement in self.statements {
            txn.execute_raw(statement).await?;
        }
        report.codes.extend(self.report.codes);
        report.firms_recreated.extend(self.report.firms_recreated);
        report.notes.extend(self.report.notes);
        Ok(())
    }
}
