//! The regulator's year in words (动态管理): what the abnormal-data checks found, and where a
//! firm stands in its division and district.

use super::views::{district_name, grouped, signed};
use crate::web::i18n::{Lang, Texts};

/// A finding of the abnormal-data checks in words: "万元工业增加值能耗较 2024 年度变化 +41.2%（0.2100 →
/// 0.2965 吨标准煤/万元）".
pub fn abnormal_words(t: &Texts, f: &crate::service::abnormal::Finding) -> String {
    let carrier = f.carrier.as_deref().map_or_else(String::new, |c| {
        super::data_form::inputs()
            .iter()
            .find(|i| i.cell == c)
            .map_or_else(|| c.to_owned(), |i| super::data_form::label(t, i))
    });
    let pct = f.percent.as_deref().unwrap_or_default();
    t.get(&format!("abnormal_{}", f.check))
        .replace(
            "{prev}",
            &f.previous_period.map(|p| p.to_string()).unwrap_or_default(),
        )
        .replace(
            "{before}",
            &grouped(f.before.as_deref().unwrap_or_default()),
        )
        .replace("{now}", &grouped(f.now.as_deref().unwrap_or_default()))
        .replace(
            "{pct}",
            &if f.check == "intensity_floor" {
                format!("{pct}%")
            } else {
                format!("{}%", signed(pct))
            },
        )
        .replace("{carrier}", &carrier)
}

/// Where a firm stands, in words: "在汽车制造业 25 家持码企业中位列第 3，位于前 12%；在两江新区 40 家中位列第 5，位于前
/// 13%"; for regulators, also the band quotas would give.
pub fn standing_lines(
    t: &Texts,
    lang: Lang,
    st: &crate::service::standing::Standing,
    division: &str,
    with_quota: bool,
) -> Vec<String> {
    let mut out = vec![
        t.get("standing_words")
            .replace("{division}", division)
            .replace("{n_div}", &st.in_division.count.to_string())
            .replace("{rank_div}", &st.in_division.rank.to_string())
            .replace("{pct_div}", &st.in_division.top_percent.to_string())
            .replace("{district}", &district_name(lang, &st.district))
            .replace("{n_dis}", &st.in_district.count.to_string())
            .replace("{rank_dis}", &st.in_district.rank.to_string())
            .replace("{pct_dis}", &st.in_district.top_percent.to_string()),
    ];
    if with_quota {
        let band = match st.quota_band {
            crate::service::standing::QuotaBand::Top5 => "quota_top5",
            crate::service::standing::QuotaBand::Next35 => "quota_next35",
            crate::service::standing::QuotaBand::Rest => "quota_rest",
        };
        out.push(t.get("quota_words").replace("{band}", t.get(band)));
    }
    out
}
