//! The printable badge: the firm's name in Chinese, the grade in its colour, score, period,
//! validity and the QR at level Q, laid out for a 6 cm × 9 cm print. One SVG is the source;
//! the PNG is that SVG rasterised (resvg), so the two never differ.

use std::sync::Arc;

use super::qr::{self, Level};
use crate::grading::Grade;

/// Everything the badge shows.
pub struct BadgeData<'a> {
    pub firm_name: &'a str,
    pub uscc: &'a str,
    pub grade: Grade,
    pub score_text: &'a str,
    pub period: u32,
    pub issued_on: &'a str,
    pub valid_until: &'a str,
    pub serial: u64,
    pub url: &'a str,
}

/// Fill and text colours of a grade (§4's colour names), with text contrast above 4.5:1.
pub fn grade_colours(grade: Grade) -> (&'static str, &'static str) {
    match grade {
        Grade::APlus => ("#0b5d2a", "#ffffff"),
        Grade::A => ("#1e7d3a", "#ffffff"),
        Grade::B => ("#9ccc65", "#1a1a1a"),
        Grade::C => ("#f2c200", "#1a1a1a"),
        Grade::D => ("#6e6e6e", "#ffffff"),
    }
}

/// The font families the badge asks for, CJK first.
pub const FONT_FAMILIES: &str = "'Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'WenQuanYi Zen Hei', sans-serif";

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// Badge units: 600 × 900 (a 6 cm × 9 cm print is 10 units per mm).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 900.0;

pub fn svg(data: &BadgeData<'_>) -> Result<String, String> {
    let code = qr::encode(data.url, Level::Q)?;
    let (fill, ink) = grade_colours(data.grade);
    let modules = code.width() as f64 + 8.0;
    let qr_size = 400.0;
    let unit = qr_size / modules;
    let (qr_x, qr_y) = ((WIDTH - qr_size) / 2.0, 440.0);
    let name_chars = data.firm_name.chars().count().max(1) as f64;
    let name_size = (520.0 / name_chars).clamp(22.0, 40.0);
    Ok(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="60mm" height="90mm" font-family="{FONT_FAMILIES}">
<rect width="{WIDTH}" height="{HEIGHT}" rx="24" fill="#ffffff" stroke="{fill}" stroke-width="8"/>
<rect x="4" y="4" width="592" height="96" rx="20" fill="{fill}"/>
<text x="300" y="66" text-anchor="middle" font-size="44" font-weight="700" fill="{ink}">绿效码 · {grade_name}</text>
<text x="300" y="150" text-anchor="middle" font-size="{name_size:.0}" font-weight="700" fill="#1a1a1a">{name}</text>
<text x="300" y="186" text-anchor="middle" font-size="20" fill="#444444">统一社会信用代码 {uscc}</text>
<rect x="60" y="210" width="200" height="200" rx="16" fill="{fill}"/>
<text x="160" y="345" text-anchor="middle" font-size="120" font-weight="700" fill="{ink}">{grade}</text>
<text x="290" y="262" font-size="34" fill="#1a1a1a">综合得分 {score}</text>
<text x="290" y="312" font-size="26" fill="#1a1a1a">评价年度 {period}</text>
<text x="290" y="356" font-size="22" fill="#444444">签发 {issued}</text>
<text x="290" y="392" font-size="22" fill="#444444">有效期至 {until}</text>
<rect x="{qr_x}" y="{qr_y}" width="{qr_size}" height="{qr_size}" fill="#ffffff"/>
<path fill="#000000" shape-rendering="crispEdges" d="{path}"/>
<text x="300" y="872" text-anchor="middle" font-size="20" fill="#444444">扫码核验 · Scan to verify · No. {serial}</text>
</svg>"##,
        grade_name = data.grade.name_zh(),
        name = escape(data.firm_name),
        uscc = escape(data.uscc),
        grade = data.grade.as_str(),
        score = escape(data.score_text),
        period = data.period,
        issued = escape(data.issued_on),
        until = escape(data.valid_until),
        serial = data.serial,
        path = qr::module_path(&code, qr_x + 4.0 * unit, qr_y + 4.0 * unit, unit),
    ))
}

/// The badge as PNG at `scale` pixels per badge unit (2.0 gives 1200 × 1800, 508 dpi at 6 cm),
/// with the fonts of `fonts` (load a CJK font, or the name renders without glyphs).
pub fn png(
    data: &BadgeData<'_>,
    fonts: Arc<resvg::usvg::fontdb::Database>,
    scale: f32,
) -> Result<Vec<u8>, String> {
    let svg = svg(data)?;
    let options = resvg::usvg::Options {
        fontdb: fonts,
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(&svg, &options).map_err(|e| e.to_string())?;
    let (w, h) = (
        (WIDTH as f32 * scale) as u32,
        (HEIGHT as f32 * scale) as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or("badge size")?;
    let size = tree.size();
    let transform =
        resvg::tiny_skia::Transform::from_scale(w as f32 / size.width(), h as f32 / size.height());
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}
