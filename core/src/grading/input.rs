//! §1 Inputs: one assessment, read from JSON in the order the methodology checks it, so that
//! the first fault reported is the one an independent implementation reports too.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

use super::benchmarks::BenchmarkTable;
use super::decimal::{DecimalError, parse_decimal};
use super::energy::Carrier;
pub use super::energy::EnergyEntry;
use super::uscc::Uscc;

/// What is wrong with a value, as a kind that front ends translate (the English `message` is
/// the vectors' text, never something to match on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Decimal(DecimalError),
    Required,
    Date,
    Year,
    Positive,
    EnergyRequired,
    WasteBound,
    DateOrder,
    /// A reporting year that has not ended (only completed years are graded).
    YearOpen,
    /// Not of the field's type or shape (a number where a string belongs, not a list).
    Format,
    /// Not one of the values the field takes (a carrier, a kind, a status, a grade).
    OneOf,
    /// Not a valid unified social credit code (GB 32100).
    Uscc,
    /// Outside the field's range (a length, a count, basis points, a day in the past).
    Range,
    /// Names a record that is not there, or not the caller's (a product, a firm, a division).
    Unknown,
    /// The record does not qualify (a product not in force, a firm without a code in force).
    NotEligible,
    /// An address the service may not call (not http(s), no host, private, unresolvable).
    Address,
    /// Characters that are not allowed (bidirectional controls, a username's characters).
    Characters,
    /// Does not fit with another field (one or the other, a range's ends).
    Combination,
    /// A cursor that this list did not give.
    Cursor,
    /// A field the request may not carry (unknown, or attached by the service itself).
    NotAccepted,
    /// A figure the regulator requires from its data source that differs from the attested one.
    NotAttested,
}

impl Fault {
    /// The English message of a known kind (the vectors' wording).
    pub fn message(self) -> &'static str {
        match self {
            Fault::Decimal(e) => e.message(),
            Fault::Required => "is required",
            Fault::Date => "must be a date YYYY-MM-DD",
            Fault::Year => "must be a year",
            Fault::Positive => "must be greater than 0",
            Fault::EnergyRequired => "at least one entry is required",
            Fault::WasteBound => "exceeds generated_t + stock_utilized_t",
            Fault::DateOrder => "before valid_from",
            Fault::YearOpen => "is not a completed reporting year",
            Fault::Format => "is not of the expected form",
            Fault::OneOf => "is not one of the values this field takes",
            Fault::Uscc => "not a valid unified social credit code",
            Fault::Range => "is out of range",
            Fault::Unknown => "names no such record",
            Fault::NotEligible => "does not qualify",
            Fault::Address => "is not an address the service may call",
            Fault::Characters => "contains characters that are not allowed",
            Fault::Combination => "does not fit with the other fields",
            Fault::Cursor => "not a cursor from this list",
            Fault::NotAccepted => "is not accepted here",
            Fault::NotAttested => "must be the figure its data source attested",
        }
    }
}

/// An input fault: the field's path (`energy[1].carrier`), a message for people, and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub field: String,
    pub message: String,
    #[serde(skip)]
    pub kind: Fault,
}

impl InputError {
    pub(crate) fn new(field: impl Into<String>, kind: Fault, message: impl Into<String>) -> Self {
        InputError {
            field: field.into(),
            message: message.into(),
            kind,
        }
    }

    fn of(field: impl Into<String>, kind: Fault) -> Self {
        InputError {
            field: field.into(),
            message: kind.message().to_owned(),
            kind,
        }
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for InputError {}

/// A GB/T 4754-2017 class: exactly four ASCII digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct IndustryCode(String);

impl IndustryCode {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(IndustryCode(text.to_owned()))
        } else {
            Err("must be 4 digits")
        }
    }

