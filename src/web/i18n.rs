//! The page language: Simplified Chinese first, English on `?lang=en`, remembered in a cookie.
//! Every string a page shows lives in the tables below, one per language.

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;

use super::AppState;

pub const COOKIE: &str = "gec_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    fn from_query(query: &str) -> Option<Lang> {
        query.split('&').find_map(|pair| match pair {
            "lang=en" => Some(Lang::En),
            "lang=zh" | "lang=zh-CN" => Some(Lang::Zh),
            _ => None,
        })
    }

    fn from_cookie(parts: &Parts) -> Option<Lang> {
        let cookies = parts.headers.get_all(header::COOKIE);
        cookies
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| match c.trim() {
                "gec_lang=en" => Some(Lang::En),
                "gec_lang=zh" => Some(Lang::Zh),
                _ => None,
            })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(Lang::from_query);
        Ok(from_query
            .or_else(|| Lang::from_cookie(parts))
            .unwrap_or_default())
    }
}

/// When a request says `?lang=`, the answer sets the cookie that keeps that language.
pub fn remember_language(routes: Router<AppState>) -> Router<AppState> {
    routes.layer(middleware::from_fn(set_language_cookie))
}

async fn set_language_cookie(request: Request, next: Next) -> Response {
    let chosen = request.uri().query().and_then(Lang::from_query);
    let mut response = next.run(request).await;
    if let Some(lang) = chosen {
        let value = match lang {
            Lang::Zh => "gec_lang=zh; Path=/; Max-Age=31536000; SameSite=Lax",
            Lang::En => "gec_lang=en; Path=/; Max-Age=31536000; SameSite=Lax",
        };
        response
            .headers_mut()
            .append(header::SET_COOKIE, HeaderValue::from_static(value));
    }
    response
}

/// The words of the pages, in one language.
pub struct Texts {
    pub site_name: &'static str,
    pub other_lang_label: &'static str,
    pub other_lang_query: &'static str,
    pub nav_home: &'static str,
    pub nav_login: &'static str,
    pub nav_logout: &'static str,
    pub signed_in_as: &'static str,
    pub home_title: &'static str,
    pub home_intro_1: &'static str,
    pub home_intro_2: &'static str,
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub login_failed: &'static str,
    pub login_throttled: &'static str,
    pub error_title: &'static str,
    pub error_back: &'static str,
    pub role_regulator: &'static str,
    pub role_bank: &'static str,
    pub role_firm: &'static str,
}

pub static ZH: Texts = Texts {
    site_name: "绿效码",
    other_lang_label: "English",
    other_lang_query: "en",
    nav_home: "首页",
    nav_login: "登录",
    nav_logout: "退出",
    signed_in_as: "当前账号",
    home_title: "绿效码：绿色等级、绿色金融、绿色服务一码通",
    home_intro_1: "绿效码是发给每一家工业企业的带签名二维码。它依据企业的年度能耗、工业增加值、\
                   固体废物综合利用和绿色认证，对照行业基准计算出 A+、A、B、C、D 五级绿色等级，\
                   并由监管部门审核后签发。",
    home_intro_2: "银行扫码即可离线核验等级真伪，并据此办理绿色贷款；企业可以展示和打印自己的码；\
                   每一张码都记录在公开、只增不改的透明日志中，任何人都可以核对。",
    login_title: "登录",
    username: "用户名",
    password: "密码",
    login_button: "登录",
    login_failed: "用户名或密码错误。",
    login_throttled: "尝试次数过多，请稍后再试。",
    error_title: "出错了",
    error_back: "返回首页",
    role_regulator: "监管部门",
    role_bank: "银行",
    role_firm: "企业",
};

pub static EN: Texts = Texts {
    site_name: "Green Efficiency Code",
    other_lang_label: "中文",
    other_lang_query: "zh",
    nav_home: "Home",
    nav_login: "Sign in",
    nav_logout: "Sign out",
    signed_in_as: "Signed in as",
    home_title: "Green Efficiency Code: green grade, green finance and green services in one code",
    home_intro_1: "The green efficiency code is a signed QR code given to every industrial firm. \
                   From the firm's yearly energy use, value added, solid-waste utilisation and \
                   green certifications it states a grade, A+, A, B, C or D, against its \
                   industry's benchmark, issued after a regulator's review.",
    home_intro_2: "A bank scans the code to check the grade offline before granting a green loan; \
                   a firm displays and prints its code; every code is recorded in a public, \
                   append-only transparency log that anyone can check.",
    login_title: "Sign in",
    username: "Username",
    password: "Password",
    login_button: "Sign in",
    login_failed: "Wrong username or password.",
    login_throttled: "Too many attempts; please try again later.",
    error_title: "Something went wrong",
    error_back: "Back to the home page",
    role_regulator: "Regulator",
    role_bank: "Bank",
    role_firm: "Firm",
};
