//! Reminder marks in the SQLite store (see [`crate::store::ReminderMarks`]): the same answers as
//! `public.reminder_check` (migrations/20261207210000_due_checks.sql).

use async_trait::async_trait;
use rusqlite::params;

use super::rows::{SELECT_LEADS, lead_from_row, micros, time_from};
use super::{SqliteStore, internal};
use crate::store::{Reminded, ReminderCheck, ReminderMarks, ReminderQuery, StoreError};

/// Adds the reminder mark to leads and the time zone to reps.
pub(super) const MIGRATION: &str = r#"
    ALTER TABLE leads ADD COLUMN reminded_at INTEGER;
    CREATE INDEX leads_reminded ON leads (reminded_at) WHERE reminded_at IS NOT NULL;
    ALTER TABLE reps ADD COLUMN time_zone TEXT;
"#;

#[async_trait]
impl ReminderMarks for SqliteStore {
    async fn reminder_check(&self, query: &ReminderQuery) -> Result<ReminderCheck, StoreError> {
        let query = query.clone();
        self.with(move |inner| {
            let mut due = inner
                .conn
                .prepare_cached(&format!(
                    "{SELECT_LEADS} WHERE next_step_at > ?1 AND next_step_at <= ?2
                       AND reminded_at IS NULL AND erased_at IS NULL
                     ORDER BY next_step_at, id LIMIT ?3"
                ))
                .map_err(internal)?;
            let due = due
                .query_map(
                    params![
                        micros(query.due_after),
                        micros(query.due_before),
                        query.due_limit
                    ],
                    lead_from_row,
                )
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            let mut marked = inner
                .conn
                .prepare_cached(&format!(
                    "{SELECT_LEADS} WHERE reminded_at > ?1 AND next_step_at IS NOT NULL
                       AND erased_at IS NULL
                     ORDER BY reminded_at, id LIMIT ?2"
                ))
                .map_err(internal)?;
            let marked = marked
                .query_map(
                    params![micros(query.marked_after), query.marked_limit],
                    |row| {
                        Ok(Reminded {
                            lead: lead_from_row(row)?,
                            at: time_from(row.get("reminded_at")?),
                        })
                    },
                )
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(ReminderCheck { due, marked })
        })
        .await
    }
}
