//! Reminder marks: a follow-up is announced once when it falls due, whichever replica notices.
//! The mark ("this step's reminder was taken at") lives on the lead and is taken by a conditional
//! update on the step's time, so a step that was moved, cleared or done in the meantime is never
//! announced, and a new step gets a new reminder. Marks are taken through
//! [`crate::writer::LeadWriter`]; the reads are [`ReminderMarks`], held by
//! [`crate::reminders::Reminders`], in one request per check.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use serde::Deserialize;

use super::StoreError;

/// What one reminder check asks the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderQuery {
    /// Steps due at or before this are not reminded of any more (the horizon).
    pub due_after: DateTime<Utc>,
    /// Steps due at or before this are due.
    pub due_before: DateTime<Utc>,
    /// Most steps due returned; the rest follow at the next check.
    pub due_limit: u32,
    /// Reminders taken after this, by any server, are returned to be announced.
    pub marked_after: DateTime<Utc>,
    /// Most reminders taken returned.
    pub marked_limit: u32,
}

/// What one reminder check reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ReminderCheck {
    /// Leads not erased whose next step is due and whose reminder was not taken; soonest due
    /// first.
    pub due: Vec<Lead>,
    /// Leads whose reminder was taken after `marked_after` and whose step is still the one
    /// reminded of; oldest mark first.
    pub marked: Vec<Reminded>,
}

/// A lead whose next step's reminder was taken, and when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reminded {
    #[serde(flatten)]
    pub lead: Lead,
    #[serde(rename = "reminded_at")]
    pub at: DateTime<Utc>,
}

#[async_trait]
pub trait ReminderMarks: Send + Sync {
    /// The steps due and the reminders taken recently, in one read.
    async fn reminder_check(&self, query: &ReminderQuery) -> Result<ReminderCheck, StoreError>;
}
