//! §1 "Decimals" and the exact arithmetic of §2–§4.
//!
//! Inputs are read from their text (never through binary floating point) into
//! `rust_decimal::Decimal`. The computation runs on [`Fixed`]: an `i128` mantissa with a
//! decimal scale, so that products are exact and every division is rounded once, half away from
//! zero, from the exact quotient (methodology §6: 28 significant digits are not enough).
//!
//! Bounds: §1 caps every input at 10¹² with at most 6 decimals, and benchmark constants obey the
//! same grammar, so the largest intermediate (the energy ratio's scaled numerator) stays below
//! 10³², far inside `i128`.

use std::cmp::Ordering;

use rust_decimal::Decimal;

/// 10¹², the largest quantity §1 accepts.
const MAX_UNITS: i128 = 1_000_000_000_000;
pub const MAX_FRACTION_DIGITS: u32 = 6;

/// Why a text is not a decimal of §1 (the messages are the vectors').
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    NotPlain,
    Negative,
    TooPrecise,
    TooLarge,
}

impl DecimalError {
    pub fn message(self) -> &'static str {
        match self {
            DecimalError::NotPlain => "must be a plain decimal number",
            DecimalError::Negative => "must not be negative",
            DecimalError::TooPrecise => "at most 6 digits after the point",
            DecimalError::TooLarge => "at most 10^12",
        }
    }
}

/// Reads `[0-9]+(\.[0-9]+)?` with at most 6 decimals and at most 10¹², keeping the scale as
/// written (`"80.000"` has scale 3). A valid decimal with a leading `-` is refused as negative.
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(DecimalError::NotPlain);
    }
    if negative {
        return Err(DecimalError::Negative);
    }
    let frac = frac_part.unwrap_or("");
    if frac.len() > MAX_FRACTION_DIGITS as usize {
        return Err(DecimalError::TooPrecise);
    }
    let int_digits = int_part.trim_start_matches('0');
    if int_digits.len() > 13 {
        return Err(DecimalError::TooLarge);
    }
    let units: i128 = if int_digits.is_empty() {
        0
    } else {
        int_digits.parse().map_err(|_| DecimalError::NotPlain)?
    };
    let scale = frac.len() as u32;
    let frac_value: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| DecimalError::NotPlain)?
    };
    if units > MAX_UNITS || (units == MAX_UNITS && frac_value > 0) {
        return Err(DecimalError::TooLarge);
    }
    let mantissa = units * 10i128.pow(scale) + frac_value;
    Ok(Decimal::from_i128_with_scale(mantissa, scale))
}

/// The decimal as §6 writes inputs and constants: trailing zeros after the point removed, and
/// the point too when nothing follows it.
pub fn normalised(value: Decimal) -> String {
    Fixed::from(value).normalised()
}

/// An exact decimal: `mantissa × 10^-scale`.
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    mantissa: i128,
    scale: u32,
}

impl From<Decimal> for Fixed {
    fn from(d: Decimal) -> Self {
        Fixed {
            mantissa: d.mantissa(),
            scale: d.scale(),
        }
    }
}

fn pow10(exp: u32) -> i128 {
    10i128.pow(exp)
}

/// `n / d` rounded half away from zero.
fn divide_rounded(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q + (n.signum() * d.signum())
    } else {
        q
    }
}

impl Fixed {
    pub const fn new(mantissa: i128, scale: u32) -> Self {
        Fixed { mantissa, scale }
    }

    pub const fn integer(n: i128) -> Self {
        Fixed {
            mantissa: n,
            scale: 0,
        }
    }

    fn at_scale(self, scale: u32) -> i128 {
        debug_assert!(scale >= self.scale);
        self.mantissa * pow10(scale - self.scale)
    }

    /// Half of the value, exactly (one more decimal).
    pub fn half(self) -> Fixed {
        Fixed {
            mantissa: self.mantissa * 5,
            scale: self.scale + 1,
        }
    }

    /// `round(self, places)`: half away from zero, exactly `places` decimals.
    pub fn round(self, places: u32) -> Fixed {
        if self.scale <= places {
            Fixed {
                mantissa: self.at_scale(places),
                scale: places,
            }
        } else {
            Fixed {
                mantissa: divide_rounded(self.mantissa, pow10(self.scale - places)),
                scale: places,
            }
        }
    }

    /// The largest multiple of `10^-places` not above the value, as a count of them.
    pub fn floor_units(self, places: u32) -> i128 {
        if self.scale <= places {
            self.at_scale(places)
        } else {
            self.mantissa.div_euclid(pow10(self.scale - places))
        }
    }

    /// The smallest multiple of `10^-places` not below the value, as a count of them.
    pub fn ceil_units(self, places: u32) -> i128 {
        -Fixed::new(-self.mantissa, self.scale).floor_units(places)
    }

