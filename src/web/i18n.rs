//! The page language: Simplified Chinese first, English on `?lang=en`, remembered in a cookie.
//! Every string a page shows is in the two tables at the end of this file, one per language,
//! under the same keys (a test checks that they match).

use std::collections::HashMap;
use std::sync::OnceLock;

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
        static ZH_TEXTS: OnceLock<Texts> = OnceLock::new();
        static EN_TEXTS: OnceLock<Texts> = OnceLock::new();
        match self {
            Lang::Zh => ZH_TEXTS.get_or_init(|| Texts::new(Lang::Zh, ZH)),
            Lang::En => EN_TEXTS.get_or_init(|| Texts::new(Lang::En, EN)),
        }
    }

    fn from_query(query: &str) -> Option<Lang> {
        query.split('&').find_map(|pair| match pair {
            "lang=en" => Some(Lang::En),
            "lang=zh" | "lang=zh-CN" => Some(Lang::Zh),
            _ => None,
        })
    }

    /// The language a request asks for: `?lang=`, then the cookie, then Chinese.
    pub fn of_request(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
        uri.query()
            .and_then(Lang::from_query)
            .or_else(|| Lang::from_headers(headers))
            .unwrap_or_default()
    }

    fn from_cookie(parts: &Parts) -> Option<Lang> {
        Lang::from_headers(&parts.headers)
    }

    fn from_headers(headers: &axum::http::HeaderMap) -> Option<Lang> {
        headers
            .get_all(header::COOKIE)
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

/// The words of the pages in one language, looked up by key.
pub struct Texts {
    pub lang: Lang,
    map: HashMap<&'static str, &'static str>,
}

impl Texts {
    fn new(lang: Lang, table: &'static [(&'static str, &'static str)]) -> Self {
        Texts {
            lang,
            map: table.iter().copied().collect(),
        }
    }

    /// The text of `key`; a missing key shows itself (and fails the tests).
    pub fn get<'a>(&self, key: &'a str) -> &'a str
    where
        'static: 'a,
    {
        self.map.get(key).copied().unwrap_or(key)
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The language's colon: full-width in Chinese, `: ` in English.
    pub fn colon(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "：",
            Lang::En => ": ",
        }
    }

    /// The language's comma.
    pub fn comma(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "，",
            Lang::En => ", ",
        }
    }

    /// The language's opening bracket (English sets it off with a space).
    pub fn open(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "（",
            Lang::En => " (",
        }
    }

    pub fn close(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "）",
            Lang::En => ")",
        }
    }

    /// An amount of money given in 10,000 CNY, as a reader of the language says it: "2,000 万元";
    /// "CNY 20,000,000" (10,000 CNY is no English unit). Text that is no amount stays as it is.
    pub fn money_10k(&self, amount: &str) -> String {
        use crate::grading::decimal::{Fixed, parse_decimal};
        let plain = amount.replace(',', "");
        match (self.lang, parse_decimal(plain.trim())) {
            (Lang::Zh, Ok(d)) => format!(
                "{} 万元",
                crate::web::pages::views::grouped(&Fixed::from(d).fixed_text())
            ),
            (Lang::En, Ok(d)) => {
                let yuan = (Fixed::from(d) * Fixed::integer(10_000)).round(2);
                let text = yuan.fixed_text();
                let text = text
                    .strip_suffix(".00")
                    .map(str::to_owned)
                    .unwrap_or(text.clone());
                format!("CNY {}", crate::web::pages::views::grouped(&text))
            }
            _ => amount.to_owned(),
        }
    }

    /// `inner` in the language's brackets: "（…）" or " (…)".
    pub fn paren(&self, inner: &str) -> String {
        format!("{}{inner}{}", self.open(), self.close())
    }

    /// The name of a grade's colour (§4 of the methodology).
    pub fn grade_name(&self, grade: &str) -> &'static str {
        let g = crate::grading::Grade::parse(grade);
        match (self.lang, g) {
            (Lang::Zh, Some(g)) => g.name_zh(),
            (Lang::En, Some(g)) => g.name_en(),
            _ => "",
        }
    }
}

pub use en::EN;
pub use zh::ZH;

mod en;
mod zh;

#[cfg(test)]
mod tests {
    use super::{EN, ZH};

    #[test]
    fn both_languages_have_the_same_keys_once() {
        fn keys(table: &[(&'static str, &'static str)]) -> Vec<&'static str> {
            let mut k: Vec<&str> = table.iter().map(|(k, _)| *k).collect();
            k.sort_unstable();
            k
        }
        let (zh, en) = (keys(ZH), keys(EN));
        let mut deduped = zh.clone();
        deduped.dedup();
        assert_eq!(deduped.len(), zh.len(), "a key is repeated");
        assert_eq!(zh, en);
    }

    #[test]
    fn every_key_the_templates_use_is_in_the_tables() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut used = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            for entry in std::fs::read_dir(&path).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "html") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for part in text.split("t.get(\"").skip(1) {
                        used.push(part.split('"').next().unwrap().to_owned());
                    }
                }
            }
        }
        let keys: std::collections::HashSet<&str> = ZH.iter().map(|(k, _)| *k).collect();
        for key in &used {
            assert!(
                keys.contains(key.as_str()),
                "template key {key} has no text"
            );
        }
    }
}
