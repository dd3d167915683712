//! QR images of a code's URL: one alphanumeric segment (token.md §2), level M on screens and Q
//! for print, with the 4-module quiet zone, as PNG or SVG.

use qrcode::bits::Bits;
use qrcode::types::{Color, Version};
use qrcode::{EcLevel, QrCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// ~15 % recovery: screens.
    M,
    /// ~25 % recovery: print.
    Q,
}

impl Level {
    fn ec(self) -> EcLevel {
        match self {
            Level::M => EcLevel::M,
            Level::Q => EcLevel::Q,
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "M" | "m" => Some(Level::M),
            "Q" | "q" => Some(Level::Q),
            _ => None,
        }
    }
}

/// The QR alphanumeric set: a URL upper-cased by token.md §2 is entirely in it.
pub fn is_alphanumeric(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b" $%*+-./:".contains(&b))
}

/// The smallest symbol holding `text`: one alphanumeric segment when the text allows it,
/// otherwise the encoder's optimal segmentation.
pub fn encode(text: &str, level: Level) -> Result<QrCode, String> {
    if !is_alphanumeric(text) {
        return QrCode::with_error_correction_level(text, level.ec()).map_err(|e| e.to_string());
    }
    for version in 1..=40 {
        let mut bits = Bits::new(Version::Normal(version));
        if bits.push_alphanumeric_data(text.as_bytes()).is_ok()
            && bits.push_terminator(level.ec()).is_ok()
            && let Ok(code) = QrCode::with_bits(bits, level.ec())
        {
            return Ok(code);
        }
    }
    Err("the text is too long for a QR code".into())
}

/// Pixels per module in PNG renderings.
pub const PNG_MODULE_PX: u32 = 8;

pub fn png(code: &QrCode, module_px: u32) -> Result<Vec<u8>, String> {
    let image = code
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// A standalone SVG, one unit per module, scaled by its viewer.
pub fn svg(code: &QrCode) -> String {
    let size = code.width() + 8;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"{px}\" height=\"{px}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>",
        px = size * 8,
        path = module_path(code, 4.0, 4.0, 1.0),
    )
}

/// An SVG path with one square of side `unit` per dark module, the first at (`x0`, `y0`).
pub fn module_path(code: &QrCode, x0: f64, y0: f64, unit: f64) -> String {
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::with_capacity(colors.len() * 6);
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = ((i % width) as f64, (i / width) as f64);
            path.push_str(&format!(
                "M{} {}h{u}v{u}h-{u}z",
                fmt(x0 + x * unit),
                fmt(y0 + y * unit),
                u = fmt(unit)
            ));
        }
    }
    path
}

fn fmt(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typical_code_url_is_one_alphanumeric_segment_of_version_10_or_11() {
        // Version 10-M holds 311 alphanumeric characters, 11-M 362 (ISO/IEC 18004 table 7).
        let short = format!("HTTP://127.0.0.1:8080/C/{}", "A".repeat(285));
        assert_eq!(short.len(), 309);
        assert_eq!(
            encode(&short, Level::M).unwrap().version(),
            Version::Normal(10)
        );
        let long = format!("HTTPS://GEC.EXAMPLE.CN/C/{}", "A".repeat(290));
        assert_eq!(long.len(), 315);
        assert_eq!(
            encode(&long, Level::M).unwrap().version(),
            Version::Normal(11)
        );
        assert_eq!(
            encode(&long, Level::Q).unwrap().version(),
            Version::Normal(13)
        );
    }

    #[test]
    fn renders_png_and_svg() {
        let code = encode("HTTP://X/C/ABC", Level::M).unwrap();
        let png = png(&code, 4).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert!(svg(&code).starts_with("<svg"));
    }
}
