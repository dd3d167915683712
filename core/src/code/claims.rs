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
        }
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
            (
                int(GEC_CLAIM),
                Cbor::Map(vec![
                    (int(1), Cbor::Text(self.grade.as_str().to_owned())),
                    (int(2), uint(u64::from(self.score))),
                    (int(3), uint(u64::from(self.period))),
                    (int(4), Cbor::Text(self.methodology.clone())),
                    (int(5), Cbor::Bytes(self.trace.to_vec())),
                    (int(6), uint(self.serial)),
                ]),
            ),
        ])
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
        if inner_keys != [1, 2, 3, 4, 5, 6] {
            return Err("the grade claim does not hold exactly keys 1 to 6".into());
        }
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
        })
    }
}
