//! The demo seed: a regulator, a bank and three firms with their accounts, so that a newcomer
//! can sign in as each kind of user. Idempotent: a second start finds them and adds nothing.

use crate::db::Db;

use crate::error::AppResult;
use crate::grading::input::{CertificationKind, VetoKind};
use crate::grading::{Grade, Uscc};
use crate::service::accounts::{self, NewAccount, Role};
use crate::service::firms::{self, NewFirm};
use crate::service::{assessments, issue, records};
use crate::store::audit::Actor;
use crate::store::products::ProductKind;
use crate::store::services::Category;

/// A demo login, printed on start. Demo passwords are public by design: never use `--demo`
/// on a service that real users reach.
pub struct DemoLogin {
    pub username: &'static str,
    pub password: &'static str,
    pub role: Role,
    pub note: String,
}

pub struct DemoFirm {
    pub uscc17: &'static str,
    pub name: &'static str,
    pub industry_code: &'static str,
    pub district: &'static str,
    pub username: &'static str,
    /// The firm's 2025 data (methodology §1, without the records the service attaches).
    pub data_2025: &'static str,
}

pub const DEMO_FIRMS: [DemoFirm; 3] = [
    DemoFirm {
        uscc17: "91500112MA5U2A1B3",
        name: "重庆两江新能源汽车零部件有限公司",
        industry_code: "3670",
        district: "渝北区",
        username: "firm-liangjiang",
        data_2025: r#"{"period": 2025, "assessed_on": "2026-03-31", "value_added_10k_cny": "52000.50",
            "energy": [{"carrier": "electricity_kwh", "quantity": "18500000"},
                       {"carrier": "natural_gas_m3", "quantity": "420000"},
                       {"carrier": "diesel_t", "quantity": "35.5"}],
            "waste": {"generated_t": "3200", "stock_utilized_t": "150", "utilized_t": "3010"}}"#,
    },
    DemoFirm {
        uscc17: "91500115MA60C7D2E",
        name: "重庆长寿化工新材料有限公司",
        industry_code: "2614",
        district: "长寿区",
        username: "firm-changshou",
        data_2025: r#"{"period": 2025, "assessed_on": "2026-03-31", "value_added_10k_cny": "86000",
            "energy": [{"carrier": "electricity_kwh", "quantity": "120000000"},
                       {"carrier": "raw_coal_t", "quantity": "52000"},
                       {"carrier": "natural_gas_m3", "quantity": "18000000"}],
            "waste": {"generated_t": "48000", "stock_utilized_t": "0", "utilized_t": "30000"}}"#,
    },
    DemoFirm {
        uscc17: "91500227MAABL3X4F",
        name: "重庆璧山智能电子科技有限公司",
        industry_code: "3982",
        district: "璧山区",
        username: "firm-bishan",
        data_2025: r#"{"period": 2025, "assessed_on": "2026-03-31", "value_added_10k_cny": "23000",
            "energy": [{"carrier": "electricity_kwh", "quantity": "9800000"},
                       {"carrier": "natural_gas_m3", "quantity": "150000"}],
            "waste": {"generated_t": "260", "stock_utilized_t": "0", "utilized_t": "180"}}"#,
    },
];

const DEMO_PASSWORD: &str = "demo-password-2025";

/// The first demo firm's 2024 data, whose code its 2025 code supersedes.
const DATA_2024: &str = r#"{"period": 2024, "assessed_on": "2025-03-31", "value_added_10k_cny": "47800",
    "energy": [{"carrier": "electricity_kwh", "quantity": "19200000"},
               {"carrier": "natural_gas_m3", "quantity": "510000"},
               {"carrier": "diesel_t", "quantity": "41"}],
    "waste": {"generated_t": "3100", "stock_utilized_t": "0", "utilized_t": "2650"}}"#;

