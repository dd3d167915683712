//! The demo seed: a regulator, a bank and three firms with their accounts, so that a newcomer
//! can sign in as each kind of user. Idempotent: a second start finds them and adds nothing.

use sea_orm::DatabaseConnection;

use crate::error::AppResult;
use crate::grading::Uscc;
use crate::service::accounts::{self, NewAccount, Role};
use crate::service::firms::{self, NewFirm};
use crate::store::audit::Actor;

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
}

pub const DEMO_FIRMS: [DemoFirm; 3] = [
    DemoFirm {
        uscc17: "91500112MA5U2A1B3",
        name: "重庆两江新能源汽车零部件有限公司",
        industry_code: "3670",
        district: "渝北区",
        username: "firm-liangjiang",
    },
    DemoFirm {
        uscc17: "91500115MA60C7D2E",
        name: "重庆长寿化工新材料有限公司",
        industry_code: "2614",
        district: "长寿区",
        username: "firm-changshou",
    },
    DemoFirm {
        uscc17: "91500227MAABL3X4F",
        name: "重庆璧山智能电子科技有限公司",
        industry_code: "3982",
        district: "璧山区",
        username: "firm-bishan",
    },
];

const DEMO_PASSWORD: &str = "demo-password-2025";

/// Seeds what is missing and returns every demo login.
pub async fn seed(db: &DatabaseConnection) -> AppResult<Vec<DemoLogin>> {
    let actor = Actor::system("demo-seed");
    let mut logins = Vec::new();
    for (username, role, org) in [
        ("regulator", Role::Regulator, "重庆市经济和信息化委员会"),
        ("bank", Role::Bank, "重庆绿色发展银行（演示）"),
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
    Ok(logins)
}
