//! §7: the Unified Social Credit Code (GB 32100-2015) and its check character.

use std::fmt;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character USCC whose check character is right; always upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Reads a USCC, upper-casing it first (§7).
    pub fn parse(text: &str) -> Result<Self, String> {
        let upper = text.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 18 || !upper.is_ascii() {
            return Err("must be 18 characters".into());
        }
        let mut values = [0u32; 18];
        for (i, b) in bytes.iter().enumerate() {
            values[i] = value_of(*b)
                .ok_or_else(|| format!("character {} is not allowed in a USCC", i + 1))?;
        }
        let expected = check_character(&values[..17]);
        if values[17] != expected {
            return Err(format!(
                "check character should be {}",
                ALPHABET[expected as usize] as char
            ));
        }
        Ok(Uscc(upper))
    }

    /// Completes 17 characters with their check character (for seeding and tests).
    pub fn with_check_character(first17: &str) -> Result<Self, String> {
        let upper = first17.to_ascii_uppercase();
        if upper.len() != 17 {
            return Err("must be 17 characters".into());
        }
        let values = upper
            .bytes()
            .map(value_of)
            .collect::<Option<Vec<_>>>()
            .ok_or("character not allowed in a USCC")?;
        let check = ALPHABET[check_character(&values) as usize] as char;
        Uscc::parse(&format!("{upper}{check}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn value_of(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == b).map(|p| p as u32)
}

fn check_character(values: &[u32]) -> u32 {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Uscc::parse(text)
    }
}

impl serde::Serialize for Uscc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Uscc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Uscc::parse(&text).map_err(|reason| {
            serde::de::Error::custom(format!("not a valid unified social credit code ({reason})"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_vector_usccs_in_any_case() {
        assert!(Uscc::parse("91500000MA5U00000W").is_ok());
        assert_eq!(
            Uscc::parse("91500000ma5u00000w").unwrap().as_str(),
            "91500000MA5U00000W"
        );
        assert!(Uscc::parse("91500112709322153P").is_ok());
    }

    #[test]
    fn refuses_a_wrong_check_character_or_letter() {
        assert!(Uscc::parse("91500000MA5U00000X").is_err());
        assert!(Uscc::parse("91500000MA5I00000W").is_err());
        assert!(Uscc::parse("91500000MA5U0000W").is_err());
    }

    #[test]
    fn completes_a_check_character() {
        assert_eq!(
            Uscc::with_check_character("91500000MA5U00000")
                .unwrap()
                .as_str(),
            "91500000MA5U00000W"
        );
    }
}
