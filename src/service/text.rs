//! Free text that people type (names, notes, reasons), checked once at the boundary: trimmed,
//! within its length, and free of the bidirectional controls (U+202A–U+202E, U+2066–U+2069
//! and the invisible marks U+200E, U+200F, U+061C) that make a text display in another order than it is stored — a firm name
//! that reads one way and sorts, searches and prints another ("Trojan Source").

use crate::error::{AppError, AppResult};

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

fn checked(field: &str, value: &str, max: usize, one_line: bool) -> AppResult<String> {
    let text = value.trim();
    let what = if one_line {
        ", no control characters"
    } else {
        ""
    };
    if text.is_empty()
        || text.chars().count() > max
        || (one_line && text.chars().any(char::is_control))
    {
        return Err(AppError::field_fault(
            crate::grading::Fault::Range,
            field,
            format!("must be 1 to {max} characters{what}"),
        ));
    }
    if text.chars().any(is_bidi_control) {
        return Err(AppError::field_fault(
            crate::grading::Fault::Characters,
            field,
            "must not contain bidirectional control characters \
             (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C)",
        ));
    }
    Ok(text.to_owned())
}

/// A one-line text (a name, a number, an issuer): 1 to `max` characters, no control characters.
pub fn line(field: &str, value: &str, max: usize) -> AppResult<String> {
    checked(field, value, max, true)
}

/// A note or a reason: 1 to `max` characters; line breaks allowed.
pub fn note(field: &str, value: &str, max: usize) -> AppResult<String> {
    checked(field, value, max, false)
}

/// An optional note: absent or blank is none.
pub fn optional_note(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => note(field, text, max).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_controls_are_refused_with_the_field() {
        for c in [
            '\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            let err = line("name", &format!("重庆{c}公司"), 200).unwrap_err();
            assert!(matches!(err, AppError::Validation { ref field, .. } if field == "name"));
            assert!(note("reason", &format!("a{c}b"), 100).is_err());
        }
        assert_eq!(line("name", " 重庆某公司 ", 200).unwrap(), "重庆某公司");
        assert!(note("note", "第一行\n第二行", 100).is_ok());
        assert!(line("name", "a\nb", 100).is_err());
        assert_eq!(optional_note("note", Some("  "), 10).unwrap(), None);
    }
}
