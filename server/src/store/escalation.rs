//! Escalation marks: a lead still `New Lead` past a threshold is escalated once per threshold,
//! whichever replica notices. The mark ("escalated to level N at") lives on the lead and is taken
//! by a conditional update through [`crate::writer::LeadWriter`]; what the escalator reads is
//! [`EscalationMarks`], held by [`crate::escalation::Escalator`], in one request per check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use serde::Deserialize;

use super::StoreError;

/// What one escalation check asks the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationQuery {
    /// Leads submitted at or before this are not escalated any more (the horizon).
    pub created_after: DateTime<Utc>,
    /// One time per level, level 1 first: a lead submitted at or before it has waited past
    /// that level's threshold. Later levels have longer thresholds, so earlier times.
    pub due_before: Vec<DateTime<Utc>>,
    /// Most leads due returned; the rest follow at the next check.
    pub due_limit: u32,
    /// Marks taken after this, by any server, are returned to be announced.
    pub marked_after: DateTime<Utc>,
    /// Most marks returned.
    pub marked_limit: u32,
}

/// What one escalation check reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct EscalationCheck {
    /// Leads still `New Lead` and not junk, submitted after the horizon, that waited past a
    /// level they were not yet escalated to; oldest first.
    pub due: Vec<DueEscalation>,
    /// Leads whose latest mark was taken after `marked_after`; oldest mark first.
    pub marked: Vec<Escalated>,
}

/// A lead due for escalation, and the level: the longest threshold it waited past, so a lead
/// past several (the servers were down) is escalated once, for the longest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DueEscalation {
    #[serde(flatten)]
    pub lead: Lead,
    #[serde(rename = "due_level")]
    pub level: u8,
}

/// A lead with its latest escalation mark.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Escalated {
    #[serde(flatten)]
    pub lead: Lead,
    #[serde(rename = "escalated_level")]
    pub level: u8,
    #[serde(rename = "escalated_at")]
    pub at: DateTime<Utc>,
}

/// What the escalator reads. The marks are taken through the writer.
#[async_trait]
pub trait EscalationMarks: Send + Sync {
    /// The leads due and the marks taken recently, in one read.
    async fn escalation_check(
        &self,
        query: &EscalationQuery,
    ) -> Result<EscalationCheck, StoreError>;
}
