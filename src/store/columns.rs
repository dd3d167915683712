//! How the pure cores' kinds are stored: each as its text (`A+` …, `ed25519`) in a string
//! column. The pure core is another crate that knows nothing of the database, so its types are
//! stored through thin wrappers of this crate's ([`StoredGrade`], [`StoredAlgorithm`]), which
//! deref to the core's value.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::code::Algorithm;
use crate::grading::Grade;

/// A wrapper that stores a core type `$core` as its text: `$as_str` writes it, `$parse` reads
/// it back (`None` for a text that is not one).
macro_rules! stored_as_text {
    ($(#[$doc:meta])* $name:ident($core:ty), $as_str:path, $parse:path) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $core);

        impl std::ops::Deref for $name {
            type Target = $core;

            fn deref(&self) -> &$core {
                &self.0
            }
        }

        impl From<$core> for $name {
            fn from(value: $core) -> Self {
                $name(value)
            }
        }

        impl From<$name> for $core {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<$core> for $name {
            fn eq(&self, other: &$core) -> bool {
                self.0 == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($as_str(self.0))
            }
        }

        impl From<$name> for Value {
            fn from(value: $name) -> Self {
                $as_str(value.0).into()
            }
        }

        impl TryGetable for $name {
            fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
                let text = String::try_get_by(res, idx)?;
                $parse(&text).map($name).ok_or_else(|| {
                    TryGetError::DbErr(DbErr::Type(format!(
                        "not a {} in the database: {text:?}",
                        stringify!($core)
                    )))
                })
            }
        }

        impl ValueType for $name {
            fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
                let text = <String as ValueType>::try_from(v)?;
                $parse(&text).map($name).ok_or(ValueTypeErr)
            }

            fn type_name() -> String {
                stringify!($core).to_owned()
            }

            fn array_type() -> ArrayType {
                ArrayType::String
            }

            fn column_type() -> ColumnType {
                ColumnType::String(StringLen::None)
            }
        }

        impl Nullable for $name {
            fn null() -> Value {
                Value::String(None)
            }
        }

        impl sea_orm::IntoActiveValue<$name> for $name {
            fn into_active_value(self) -> sea_orm::ActiveValue<$name> {
                sea_orm::ActiveValue::Set(self)
            }
        }
    };
}

stored_as_text!(
    /// A grade in a column.
    StoredGrade(Grade),
    Grade::as_str,
    Grade::parse
);

stored_as_text!(
    /// A signing key's algorithm in a column.
    StoredAlgorithm(Algorithm),
    Algorithm::as_str,
    Algorithm::parse
);
