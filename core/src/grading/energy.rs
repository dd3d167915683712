//! §2 Energy: comprehensive energy consumption (GB/T 2589-2020) and its intensity, scored
//! against the division's baseline.

use rust_decimal::Decimal;

use super::decimal::Fixed;

/// The energy carriers of §2, with their calorific-equivalent coefficients (kgce per unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Carrier {
    ElectricityKwh,
    RawCoalT,
    WashedCoalT,
    CokeT,
    CrudeOilT,
    FuelOilT,
    GasolineT,
    KeroseneT,
    DieselT,
    LpgT,
    NaturalGasM3,
    HeatGj,
}

impl Carrier {
    pub const ALL: [Carrier; 12] = [
        Carrier::ElectricityKwh,
        Carrier::RawCoalT,
        Carrier::WashedCoalT,
        Carrier::CokeT,
        Carrier::CrudeOilT,
        Carrier::FuelOilT,
        Carrier::GasolineT,
        Carrier::KeroseneT,
        Carrier::DieselT,
        Carrier::LpgT,
        Carrier::NaturalGasM3,
        Carrier::HeatGj,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Carrier::ElectricityKwh => "electricity_kwh",
            Carrier::RawCoalT => "raw_coal_t",
            Carrier::WashedCoalT => "washed_coal_t",
            Carrier::CokeT => "coke_t",
            Carrier::CrudeOilT => "crude_oil_t",
            Carrier::FuelOilT => "fuel_oil_t",
            Carrier::GasolineT => "gasoline_t",
            Carrier::KeroseneT => "kerosene_t",
            Carrier::DieselT => "diesel_t",
            Carrier::LpgT => "lpg_t",
            Carrier::NaturalGasM3 => "natural_gas_m3",
            Carrier::HeatGj => "heat_gj",
        }
    }

    pub fn parse(name: &str) -> Option<Carrier> {
        Carrier::ALL.into_iter().find(|c| c.name() == name)
    }

    /// kgce per unit: the mantissa and scale of the table's figure, exactly as printed.
    pub fn coefficient(self) -> Fixed {
        match self {
            Carrier::ElectricityKwh => Fixed::new(1229, 4),
            Carrier::RawCoalT => Fixed::new(7143, 1),
            Carrier::WashedCoalT => Fixed::new(9000, 1),
            Carrier::CokeT => Fixed::new(9714, 1),
            Carrier::CrudeOilT | Carrier::FuelOilT => Fixed::new(14286, 1),
            Carrier::GasolineT | Carrier::KeroseneT => Fixed::new(14714, 1),
            Carrier::DieselT => Fixed::new(14571, 1),
            Carrier::LpgT => Fixed::new(17143, 1),
            Carrier::NaturalGasM3 => Fixed::new(12143, 4),
            Carrier::HeatGj => Fixed::new(3412, 2),
        }
    }

    /// The unit a person enters the quantity in.
    pub fn unit(self) -> &'static str {
        match self {
            Carrier::ElectricityKwh => "kWh",
            Carrier::NaturalGasM3 => "m³",
            Carrier::HeatGj => "GJ",
            _ => "t",
        }
    }
}

/// One carrier converted: `kgce = round(quantity × coefficient, 4)`.
pub struct Converted {
    pub carrier: Carrier,
    pub quantity: Fixed,
    pub coefficient: Fixed,
    pub kgce: Fixed,
}

pub struct EnergyResult {
    /// Sorted by carrier name, bytewise (§6).
    pub entries: Vec<Converted>,
    pub total_tce: Fixed,
    pub intensity: Fixed,
    pub ratio: Fixed,
    pub score: Fixed,
}

/// One carrier's yearly quantity, in the carrier's own unit (the input of methodology §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnergyEntry {
    pub carrier: Carrier,
    pub quantity: Decimal,
}

/// §2 from the entries, the value added and the division's baseline.
pub fn assess(entries: &[EnergyEntry], value_added: Fixed, baseline: Fixed) -> EnergyResult {
    let mut converted: Vec<Converted> = entries
        .iter()
        .map(|e| {
            let quantity = Fixed::from(e.quantity);
            let coefficient = e.carrier.coefficient();
            Converted {
                carrier: e.carrier,
                quantity,
                coefficient,
                kgce: (quantity * coefficient).round(4),
            }
        })
        .collect();
    converted.sort_by(|a, b| a.carrier.name().cmp(b.carrier.name()));
    let sum_kgce = converted
        .iter()
        .fold(Fixed::integer(0), |sum, c| sum + c.kgce);
    let total_tce = sum_kgce.div_round(Fixed::integer(1000), 4);
    let intensity = total_tce.div_round(value_added, 6);
    let ratio = intensity.div_round(baseline, 6);
    EnergyResult {
        entries: converted,
        total_tce,
        intensity,
        ratio,
        score: score(ratio),
    }
}

/// The piecewise-linear score of the ratio K, rounded to 2 decimals. Each segment's slope
/// (÷0.2×20 = ×100, ÷0.4×20 = ×50, ÷0.8×40 = ×50, ÷1.0×20 = ×20) is exact, so the value is
/// exact before its one rounding.
pub fn score(k: Fixed) -> Fixed {
    let tenths = |n: i128| Fixed::new(n, 1);
    let exact = if k <= tenths(6) {
        Fixed::integer(100)
    } else if k <= tenths(8) {
        Fixed::integer(100) - (k - tenths(6)) * Fixed::integer(100)
    } else if k <= tenths(12) {
        Fixed::integer(80) - (k - tenths(8)) * Fixed::integer(50)
    } else if k <= tenths(20) {
        Fixed::integer(60) - (k - tenths(12)) * Fixed::integer(50)
    } else if k <= tenths(30) {
        Fixed::integer(20) - (k - tenths(20)) * Fixed::integer(20)
    } else {
        Fixed::integer(0)
    };
    exact.round(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_names_and_coefficients_are_the_tables() {
        assert_eq!(Carrier::ALL.len(), 12);
        assert_eq!(Carrier::parse("lpg_t"), Some(Carrier::LpgT));
        assert_eq!(Carrier::DieselT.coefficient().normalised(), "1457.1");
        assert_eq!(Carrier::WashedCoalT.coefficient().normalised(), "900");
        assert_eq!(Carrier::parse("coal"), None);
    }

    #[test]
    fn the_score_meets_each_cut_point() {
        let k = |m: i128| Fixed::new(m, 6);
        assert_eq!(score(k(600_000)).fixed_text(), "100.00");
        assert_eq!(score(k(800_000)).fixed_text(), "80.00");
        assert_eq!(score(k(1_200_000)).fixed_text(), "60.00");
        assert_eq!(score(k(2_000_000)).fixed_text(), "20.00");
        assert_eq!(score(k(3_000_000)).fixed_text(), "0.00");
        assert_eq!(score(k(3_000_001)).fixed_text(), "0.00");
        assert_eq!(score(k(681_575)).fixed_text(), "91.84");
    }
}
