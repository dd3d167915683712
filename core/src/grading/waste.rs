//! §3 Solid waste: the comprehensive utilisation rate, scored against the division's baseline
//! and leading rates; not applicable below 100 t.

use super::decimal::Fixed;
use super::input::Waste;

pub struct WasteResult {
    pub applicable: bool,
    pub rate: Option<Fixed>,
    pub score: Option<Fixed>,
}

pub fn assess(waste: &Waste, baseline: Fixed, leading: Fixed) -> WasteResult {
    let denominator = Fixed::from(waste.generated_t) + Fixed::from(waste.stock_utilized_t);
    if denominator < Fixed::integer(100) {
        return WasteResult {
            applicable: false,
            rate: None,
            score: None,
        };
    }
    let rate = Fixed::from(waste.utilized_t).div_round(denominator, 6);
    WasteResult {
        applicable: true,
        rate: Some(rate),
        score: Some(score(rate, baseline, leading)),
    }
}

/// The score of the rate r against baseline b and leading l, each middle row evaluated in the
/// order §6 gives and rounded once.
pub fn score(r: Fixed, b: Fixed, l: Fixed) -> Fixed {
    let half = b.half();
    if r >= l {
        Fixed::integer(100).round(2)
    } else if r >= b {
        // 60 + ((40 × (r − b)) ÷ (l − b)), as one exact quotient.
        let span = l - b;
        (Fixed::integer(60) * span + Fixed::integer(40) * (r - b)).div_round(span, 2)
    } else if r >= half {
        // (60 × (r − b/2)) ÷ (b/2)
        (Fixed::integer(60) * (r - half)).div_round(half, 2)
    } else {
        Fixed::integer(0).round(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(m: i128, s: u32) -> Fixed {
        Fixed::new(m, s)
    }

    #[test]
    fn scores_at_the_rows_boundaries() {
        let (b, l) = (f(85, 2), f(98, 2));
        assert_eq!(score(l, b, l).fixed_text(), "100.00");
        assert_eq!(score(b, b, l).fixed_text(), "60.00");
        assert_eq!(score(b.half(), b, l).fixed_text(), "0.00");
        assert_eq!(score(f(898_507, 6), b, l).fixed_text(), "74.93");
    }
}
