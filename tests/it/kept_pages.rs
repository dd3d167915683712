//! Kept scan pages and tiles answered before the middleware stack (issue 31): the same bytes
//! and the same headers as the whole way, never for a visitor signed in or choosing a language, and
//! gone as soon as the code changes.

use serde_json::{Value, json};

use crate::helpers::{agent, fresh_database_url, spawn_server_with};

fn text(url: &str) -> String {
    agent()
        .get(url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap()
}

/// Status, headers (but the request id and the date, which differ by request) and body.
fn fetch(url: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut request = agent().get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = request.call().unwrap();
    let mut kept: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "date"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    kept.sort();
    assert!(response.headers().contains_key("x-request-id"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_vec().unwrap();
    (status, kept, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_scan_pages_and_tiles_are_what_the_whole_way_gives() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let data = dir.path().to_owned();
    tokio::task::spawn_blocking(move || {
        // Pages kept for a minute: the second request of each kind is answered from memory.
        let (_server, base) =
            spawn_server_with(&data, &url, true, &[("GEC_CODE_CACHE_MS", "60000")]);
        let code: Value = serde_json::from_str(&text(&format!("{base}/api/v1/codes/1"))).unwrap();
        let page = format!(
            "{base}/c/{}",
            code["url"].as_str().unwrap().split("/C/").nth(1).unwrap()
        );
        for headers in [
            vec![],
            vec![("Accept-Encoding", "gzip")],
            vec![("Cookie", "gec_lang=en")],
        ] {
            let rendered = fetch(&page, &headers);
            assert_eq!(rendered.0, 200);
            let kept = fetch(&page, &headers);
            assert_eq!(kept, rendered, "{headers:?}");
        }
        let (_, headers, body) = fetch(&page, &[("Cookie", "gec_lang=en")]);
        assert!(
            String::from_utf8_lossy(&body).contains("<html lang=\"en\">"),
            "English page"
        );
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-security-policy" && v.contains("default-src 'self'"))
        );
        // A tile kept once served: the same bytes and headers from memory.
        let checkpoint = text(&format!("{base}/log/checkpoint"));
        let size: u64 = checkpoint.lines().nth(1).unwrap().parse().unwrap();
        let tile = format!("{base}/log/tile/0/000.p/{size}");
        let served = fetch(&tile, &[]);
        assert_eq!(served.0, 200);
        assert_eq!(served.2.len() as u64, 32 * size);
        assert_eq!(fetch(&tile, &[]), served);
        assert!(
            served
                .1
                .iter()
                .any(|(n, v)| n == "x-content-type-options" && v == "nosniff")
        );
        // Choosing a language takes the whole way: it sets the cookie that keeps it.
        let (_, headers, _) = fetch(&format!("{page}?lang=en"), &[]);
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "set-cookie" && v.starts_with("gec_lang=en"))
        );
        // A revocation removes the kept page at once.
        let mut login = agent()
            .post(&format!("{base}/api/v1/login"))
            .header("Content-Type", "application/json")
            .send(json!({"username": "regulator", "password": "demo-password-2025"}).to_string())
            .unwrap();
        let token: Value =
            serde_json::from_str(&login.body_mut().read_to_string().unwrap()).unwrap();
        let revoked = agent()
            .post(&format!("{base}/api/v1/codes/1/revoke"))
            .header(
                "Authorization",
                &format!("Bearer {}", token["token"].as_str().unwrap()),
            )
            .header("Content-Type", "application/json")
            .send(json!({"reason": "test"}).to_string())
            .unwrap();
        assert_eq!(revoked.status().as_u16(), 200);
        let (_, _, body) = fetch(&page, &[]);
        assert!(
            String::from_utf8_lossy(&body).contains("已撤销"),
            "the kept page went with the revocation"
        );
    })
    .await
    .unwrap();
}
