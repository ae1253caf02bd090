//! Meta sends IDs as strings in real deliveries and as numbers in its documentation samples.

use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Text(String),
    Int(u64),
    Float(f64),
}

/// An optional ID given as a string or a number; missing, empty and `0` (organic and test leads) become `None`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let raw = Option::<RawId>::deserialize(deserializer)?;
    let text = match raw {
        None => return Ok(None),
        Some(RawId::Text(text)) => text.trim().to_string(),
        Some(RawId::Int(n)) => n.to_string(),
        // Large IDs in a JSON number lose precision in most encoders; keep what we got rather than fail.
        // `-0` arrives here too (serde_json reads it as a float): `abs` makes it the `0` of "no ID".
        Some(RawId::Float(f)) if f.fract() == 0.0 && f >= 0.0 => format!("{:.0}", f.abs()),
        Some(RawId::Float(f)) => {
            return Err(serde::de::Error::custom(format!(
                "ID {f} is not a whole number"
            )));
        }
    };
    Ok(match text.as_str() {
        "" | "0" => None,
        _ => Some(text),
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "super::deserialize")]
        id: Option<String>,
    }

    fn id(json: &str) -> Option<String> {
        serde_json::from_str::<Holder>(json).unwrap().id
    }

    #[test]
    fn strings_and_numbers_give_the_same_id() {
        assert_eq!(
            id(r#"{"id":"444444444444"}"#).as_deref(),
            Some("444444444444")
        );
        assert_eq!(
            id(r#"{"id":444444444444}"#).as_deref(),
            Some("444444444444")
        );
        assert_eq!(
            id(r#"{"id":444444444444.0}"#).as_deref(),
            Some("444444444444")
        );
        assert_eq!(id(r#"{"id":" 12 "}"#).as_deref(), Some("12"));
    }

    /// Found while reviewing the ID parsing for the fuzz targets: JSON `-0` is a float to serde_json, and `format!("{:.0}", -0.0)` is
    /// `"-0"`, so it slipped past the "0 means no ID" rule as an ID of its own.
    #[test]
    fn every_spelling_of_zero_is_no_id() {
        for json in [
            r#"{"id":0}"#,
            r#"{"id":"0"}"#,
            r#"{"id":0.0}"#,
            r#"{"id":-0}"#,
            r#"{"id":-0.0}"#,
            r#"{"id":""}"#,
            r#"{"id":null}"#,
            r#"{}"#,
        ] {
            assert_eq!(id(json), None, "{json}");
        }
    }

    #[test]
    fn fractional_and_negative_numbers_are_errors() {
        assert!(serde_json::from_str::<Holder>(r#"{"id":1.5}"#).is_err());
        assert!(serde_json::from_str::<Holder>(r#"{"id":-3}"#).is_err());
    }
}
