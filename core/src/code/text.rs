//! token.md §2: the code's text form: RFC 4648 base32 (upper case, no padding) after `/C/`,
//! read case-insensitively and strictly, so that each code has exactly one text form.

use data_encoding::BASE32_NOPAD;

/// The longest code text accepted (a code is about 180 bytes, 290 characters).
pub const MAX_CODE_CHARS: usize = 2048;

pub fn encode(cose: &[u8]) -> String {
    BASE32_NOPAD.encode(cose)
}

/// The URL in the QR: `upper(public_base_url) + "/C/" + base32`.
pub fn url(public_base_url: &str, cose: &[u8]) -> String {
    format!(
        "{}/C/{}",
        public_base_url.to_ascii_uppercase(),
        encode(cose)
    )
}

/// Takes the code out of a URL (the text after the last `/C/` or `/c/`) or a bare code.
pub fn code_part(text: &str) -> &str {
    let text = text.trim();
    match (text.rfind("/C/"), text.rfind("/c/")) {
        (Some(a), Some(b)) => &text[a.max(b) + 3..],
        (Some(i), None) | (None, Some(i)) => &text[i + 3..],
        (None, None) => text,
    }
}

/// Decodes a code's base32 text: upper-cased first, then only `A–Z2–7`, no padding, a length
/// base32 can produce, and zero trailing bits.
pub fn decode(code: &str) -> Result<Vec<u8>, String> {
    if code.is_empty() {
        return Err("the code is empty".into());
    }
    if code.len() > MAX_CODE_CHARS {
        return Err("the code is too long".into());
    }
    let upper = code.to_ascii_uppercase();
    if let Some(bad) = upper.chars().find(|c| !matches!(c, 'A'..='Z' | '2'..='7')) {
        return Err(format!("character {bad:?} is not in the base32 alphabet"));
    }
    // BASE32_NOPAD refuses impossible lengths and non-zero trailing bits.
    BASE32_NOPAD
        .decode(upper.as_bytes())
        .map_err(|e| format!("not strict base32: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_base32() {
        assert_eq!(decode("MZXW6").unwrap(), b"foo");
        assert_eq!(decode("mzxw6").unwrap(), b"foo");
        assert!(decode("MZXW6===").is_err(), "padding");
        assert!(decode("MZXW7").is_err(), "non-zero trailing bits");
        assert!(decode("MZX").is_err(), "impossible length");
        assert!(decode("MZXW1").is_err(), "outside the alphabet");
        assert!(decode("").is_err());
    }

    #[test]
    fn finds_the_code_in_a_url() {
        assert_eq!(code_part("HTTP://127.0.0.1:8080/C/ABC"), "ABC");
        assert_eq!(code_part("https://x/c/abc"), "abc");
        assert_eq!(code_part("ABC"), "ABC");
        assert_eq!(code_part("https://x/C/y/C/Z"), "Z");
    }
}
