use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::status::LeadStatus;

/// One answer of a lead form: most questions have one value, multiple-choice ones can have several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

impl Answer {
    /// The answer as one line of text (several values joined with ", ").
    pub fn text(&self) -> String {
        match self {
            Answer::One(value) => value.clone(),
            Answer::Many(values) => values.join(", "),
        }
    }
}

/// A lead as the API serves it. Timestamps are RFC 3339 UTC on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub id: i64,
    /// Meta's lead id; `None` for leads a rep entered by hand.
    pub leadgen_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: LeadStatus,
    pub is_manual: bool,
    /// When the person submitted the form.
    pub created_at: DateTime<Utc>,
    /// When leadhook first stored the lead.
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub page_id: Option<String>,
    pub form_id: Option<String>,
    pub form_name: Option<String>,
    pub ad_id: Option<String>,
    pub ad_name: Option<String>,
    pub adset_id: Option<String>,
    pub adset_name: Option<String>,
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    pub platform: Option<String>,
    pub is_organic: bool,
    /// Every answer of the form, standard or custom, by question name.
    pub fields: BTreeMap<String, Answer>,
    pub notes: Option<String>,
}

impl Lead {
    /// The best short label for the lead: name, else email, else phone, else its id.
    pub fn display_name(&self) -> String {
        self.name
            .as_deref()
            .or(self.email.as_deref())
            .or(self.phone.as_deref())
            .map(str::to_string)
            .unwrap_or_else(|| format!("Lead #{}", self.id))
    }
}

/// Body of `PATCH /api/leads/{id}`: only the fields present change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LeadStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl LeadPatch {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && self.notes.is_none()
    }
}

/// Body of `POST /api/leads`: a lead a rep took by phone or in person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewManualLead {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<LeadStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}
