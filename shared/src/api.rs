//! Envelopes of the `/api` responses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cursor::Cursor;
use crate::lead::Lead;
use crate::status::LeadStatus;
use crate::team::{RepStats, SpeedToLeadStats, Waiting};

/// `{"success": true, "data": ...}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiOk<T> {
    pub success: bool,
    pub data: T,
}

impl<T> ApiOk<T> {
    pub fn new(data: T) -> Self {
        ApiOk {
            success: true,
            data,
        }
    }
}

/// `GET /api/leads`: one page of leads, the number matching, and the cursor to poll from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiList {
    pub success: bool,
    pub data: Vec<Lead>,
    pub count: u64,
    pub cursor: Cursor,
}

/// `{"success": false, "error": {"code": ..., "message": ...}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub success: bool,
    pub error: ApiErrorBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub code: String,
    pub message: String,
}

/// `GET /api/stats`
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub total: u64,
    pub today: u64,
    pub last_7_days: u64,
    pub by_status: BTreeMap<LeadStatus, u64>,
    pub by_form: Vec<FormCount>,
    /// Leads still `New Lead`, and the oldest's age.
    #[serde(default)]
    pub waiting: Waiting,
    #[serde(default)]
    pub speed_to_lead: SpeedToLeadStats,
    /// Every rep of `LEADHOOK_API_TOKENS`, in the order given there.
    #[serde(default)]
    pub per_rep: Vec<RepStats>,
    /// Call attempts and how many people they reached.
    #[serde(default)]
    pub follow_ups: crate::FollowUpStats,
    /// The same periods counted in people: a person's repeat submissions count once, junk not
    /// at all. `total`, `today` and `last_7_days` above count every submission.
    #[serde(default)]
    pub people: PeopleStats,
}

/// People behind the leads, and the junk set aside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleStats {
    pub total: u64,
    pub today: u64,
    pub last_7_days: u64,
    /// Leads flagged junk and not cleared (not counted among the people).
    pub junk: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormCount {
    pub form_id: Option<String>,
    pub form_name: Option<String>,
    pub count: u64,
}

/// `POST /api/leads/sync`: what one sweep of the Graph API did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub forms: u64,
    pub fetched: u64,
    pub inserted: u64,
    pub duration_ms: u64,
    pub errors: Vec<String>,
}
