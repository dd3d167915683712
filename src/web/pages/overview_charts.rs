//! The regulator's overview charts beside the grade distributions: the mean energy intensity
//! against the baseline by group, and a map-like view of Chongqing's districts (a tile each,
//! placed roughly where the district lies), coloured by the share of firms graded A or above.
//! 320 units wide like the other charts, so that a 360-px phone draws them about 1:1.

use crate::web::i18n::{Lang, Texts};

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Each district's tile: (name, column, row), on an 11 × 8 grid, north up.
const TILES: [(&str, u8, u8); 41] = [
    ("城口县", 9, 0),
    ("开州区", 8, 1),
    ("巫溪县", 10, 1),
    ("梁平区", 7, 2),
    ("万州区", 8, 2),
    ("云阳县", 9, 2),
    ("奉节县", 10, 2),
    ("巫山县", 10, 3),
    ("潼南区", 1, 3),
    ("合川区", 2, 3),
    ("垫江县", 6, 3),
    ("忠县", 7, 3),
    ("石柱土家族自治县", 8, 3),
    ("大足区", 0, 4),
    ("铜梁区", 1, 4),
    ("北碚区", 2, 4),
    ("渝北区", 3, 4),
    ("两江新区", 4, 4),
    ("长寿区", 5, 4),
    ("涪陵区", 6, 4),
    ("丰都县", 7, 4),
    ("荣昌区", 0, 5),
    ("璧山区", 1, 5),
    ("沙坪坝区", 2, 5),
    ("江北区", 3, 5),
    ("南岸区", 4, 5),
    ("武隆区", 7, 5),
    ("彭水苗族土家族自治县", 8, 5),
    ("黔江区", 9, 5),
    ("永川区", 0, 6),
    ("重庆高新区", 1, 6),
    ("九龙坡区", 2, 6),
    ("渝中区", 3, 6),
    ("巴南区", 4, 6),
    ("南川区", 5, 6),
    ("酉阳土家族苗族自治县", 9, 6),
    ("江津区", 1, 7),
    ("大渡口区", 2, 7),
    ("綦江区", 3, 7),
    ("万盛经开区", 4, 7),
    ("秀山土家族苗族自治县", 9, 7),
];

/// A tile's short name, at most two characters (or three letters) so that it fits its tile at
/// 13 px: the Chinese name's first two characters, or the pinyin initials (the full name is the
/// tile's tooltip).
fn short(lang: Lang, name: &str) -> String {
    match lang {
        Lang::Zh => {
            let known = [("重庆高新区", "高新"), ("万盛经开区", "万盛")];
            if let Some((_, s)) = known.iter().find(|(n, _)| *n == name) {
                return (*s).to_owned();
            }
            name.chars().take(2).collect()
        }
        // The pinyin initials (unique among the tiles; the full name is the tooltip).
        Lang::En => TILES
            .iter()
            .position(|(n, _, _)| *n == name)
            .map_or_else(|| name.to_owned(), |i| INITIALS[i].to_owned()),
    }
}

/// Each tile's pinyin initials, in the order of [`TILES`].
const INITIALS: [&str; 41] = [
    "CK", "KZ", "WX", "LP", "WZ", "YY", "FJ", "WS", "TN", "HC", "DJ", "ZX", "SZ", "DZ", "TL", "BB",
    "YB", "LJ", "CS", "FL", "FD", "RC", "BS", "SPB", "JB", "NA", "WL", "PS", "QJ", "YC", "GX",
    "JLP", "YZ", "BN", "NC", "YoY", "JJ", "DDK", "QiJ", "WSh", "XS",
];

/// The tile colours by the share graded A or above (none: grey).
fn shade(share: Option<f64>) -> (&'static str, &'static str) {
    match share {
        None => ("#eeeeee", "#555555"),
        Some(s) if s < 0.25 => ("#c8e6c9", "#1a1a1a"),
        Some(s) if s < 0.5 => ("#81c784", "#1a1a1a"),
        Some(s) if s < 0.75 => ("#388e3c", "#ffffff"),
        Some(_) => ("#1b5e20", "#ffffff"),
    }
}

