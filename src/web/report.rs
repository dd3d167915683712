//! The diagnosis report as one A4 page: an SVG drawn here, turned into PDF in-process with
//! `svg2pdf`. Text is set in the CJK font compiled into the binary (subset and embedded with
//! its Unicode map, so `pdftotext` reads it back) and wrapped by hand, since SVG does not wrap.

use crate::code::{badge, qr, text};
use crate::error::{AppError, AppResult};
use crate::service::report::ReportData;
use crate::web::i18n::Lang;
use crate::web::pages::{carbon, views};

/// A4 in points.
const WIDTH: f64 = 595.0;
const HEIGHT: f64 = 842.0;
const MARGIN: f64 = 40.0;
/// The most lines of one list (services, policies) the page shows.
const LIST_MAX: usize = 5;

fn escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The width of a character in ems, erring wide (a line must never run off the page): CJK and
/// full-width ones are square; among the Latin ones the wide capitals and `m`/`w` nearly so.
fn em(c: char) -> f64 {
    match c {
        'W' | 'M' | '@' => 1.0,
        'm' | 'w' => 0.85,
        'A'..='Z' => 0.75,
        c if c.is_ascii() => 0.6,
        _ => 1.0,
    }
}

/// Breaks a text into lines no wider than `width` points at `size`: between words (at spaces,
/// and around CJK characters, each a word of its own), and inside a word only when the word
/// alone is wider than the line. A line never starts with a space or a closing mark.
pub fn wrap(text: &str, size: f64, width: f64) -> Vec<String> {
    let width_of = |s: &str| s.chars().map(|c| em(c) * size).sum::<f64>();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in words(text) {
        let candidate = format!("{line}{word}");
        if width_of(candidate.trim_end()) <= width
            || line.trim().is_empty() && width_of(word) <= width
        {
            line = candidate;
            continue;
        }
        if width_of(word.trim_start()) <= width {
            // The word goes to the next line whole.
            if !line.trim().is_empty() {
                lines.push(line.trim_end().to_owned());
            }
            line = word.trim_start().to_owned();
            continue;
        }
        // A word wider than any line is broken where it must be, from where the line is.
        let word = if line.trim().is_empty() {
            line.clear();
            word.trim_start()
        } else {
            word
        };
        for c in word.chars() {
            if width_of(&line) + em(c) * size > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// The pieces a line may break between: a run of Latin letters and digits with the spaces
/// before it, or one CJK character with the closing punctuation after it (kept on its line).
fn words(text: &str) -> Vec<&str> {
    let wide = |c: char| !c.is_ascii() && em(c) >= 1.0;
    let closing = |c: char| "，。、；：？！）》」』】,.;:?!)".contains(c);
    let opening = |c: char| "（《「『【(−".contains(c);
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let ends = match next {
            None => true,
            Some(n) if closing(n) || opening(c) => false,
            Some(n) => wide(c) || closing(c) && wide(n) || wide(n) || n == ' ' && c != ' ',
        };
        if ends {
            out.push(&text[start..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    out
}

/// The page being drawn, top to bottom.
struct Page {
    svg: String,
    y: f64,
    /// Body text stops above this line (the footer's place).
    bottom: f64,
}

impl Page {
    fn text(&mut self, x: f64, size: f64, weight: &str, fill: &str, content: &str) {
        self.svg.push_str(&format!(
            r#"<text x="{x:.1}" y="{:.1}" font-size="{size}" font-weight="{weight}" fill="{fill}">{}</text>"#,
            self.y,
            escape(content)
        ));
    }

    /// A paragraph, wrapped; stops (with an ellipsis) before the footer.
    fn paragraph(&mut self, size: f64, content: &str, indent: f64) {
        for line in wrap(content, size, WIDTH - 2.0 * MARGIN - indent) {
            if self.y > self.bottom {
                return;
            }
            self.y += size * 1.45;
            self.text(MARGIN + indent, size, "400", "#1a1a1a", &line);
        }
    }

    fn heading(&mut self, content: &str) {
        self.y += 22.0;
        self.text(MARGIN, 13.0, "700", "#1b6b35", content);
        self.svg.push_str(&format!(
            r##"<rect x="{MARGIN}" y="{:.1}" width="{:.1}" height="0.8" fill="#9cc8a4"/>"##,
            self.y + 4.0,
            WIDTH - 2.0 * MARGIN
        ));
        self.y += 4.0;
    }

    fn bullets(&mut self, items: &[String]) {
        for item in items {
            self.paragraph(10.5, &format!("· {item}"), 0.0);
        }
    }
}

/// The report as SVG, in the page's language.
pub fn svg(lang: Lang, data: &ReportData, public_url: &str, today: &str) -> String {
    let t = lang.texts();
    let trace = &data.trace;
    let (ink_bg, ink_fg) = badge::grade_colours(trace.grade);
    let mut page = Page {
        svg: format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{}"><rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/><rect width="{WIDTH}" height="64" fill="#1b6b35"/>"##,
            badge::FONT_FAMILIES
        ),
        y: 40.0,
        bottom: HEIGHT - 80.0,
    };
    // The footer's lines are counted first: the body stops above them.
    let footer_hashes = format!(
        "{} · {} · {} {}{}",
        trace.methodology,
        trace.benchmarks,
        t.get("trace_hash"),
        data.assessment.trace_hash,
        data.assessment
            .carbon_hash
            .as_ref()
            .map(|h| format!(" · {} {h}", t.get("carbon_trace_hash")))
            .unwrap_or_default()
    );
    let footer_lines = wrap(&footer_hashes, 8.0, WIDTH - 2.0 * MARGIN).len()
        + wrap(t.get("report_footer"), 8.0, WIDTH - 2.0 * MARGIN).len();
    let footer_top = HEIGHT - 18.0 - footer_lines as f64 * 8.0 * 1.45;
    page.bottom = footer_top - 16.0;
    page.text(MARGIN, 20.0, "700", "#ffffff", t.get("report_title"));
    page.svg.push_str(&format!(
        r##"<text x="{:.1}" y="40" font-size="10" fill="#ffffff" text-anchor="end">{}</text>"##,
        WIDTH - MARGIN,
        escape(&t.get("report_date").replace("{date}", today))
    ));
    page.y = 98.0;
    // The firm's name wraps within the margins (a long name without spaces ran off the page),
    // on at most three lines, the third ending in an ellipsis when more is left.
    let mut name_lines = wrap(&data.firm.name, 17.0, WIDTH - 2.0 * MARGIN);
    if name_lines.len() > 3 {
        name_lines.truncate(3);
        if let Some(last) = name_lines.last_mut() {
            last.pop();
            last.push('…');
        }
    }
    for (i, line) in name_lines.iter().enumerate() {
        if i > 0 {
            page.y += 21.0;
        }
        page.text(MARGIN, 17.0, "700", "#1a1a1a", line);
    }
    page.y += 18.0;
    let industry = match lang {
        Lang::Zh => &data.industry.0,
        Lang::En => &data.industry.1,
    };
    // The firm's particulars, wrapped between their parts (English runs longer than a line).
    let subtitle = format!(
        "{} {} · {} {} · {} {}",
        t.get("uscc"),
        data.firm.uscc,
        t.get("industry"),
        industry,
        t.get("district"),
        views::district_name(lang, &data.firm.district)
    );
    for (i, line) in wrap(&subtitle, 10.0, WIDTH - 2.0 * MARGIN)
        .iter()
        .take(3)
        .enumerate()
    {
        if i > 0 {
            page.y += 14.0;
        }
        page.text(MARGIN, 10.0, "400", "#444444", line);
    }
    // The grade, the score and the code, with its QR on the right.
    let top = page.y + 14.0;
    page.svg.push_str(&format!(
        r#"<rect x="{MARGIN}" y="{top:.1}" width="92" height="92" rx="8" fill="{ink_bg}"/><text x="{:.1}" y="{:.1}" font-size="44" font-weight="700" fill="{ink_fg}" text-anchor="middle">{}</text>"#,
        MARGIN + 46.0,
        top + 62.0,
        trace.grade.as_str()
    ));
    let facts_x = MARGIN + 110.0;
    page.y = top + 18.0;
    page.text(
        facts_x,
        14.0,
        "700",
        "#1a1a1a",
        &format!(
            "{} · {} {}",
            t.grade_name(trace.grade.as_str()),
            t.get("score"),
            trace.score
        ),
    );
    let mut facts = vec![format!("{} {}", t.get("period"), trace.period)];
    match &data.code {
        Some(code) => {
            let date = views::china_date;
            facts.push(format!("{} {}", t.get("report_code_no"), code.serial));
            facts.push(format!(
                "{} {} · {} {}",
                t.get("issued_on"),
                date(code.iat),
                t.get("valid_until"),
                date(code.exp)
            ));
            facts.push(format!(
                "{} {}",
                t.get("status"),
                t.get(views::status_key(
                    code.status_at(chrono::Utc::now().timestamp()).as_str()
                ))
            ));
            let url = text::url(public_url, &code.cose);
            if let Ok(qr_code) = qr::encode(&url, qr::Level::M) {
                let size = 104.0;
                let unit = size / (qr_code.width() as f64 + 8.0);
                let x0 = WIDTH - MARGIN - size;
                page.svg.push_str(&format!(
                    r##"<rect x="{x0:.1}" y="{top:.1}" width="{size}" height="{size}" fill="#ffffff"/><path fill="#000000" d="{}"/>"##,
                    qr::module_path(&qr_code, x0 + 4.0 * unit, top + 4.0 * unit, unit)
                ));
            }
        }
        None => facts.push(t.get("report_no_code").to_owned()),
    }
    for fact in facts {
        page.y += 17.0;
        page.text(facts_x, 10.5, "400", "#333333", &fact);
    }
    page.y = top + 104.0;

    if let Some(note) = views::veto_note(t, trace) {
        page.heading(t.get("veto_title"));
        page.paragraph(10.5, &note, 0.0);
    }
    page.heading(t.get("indicators_title"));
    let mut indicators = views::indicator_lines(t, trace, industry);
    // Claim 8, as the code states it: how much of the energy data sources attested.
    if let Some(share) = data
        .code
        .as_ref()
        .and_then(|c| crate::code::cose::decode(&c.cose).ok())
        .and_then(|d| d.claims.attested_share)
    {
        indicators.push(t.get("attested_share").replace("{pct}", &share.to_string()));
    }
    if let Some(place) = &data.standing {
        indicators.extend(crate::web::pages::year_words::standing_lines(
            t, lang, place, industry, false,
        ));
    }
    page.bullets(&indicators);

    page.heading(t.get("wayup_title"));
    match &data.way_up {
        Some(way_up) if !way_up.targets.is_empty() || way_up.vetoed_until.is_some() => {
            page.bullets(&views::way_up_lines(t, way_up));
        }
        _ => page.paragraph(10.5, t.get("report_top_grade"), 0.0),
    }

    if let Some(summary) = data
        .carbon
        .as_ref()
        .and_then(|(trace, way_up)| carbon::summary(t, trace, way_up.as_ref()))
    {
        page.heading(t.get("carbon_title"));
        page.paragraph(
            10.5,
            &format!(
                "{} {} · {}",
                t.get("carbon_level"),
                summary.label,
                summary.sentence
            ),
            0.0,
        );
        let mut sources: Vec<String> = summary
            .sources
            .iter()
            .map(|s| {
                format!(
                    "{} {}{}{} {}{}",
                    s.name,
                    s.quantity,
                    t.colon(),
                    s.co2_t,
                    t.get("unit_t"),
                    t.paren(&s.share)
                )
            })
            .collect();
        sources.push(format!(
            "{} {} {}",
            t.get("carbon_total"),
            summary.total,
            t.get("unit_t")
        ));
        if let Some(green) = &summary.green_share {
            sources.push(green.clone());
        }
        let sep = match lang {
            Lang::Zh => "；",
            Lang::En => "; ",
        };
        page.paragraph(10.5, &sources.join(sep), 0.0);
        page.bullets(&summary.way_up);
    }

    page.heading(t.get("finance_title"));
    if data.finance.products.is_empty() {
        page.paragraph(10.5, t.get("finance_none"), 0.0);
    } else {
        let mut items: Vec<String> = data
            .finance
            .products
            .iter()
            .map(|p| match lang {
                Lang::Zh => p.name_zh.to_owned(),
                Lang::En => p.name_en.to_owned(),
            })
            .collect();
        if let Some(bp) = data.finance.rate_step_bp {
            items.push(views::rate_step_words(t, bp));
        }
        page.bullets(&items);
    }

    page.heading(t.get("report_services"));
    if data.services.is_empty() {
        page.paragraph(10.5, t.get("firm_no_recommendations"), 0.0);
    } else {
        let items: Vec<String> = data
            .services
            .iter()
            .take(LIST_MAX)
            .map(|r| {
                format!(
                    "{}{} {}",
                    r.service.name,
                    t.paren(&format!(
                        "{}{}{}",
                        r.service.provider,
                        t.comma(),
                        t.get(&format!("cat_{}", r.service.category.as_str()))
                    )),
                    r.service.contact
                )
            })
            .collect();
        page.bullets(&items);
    }

    page.heading(t.get("firm_policies_title"));
    if data.policies.is_empty() {
        page.paragraph(10.5, t.get("firm_no_policies"), 0.0);
    } else {
        let items: Vec<String> = data
            .policies
            .iter()
            .take(LIST_MAX)
            .map(|p| {
                format!(
                    "{}{}{}{}",
                    p.title,
                    t.paren(&p.issuer),
                    t.colon(),
                    p.benefit
                )
            })
            .collect();
        page.bullets(&items);
    }

    // The footer: what the grade rests on, and how to check it.
    page.y = footer_top;
    page.bottom = HEIGHT;
    page.paragraph(8.0, &footer_hashes, 0.0);
    page.paragraph(8.0, t.get("report_footer"), 0.0);
    page.svg.push_str("</svg>");
    page.svg
}

/// The report as PDF.
pub fn pdf(svg: &str) -> AppResult<Vec<u8>> {
    let options = resvg::usvg::Options {
        fontdb: super::images::fonts(),
        ..Default::default()
    };
    let tree = resvg::usvg::Tree::from_str(svg, &options).map_err(AppError::internal)?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions::default(),
    )
    .map_err(|e| AppError::internal(format!("{e:?}")))
}

/// The report of an assessment, for the firm itself or a regulator, as PDF bytes.
pub async fn for_assessment(
    state: &super::AppState,
    caller: &crate::service::accounts::Caller,
    lang: Lang,
    id: i64,
) -> AppResult<Vec<u8>> {
    let data = crate::service::report::data(&state.db, &state.caches, caller, id).await?;
    let today = crate::service::records::today().to_string();
    let svg = svg(lang, &data, &state.config.public_url, &today);
    // Drawing and converting is CPU work: keep it off the async threads.
    tokio::task::spawn_blocking(move || pdf(&svg))
        .await
        .map_err(AppError::internal)?
}

/// The headers of a PDF download.
pub fn headers(id: i64) -> [(axum::http::HeaderName, String); 2] {
    [
        (
            axum::http::header::CONTENT_TYPE,
            "application/pdf".to_owned(),
        ),
        (
            axum::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"gec-report-{id}.pdf\""),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn english_breaks_between_words_and_chinese_between_characters() {
        let text = "The general industrial solid waste utilisation rate is measured against the industry benchmark and its leading value.";
        let lines = wrap(text, 10.0, 200.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(!line.starts_with(' ') && !line.ends_with(' '), "{line:?}");
        }
        assert_eq!(lines.join(" "), text, "no word is cut in two");
        let zh = wrap(
            "万元工业增加值能耗为行业基准的百分之九十五，一般工业固体废物综合利用率高于行业基准。",
            10.0,
            100.0,
        );
        assert!(
            zh.iter()
                .all(|l| !l.starts_with('，') && !l.starts_with('。')),
            "{zh:?}"
        );
        assert_eq!(
            zh.concat(),
            "万元工业增加值能耗为行业基准的百分之九十五，一般工业固体废物综合利用率高于行业基准。"
        );
        // Only a word wider than the line is broken inside.
        let long = wrap("x ABCDEFGHIJKLMNOPQRSTUVWXYZ", 10.0, 60.0);
        assert!(long.iter().all(|l| l.chars().count() <= 8), "{long:?}");
        assert_eq!(
            long.concat().replace(' ', ""),
            "xABCDEFGHIJKLMNOPQRSTUVWXYZ"
        );
    }
}
