//! RFC 8785 JSON Canonicalization Scheme, for the values this service hashes (traces and log
//! entries): objects, arrays, strings, booleans, null and integers. Keys are sorted by their
//! UTF-16 code units; strings are escaped minimally. Non-integer numbers would need the
//! ECMAScript number form and are refused, since no hashed document contains one.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCanonicalisable(pub String);

impl std::fmt::Display for NotCanonicalisable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot canonicalise the number {}", self.0)
    }
}

impl std::error::Error for NotCanonicalisable {}

/// A member of an object written directly in canonical form (see [`object`]).
pub enum Member {
    Str(String),
    Int(i64),
    Null,
    /// Bytes already canonical: a nested object or array.
    Raw(Vec<u8>),
}

/// An object of ASCII keys written in canonical form without building a `Value`: members
/// sorted by key (for ASCII keys the bytes' order is the UTF-16 order RFC 8785 asks for).
pub fn object(mut members: Vec<(&'static str, Member)>) -> Vec<u8> {
    debug_assert!(members.iter().all(|(k, _)| k.is_ascii()));
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::with_capacity(64 * members.len());
    out.push(b'{');
    for (i, (key, member)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(key, &mut out);
        out.push(b':');
        match member {
            Member::Str(s) => write_string(&s, &mut out),
            Member::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Member::Null => out.extend_from_slice(b"null"),
            Member::Raw(bytes) => out.extend_from_slice(&bytes),
        }
    }
    out.push(b'}');
    out
}

/// An array of canonical items.
pub fn array(items: Vec<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(Vec::len).sum::<usize>() + items.len() + 2);
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&item);
    }
    out.push(b']');
    out
}

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, NotCanonicalisable> {
    let mut out = Vec::with_capacity(512);
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), NotCanonicalisable> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            // Integers up to 2^53 are written as ECMAScript writes them; beyond, an ECMAScript
            // number is no longer the integer written, so the value is refused.
            let text = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) if i.unsigned_abs() <= 1 << 53 => i.to_string(),
                (None, Some(u)) if u <= 1 << 53 => u.to_string(),
                _ => return Err(NotCanonicalisable(n.to_string())),
            };
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A JSON string as RFC 8785 writes it (minimal escapes).
pub fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        String::from_utf8(to_vec(&value).unwrap()).unwrap()
    }

    #[test]
    fn sorts_keys_by_utf16_code_units() {
        // U+FB33 sorts after U+1D11E (a surrogate pair, 0xD834…) in UTF-16, not in UTF-8.
        let value = json!({"\u{fb33}": 1, "\u{1d11e}": 2, "b": [true, false, null], "a": "x"});
        assert_eq!(
            canonical(value),
            "{\"a\":\"x\",\"b\":[true,false,null],\"\u{1d11e}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn escapes_minimally() {
        let value = json!("\u{1}\u{1f}\"\\/\n\t绿€");
        assert_eq!(canonical(value), "\"\\u0001\\u001f\\\"\\\\/\\n\\t绿€\"");
    }

    #[test]
    fn writes_integers_and_refuses_fractions() {
        assert_eq!(
            canonical(json!([0, -1, 2025, 9007199254740992u64])),
            "[0,-1,2025,9007199254740992]"
        );
        let minus_zero: Value = serde_json::from_str("-0").unwrap();
        assert_eq!(canonical(minus_zero), "0");
        let fraction: Value = serde_json::from_str("1.5").unwrap();
        assert!(to_vec(&fraction).is_err());
        let huge: Value = serde_json::from_str("18446744073709551615").unwrap();
        assert!(to_vec(&huge).is_err());
    }
}
