//! How the pure cores' types are stored: the grade as its text (`A+` …) in a string column.
//! The pure core is another crate that knows nothing of the database, so its `Grade` is stored
//! through a thin wrapper of this crate's ([`StoredGrade`]), which derefs to the grade.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::grading::Grade;

/// A grade in a column.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct StoredGrade(pub Grade);

impl std::ops::Deref for StoredGrade {
    type Target = Grade;

    fn deref(&self) -> &Grade {
        &self.0
    }
}

impl From<Grade> for StoredGrade {
    fn from(grade: Grade) -> Self {
        StoredGrade(grade)
    }
}

impl From<StoredGrade> for Grade {
    fn from(grade: StoredGrade) -> Self {
        grade.0
    }
}

impl PartialEq<Grade> for StoredGrade {
    fn eq(&self, other: &Grade) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for StoredGrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl From<StoredGrade> for Value {
    fn from(grade: StoredGrade) -> Self {
        grade.as_str().into()
    }
}

impl TryGetable for StoredGrade {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, idx)?;
        Grade::parse(&text).map(StoredGrade).ok_or_else(|| {
            TryGetError::DbErr(DbErr::Type(format!(
                "not a grade in the database: {text:?}"
            )))
        })
    }
}

impl ValueType for StoredGrade {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let text = <String as ValueType>::try_from(v)?;
        Grade::parse(&text).map(StoredGrade).ok_or(ValueTypeErr)
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

impl Nullable for StoredGrade {
    fn null() -> Value {
        Value::String(None)
    }
}

impl sea_orm::IntoActiveValue<StoredGrade> for StoredGrade {
    fn into_active_value(self) -> sea_orm::ActiveValue<StoredGrade> {
        sea_orm::ActiveValue::Set(self)
    }
}
