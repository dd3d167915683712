//! A code's serial: the index of its issue entry in the log (token.md §1, claim 6).

use std::fmt;

/// A serial as it stands in paths and the database: a non-negative integer that fits `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(i64);

impl Serial {
    pub fn new(value: i64) -> Option<Serial> {
        (value >= 0).then_some(Serial(value))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::str::FromStr for Serial {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.parse::<i64>()
            .ok()
            .and_then(Serial::new)
            .ok_or_else(|| "not a serial (a non-negative integer)".to_owned())
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Serial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
