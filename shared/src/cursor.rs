use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Position in the stream of lead changes: the `updated_at` and `id` of the last change seen.
///
/// Clients treat it as an opaque string (`GET /api/leads?since=<cursor>`); ordering by both
/// fields means two changes sharing a timestamp are never skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    pub updated_at_micros: i64,
    pub id: i64,
}

impl Cursor {
    /// The position before every change.
    pub const START: Cursor = Cursor {
        updated_at_micros: 0,
        id: 0,
    };

    pub fn new(updated_at: DateTime<Utc>, id: i64) -> Self {
        Cursor {
            updated_at_micros: updated_at.timestamp_micros(),
            id,
        }
    }

    pub fn updated_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.updated_at_micros).unwrap_or_default()
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.updated_at_micros, self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor \"{0}\": pass back the `cursor` value of an earlier /api/leads response")]
pub struct InvalidCursor(pub String);

impl FromStr for Cursor {
    type Err = InvalidCursor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidCursor(s.chars().take(64).collect());
        let (micros, id) = s.split_once('.').ok_or_else(invalid)?;
        let updated_at_micros = micros.parse().map_err(|_| invalid())?;
        let id = id.parse().map_err(|_| invalid())?;
        if updated_at_micros < 0 || id < 0 {
            return Err(invalid());
        }
        Ok(Cursor {
            updated_at_micros,
            id,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_text() {
        let cursor = Cursor {
            updated_at_micros: 1_700_000_000_123_456,
            id: 42,
        };
        let text = cursor.to_string();
        assert_eq!(text, "1700000000123456.42");
        assert_eq!(text.parse::<Cursor>().unwrap(), cursor);
    }

    #[test]
    fn orders_by_time_then_id() {
        let a = Cursor {
            updated_at_micros: 5,
            id: 9,
        };
        let b = Cursor {
            updated_at_micros: 5,
            id: 10,
        };
        let c = Cursor {
            updated_at_micros: 6,
            id: 1,
        };
        assert!(a < b && b < c);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "1.", ".1", "1.2.3", "-1.2", "1.-2"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?} should be rejected");
        }
    }
}
