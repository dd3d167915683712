//! A group's writes, held and written once per table.

use sea_orm::ActiveModelTrait;

use crate::error::AppResult;
use crate::store::assessments::{self};
use crate::store::audit::{Actor, Change};
use crate::store::codes::{self};
use crate::store::firms;

/// What a group's approvals write, held until the group (or an approval that must read again
/// after them) needs it: a statement per table, not per approval. Rows are whole models; the
/// updates are written as inserts that update the columns an approval changes when the row
/// exists (as it always does here), which both databases take in one statement.
#[derive(Default)]
pub(crate) struct Writes {
    pub(crate) codes: Vec<codes::Model>,
    pub(crate) superseded: Vec<codes::Model>,
    pub(crate) firms: Vec<firms::Model>,
    pub(crate) assessments: Vec<assessments::Model>,
    /// Written last, with the log: the audit trail's own order.
    pub(crate) audits: Vec<(Actor, Change<'static>)>,
}

impl Writes {
    pub(crate) async fn flush(&mut self, txn: &crate::db::WriteTxn) -> AppResult<()> {
        use sea_orm::ConnectionTrait;
        for statement in self.statements(txn.get_database_backend()) {
            txn.execute_raw(statement).await?;
        }
        Ok(())
    }

    /// The statements that write what is held (taking it), a statement per table, in the order
    /// they are to run; built apart from running them, so that one batch's can be built while
    /// another's run (recovery).
    pub(crate) fn statements(
        &mut self,
        backend: sea_orm::DatabaseBackend,
    ) -> Vec<sea_orm::Statement> {
        use assessments::Column as A;
        use codes::Column as C;
        use firms::Column as F;
        let superseded = [C::Status, C::SupersededBy];
        let current = [
            F::CurrentGrade,
            F::CurrentScore,
            F::CurrentSerial,
            F::CurrentPeriod,
        ];
        let approved = [
            A::Status,
            A::Input,
            A::Trace,
            A::TraceHash,
            A::Score,
            A::Grade,
            A::Benchmarks,
            A::ReviewedBy,
            A::ReviewedAt,
            A::CodeSerial,
            A::CarbonTrace,
            A::CarbonHash,
            A::CarbonLevel,
        ];
        [
            insert_rows::<codes::Entity>(backend, &mut self.codes, None),
            insert_rows::<codes::Entity>(
                backend,
                &mut self.superseded,
                Some((C::Serial, &superseded)),
            ),
            insert_rows::<firms::Entity>(backend, &mut self.firms, Some((F::Id, &current))),
            insert_rows::<assessments::Entity>(
                backend,
                &mut self.assessments,
                Some((A::Id, &approved)),
            ),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The statement inserting `rows` (taking them), if any; with `(key, columns)`, a row whose key
/// exists has those columns updated instead.
fn insert_rows<E: sea_orm::EntityTrait>(
    backend: sea_orm::DatabaseBackend,
    rows: &mut Vec<E::Model>,
    updating: Option<(E::Column, &[E::Column])>,
) -> Option<sea_orm::Statement>
where
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{IntoActiveModel, QueryTrait};
    if rows.is_empty() {
        return None;
    }
    let mut insert = E::insert_many(
        rows.drain(..)
            .map(|row| row.into_active_model().reset_all()),
    )
    .into_query();
    if let Some((key, columns)) = updating {
        insert.on_conflict(
            OnConflict::column(key)
                .update_columns(columns.iter().copied())
                .to_owned(),
        );
    }
    Some(backend.build(&insert))
}
