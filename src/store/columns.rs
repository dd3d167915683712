//! How the pure cores' kinds are stored: each as its text (`A+` …, `ed25519`) in a string
//! column. The pure core is another crate that knows nothing of the database, so its types are
//! stored through thin wrappers of this crate's ([`StoredGrade`], [`StoredAlgorithm`]), which
//! deref to the core's value.

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

use crate::code::Algorithm;
use crate::grading::{Grade, Uscc};

/// A wrapper that stores a core type `$core` as its text: `$as_str` writes it (from a
/// reference), `$parse` reads it back (`None` for a text that is not one).
macro_rules! stored_as_text {
    ($(#[$doc:meta])* $name:ident($core:ty), $as_str:expr, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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
                f.write_str(&($as_str)(&self.0))
            }
        }

        impl From<$name> for Value {
            fn from(value: $name) -> Self {
                ($as_str)(&value.0).into()
            }
        }

        impl TryGetable for $name {
            fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
                let text = String::try_get_by(res, idx)?;
                ($parse)(text.as_str()).map($name).ok_or_else(|| {
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
                ($parse)(text.as_str()).map($name).ok_or(ValueTypeErr)
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
    #[derive(Copy)]
    StoredGrade(Grade),
    |g: &Grade| g.as_str(),
    Grade::parse
);

stored_as_text!(
    /// A signing key's algorithm in a column.
    #[derive(Copy)]
    StoredAlgorithm(Algorithm),
    |a: &Algorithm| a.as_str(),
    Algorithm::parse
);

stored_as_text!(
    /// A firm's USCC in a column: checked when it is read back, so a row's USCC is a `Uscc`.
    StoredUscc(Uscc),
    |u: &Uscc| u.as_str().to_owned(),
    |t: &str| Uscc::parse(t).ok()
);

impl StoredUscc {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq<str> for StoredUscc {
    fn eq(&self, other: &str) -> bool {
        self.0.as_str() == other
    }
}

impl PartialEq<String> for StoredUscc {
    fn eq(&self, other: &String) -> bool {
        self.0.as_str() == other
    }
}

impl AsRef<str> for StoredUscc {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}