/// The map-like view: `rows` are (district, firms, firms graded A or above).
pub fn district_map(t: &Texts, lang: Lang, title: &str, rows: &[(String, u64, u64)]) -> String {
    let cell = 29.0;
    let height = cell * 8.0 + 34.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 320 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    for (name, col, row) in TILES {
        let found = rows.iter().find(|(d, _, _)| d == name);
        let share = found
            .filter(|(_, n, _)| *n > 0)
            .map(|(_, n, a)| *a as f64 / *n as f64);
        let (fill, ink) = shade(share);
        let (x, y) = (f64::from(col) * cell, f64::from(row) * cell);
        let full = super::views::district_name(lang, name);
        let tip = match found {
            Some((_, n, a)) if *n > 0 => t
                .get("map_tile_tip")
                .replace("{district}", &full)
                .replace("{n}", &n.to_string())
                .replace("{a}", &a.to_string())
                .replace("{pct}", &format!("{:.0}", share.unwrap_or(0.0) * 100.0)),
            _ => t.get("map_tile_none").replace("{district}", &full),
        };
        svg.push_str(&format!(
            r##"<g><title>{tip}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3" fill="{fill}" stroke="#ffffff"/><text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="{ink}">{}</text></g>"##,
            x + 0.5,
            y + 0.5,
            cell - 1.0,
            cell - 1.0,
            x + cell / 2.0,
            y + 19.0,
            escape(&short(lang, name)),
            tip = escape(&tip),
        ));
    }
    // The legend: the four shades and "no firm".
    let ly = cell * 8.0 + 10.0;
    let keys = [
        (Some(0.0), "map_legend_0"),
        (Some(0.3), "map_legend_25"),
        (Some(0.6), "map_legend_50"),
        (Some(0.9), "map_legend_75"),
        (None, "map_legend_none"),
    ];
    for (i, (share, key)) in keys.iter().enumerate() {
        let x = i as f64 * 64.0;
        svg.push_str(&format!(
            r##"<rect x="{x}" y="{ly}" width="12" height="12" fill="{}" stroke="#999999"/><text x="{}" y="{}" font-size="13" fill="#1a1a1a">{}</text>"##,
            shade(*share).0,
            x + 15.0,
            ly + 11.0,
            escape(t.get(key))
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One bar a group for its mean intensity ÷ baseline (`rows`: name, ratio), with the baseline
/// (100 %) marked: green at or under it, amber over it.
pub fn ratios(t: &Texts, title: &str, rows: &[(String, f64)]) -> String {
    if rows.is_empty() {
        return format!("<p>{}</p>", escape(t.get("none_yet")));
    }
    let top = rows.iter().map(|r| r.1).fold(1.5_f64, f64::max);
    let (bar_w, row_h) = (250.0, 42.0);
    let height = row_h * rows.len() as f64 + 24.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 320 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    let base_x = bar_w / top;
    for (i, (name, ratio)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let w = bar_w * ratio.max(0.0) / top;
        let colour = if *ratio <= 1.0 { "#2e7d32" } else { "#e0a100" };
        svg.push_str(&format!(
            r##"<text x="0" y="{}" font-size="13" fill="#1a1a1a">{}</text><rect x="0" y="{}" width="{w:.1}" height="16" fill="{colour}"><title>{}: {:.1}%</title></rect><text x="{:.1}" y="{}" font-size="13" fill="#1a1a1a">{:.1}%</text>"##,
            y + 14.0,
            escape(name),
            y + 20.0,
            escape(name),
            ratio * 100.0,
            w + 6.0,
            y + 33.0,
            ratio * 100.0,
        ));
    }
    svg.push_str(&format!(
        r##"<line x1="{base_x:.1}" y1="0" x2="{base_x:.1}" y2="{:.1}" stroke="#1a1a1a" stroke-dasharray="3 3"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#1a1a1a">{}</text>"##,
        height - 20.0,
        base_x + 3.0,
        height - 5.0,
        escape(t.get("chart_baseline"))
    ));
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_district_has_one_tile_and_its_short_names_are_unique() {
        let mut places: Vec<(u8, u8)> = TILES.iter().map(|(_, c, r)| (*c, *r)).collect();
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), TILES.len(), "two tiles in one place");
        for lang in [Lang::Zh, Lang::En] {
            let mut names: Vec<String> = TILES.iter().map(|(n, _, _)| short(lang, n)).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), TILES.len(), "{lang:?}: a short name twice");
        }
        for (zh, _) in super::super::views::DISTRICTS_EN {
            assert!(TILES.iter().any(|(n, _, _)| n == zh), "{zh} has no tile");
        }
    }
}
