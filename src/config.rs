//! Runtime configuration of the service: where it listens, where its data lives, which database.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `gec serve` needs, resolved from flags, environment and defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// `scheme://host[:port]`, no path, no trailing slash (token.md §2).
    pub public_url: String,
    pub demo: bool,
    /// Where the operator's `/metrics` is served (off when `None`): never the public listener.
    pub metrics_bind: Option<SocketAddr>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (the login throttle counts
    /// per client address); a request from any other peer is that peer's own.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a code's facts are kept for verification (`GEC_CODE_CACHE_MS`, default 1 s):
    /// changes reach every replica by notice at once; this bounds a lost notice.
    pub code_cache_ttl: std::time::Duration,
    /// Webhooks may target private, loopback and link-local addresses (on-premises bank
    /// networks, tests); off by default (server-side request forgery).
    pub webhook_allow_private: bool,
    /// The witnesses that cosign the log's checkpoints (token.md §7).
    pub witnesses: Vec<crate::service::log_guard::WitnessConfig>,
    /// The algorithm of the first code key of a new deployment (`--signing-alg`, token.md §9).
    pub signing_alg: crate::code::Algorithm,
    /// The scanner page (`/verify`) says a verdict rests on an old status list when the list it
    /// kept is older than this (`--scanner-max-age-hours`, default 24 h).
    pub scanner_max_age_secs: u64,
}

impl Config {
    /// Cookies are marked `Secure` only where the browser reaches us over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The SQLite file under the data directory, used when no `DATABASE_URL` is given.
pub fn default_database_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("gec.db").display())
}

/// Checks the public base URL against token.md §2 and returns it without a trailing slash.
pub fn parse_public_url(text: &str) -> Result<String, String> {
    let text = text.trim_end_matches('/');
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("public URL {text:?} must start with http:// or https://"))?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("public URL {text:?} must use http or https"));
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "public URL {text:?} must be scheme://host[:port] with no path"
        ));
    }
    if !rest
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return Err(format!(
            "public URL {text:?} must be ASCII (write an internationalised host in punycode)"
        ));
    }
    Ok(text.to_ascii_lowercase())
}

/// The log's origin (its checkpoint's first line and key name): the public host and `/log`.
pub fn log_origin_for(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    format!("{host}/log")
}

/// The URL printed into codes when none is configured: the bind address as seen locally.
pub fn public_url_for_bind(bind: SocketAddr) -> String {
    if bind.ip().is_unspecified() {
        format!("http://127.0.0.1:{}", bind.port())
    } else {
        format!("http://{bind}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_is_scheme_host_and_port_only() {
        assert_eq!(
            parse_public_url("https://GEC.example.cn/").unwrap(),
            "https://gec.example.cn"
        );
        assert!(parse_public_url("https://gec.example.cn/app").is_err());
        assert!(parse_public_url("ftp://gec.example.cn").is_err());
        assert!(parse_public_url("gec.example.cn").is_err());
        assert!(parse_public_url("https://绿效.cn").is_err());
    }
}