    /// The first two digits: the division the benchmark table is keyed by.
    pub fn division(&self) -> &str {
        &self.0[..2]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assessment {
    pub uscc: Uscc,
    pub industry_code: IndustryCode,
    pub period: u16,
    pub assessed_on: NaiveDate,
    pub value_added_10k_cny: Decimal,
    pub energy: Vec<EnergyEntry>,
    pub waste: Waste,
    pub certifications: Vec<Certification>,
    pub vetoes: Vec<Veto>,
    /// Electricity bought as green power (绿电), kWh, within the `electricity_kwh` quantity
    /// (§10.1); absent means 0. GEC-M never reads it.
    pub green_power_kwh: Option<Decimal>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waste {
    pub generated_t: Decimal,
    pub stock_utilized_t: Decimal,
    pub utilized_t: Decimal,
}

/// A certification's kind as §1 names it (`national_green_factory` …).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    Serialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CertificationKind {
    NationalGreenFactory,
    NationalGreenSupplyChain,
    MunicipalGreenFactory,
    GreenDesignProduct,
    #[serde(rename = "iso_50001")]
    Iso50001,
    #[serde(rename = "iso_14001")]
    Iso14001,
    NationalGreenPark,
}

impl CertificationKind {
    pub const ALL: [CertificationKind; 7] = [
        CertificationKind::NationalGreenFactory,
        CertificationKind::NationalGreenSupplyChain,
        CertificationKind::MunicipalGreenFactory,
        CertificationKind::GreenDesignProduct,
        CertificationKind::Iso50001,
        CertificationKind::Iso14001,
        CertificationKind::NationalGreenPark,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CertificationKind::NationalGreenFactory => "national_green_factory",
            CertificationKind::NationalGreenSupplyChain => "national_green_supply_chain",
            CertificationKind::MunicipalGreenFactory => "municipal_green_factory",
            CertificationKind::GreenDesignProduct => "green_design_product",
            CertificationKind::Iso50001 => "iso_50001",
            CertificationKind::Iso14001 => "iso_14001",
            CertificationKind::NationalGreenPark => "national_green_park",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certification {
    pub kind: CertificationKind,
    pub number: String,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub verified: bool,
    pub revoked: bool,
}

/// A veto's kind as §1 names it (`major_safety_accident` …).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    Serialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VetoKind {
    MajorSafetyAccident,
    MajorEnvironmentalAccident,
    EnvironmentalCreditRed,
    EnvironmentalCreditBlack,
    DishonestEntity,
}

impl VetoKind {
    pub const ALL: [VetoKind; 5] = [
        VetoKind::MajorSafetyAccident,
        VetoKind::MajorEnvironmentalAccident,
        VetoKind::EnvironmentalCreditRed,
        VetoKind::EnvironmentalCreditBlack,
        VetoKind::DishonestEntity,
    ];

    pub fn name(self) -> &'static str {
        match self {
            VetoKind::MajorSafetyAccident => "major_safety_accident",
            VetoKind::MajorEnvironmentalAccident => "major_environmental_accident",
            VetoKind::EnvironmentalCreditRed => "environmental_credit_red",
            VetoKind::EnvironmentalCreditBlack => "environmental_credit_black",
            VetoKind::DishonestEntity => "dishonest_entity",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Veto {
    pub kind: VetoKind,
    pub occurred_on: NaiveDate,
    pub note: Option<String>,
}

const NOT_USCC: &str = "not a valid unified social credit code";
const NOT_BOOL: &str = "must be true or false";
const NOT_OBJECT: &str = "must be an object";
const NOT_LIST: &str = "must be a list";

fn member<'a>(
    object: &'a Map<String, Value>,
    path: &str,
    name: &str,
) -> Result<&'a Value, InputError> {
    object
        .get(name)
        .ok_or_else(|| InputError::of(join(path, name), Fault::Required))
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, InputError> {
    value
        .as_object()
        .ok_or_else(|| InputError::new(path, Fault::Format, NOT_OBJECT))
}

/// A decimal from a JSON string or number, read from its text as written.
pub fn decimal(value: &Value, path: &str) -> Result<Decimal, InputError> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(InputError::of(path, Fault::Decimal(DecimalError::NotPlain))),
    };
    parse_decimal(&text).map_err(|e| InputError::of(path, Fault::Decimal(e)))
}

/// `YYYY-MM-DD`, digits exactly so, and a real calendar date.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    let year = text[0..4].parse().ok()?;
    let month = text[5..7].parse().ok()?;
    let day = text[8..10].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn date(value: &Value, path: &str) -> Result<NaiveDate, InputError> {
    value
        .as_str()
        .and_then(parse_date)
        .ok_or_else(|| InputError::of(path, Fault::Date))
}

/// A flag that may be absent (= false).
fn flag(object: &Map<String, Value>, path: &str, name: &str) -> Result<bool, InputError> {
    match object.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(InputError::new(join(path, name), Fault::Format, NOT_BOOL)),
    }
}

/// A list that may be absent (= empty).
fn optional_list<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a [Value], InputError> {
    match object.get(name) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(InputError::new(name, Fault::Format, NOT_LIST)),
    }
}

