//! §4 Certifications, the composite score, vetoes and the grade.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::decimal::Fixed;
use super::input::{Certification, CertificationKind, Veto};

/// Points of a counted certification (the park is a bonus, not a level).
pub fn points(kind: CertificationKind) -> u32 {
    match kind {
        CertificationKind::NationalGreenFactory => 100,
        CertificationKind::NationalGreenSupplyChain => 90,
        CertificationKind::MunicipalGreenFactory => 70,
        CertificationKind::GreenDesignProduct => 50,
        CertificationKind::Iso50001 | CertificationKind::Iso14001 => 40,
        CertificationKind::NationalGreenPark => PARK_BONUS,
    }
}

const PARK_BONUS: u32 = 10;

/// A certification counts when verified, not revoked, and valid on the assessment date.
pub fn counts(cert: &Certification, assessed_on: NaiveDate) -> bool {
    cert.verified
        && !cert.revoked
        && cert.valid_from <= assessed_on
        && assessed_on <= cert.valid_until
}

pub struct CertificationResult<'a> {
    /// Sorted by kind name, then number, by code point (§6).
    pub counted: Vec<(&'a Certification, u32)>,
    pub score: Fixed,
}

/// `s_cert`: the best level among counted certifications, plus the park bonus, capped at 100.
pub fn certifications(certs: &[Certification], assessed_on: NaiveDate) -> CertificationResult<'_> {
    let mut counted: Vec<(&Certification, u32)> = certs
        .iter()
        .filter(|c| counts(c, assessed_on))
        .map(|c| (c, points(c.kind)))
        .collect();
    counted.sort_by(|(a, _), (b, _)| {
        a.kind
            .name()
            .cmp(b.kind.name())
            .then_with(|| a.number.cmp(&b.number))
    });
    let best = counted
        .iter()
        .filter(|(c, _)| c.kind != CertificationKind::NationalGreenPark)
        .map(|&(_, p)| p)
        .max()
        .unwrap_or(0);
    let park = counted
        .iter()
        .any(|(c, _)| c.kind == CertificationKind::NationalGreenPark);
    let total = (best + if park { PARK_BONUS } else { 0 }).min(100);
    CertificationResult {
        counted,
        score: Fixed::integer(i128::from(total)).round(2),
    }
}

pub const WEIGHT_ENERGY: Fixed = Fixed::new(45, 2);
pub const WEIGHT_WASTE: Fixed = Fixed::new(25, 2);
pub const WEIGHT_CERTIFICATION: Fixed = Fixed::new(30, 2);

/// `round((Σ wᵢ × sᵢ) ÷ (Σ wᵢ), 2)` over the applicable indicators.
pub fn composite(indicators: &[(Fixed, Fixed)]) -> Fixed {
    let (weighted, weights) = indicators.iter().fold(
        (Fixed::integer(0), Fixed::integer(0)),
        |(sum, ws), &(w, s)| (sum + w * s, ws + w),
    );
    weighted.div_round(weights, 2)
}

/// A veto counts when it occurred within the 3 years up to the assessment date:
/// `assessed_on − 3 years < occurred_on ≤ assessed_on` (29 February − 3 years = 28 February).
pub fn veto_counts(veto: &Veto, assessed_on: NaiveDate) -> bool {
    match assessed_on.checked_sub_months(Months::new(36)) {
        Some(start) => start < veto.occurred_on && veto.occurred_on <= assessed_on,
        None => veto.occurred_on <= assessed_on,
    }
}

/// The counted vetoes, sorted by date, then kind.
pub fn counted_vetoes(vetoes: &[Veto], assessed_on: NaiveDate) -> Vec<&Veto> {
    let mut counted: Vec<&Veto> = vetoes
        .iter()
        .filter(|v| veto_counts(v, assessed_on))
        .collect();
    counted.sort_by(|a, b| {
        a.occurred_on
            .cmp(&b.occurred_on)
            .then_with(|| a.kind.name().cmp(b.kind.name()))
    });
    counted
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum Grade {
    #[serde(rename = "A+")]
    APlus,
    A,
    B,
    C,
    D,
}

impl Grade {
    pub const ALL: [Grade; 5] = [Grade::APlus, Grade::A, Grade::B, Grade::C, Grade::D];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::APlus => "A+",
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
        }
    }

    pub fn parse(text: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == text)
    }

    /// The colour name of §4's table (深绿/绿/浅绿/黄/灰).
    pub fn name_zh(self) -> &'static str {
        match self {
            Grade::APlus => "深绿",
            Grade::A => "绿",
            Grade::B => "浅绿",
            Grade::C => "黄",
            Grade::D => "灰",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Grade::APlus => "dark green",
            Grade::A => "green",
            Grade::B => "light green",
            Grade::C => "yellow",
            Grade::D => "grey",
        }
    }

    /// The band of the score; any counted veto caps the grade at D.
    pub fn of(score: Fixed, vetoed: bool) -> Grade {
        let at_least = |n: i128| score >= Fixed::integer(n);
        if vetoed {
            Grade::D
        } else if at_least(85) {
            Grade::APlus
        } else if at_least(70) {
            Grade::A
        } else if at_least(55) {
            Grade::B
        } else if at_least(40) {
            Grade::C
        } else {
            Grade::D
        }
    }
}

impl std::fmt::Display for Grade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grading::input::VetoKind;

    fn day(text: &str) -> NaiveDate {
        crate::grading::input::parse_date(text).unwrap()
    }

    #[test]
    fn the_bands_include_their_lower_bounds() {
        let s = |m: i128| Fixed::new(m, 2);
        assert_eq!(Grade::of(s(8500), false), Grade::APlus);
        assert_eq!(Grade::of(s(8499), false), Grade::A);
        assert_eq!(Grade::of(s(7000), false), Grade::A);
        assert_eq!(Grade::of(s(5500), false), Grade::B);
        assert_eq!(Grade::of(s(4000), false), Grade::C);
        assert_eq!(Grade::of(s(3999), false), Grade::D);
        assert_eq!(Grade::of(s(10000), true), Grade::D);
    }

    #[test]
    fn a_veto_counts_for_three_years_and_leap_days_clamp() {
        let veto = |d: &str| Veto {
            kind: VetoKind::DishonestEntity,
            occurred_on: day(d),
            note: None,
        };
        assert!(!veto_counts(&veto("2025-02-28"), day("2028-02-29")));
        assert!(veto_counts(&veto("2025-03-01"), day("2028-02-29")));
        assert!(veto_counts(&veto("2028-02-29"), day("2028-02-29")));
        assert!(!veto_counts(&veto("2028-03-01"), day("2028-02-29")));
        assert!(!veto_counts(&veto("2023-03-31"), day("2026-03-31")));
        assert!(veto_counts(&veto("2023-04-01"), day("2026-03-31")));
    }
}