/// Seeds what is missing and returns every demo login.
pub async fn seed(
    db: &Db,
    caches: &super::cache::Caches,
    keys: &std::sync::Arc<super::keystore::Keys>,
    public_url: &str,
) -> AppResult<Vec<DemoLogin>> {
    let actor = Actor::system("demo-seed");
    let mut logins = Vec::new();
    for (username, role, org) in [
        ("regulator", Role::Regulator, "重庆市经济和信息化委员会"),
        ("bank", Role::Bank, "重庆绿色发展银行（演示）"),
        (
            "provider-energy",
            Role::Provider,
            "重庆渝能节能技术服务有限公司（演示）",
        ),
        (
            "provider-green",
            Role::Provider,
            "重庆绿证认证咨询有限公司（演示）",
        ),
        ("source-grid", Role::Source, "国网重庆市电力公司（演示）"),
    ] {
        if crate::store::accounts::find_by_username(db, username)
            .await?
            .is_none()
        {
            accounts::create_account(
                db,
                &actor,
                NewAccount {
                    username: username.to_owned(),
                    password: DEMO_PASSWORD.to_owned(),
                    role,
                    firm: None,
                    org: Some(org.to_owned()),
                    // The demo's power company attests electricity and green power.
                    attests: if role == Role::Source {
                        vec!["electricity_kwh".to_owned(), "green_power_kwh".to_owned()]
                    } else {
                        Vec::new()
                    },
                },
            )
            .await?;
        }
        logins.push(DemoLogin {
            username,
            password: DEMO_PASSWORD,
            role,
            note: org.to_owned(),
        });
    }
    for demo in &DEMO_FIRMS {
        let uscc =
            Uscc::with_check_character(demo.uscc17).map_err(crate::error::AppError::internal)?;
        if crate::store::firms::find_by_uscc(db, uscc.as_str())
            .await?
            .is_none()
        {
            let txn = crate::db::begin_write(db).await?;
            firms::insert_firm(
                &txn,
                &actor,
                NewFirm {
                    uscc: uscc.clone(),
                    name: demo.name.to_owned(),
                    industry_code: demo.industry_code.to_owned(),
                    district: demo.district.to_owned(),
                },
            )
            .await?;
            txn.commit().await?;
        }
        if crate::store::accounts::find_by_username(db, demo.username)
            .await?
            .is_none()
        {
            accounts::create_account(
                db,
                &actor,
                NewAccount {
                    username: demo.username.to_owned(),
                    password: DEMO_PASSWORD.to_owned(),
                    role: Role::Firm,
                    firm: Some(uscc.clone()),
                    org: None,
                    attests: Vec::new(),
                },
            )
            .await?;
        }
        logins.push(DemoLogin {
            username: demo.username,
            password: DEMO_PASSWORD,
            role: Role::Firm,
            note: format!("{} {}", demo.name, uscc),
        });
    }
    // The power company's readings first: the codes issued below state the attested share.
    seed_readings(db, keys).await?;
    seed_records(db, caches, keys, public_url).await?;
    seed_services_and_policies(db).await?;
    Ok(logins)
}

/// The power company's monthly electricity readings of 2025 for the demo firms (once): the
/// months of each firm's filed electricity, the last month taking the remainder.
async fn seed_readings(db: &Db, keys: &std::sync::Arc<super::keystore::Keys>) -> AppResult<()> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    if crate::store::readings::batches::Entity::find()
        .count(db)
        .await?
        > 0
    {
        return Ok(());
    }
    let account = crate::store::accounts::find_by_username(db, "source-grid")
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let grid = accounts::Caller {
        account_id: account.id,
        username: account.username,
        role: Role::Source,
        firm_id: None,
    };
    let mut rows = Vec::new();
    for demo in DEMO_FIRMS {
        let uscc =
            Uscc::with_check_character(demo.uscc17).map_err(crate::error::AppError::internal)?;
        let data: serde_json::Value =
            serde_json::from_str(demo.data_2025).map_err(crate::error::AppError::internal)?;
        let Some(total) = data["energy"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["carrier"] == "electricity_kwh")
            .and_then(|e| e["quantity"].as_str())
            .and_then(|q| q.parse::<u64>().ok())
        else {
            continue;
        };
        let month = total / 12;
        for m in 1..=12u64 {
            let quantity = if m == 12 { total - month * 11 } else { month };
            rows.push(
                serde_json::json!({"uscc": uscc.to_string(), "period": format!("2025-{m:02}"),
                "field": "electricity_kwh", "quantity": quantity.to_string(),
                "reference": format!("DB-{}", &demo.uscc17[10..])}),
            );
        }
    }
    let body = serde_json::json!({ "readings": rows }).to_string();
    super::readings::deliver(db, keys, &grid, "json", body.as_bytes()).await?;
    Ok(())
}