impl Assessment {
    /// Reads and checks an assessment against the table in force (§1), reporting the first
    /// fault in the methodology's order. Members not named in §1 are ignored.
    pub fn from_json(value: &Value, table: &BenchmarkTable) -> Result<Assessment, InputError> {
        let root = value
            .as_object()
            .ok_or_else(|| InputError::new("$", Fault::Format, "must be a JSON object"))?;

        let uscc = member(root, "", "uscc")?
            .as_str()
            .and_then(|s| Uscc::parse(s).ok())
            .ok_or_else(|| InputError::new("uscc", Fault::Uscc, NOT_USCC))?;

        let industry_code = member(root, "", "industry_code")?
            .as_str()
            .ok_or("must be 4 digits")
            .and_then(IndustryCode::parse)
            .map_err(|m| InputError::new("industry_code", Fault::Format, m))?;
        if table.get(industry_code.division()).is_none() {
            return Err(InputError::new(
                "industry_code",
                Fault::Unknown,
                "division not in the benchmark table",
            ));
        }

        let period = match member(root, "", "period")? {
            Value::Number(n) => n.as_u64().filter(|y| (1990..=2100).contains(y)),
            _ => None,
        }
        .ok_or_else(|| InputError::of("period", Fault::Year))? as u16;

        let assessed_on = date(member(root, "", "assessed_on")?, "assessed_on")?;

        let value_added_10k_cny = decimal(
            member(root, "", "value_added_10k_cny")?,
            "value_added_10k_cny",
        )?;
        if value_added_10k_cny.is_zero() {
            return Err(InputError::of("value_added_10k_cny", Fault::Positive));
        }

        let energy = read_energy(member(root, "", "energy")?)?;
        let waste = read_waste(member(root, "", "waste")?)?;

        let certifications = optional_list(root, "certifications")?
            .iter()
            .enumerate()
            .map(|(i, item)| read_certification(item, &format!("certifications[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;

        let vetoes = optional_list(root, "vetoes")?
            .iter()
            .enumerate()
            .map(|(i, item)| read_veto(item, &format!("vetoes[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;

        // §10.1, after every check of §1: the decimal rules, then the bound.
        let green_power_kwh = match root.get("green_power_kwh") {
            None => None,
            Some(value) => {
                let green = decimal(value, "green_power_kwh")?;
                let electricity = energy
                    .iter()
                    .find(|e| e.carrier == super::energy::Carrier::ElectricityKwh)
                    .map_or(Decimal::ZERO, |e| e.quantity);
                if green > electricity {
                    return Err(InputError::new(
                        "green_power_kwh",
                        Fault::Range,
                        "exceeds the electricity_kwh quantity (0 without that entry)",
                    ));
                }
                Some(green)
            }
        };

        Ok(Assessment {
            uscc,
            industry_code,
            period,
            assessed_on,
            value_added_10k_cny,
            energy,
            waste,
            certifications,
            vetoes,
            green_power_kwh,
        })
    }

    /// The assessment written back as §1 JSON (decimals as strings, as given), so that the
    /// stored record can be graded again to the same trace.
    pub fn to_json(&self) -> Value {
        let date = |d: NaiveDate| Value::String(d.format("%Y-%m-%d").to_string());
        let mut json = serde_json::json!({
            "uscc": self.uscc.as_str(),
            "industry_code": self.industry_code.as_str(),
            "period": self.period,
            "assessed_on": date(self.assessed_on),
            "value_added_10k_cny": self.value_added_10k_cny.to_string(),
            "energy": self.energy.iter().map(|e| serde_json::json!({
                "carrier": e.carrier.name(), "quantity": e.quantity.to_string(),
            })).collect::<Vec<_>>(),
            "waste": {
                "generated_t": self.waste.generated_t.to_string(),
                "stock_utilized_t": self.waste.stock_utilized_t.to_string(),
                "utilized_t": self.waste.utilized_t.to_string(),
            },
            "certifications": self.certifications.iter().map(|c| serde_json::json!({
                "kind": c.kind.name(), "number": c.number,
                "valid_from": date(c.valid_from), "valid_until": date(c.valid_until),
                "verified": c.verified, "revoked": c.revoked,
            })).collect::<Vec<_>>(),
            "vetoes": self.vetoes.iter().map(|v| {
                let mut veto = serde_json::json!({"kind": v.kind.name(), "occurred_on": date(v.occurred_on)});
                if let Some(note) = &v.note {
                    veto["note"] = Value::String(note.clone());
                }
                veto
            }).collect::<Vec<_>>(),
        });
        if let (Some(green), Value::Object(members)) = (self.green_power_kwh, &mut json) {
            members.insert("green_power_kwh".into(), Value::String(green.to_string()));
        }
        json
    }
}

fn read_energy(value: &Value) -> Result<Vec<EnergyEntry>, InputError> {
    let items = value
        .as_array()
        .ok_or_else(|| InputError::new("energy", Fault::Format, NOT_LIST))?;
    if items.is_empty() {
        return Err(InputError::of("energy", Fault::EnergyRequired));
    }
    let mut entries: Vec<EnergyEntry> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("energy[{i}]");
        let entry = object(item, &path)?;
        let carrier = member(entry, &path, "carrier")?
            .as_str()
            .and_then(Carrier::parse)
            .ok_or_else(|| {
                InputError::new(join(&path, "carrier"), Fault::OneOf, "unknown carrier")
            })?;
        if entries.iter().any(|e| e.carrier == carrier) {
            return Err(InputError::new(
                join(&path, "carrier"),
                Fault::Combination,
                "carrier given twice",
            ));
        }
        let quantity = decimal(member(entry, &path, "quantity")?, &join(&path, "quantity"))?;
        entries.push(EnergyEntry { carrier, quantity });
    }
    Ok(entries)
}

fn read_waste(value: &Value) -> Result<Waste, InputError> {
    let waste = object(value, "waste")?;
    let amount = |name: &str| decimal(member(waste, "waste", name)?, &join("waste", name));
    let generated_t = amount("generated_t")?;
    let stock_utilized_t = amount("stock_utilized_t")?;
    let utilized_t = amount("utilized_t")?;
    if utilized_t > generated_t + stock_utilized_t {
        return Err(InputError::of("waste.utilized_t", Fault::WasteBound));
    }
    Ok(Waste {
        generated_t,
        stock_utilized_t,
        utilized_t,
    })
}

fn read_certification(value: &Value, path: &str) -> Result<Certification, InputError> {
    let cert = object(value, path)?;
    let kind = member(cert, path, "kind")?
        .as_str()
        .and_then(CertificationKind::parse)
        .ok_or_else(|| InputError::new(join(path, "kind"), Fault::OneOf, "unknown kind"))?;
    let number = member(cert, path, "number")?
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            InputError::new(
                join(path, "number"),
                Fault::Required,
                "must be a non-blank string",
            )
        })?
        .to_owned();
    let valid_from = date(member(cert, path, "valid_from")?, &join(path, "valid_from"))?;
    let valid_until = date(
        member(cert, path, "valid_until")?,
        &join(path, "valid_until"),
    )?;
    if valid_until < valid_from {
        return Err(InputError::of(join(path, "valid_until"), Fault::DateOrder));
    }
    let verified = flag(cert, path, "verified")?;
    let revoked = flag(cert, path, "revoked")?;
    Ok(Certification {
        kind,
        number,
        valid_from,
        valid_until,
        verified,
        revoked,
    })
}

fn read_veto(value: &Value, path: &str) -> Result<Veto, InputError> {
    let veto = object(value, path)?;
    let kind = member(veto, path, "kind")?
        .as_str()
        .and_then(VetoKind::parse)
        .ok_or_else(|| InputError::new(join(path, "kind"), Fault::OneOf, "unknown kind"))?;
    let occurred_on = date(
        member(veto, path, "occurred_on")?,
        &join(path, "occurred_on"),
    )?;
    let note = match veto.get("note") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(InputError::new(
                join(path, "note"),
                Fault::Format,
                "must be a string",
            ));
        }
    };
    Ok(Veto {
        kind,
        occurred_on,
        note,
    })
}
