//! JSON the way Meta writes it: every non-ASCII character escaped as `\uXXXX` (lowercase hex,
//! UTF-16 surrogate pairs above U+FFFF). Webhook signatures cover these exact bytes, so a receiver
//! that re-serialises the parsed JSON computes a different HMAC.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Compact JSON with non-ASCII characters escaped, as in Meta's webhook bodies and Graph API answers.
pub fn to_ascii_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::new();
    value.serialize(&mut Serializer::with_formatter(&mut out, AsciiFormatter))?;
    Ok(out)
}

/// Compact JSON, escaping non-ASCII characters when `escape_non_ascii` is set.
pub fn to_vec<T: Serialize + ?Sized>(
    value: &T,
    escape_non_ascii: bool,
) -> serde_json::Result<Vec<u8>> {
    if escape_non_ascii {
        to_ascii_vec(value)
    } else {
        serde_json::to_vec(value)
    }
}

/// serde_json's compact layout (the trait's defaults) with non-ASCII characters escaped.
struct AsciiFormatter;

impl Formatter for AsciiFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut ascii_start = 0;
        for (index, character) in fragment.char_indices() {
            if character.is_ascii() {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[ascii_start..index])?;
            let mut units = [0u16; 2];
            for unit in character.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            ascii_start = index + character.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[ascii_start..])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn escapes_non_ascii_like_meta() {
        let body = to_ascii_vec(&json!({"name": "José Zoë Łukasz 😀", "plain": "a\"b"})).unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"name":"Jos\u00e9 Zo\u00eb \u0141ukasz \ud83d\ude00","plain":"a\"b"}"#
        );
    }

    #[test]
    fn round_trips_to_the_same_value() {
        let value = json!({"city": "Düsseldorf", "ids": [1, "2"], "note": "Søren\nØdegaard"});
        let body = to_ascii_vec(&value).unwrap();
        assert!(body.is_ascii());
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            value
        );
        assert_eq!(
            to_vec(&value, false).unwrap(),
            serde_json::to_vec(&value).unwrap()
        );
    }
}
