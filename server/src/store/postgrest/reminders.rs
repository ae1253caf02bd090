//! Reminder marks in the Supabase store (see [`crate::store::ReminderMarks`]). Taking a mark is a
//! conditional PATCH on the step's time; the `leads_follow_up_rules` trigger clears the mark when
//! the step changes (migrations/20261207140000_reminders.sql).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;

use super::PostgrestStore;
use super::query::timestamp;
use super::queue::first_rows;
use crate::store::{Reminded, ReminderMarks, StoreError};

#[async_trait]
impl ReminderMarks for PostgrestStore {
    async fn due_for_reminder(
        &self,
        due_after: DateTime<Utc>,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Lead>, StoreError> {
        let due = self
            .table()
            .gt("next_step_at", timestamp(due_after))
            .lte("next_step_at", timestamp(due_before))
            .is("reminded_at", "null")
            .is("erased_at", "null");
        self.call(first_rows(due, "next_step_at.asc,id.asc", limit))
            .await?
            .json()
    }

    async fn reminded_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminded>, StoreError> {
        let reminded = self
            .table()
            .gt("reminded_at", timestamp(since))
            .not("is", "next_step_at", "null")
            .is("erased_at", "null");
        self.call(first_rows(reminded, "reminded_at.asc,id.asc", limit))
            .await?
            .json()
    }
}
