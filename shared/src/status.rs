use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a lead stands in the sales process. The wire form is the human label ("New Lead").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub enum LeadStatus {
    #[default]
    #[serde(rename = "New Lead")]
    NewLead,
    Contacted,
    Qualified,
    Unqualified,
    Won,
    Lost,
}

impl LeadStatus {
    /// Every status, in the order reps walk through them (and the order of the TUI's 1–6 keys).
    pub const ALL: [LeadStatus; 6] = [
        LeadStatus::NewLead,
        LeadStatus::Contacted,
        LeadStatus::Qualified,
        LeadStatus::Unqualified,
        LeadStatus::Won,
        LeadStatus::Lost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::NewLead => "New Lead",
            LeadStatus::Contacted => "Contacted",
            LeadStatus::Qualified => "Qualified",
            LeadStatus::Unqualified => "Unqualified",
            LeadStatus::Won => "Won",
            LeadStatus::Lost => "Lost",
        }
    }

    /// `Won`, `Lost` and `Unqualified`: the lead needs no more work, so no next step.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            LeadStatus::Won | LeadStatus::Lost | LeadStatus::Unqualified
        )
    }

    /// The allowed labels joined for error messages: `"New Lead", "Contacted", ...`.
    pub fn allowed_list() -> String {
        Self::ALL
            .iter()
            .map(|s| format!("\"{}\"", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status \"{0}\"; allowed: {list}", list = LeadStatus::allowed_list())]
pub struct UnknownStatus(pub String);

impl FromStr for LeadStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LeadStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_json_and_from_str() {
        for status in LeadStatus::ALL {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
            assert_eq!(serde_json::from_str::<LeadStatus>(&json).unwrap(), status);
            assert_eq!(status.as_str().parse::<LeadStatus>().unwrap(), status);
        }
    }

    #[test]
    fn unknown_status_names_the_allowed_ones() {
        let err = "Hot".parse::<LeadStatus>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown status \"Hot\"; allowed: \"New Lead\", \"Contacted\", \"Qualified\", \"Unqualified\", \"Won\", \"Lost\""
        );
    }
}
