//! Reminder marks: a follow-up is announced once when it falls due, whichever replica notices.
//! The mark ("this step's reminder was taken at") lives on the lead and is taken by a conditional
//! update on the step's time, so a step that was moved, cleared or done in the meantime is never
//! announced, and a new step gets a new reminder. Marks are taken through
//! [`crate::writer::LeadWriter`]; the reads are [`ReminderMarks`], held by
//! [`crate::reminders::Reminders`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use serde::Deserialize;

use super::StoreError;

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
    /// Leads not erased whose next step is due after `due_after` and at or before `due_before`,
    /// and whose reminder was not taken; soonest due first, at most `limit`.
    async fn due_for_reminder(
        &self,
        due_after: DateTime<Utc>,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Lead>, StoreError>;

    /// Leads whose reminder was taken after `since`, by any server, and whose step is still the
    /// one reminded of; oldest mark first, at most `limit`.
    async fn reminded_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminded>, StoreError>;
}
