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
        Some(RawId::Float(f)) if f.fract() == 0.0 && f >= 0.0 => format!("{f:.0}"),
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
