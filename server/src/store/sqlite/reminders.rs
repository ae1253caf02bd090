//! Reminder marks in the SQLite store (see [`crate::store::ReminderMarks`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use rusqlite::params;

use super::rows::{SELECT_LEADS, lead_from_row, micros, time_from};
use super::{SqliteStore, internal};
use crate::store::{Reminded, ReminderMarks, StoreError};

/// Adds the reminder mark to leads and the time zone to reps.
pub(super) const MIGRATION: &str = r#"
    ALTER TABLE leads ADD COLUMN reminded_at INTEGER;
    CREATE INDEX leads_reminded ON leads (reminded_at) WHERE reminded_at IS NOT NULL;
    ALTER TABLE reps ADD COLUMN time_zone TEXT;
"#;

#[async_trait]
impl ReminderMarks for SqliteStore {
    async fn due_for_reminder(
        &self,
        due_after: DateTime<Utc>,
        due_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Lead>, StoreError> {
        self.with(move |inner| {
            let mut statement = inner
                .conn
                .prepare_cached(&format!(
                    "{SELECT_LEADS} WHERE next_step_at > ?1 AND next_step_at <= ?2
                       AND reminded_at IS NULL AND erased_at IS NULL
                     ORDER BY next_step_at, id LIMIT ?3"
                ))
                .map_err(internal)?;
            let leads = statement
                .query_map(
                    params![micros(due_after), micros(due_before), limit],
                    lead_from_row,
                )
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(leads)
        })
        .await
    }

    async fn reminded_since(
        &self,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Reminded>, StoreError> {
        self.with(move |inner| {
            let mut statement = inner
                .conn
                .prepare_cached(&format!(
                    "{SELECT_LEADS} WHERE reminded_at > ?1 AND next_step_at IS NOT NULL
                       AND erased_at IS NULL
                     ORDER BY reminded_at, id LIMIT ?2"
                ))
                .map_err(internal)?;
            let reminded = statement
                .query_map(params![micros(since), limit], |row| {
                    Ok(Reminded {
                        lead: lead_from_row(row)?,
                        at: time_from(row.get("reminded_at")?),
                    })
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            Ok(reminded)
        })
        .await
    }
}
