//! Reading a server's public documents (keys, checkpoints, proofs, tiles) for the offline tools.

use anyhow::Context;

/// The body of a GET, as text (20 s at the most).
pub fn http_get(url: &str) -> anyhow::Result<String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(20)))
            .build(),
    );
    let mut response = agent
        .get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    response
        .body_mut()
        .read_to_string()
        .with_context(|| format!("reading {url}"))
}

/// The server's base URL without a trailing slash.
pub fn server_base(server: &str) -> String {
    server.trim_end_matches('/').to_owned()
}
