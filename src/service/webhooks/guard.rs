//! Which webhook URLs a bank may register: no private, loopback, link-local or other special
//! address (server-side request forgery) unless the operator allows them — including the
//! IPv6 forms that carry an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4), which are
//! judged by that address. A delivery connects to the very addresses that were checked
//! ([`PinnedResolver`]), never resolving the name a second time (DNS rebinding).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

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
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 224
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                // Teredo, benchmarking, ORCHID and documentation (2001::/23 special purposes)
                || (s[0] == 0x2001 && s[1] < 0x0200)
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // NAT64 local use (64:ff9b:1::/48) and discard-only (100::/64)
                || (s[0] == 0x0064 && s[1] == 0xff9b && s[2] == 1)
                || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
        }
    }
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`, deprecated but routed by some stacks), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::`).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let last = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
        return Some(last());
    }
    if s[..6] == [0x0064, 0xff9b, 0, 0, 0, 0] {
        return Some(last());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// A resolver that answers with the addresses checked when the delivery began, so that the
/// connection goes where the check looked.
#[derive(Debug)]
pub struct PinnedResolver(pub Vec<SocketAddr>);

impl ureq::unversioned::resolver::Resolver for PinnedResolver {
    fn resolve(
        &self,
        _uri: &axum::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        for address in self.0.iter().take(16) {
            out.push(*address);
        }
        if out.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(out)
    }
}

/// The URL checked: http(s), a host, no credentials; every address it resolves to public
/// unless `allow_private`.
pub async fn check_url(field: &str, url: &str, allow_private: bool) -> AppResult<String> {
    checked(field, url, allow_private).await.map(|(url, _)| url)
}

/// The URL checked, and the addresses it resolved to (each checked unless `allow_private`):
/// what a delivery connects to.
pub async fn checked(
    field: &str,
    url: &str,
    allow_private: bool,
) -> AppResult<(String, Vec<SocketAddr>)> {
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
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| {
                AppError::field_fault(
                    crate::grading::Fault::Address,
                    field,
                    "the host does not resolve",
                )
            })?
            .collect(),
    };
    if addresses.is_empty() {
        return Err(AppError::field_fault(
            crate::grading::Fault::Address,
            field,
            "the host does not resolve",
        ));
    }
    if !allow_private && addresses.iter().any(|a| is_private(a.ip())) {
        return Err(AppError::field_fault(
            crate::grading::Fault::Address,
            field,
            "a private, loopback or link-local address is not allowed",
        ));
    }
    Ok((url, addresses))
}