    /// `round(self ÷ divisor, places)` from the exact quotient. The divisor must not be zero.
    pub fn div_round(self, divisor: Fixed, places: u32) -> Fixed {
        let mut n = self.mantissa;
        let mut d = divisor.mantissa;
        let exp = places as i64 + divisor.scale as i64 - self.scale as i64;
        if exp >= 0 {
            n *= pow10(exp as u32);
        } else {
            d *= pow10((-exp) as u32);
        }
        Fixed {
            mantissa: divide_rounded(n, d),
            scale: places,
        }
    }

    /// The value rounded (half away from zero) to `places` decimals, as an integer count of
    /// `10^-places` (90.06 at 2 places → 9006).
    pub fn units(self, places: u32) -> i128 {
        self.round(places).mantissa
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Written with exactly `self.scale` decimals (`"72000.0000"`).
    pub fn fixed_text(self) -> String {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        if self.scale == 0 {
            return format!("{sign}{digits}");
        }
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }

    /// Written normalised (§6): no trailing zeros after the point, no bare point.
    pub fn normalised(self) -> String {
        let text = self.fixed_text();
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    }
}

impl std::ops::Add for Fixed {
    type Output = Fixed;
    fn add(self, other: Fixed) -> Fixed {
        let scale = self.scale.max(other.scale);
        Fixed {
            mantissa: self.at_scale(scale) + other.at_scale(scale),
            scale,
        }
    }
}

impl std::ops::Sub for Fixed {
    type Output = Fixed;
    fn sub(self, other: Fixed) -> Fixed {
        let scale = self.scale.max(other.scale);
        Fixed {
            mantissa: self.at_scale(scale) - other.at_scale(scale),
            scale,
        }
    }
}

/// The exact product.
impl std::ops::Mul for Fixed {
    type Output = Fixed;
    fn mul(self, other: Fixed) -> Fixed {
        Fixed {
            mantissa: self.mantissa * other.mantissa,
            scale: self.scale + other.scale,
        }
    }
}

impl PartialEq for Fixed {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Fixed {}

impl PartialOrd for Fixed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fixed {
    fn cmp(&self, other: &Self) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.at_scale(scale).cmp(&other.at_scale(scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(text: &str) -> Fixed {
        Fixed::from(parse_decimal(text).unwrap())
    }

    #[test]
    fn reads_plain_decimals_only() {
        assert_eq!(parse_decimal("080").unwrap().to_string(), "80");
        assert_eq!(parse_decimal("1200.50").unwrap().to_string(), "1200.50");
        assert_eq!(
            parse_decimal("1000000000000").unwrap().to_string(),
            "1000000000000"
        );
        for bad in [
            "", ".5", "5.", "+1", " 1", "1 ", "1e5", "1E5", "0x10", "1.2.3", "--1", "١",
        ] {
            assert_eq!(parse_decimal(bad), Err(DecimalError::NotPlain), "{bad:?}");
        }
        assert_eq!(parse_decimal("-0"), Err(DecimalError::Negative));
        assert_eq!(parse_decimal("-1.5"), Err(DecimalError::Negative));
        assert_eq!(parse_decimal("1.0000000"), Err(DecimalError::TooPrecise));
        assert_eq!(
            parse_decimal("1000000000000.000001"),
            Err(DecimalError::TooLarge)
        );
        assert_eq!(
            parse_decimal("99999999999999999999999999999999999999999"),
            Err(DecimalError::TooLarge)
        );
        assert_eq!(
            parse_decimal("0000000000000000000000000000001")
                .unwrap()
                .to_string(),
            "1"
        );
    }

    #[test]
    fn normalises_as_the_methodology_writes() {
        assert_eq!(normalised(parse_decimal("1200.50").unwrap()), "1200.5");
        assert_eq!(normalised(parse_decimal("7.000").unwrap()), "7");
        assert_eq!(normalised(parse_decimal("0").unwrap()), "0");
        assert_eq!(normalised(parse_decimal("0.000").unwrap()), "0");
        assert_eq!(normalised(parse_decimal("100").unwrap()), "100");
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(fixed("0.125").round(2).fixed_text(), "0.13");
        assert_eq!(Fixed::new(-125, 3).round(2).fixed_text(), "-0.13");
        assert_eq!(fixed("0.06145").round(4).fixed_text(), "0.0615");
        assert_eq!(fixed("72").round(4).fixed_text(), "72.0000");
        assert_eq!(fixed("0.5").round(0).fixed_text(), "1");
    }

    #[test]
    fn divides_exactly_then_rounds_once() {
        assert_eq!(fixed("1").div_round(fixed("3"), 6).fixed_text(), "0.333333");
        assert_eq!(fixed("2").div_round(fixed("3"), 6).fixed_text(), "0.666667");
        assert_eq!(
            fixed("72").div_round(fixed("1000"), 6).fixed_text(),
            "0.072000"
        );
        // A quotient whose 29th significant digit decides the rounding.
        let n = Fixed::new(1_000_000_000_000_000_000_000_000_005, 27);
        assert_eq!(
            n.div_round(fixed("2"), 26).fixed_text(),
            "0.50000000000000000000000000"
        );
    }
}
