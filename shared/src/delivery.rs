//! Where a lead's events went beyond the terminal: one row per event and channel, as the
//! server's outbox keeps it (`GET /api/leads/{id}/deliveries`, the dashboard's details).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The outbox's destination name for Meta's Conversions API; no channel may take it.
pub const CAPI: &str = "capi";

/// One event of a lead on its way to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadDelivery {
    /// The channel's name in the channels file (`capi` for the Conversions API).
    pub destination: String,
    /// `lead.created`, `lead.assigned`, …
    pub event_type: String,
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed, the delivery was dead-lettered or dropped.
    pub reason: Option<String>,
    pub queued_at: DateTime<Utc>,
    /// When it was sent, dead-lettered or dropped.
    pub done_at: Option<DateTime<Utc>>,
}

impl LeadDelivery {
    /// The destination as the team calls it: the channel's name, or "Meta" for the Conversions
    /// API (as the status bar says).
    pub fn destination_label(&self) -> &str {
        if self.destination == CAPI {
            "Meta"
        } else {
            &self.destination
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting to be sent, perhaps after a failed attempt (see `reason`), or held.
    Queued,
    /// The receiver took it.
    Sent,
    /// Dead-lettered: never to be sent.
    Failed,
    /// Not sent on purpose (the page no longer applied).
    Dropped,
    /// A state this build does not know (a newer server's).
    #[serde(other)]
    Other,
}

impl DeliveryState {
    /// The state as the outbox spells it.
    pub fn read(state: &str) -> DeliveryState {
        match state {
            "queued" => DeliveryState::Queued,
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            "dropped" => DeliveryState::Dropped,
            _ => DeliveryState::Other,
        }
    }
}
