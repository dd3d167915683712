//! Server-rendered SVG charts: a firm's indicator scores, and the regulators' distribution of
//! grades by industry division and by district. Text is escaped; colours follow the grades.

use std::collections::BTreeMap;

use crate::code::badge::grade_colours;
use crate::grading::Grade;
use crate::web::i18n::Texts;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars, 0–100, for the energy, waste and certification scores and the total.
pub fn indicators(
    t: &Texts,
    energy: Option<&str>,
    waste: Option<&str>,
    cert: Option<&str>,
    total: Option<&str>,
) -> String {
    let rows = [
        (t.get("energy_score"), energy),
        (t.get("waste_score"), waste),
        (t.get("cert_score"), cert),
        (t.get("score"), total),
    ];
    // 320 units wide, so that on a 360-px phone the chart is drawn at about 1:1 and its text
    // stays at 13 px: each label on its own line, its bar below.
    let (bar_w, row_h) = (250.0, 44.0);
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 320 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(t.get("chart_indicators"))
    );
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let number: f64 = value.and_then(|v| v.parse().ok()).unwrap_or(0.0);
        let width = bar_w * number.clamp(0.0, 100.0) / 100.0;
        let shown = value.map_or_else(|| t.get("not_applicable").to_owned(), str::to_owned);
        let colour = if i == 3 { "#0b5d2a" } else { "#2e7d32" };
        svg.push_str(&format!(
            r##"<text x="0" y="{ty}" font-size="13" fill="#1a1a1a">{label}</text><rect x="0" y="{by}" width="{bar_w}" height="16" fill="#e6eee6"/><rect x="0" y="{by}" width="{width:.1}" height="16" fill="{colour}"/><text x="{tx}" y="{vy}" font-size="13" fill="#1a1a1a">{shown}</text>"##,
            ty = y + 14.0,
            by = y + 20.0,
            vy = y + 33.0,
            label = escape(label),
            tx = bar_w + 6.0,
            shown = escape(&shown),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// The label cut to fit its column (a CJK character is about two Latin ones wide), with an
/// ellipsis; the full text stays in the bar's tooltip.
fn fit(label: &str, width: usize) -> String {
    let mut used = 0;
    let mut out = String::new();
    for c in label.chars() {
        let w = if c.is_ascii() { 1 } else { 2 };
        if used + w > width {
            out.push('…');
            return out;
        }
        used += w;
        out.push(c);
    }
    out
}

/// A stacked bar per group (division, district) with the count of firms per grade.
pub fn distribution(
    t: &Texts,
    title: &str,
    groups: &BTreeMap<String, BTreeMap<Grade, u64>>,
) -> String {
    if groups.is_empty() {
        return format!("<p>{}</p>", escape(t.get("none_yet")));
    }
    let max = groups
        .values()
        .map(|g| g.values().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    // 320 units wide (see `indicators`): the group's name on its own line, the bar below.
    let (bar_w, row_h) = (270.0, 42.0);
    let height = row_h * groups.len() as f64 + 30.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 320 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    for (i, (group, counts)) in groups.iter().enumerate() {
        let y = i as f64 * row_h;
        svg.push_str(&format!(
            r##"<text x="0" y="{}" font-size="13" fill="#1a1a1a"><title>{}</title>{}</text>"##,
            y + 14.0,
            escape(group),
            escape(&fit(group, 46))
        ));
        let mut x = 0.0;
        for grade in Grade::ALL {
            let n = counts.get(&grade).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max;
            svg.push_str(&format!(
                r#"<rect x="{x:.1}" y="{}" width="{w:.1}" height="16" fill="{}"><title>{} {}: {n}</title></rect>"#,
                y + 20.0,
                grade_colours(grade).0,
                escape(group),
                grade.as_str()
            ));
            x += w;
        }
        let total: u64 = counts.values().sum();
        svg.push_str(&format!(
            r##"<text x="{:.1}" y="{}" font-size="13" fill="#1a1a1a">{total}</text>"##,
            x + 6.0,
            y + 33.0
        ));
    }
    // The legend.
    let ly = groups.len() as f64 * row_h + 8.0;
    for (i, grade) in Grade::ALL.iter().enumerate() {
        let x = i as f64 * 62.0;
        svg.push_str(&format!(
            r##"<rect x="{x}" y="{ly}" width="14" height="14" fill="{}"/><text x="{}" y="{}" font-size="13" fill="#1a1a1a">{}</text>"##,
            grade_colours(*grade).0,
            x + 18.0,
            ly + 12.0,
            grade.as_str()
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// One bar a group for an amount (the approved green finance, in 10,000 CNY), 320 units wide
/// like the other charts: the group's name on its own line, the bar and the amount below; a
/// group that is a grade (`A+` … `D`) in that grade's colour, as everywhere else.
pub fn amounts(t: &Texts, title: &str, rows: &[(String, String)]) -> String {
    if rows.is_empty() {
        return format!("<p>{}</p>", escape(t.get("none_yet")));
    }
    let value = |v: &str| v.parse::<f64>().unwrap_or(0.0);
    let max = rows
        .iter()
        .map(|(_, v)| value(v))
        .fold(0.0, f64::max)
        .max(1.0);
    let (bar_w, row_h) = (230.0, 42.0);
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 320 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(title)
    );
    for (i, (group, amount)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let w = bar_w * value(amount) / max;
        let colour = Grade::parse(group).map_or("#1e7d3a", |g| grade_colours(g).0);
        svg.push_str(&format!(
            r##"<text x="0" y="{:.1}" font-size="13" fill="#1a1a1a">{}</text><rect x="0" y="{:.1}" width="{w:.1}" height="16" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="13" fill="#1a1a1a">{}</text>"##,
            y + 14.0,
            escape(&fit(group, 46)),
            y + 20.0,
            w + 6.0,
            y + 33.0,
            escape(&super::numbers::grouped(amount))
        ));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn long_labels_are_cut_to_their_column() {
        assert_eq!(
            fit("36 Manufacture of automobiles", 32),
            "36 Manufacture of automobiles"
        );
        assert_eq!(
            fit("39 Manufacture of computers, communication", 32),
            "39 Manufacture of computers, com…"
        );
        assert_eq!(
            fit("39 计算机、通信和其他电子设备制造业", 16),
            "39 计算机、通信…"
        );
    }
}
