//! The images read back: every QR PNG and the badge decode to the exact code URL with rqrr, an
//! independent pure-Rust decoder, in every run; zbar (a phone scanner's decoder) and a CJK font
//! check the same images where they are installed.

use std::process::Command;

use gec::code::badge::{self, BadgeData};
use gec::code::qr::{self, Level};
use gec::grading::Grade;

use crate::codes::{gec, token_vectors};

/// Decodes the one QR symbol in a PNG in-process with rqrr.
pub fn decode_qr(png: &[u8]) -> String {
    let image = image::load_from_memory(png)
        .expect("a PNG image")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR symbol in the image");
    let (_, text) = grids[0].decode().expect("the QR symbol decodes");
    text
}

/// Reads every QR symbol in an image with zbar, a real scanner's decoder (Debian's zbar-tools).
pub fn zbarimg(path: &std::path::Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(path)
        .output()
        .expect(
            "zbarimg is needed for this test: apt-get install zbar-tools (.ci/run installs it)",
        );
    assert!(
        out.status.success(),
        "zbarimg found no code in {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end_matches('\n')
        .to_owned()
}

/// `gec qr` writes a PNG at levels M and Q and an SVG for every vector URL; returns each PNG's
/// path with the URL it must scan to.
fn gec_qr_images(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut pngs = Vec::new();
    for (i, case) in token_vectors()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let url = case["url"].as_str().unwrap();
        for level in ["M", "Q"] {
            let path = dir.join(format!("qr-{i}-{level}.png"));
            let out = gec(&[
                "qr",
                url,
                "--format",
                "png",
                "--level",
                level,
                "-o",
                path.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            pngs.push((path, url.to_owned()));
        }
        let svg = dir.join(format!("qr-{i}.svg"));
        assert!(
            gec(&["qr", url, "--format", "svg", "-o", svg.to_str().unwrap()])
                .status
                .success()
        );
        assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    }
    pngs
}

#[test]
fn gec_qr_pngs_decode_back_to_the_same_url() {
    let dir = tempfile::tempdir().unwrap();
    for (path, url) in gec_qr_images(dir.path()) {
        assert_eq!(decode_qr(&std::fs::read(&path).unwrap()), url);
    }
}

#[test]
#[ignore = "needs zbarimg (Debian: zbar-tools)"]
fn zbar_scans_gec_qr_pngs_to_the_same_url() {
    let dir = tempfile::tempdir().unwrap();
    for (path, url) in gec_qr_images(dir.path()) {
        assert_eq!(zbarimg(&path), url);
    }
}

#[test]
fn a_code_url_is_one_alphanumeric_segment() {
    let v = token_vectors();
    let url = v["cases"][0]["url"].as_str().unwrap();
    assert!(qr::is_alphanumeric(url));
    let code = qr::encode(url, Level::M).unwrap();
    // One alphanumeric segment of 309 characters fits version 10 at M; byte mode would need 13.
    assert_eq!(code.version(), qrcode::Version::Normal(10));
}

fn fonts() -> std::sync::Arc<resvg::usvg::fontdb::Database> {
    let mut db = resvg::usvg::fontdb::Database::new();
    db.load_system_fonts();
    std::sync::Arc::new(db)
}

fn badge_data(url: &str) -> BadgeData<'_> {
    BadgeData {
        firm_name: "重庆两江新能源汽车零部件有限公司",
        uscc: "91500112MA5U2A1B3G",
        grade: Grade::APlus,
        score_text: "90.06",
        period: 2025,
        issued_on: "2026-03-31",
        valid_until: "2027-05-01",
        serial: 0,
        url,
    }
}

fn vector_url() -> String {
    token_vectors()["cases"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_badge_carries_the_firm_grade_and_a_qr_that_decodes_to_the_url() {
    let url = vector_url();
    let data = badge_data(&url);
    let svg = badge::svg(&data).unwrap();
    assert!(
        svg.contains("重庆两江新能源汽车零部件有限公司")
            && svg.contains(">A+<")
            && svg.contains("深绿")
    );
    // Rendered with whatever fonts the machine has: the QR needs none.
    let png = badge::png(&data, fonts(), 2.0).unwrap();
    let image = image::load_from_memory(&png).unwrap();
    assert_eq!((image.width(), image.height()), (1200, 1800));
    assert_eq!(decode_qr(&png), url, "the badge's QR decodes to the URL");
}

/// Dark (text) pixels in the rows `top..bottom` of a badge PNG.
fn ink(png: &[u8], top: u32, bottom: u32) -> usize {
    let image = image::load_from_memory(png).unwrap().to_rgba8();
    (top..bottom)
        .flat_map(|y| (0..image.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let p = image.get_pixel(x, y);
            p[3] > 200 && p[0] < 90 && p[1] < 90 && p[2] < 90
        })
        .count()
}

#[test]
fn the_badge_carries_its_chinese_text_on_a_machine_without_fonts() {
    let url = vector_url();
    // Only the font compiled into the binary: what a machine with no fonts installed has.
    let embedded = std::sync::Arc::new(gec::web::images::embedded_fonts());
    let png = badge::png(&badge_data(&url), embedded, 2.0).unwrap();
    let blank = badge::png(
        &badge_data(&url),
        std::sync::Arc::new(resvg::usvg::fontdb::Database::new()),
        2.0,
    )
    .unwrap();
    // The firm's name (y 150) and the USCC line (y 186), at scale 2.
    let (name, none) = (ink(&png, 220, 390), ink(&blank, 220, 390));
    assert_eq!(
        none, 0,
        "without any font the text is blank: the check sees text"
    );
    assert!(
        name > 2000,
        "the name and USCC are drawn: {name} dark pixels"
    );
    let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::write(keep.join("badge-embedded-font.png"), &png);
    assert_eq!(decode_qr(&png), url);
}

#[test]
#[ignore = "needs zbarimg (Debian: zbar-tools)"]
fn the_printed_badge_scans_with_zbar() {
    let url = vector_url();
    let png = badge::png(&badge_data(&url), fonts(), 2.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("badge.png");
    std::fs::write(&path, &png).unwrap();
    let keep = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::write(keep.join("badge.png"), &png);
    assert_eq!(zbarimg(&path), url, "the badge's QR scans to the URL");
}
