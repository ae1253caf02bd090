//! Reminder marks in the Supabase store (see [`crate::store::ReminderMarks`]). Taking a mark is a
//! conditional PATCH on the step's time; the `leads_follow_up_rules` trigger clears the mark when
//! the step changes (migrations/20261207140000_reminders.sql). Each check is one call of
//! `public.reminder_check` (migrations/20261207210000_due_checks.sql).

use async_trait::async_trait;
use serde_json::json;

use super::PostgrestStore;
use super::query::timestamp;
use crate::store::{ReminderCheck, ReminderMarks, ReminderQuery, StoreError};

const CHECK_FUNCTION: &str = "reminder_check";

#[async_trait]
impl ReminderMarks for PostgrestStore {
    async fn reminder_check(&self, query: &ReminderQuery) -> Result<ReminderCheck, StoreError> {
        let args = json!({
            "due_after": timestamp(query.due_after),
            "due_before": timestamp(query.due_before),
            "due_limit": query.due_limit,
            "marked_after": timestamp(query.marked_after),
            "marked_limit": query.marked_limit,
        });
        self.call(self.client.rpc(CHECK_FUNCTION, args.to_string()))
            .await?
            .json()
    }
}
