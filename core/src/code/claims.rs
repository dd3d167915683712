//! token.md §1: the CWT claims set of a code, in core deterministic CBOR.

use ciborium::value::{Integer, Value as Cbor};
use serde::Serialize;

use crate::grading::Grade;

/// The private claim under which the grade lives (token.md §1).
pub const GEC_CLAIM: i64 = -70000;

/// What a code states. `trace` is the first 16 bytes of the trace's SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub grade: Grade,
    /// Hundredths: 90.06 → 9006.
    pub score: u32,
    pub period: u32,
    pub methodology: String,
    #[serde(serialize_with = "hex_bytes")]
    #[schema(value_type = String)]
    pub trace: [u8; 16],
    pub serial: u64,
    /// The carbon-efficiency level, 1 (the best) to 5 (methodology §10; claim 7, optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carbon_level: Option<u8>,
    /// Per cent of the firm's energy (tce) whose figures came from data sources (claim 8,
    /// optional).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attested_share: Option<u8>,
}

fn hex_bytes<S: serde::Serializer>(bytes: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(bytes))
}

impl Claims {
    /// The claims of the code issued for `graded` at `iat` as log entry `serial` (token.md §1):
    /// valid for [`super::VALIDITY_SECS`], never past the signing key's `not_after`.
    pub fn issue(
        issuer: &str,
        graded: &crate::grading::Graded,
        serial: u64,
        iat: u64,
        key_not_after: Option<u64>,
    ) -> Claims {
        let digest = graded.trace.digest();
        let mut trace = [0u8; 16];
        trace.copy_from_slice(&digest[..16]);
        Claims {
            iss: issuer.to_owned(),
            sub: graded.trace.uscc.clone(),
            exp: super::expiry(iat, key_not_after),
            iat,
            grade: graded.grade,
            score: graded.score_hundredths(),
            period: u32::from(graded.trace.period),
            methodology: graded.trace.methodology.clone(),
            trace,
            serial,
            carbon_level: None,
            attested_share: None,
        }
    }

    /// The same claims with the carbon level of claim 7.
    pub fn with_carbon_level(mut self, level: Option<u8>) -> Claims {
        self.carbon_level = level;
        self
    }

    /// The score as the trace writes it (`"90.06"`).
    pub fn score_text(&self) -> String {
        format!("{}.{:02}", self.score / 100, self.score % 100)
    }

    /// Keys in the order of their encoded bytes: 1, 2, 4, 6, then −70000 (0x3a…).
    pub fn to_cbor(&self) -> Cbor {
        let int = |n: i64| Cbor::Integer(Integer::from(n));
        let uint = |n: u64| Cbor::Integer(Integer::from(n));
        Cbor::Map(vec![
            (int(1), Cbor::Text(self.iss.clone())),
            (int(2), Cbor::Text(self.sub.clone())),
            (int(4), uint(self.exp)),
            (int(6), uint(self.iat)),
            (int(GEC_CLAIM), Cbor::Map(self.gec_members())),
        ])
    }

    /// The grade claim's members, keys 1–6 and the optional 7 and 8, in key order.
    fn gec_members(&self) -> Vec<(Cbor, Cbor)> {
        let int = |n: i64| Cbor::Integer(Integer::from(n));
        let uint = |n: u64| Cbor::Integer(Integer::from(n));
        let mut members = vec![
            (int(1), Cbor::Text(self.grade.as_str().to_owned())),
            (int(2), uint(u64::from(self.score))),
            (int(3), uint(u64::from(self.period))),
            (int(4), Cbor::Text(self.methodology.clone())),
            (int(5), Cbor::Bytes(self.trace.to_vec())),
            (int(6), uint(self.serial)),
        ];
        if let Some(level) = self.carbon_level {
            members.push((int(7), uint(u64::from(level))));
        }
        if let Some(share) = self.attested_share {
            members.push((int(8), uint(u64::from(share))));
        }
        members
    }

