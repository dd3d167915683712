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
        use assessments::Column as A;
        use codes::Column as C;
        use firms::Column as F;
        insert_rows::<codes::Entity>(txn, &mut self.codes, None).await?;
        let superseded = [C::Status, C::SupersededBy];
        insert_rows::<codes::Entity>(txn, &mut self.superseded, Some((C::Serial, &superseded)))
            .await?;
        let current = [
            F::CurrentGrade,
            F::CurrentScore,
            F::CurrentSerial,
            F::CurrentPeriod,
        ];
        insert_rows::<firms::Entity>(txn, &mut self.firms, Some((F::Id, &current))).await?;
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
        insert_rows::<assessments::Entity>(txn, &mut self.assessments, Some((A::Id, &approved)))
            .await
    }
}

/// Inserts `rows` (taking them) in one statement; with `(key, columns)`, a row whose key
/// exists has those columns updated instead.
pub(super) async fn insert_rows<E: sea_orm::EntityTrait>(
    txn: &crate::db::WriteTxn,
    rows: &mut Vec<E::Model>,
    updating: Option<(E::Column, &[E::Column])>,
) -> AppResult<()>
where
    E::Model: sea_orm::IntoActiveModel<E::ActiveModel>,
{
    use sea_orm::IntoActiveModel;
    use sea_orm::sea_query::OnConflict;
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = E::insert_many(
        rows.drain(..)
            .map(|row| row.into_active_model().reset_all()),
    );
    if let Some((key, columns)) = updating {
        insert = insert.on_conflict(
            OnConflict::column(key)
                .update_columns(columns.iter().copied())
                .to_owned(),
        );
    }
    insert.exec_without_returning(txn).await?;
    Ok(())
}