/// The firms' records and 2025 submissions: a verified national green factory for the first,
/// an environmental-credit veto for the second, a declared (unverified) ISO 14001 for the third.
async fn seed_records(
    db: &Db,
    caches: &super::cache::Caches,
    keys: &std::sync::Arc<super::keystore::Keys>,
    public_url: &str,
) -> AppResult<()> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let regulator = crate::store::accounts::find_by_username(db, "regulator")
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let regulator = accounts::Caller {
        account_id: regulator.id,
        username: regulator.username,
        role: Role::Regulator,
        firm_id: None,
    };
    for (i, demo) in DEMO_FIRMS.iter().enumerate() {
        let uscc =
            Uscc::with_check_character(demo.uscc17).map_err(crate::error::AppError::internal)?;
        let firm = crate::store::firms::find_by_uscc(db, uscc.as_str())
            .await?
            .ok_or(crate::error::AppError::NotFound)?;
        let seeded = crate::store::assessments::Entity::find()
            .filter(crate::store::assessments::Column::FirmId.eq(firm.id))
            .count(db)
            .await?;
        if seeded > 0 {
            continue;
        }
        let account = crate::store::accounts::find_by_username(db, demo.username)
            .await?
            .ok_or(crate::error::AppError::NotFound)?;
        let firm_caller = accounts::Caller {
            account_id: account.id,
            username: account.username,
            role: Role::Firm,
            firm_id: Some(firm.id),
        };
        match i {
            0 => {
                let cert = records::CertificationRequest {
                    kind: CertificationKind::NationalGreenFactory,
                    number: "GF-2023-0187".into(),
                    issuer: "工业和信息化部".into(),
                    valid_from: day(2023, 12, 1),
                    valid_until: day(2029, 11, 30),
                    evidence_note: Some("第八批国家级绿色工厂名单".into()),
                };
                records::add_certification(db, &regulator, &firm, cert).await?;
            }
            1 => {
                let veto = records::VetoRequest {
                    kind: VetoKind::EnvironmentalCreditRed,
                    occurred_on: day(2025, 6, 12),
                    note: Some("企业环境信用评价：红牌".into()),
                };
                records::record_veto(db, &regulator, &firm, veto).await?;
            }
            _ => {
                let cert = records::CertificationRequest {
                    kind: CertificationKind::Iso14001,
                    number: "CQC-EMS-2024-5521".into(),
                    issuer: "中国质量认证中心".into(),
                    valid_from: day(2024, 5, 1),
                    valid_until: day(2027, 4, 30),
                    evidence_note: Some("证书扫描件已提交".into()),
                };
                records::add_certification(db, &firm_caller, &firm, cert).await?;
            }
        }
        if i == 0 {
            // An earlier code, superseded by the 2025 one below.
            let data: assessments::AssessmentRequest =
                serde_json::from_str(DATA_2024).map_err(crate::error::AppError::internal)?;
            let earlier = assessments::submit(db, caches, &firm_caller, &data).await?;
            issue::approve(db, caches, keys, &regulator, earlier.id, public_url).await?;
        }
        let data: assessments::AssessmentRequest =
            serde_json::from_str(demo.data_2025).map_err(crate::error::AppError::internal)?;
        let submitted = assessments::submit(db, caches, &firm_caller, &data).await?;
        issue::approve(db, caches, keys, &regulator, submitted.id, public_url).await?;
    }
    Ok(())
}

