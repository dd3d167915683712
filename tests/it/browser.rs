//! End-to-end in a real headless Chromium: the service runs as its binary (with the demo), and
//! a Selenium script signs in as a firm and a regulator and scans a code at a phone's width.
//! Screenshots are kept under target/artifacts/browser.

use std::process::Command;

use crate::helpers::fresh_database_url;

#[tokio::test]
#[ignore = "needs chromium and chromedriver (Debian: chromium, chromium-driver) and Selenium (PyPI: selenium)"]
async fn firm_regulator_and_phone_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database_url(dir.path()).await;
    let (mut server, base) = crate::helpers::spawn_server(dir.path(), &database_url, true);
    let out = concat!(env!("CARGO_MANIFEST_DIR"), "/target/artifacts/browser");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/browser.py");
    let result = tokio::task::spawn_blocking(move || {
        Command::new("python3").args([script, &base, out]).output()
    })
    .await
    .unwrap()
    .expect("python3");
    server.kill();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        !stderr.contains("No module named 'selenium'"),
        "Selenium is needed: pip install selenium, and apt-get install chromium chromium-driver (.ci/run installs them)"
    );
    assert!(result.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("browser: all passed"), "{stdout}");
}
