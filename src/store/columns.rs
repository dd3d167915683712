//! How the pure cores' types are stored: the grade as its text (`A+` …) in a string column.
//! The impls live here so that `grading` knows nothing of the database.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::grading::Grade;

impl From<Grade> for Value {
    fn from(grade: Grade) -> Self {
        grade.as_str().into()
    }
}

impl TryGetable for Grade {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, idx)?;
        Grade::parse(&text).ok_or_else(|| {
            TryGetError::DbErr(DbErr::Type(format!(
                "not a grade in the database: {text:?}"
            )))
        })
    }
}

impl ValueType for Grade {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(v)?;
        Grade::parse(&text).ok_or(ValueTypeErr)
    }

    fn type_name() -> String {
        "Grade".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl Nullable for Grade {
    fn null() -> Value {
        Value::String(None)
    }
}

impl sea_orm::IntoActiveValue<Grade> for Grade {
    fn into_active_value(self) -> sea_orm::ActiveValue<Grade> {
        sea_orm::ActiveValue::Set(self)
    }
}
