//! Which webhook URLs a bank may register: no private, loopback, link-local or other special
//! address (server-side request forgery) unless the operator allows them.

use std::net::IpAddr;

use crate::error::{AppError, AppResult};

/// An address no webhook may reach unless the operator allows it.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 224
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The URL checked: http(s), a host, no credentials; every address it resolves to public
/// unless `allow_private`.
pub async fn check_url(field: &str, url: &str, allow_private: bool) -> AppResult<String> {
    let url = crate::service::text::line(field, url, 500)?;
    // The URL as HTTP itself reads it (the `http` crate's parser, already a dependency).
    let parsed: axum::http::Uri = url.parse().map_err(|_| {
        AppError::field_fault(
            crate::grading::Fault::Address,
            field,
            "must be an http or https URL",
        )
    })?;
    let default_port = match parsed.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => {
            return Err(AppError::field_fault(
                crate::grading::Fault::Address,
                field,
                "must be an http or https URL",
            ));
        }
    };
    let authority = parsed.authority().map(|a| a.as_str()).unwrap_or_default();
    let host = parsed.host().unwrap_or_default();
    if host.is_empty() || authority.contains('@') {
        return Err(AppError::field_fault(
            crate::grading::Fault::Address,
            field,
            "must name a host, without credentials",
        ));
    }
    let port = parsed.port_u16().unwrap_or(default_port);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if !allow_private {
        let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|_| {
                    AppError::field_fault(
                        crate::grading::Fault::Address,
                        field,
                        "the host does not resolve",
                    )
                })?
                .map(|a| a.ip())
                .collect(),
        };
        if addresses.is_empty() || addresses.into_iter().any(is_private) {
            return Err(AppError::field_fault(
                crate::grading::Fault::Address,
                field,
                "a private, loopback or link-local address is not allowed",
            ));
        }
    }
    Ok(url)
}