    /// Reads claims from a decoded map: exactly the members of §1, each of its type.
    pub fn from_cbor(value: &Cbor) -> Result<Claims, String> {
        let map = value.as_map().ok_or("claims are not a map")?;
        let keys: Vec<i128> = map
            .iter()
            .map(|(k, _)| {
                k.as_integer()
                    .map(i128::from)
                    .ok_or("a claim key is not an integer")
            })
            .collect::<Result<_, _>>()?;
        if keys != [1, 2, 4, 6, i128::from(GEC_CLAIM)] {
            return Err("the claims are not exactly iss, sub, exp, iat and the grade claim".into());
        }
        let text = |v: &Cbor, what: &str| {
            v.as_text()
                .map(str::to_owned)
                .ok_or(format!("{what} is not text"))
        };
        let uint = |v: &Cbor, what: &str| {
            v.as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .ok_or(format!("{what} is not an unsigned integer"))
        };
        let iss = text(&map[0].1, "iss")?;
        let sub = text(&map[1].1, "sub")?;
        let exp = uint(&map[2].1, "exp")?;
        let iat = uint(&map[3].1, "iat")?;
        let inner = map[4].1.as_map().ok_or("the grade claim is not a map")?;
        let inner_keys: Vec<i128> = inner
            .iter()
            .map(|(k, _)| {
                k.as_integer()
                    .map(i128::from)
                    .ok_or("a grade claim key is not an integer")
            })
            .collect::<Result<_, _>>()?;
        // Keys 1 to 6, then the optional 7 and 8; a key this reader does not know is ignored
        // (token.md §1). The payload's deterministic encoding is checked by the caller.
        if inner_keys.len() < 6 || inner_keys[..6] != [1, 2, 3, 4, 5, 6] {
            return Err("the grade claim does not hold keys 1 to 6".into());
        }
        let optional = |key: i128, max: u64, what: &str| -> Result<Option<u8>, String> {
            match inner_keys.iter().position(|k| *k == key) {
                None => Ok(None),
                Some(i) => uint(&inner[i].1, what)?
                    .try_into()
                    .ok()
                    .filter(|n: &u8| u64::from(*n) <= max && (key != 7 || *n >= 1))
                    .map(Some)
                    .ok_or(format!("{what} out of range")),
            }
        };
        let carbon_level = optional(7, 5, "the carbon level")?;
        let attested_share = optional(8, 100, "the attested share")?;
        let grade = Grade::parse(&text(&inner[0].1, "grade")?).ok_or("unknown grade")?;
        let score = u32::try_from(uint(&inner[1].1, "score")?)
            .ok()
            .filter(|s| *s <= 10_000)
            .ok_or("score out of range")?;
        let period =
            u32::try_from(uint(&inner[2].1, "period")?).map_err(|_| "period out of range")?;
        let methodology = text(&inner[3].1, "methodology")?;
        let trace: [u8; 16] = inner[4]
            .1
            .as_bytes()
            .and_then(|b| b.as_slice().try_into().ok())
            .ok_or("trace is not 16 bytes")?;
        let serial = uint(&inner[5].1, "serial")?;
        Ok(Claims {
            iss,
            sub,
            exp,
            iat,
            grade,
            score,
            period,
            methodology,
            trace,
            serial,
            carbon_level,
            attested_share,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "CQ-GEC".into(),
            sub: "91500000MA5U00000W".into(),
            exp: 1_809_129_600,
            iat: 1_774_915_200,
            grade: Grade::A,
            score: 8000,
            period: 2025,
            methodology: "GEC-M 2025.1".into(),
            trace: [7u8; 16],
            serial: 3,
            carbon_level: None,
            attested_share: None,
        }
    }

    #[test]
    fn claims_7_and_8_are_written_when_present_and_read_back() {
        let plain = claims();
        let Cbor::Map(top) = plain.to_cbor() else {
            panic!()
        };
        assert_eq!(
            top[4].1.as_map().unwrap().len(),
            6,
            "no key 7 without a level"
        );
        let mut full = claims().with_carbon_level(Some(2));
        full.attested_share = Some(85);
        let cbor = full.to_cbor();
        let Cbor::Map(top) = &cbor else { panic!() };
        let gec = top[4].1.as_map().unwrap();
        assert_eq!(gec.len(), 8);
        assert_eq!(gec[6].0, Cbor::Integer(7.into()));
        assert_eq!(gec[6].1, Cbor::Integer(2.into()));
        assert_eq!(Claims::from_cbor(&cbor).unwrap(), full);
        assert_eq!(Claims::from_cbor(&plain.to_cbor()).unwrap(), plain);
    }

    #[test]
    fn a_carbon_level_outside_1_to_5_is_refused_and_unknown_keys_are_ignored() {
        let with = |key: i64, value: u64| {
            let Cbor::Map(mut top) = claims().to_cbor() else {
                panic!()
            };
            let Cbor::Map(gec) = &mut top[4].1 else {
                panic!()
            };
            gec.push((Cbor::Integer(key.into()), Cbor::Integer(value.into())));
            Cbor::Map(top)
        };
        assert!(Claims::from_cbor(&with(7, 0)).is_err());
        assert!(Claims::from_cbor(&with(7, 6)).is_err());
        assert!(Claims::from_cbor(&with(8, 101)).is_err());
        assert_eq!(
            Claims::from_cbor(&with(7, 5)).unwrap().carbon_level,
            Some(5)
        );
        assert_eq!(Claims::from_cbor(&with(9, 1)).unwrap(), claims());
    }
}
