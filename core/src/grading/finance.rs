//! §8 What the grade links to (GEC-F 2025.1): the green-finance eligibility classes and the
//! services offered, as data. Banks price loans themselves; these are the classes.

use serde::Serialize;

use super::composite::Grade;
use super::decimal::Fixed;

pub const VERSION: &str = "GEC-F 2025.1";

/// A finance product or a service, named in both languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

const fn item(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Item {
    Item {
        code,
        name_zh,
        name_en,
    }
}

const GREEN_LOAN: Item = item("green_loan", "绿色贷款", "green loan");
const GREEN_BOND: Item = item("green_bond", "绿色债券发行", "green bond issuance");
const PRIORITY_CREDIT: Item = item(
    "priority_credit_line",
    "优先授信额度",
    "priority credit line",
);
const PROJECT_GREEN_LOAN: Item = item(
    "project_green_loan",
    "项目绿色贷款（资金用于绿色产业目录项目）",
    "project green loan (use of proceeds in the green industry catalogue)",
);
const TRANSITION_LOAN: Item = item(
    "transition_loan",
    "转型贷款（利率与 KPI 挂钩）",
    "transition loan with KPI-linked rate steps",
);
const RETROFIT_LOAN: Item = item(
    "technical_retrofit_loan",
    "技改专项贷",
    "technical-retrofit loan",
);

const SUPPLY_CHAIN_LEADERSHIP: Item = item(
    "supply_chain_leadership",
    "绿色供应链领航计划",
    "green supply-chain leadership programme",
);
const CARBON_ACCOUNTING: Item = item("carbon_accounting", "碳核算服务", "carbon accounting");
const CJLRT_MATCHING: Item = item(
    "cjlrt_loan_matching",
    "长江绿融通贷款对接",
    "长江绿融通 loan matching",
);
const FACTORY_COACHING: Item = item(
    "green_factory_coaching",
    "绿色工厂申报辅导",
    "green-factory application coaching",
);
const LOAN_MATCHING: Item = item("loan_matching", "贷款对接", "loan matching");
const RETROFIT_ADVICE: Item = item(
    "energy_retrofit_advice",
    "节能改造咨询",
    "energy-saving retrofit advice",
);
const ENERGY_DIAGNOSIS: Item = item("energy_diagnosis", "免费节能诊断", "free energy diagnosis");
const SUBSIDY_GUIDANCE: Item = item(
    "retrofit_subsidy_guidance",
    "技改补贴申报指导",
    "retrofit subsidy guidance",
);
const IMPROVEMENT_PLAN: Item = item(
    "improvement_plan",
    "限期整改计划",
    "mandatory improvement plan",
);
const COMPLIANCE_SUPPORT: Item = item("compliance_support", "合规支持", "compliance support");
const WASTE_MATCHING: Item = item(
    "solid_waste_matching",
    "固废综合利用供需对接",
    "solid-waste utilisation matching",
);
const ONE_STOP_PLATFORM: Item = item(
    "one_stop_platform",
    "绿色制造一站式服务平台（咨询、融资、改造、托管）",
    "one-stop green manufacturing service platform (consulting, financing, retrofit, custody)",
);

/// The finance eligibility of a grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finance {
    pub version: &'static str,
    pub eligible: bool,
    pub products: Vec<Item>,
    /// The indicative rate step in basis points (−30 for A+); `None` where not eligible.
    pub rate_step_bp: Option<i32>,
}

pub fn finance(grade: Grade) -> Finance {
    let (products, rate_step_bp): (&[Item], Option<i32>) = match grade {
        Grade::APlus => (&[GREEN_LOAN, GREEN_BOND, PRIORITY_CREDIT], Some(-30)),
        Grade::A => (&[GREEN_LOAN], Some(-20)),
        Grade::B => (&[PROJECT_GREEN_LOAN], Some(-10)),
        Grade::C => (&[TRANSITION_LOAN, RETROFIT_LOAN], Some(0)),
        Grade::D => (&[], None),
    };
    Finance {
        version: VERSION,
        eligible: !products.is_empty(),
        products: products.to_vec(),
        rate_step_bp,
    }
}

/// The services offered: the grade's own, solid-waste matching where the waste indicator
/// applies and scores below 60, and the one-stop platform for every firm.
pub fn services(grade: Grade, waste_score: Option<Fixed>) -> Vec<Item> {
    let own: &[Item] = match grade {
        Grade::APlus => &[SUPPLY_CHAIN_LEADERSHIP, CARBON_ACCOUNTING, CJLRT_MATCHING],
        Grade::A => &[FACTORY_COACHING, CARBON_ACCOUNTING, LOAN_MATCHING],
        Grade::B => &[FACTORY_COACHING, RETROFIT_ADVICE, LOAN_MATCHING],
        Grade::C => &[ENERGY_DIAGNOSIS, SUBSIDY_GUIDANCE],
        Grade::D => &[ENERGY_DIAGNOSIS, IMPROVEMENT_PLAN, COMPLIANCE_SUPPORT],
    };
    let mut services = own.to_vec();
    if waste_score.is_some_and(|s| s < Fixed::integer(60)) {
        services.push(WASTE_MATCHING);
    }
    services.push(ONE_STOP_PLATFORM);
    services
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_grade_has_its_class_and_every_firm_the_platform() {
        assert_eq!(finance(Grade::APlus).rate_step_bp, Some(-30));
        assert!(!finance(Grade::D).eligible);
        for grade in Grade::ALL {
            assert_eq!(
                services(grade, None).last().unwrap().code,
                "one_stop_platform"
            );
        }
        let low_waste = services(Grade::A, Some(Fixed::new(5999, 2)));
        assert!(low_waste.iter().any(|s| s.code == "solid_waste_matching"));
        assert!(
            !services(Grade::A, Some(Fixed::new(6000, 2)))
                .iter()
                .any(|s| s.code == "solid_waste_matching")
        );
    }
}