/// Providers' services (three approved, one awaiting approval) and two support policies, once.
async fn seed_services_and_policies(db: &Db) -> AppResult<()> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    if crate::store::services::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let caller_of = |account: crate::store::accounts::Model| accounts::Caller {
        account_id: account.id,
        username: account.username,
        role: account.role,
        firm_id: None,
    };
    let find = |name: &'static str| async move {
        crate::store::accounts::find_by_username(db, name)
            .await?
            .ok_or(crate::error::AppError::NotFound)
    };
    let regulator = caller_of(find("regulator").await?);
    let bank = caller_of(find("bank").await?);
    let energy = caller_of(find("provider-energy").await?);
    let green = caller_of(find("provider-green").await?);
    let offers = [
        (
            &energy,
            "能源审计与节能诊断",
            Category::Energy,
            "按 GB/T 17166 开展企业能源审计，提出节能技改方案并测算节能量。",
            vec![],
            "023-6000 1001",
            true,
        ),
        (
            &energy,
            "合同能源管理（EMC）",
            Category::Energy,
            "以节能效益分享方式实施电机系统、余热余压利用等节能改造，企业零投入。",
            vec![
                "渝北区".to_owned(),
                "两江新区".to_owned(),
                "璧山区".to_owned(),
            ],
            "023-6000 1002",
            true,
        ),
        (
            &energy,
            "碳排放核算与碳管理",
            Category::Carbon,
            "按行业核算指南核算碳排放，建立碳管理台账。",
            vec![],
            "023-6000 1003",
            false,
        ),
        (
            &green,
            "绿色工厂申报辅导",
            Category::Certification,
            "对照 GB/T 36132 自评，辅导申报市级、国家级绿色工厂。",
            vec![],
            "023-6000 2001",
            true,
        ),
    ];
    for (provider, name, category, description, districts, contact, approve) in offers {
        let service = super::services::publish(
            db,
            provider,
            super::services::NewService {
                name: name.to_owned(),
                category,
                description: description.to_owned(),
                districts,
                contact: contact.to_owned(),
            },
        )
        .await?;
        if approve {
            super::services::review(db, &regulator, service.id, true).await?;
        }
    }
    let this_year = chrono::Datelike::year(&super::records::today());
    let products = [
        (
            "工业绿效贷",
            ProductKind::GreenLoan,
            vec![(Grade::APlus, -30), (Grade::A, -20), (Grade::B, -10)],
            "5000",
            36,
            "绿效码浅绿及以上企业的流动资金与项目贷款，利率按等级下浮。",
            vec![],
        ),
        (
            "碳效贷",
            ProductKind::GreenLoan,
            vec![
                (Grade::APlus, -40),
                (Grade::A, -30),
                (Grade::B, -20),
                (Grade::C, -10),
            ],
            "3000",
            36,
            "碳效等级一级、二级企业专享，利率按绿效等级下浮。",
            vec![1, 2],
        ),
        (
            "节能技改贷",
            ProductKind::RetrofitLoan,
            vec![(Grade::B, -5), (Grade::C, 0)],
            "2000",
            60,
            "用于节能技术改造项目，按改造后节能量分期放款。",
            vec![],
        ),
    ];
    for (name, kind, steps, max, term, description, carbon_levels) in products {
        super::finance::publish(
            db,
            &bank,
            super::finance::NewProduct {
                name: name.to_owned(),
                kind,
                grades: steps.iter().map(|(g, _)| *g).collect(),
                rate_step_bp: steps
                    .iter()
                    .map(|(g, bp)| (g.as_str().to_owned(), *bp))
                    .collect(),
                max_amount_10k_cny: max.to_owned(),
                term_months: term,
                divisions: Vec::new(),
                districts: Vec::new(),
                carbon_levels,
                min_attested_share: None,
                valid_from: day(this_year, 1, 1),
                valid_until: day(this_year + 1, 12, 31),
                description: description.to_owned(),
            },
        )
        .await?;
    }
    let policies = [
        (
            "绿色工厂梯度培育奖励",
            "重庆市经济和信息化委员会",
            vec![Grade::APlus, Grade::A],
            None,
            "对绿效码为深绿、绿色等级的企业，优先推荐申报国家级绿色工厂，并给予一次性奖励。",
            Some("50"),
        ),
        (
            "节能技术改造专项资金",
            "重庆市经济和信息化委员会",
            vec![Grade::B, Grade::C],
            None,
            "对实施节能技术改造的企业，按项目投资额给予补助。",
            Some("200"),
        ),
    ];
    for (title, issuer, grades, cert, benefit, amount) in policies {
        super::policies::publish(
            db,
            &regulator,
            super::policies::NewPolicy {
                title: title.to_owned(),
                issuer: issuer.to_owned(),
                grades,
                divisions: Vec::new(),
                districts: Vec::new(),
                requires_certification: cert,
                benefit: benefit.to_owned(),
                amount_10k_cny: amount.map(str::to_owned),
                valid_from: day(this_year, 1, 1),
                valid_until: day(this_year + 1, 12, 31),
                url: None,
            },
        )
        .await?;
    }
    seed_ladder_and_award(db, &regulator).await
}

/// A firm put in the cultivation pool and an award under a policy it qualifies for, paid, so
/// that the ladder, the finance figures and the firm's desk show one.
async fn seed_ladder_and_award(db: &Db, regulator: &accounts::Caller) -> AppResult<()> {
    let today = super::records::today();
    for demo in &DEMO_FIRMS {
        let uscc =
            Uscc::with_check_character(demo.uscc17).map_err(crate::error::AppError::internal)?;
        let qualifying = super::policies::for_firm(db, regulator, uscc.as_str()).await?;
        let Some(policy) = qualifying.iter().find(|p| p.amount_10k_cny.is_some()) else {
            continue;
        };
        let award = super::awards::record(
            db,
            regulator,
            policy.id,
            super::awards::AwardRequest {
                uscc: uscc.to_string(),
                amount_10k_cny: "20".to_owned(),
                awarded_on: today,
                document_no: format!("渝经信发〔{}〕12号", chrono::Datelike::year(&today)),
            },
        )
        .await?;
        super::awards::mark_paid(
            db,
            regulator,
            award.id,
            super::awards::PaidRequest { paid_on: today },
        )
        .await?;
        super::ladder::move_firm(
            db,
            regulator,
            uscc.as_str(),
            super::ladder::MoveRequest {
                tier: Some(super::ladder::Tier::Pool),
                note: Some("区县推荐（演示）".to_owned()),
            },
        )
        .await?;
        break;
    }
    Ok(())
}

/// A calendar day the demo names (always a real one).
fn day(year: i32, month: u32, day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(year, month, day).expect("a real calendar day")
}
