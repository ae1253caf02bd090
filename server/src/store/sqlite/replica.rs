//! Leases and sweep positions in the SQLite file. One server owns the file (the data-dir lock
//! sees to that), so the leases are always its own; they are kept so that the sweeper runs the
//! same code on every backend.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::DateTime;
use rusqlite::{OptionalExtension, params};

use super::rows::micros;
use super::{SqliteStore, internal};
use crate::store::StoreError;
use crate::store::replica::{LeaseCondition, LeaseRow, LeaseUpdate, Leases, SweepPositions};

/// The schema of this module, appended to the store's migrations.
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT,
        expires_at INTEGER NOT NULL
    );
    CREATE TABLE sweep_positions (
        form_id           TEXT PRIMARY KEY,
        newest_created_at INTEGER NOT NULL
    );
"#;

/// Creates the lease, or overwrites it when the `WHERE` after it holds.
const UPSERT_LEASE: &str = "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at";

#[async_trait]
impl Leases for SqliteStore {
    async fn update_lease(
        &self,
        name: &str,
        condition: LeaseCondition<'_>,
        update: LeaseUpdate<'_>,
    ) -> Result<bool, StoreError> {
        let (name, holder, expires_at) = (
            name.to_string(),
            update.holder.map(str::to_string),
            micros(update.expires_at),
        );
        let (sql, condition_values): (String, Vec<rusqlite::types::Value>) = match condition {
            LeaseCondition::Expired { now } => (
                format!("{UPSERT_LEASE} WHERE leases.expires_at < ?4"),
                vec![micros(now).into()],
            ),
            LeaseCondition::Free { holder, now } => (
                format!(
                    "{UPSERT_LEASE} WHERE leases.holder IS NULL OR leases.holder = ?4 \
                     OR leases.expires_at < ?5"
                ),
                vec![holder.to_string().into(), micros(now).into()],
            ),
            LeaseCondition::HeldBy { holder } => (
                "UPDATE leases SET holder = ?2, expires_at = ?3 WHERE name = ?1 AND holder = ?4"
                    .to_string(),
                vec![holder.to_string().into()],
            ),
        };
        self.with(move |inner| {
            let mut values: Vec<rusqlite::types::Value> =
                vec![name.into(), holder.into(), expires_at.into()];
            values.extend(condition_values);
            let changed = inner
                .conn
                .execute(&sql, rusqlite::params_from_iter(values))
                .map_err(internal)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError> {
        let name = name.to_string();
        self.with(move |inner| {
            inner
                .conn
                .query_row(
                    "SELECT name, holder, expires_at FROM leases WHERE name = ?1",
                    [&name],
                    |row| {
                        Ok(LeaseRow {
                            name: row.get(0)?,
                            holder: row.get(1)?,
                            expires_at: DateTime::from_timestamp_micros(row.get(2)?)
                                .unwrap_or_default(),
                        })
                    },
                )
                .optional()
                .map_err(internal)
        })
        .await
    }
}

#[async_trait]
impl SweepPositions for SqliteStore {
    async fn sweep_positions(&self) -> Result<HashMap<String, i64>, StoreError> {
        self.with(|inner| {
            let mut statement = inner
                .conn
                .prepare("SELECT form_id, newest_created_at FROM sweep_positions")
                .map_err(internal)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(internal)?;
            rows.collect::<Result<_, _>>().map_err(internal)
        })
        .await
    }

    async fn save_sweep_position(&self, form_id: &str, newest: i64) -> Result<(), StoreError> {
        let form_id = form_id.to_string();
        self.with(move |inner| {
            inner
                .conn
                .execute(
                    "INSERT INTO sweep_positions (form_id, newest_created_at) VALUES (?1, ?2)
                     ON CONFLICT (form_id) DO UPDATE SET newest_created_at = excluded.newest_created_at",
                    params![form_id, newest],
                )
                .map_err(internal)?;
            Ok(())
        })
        .await
    }
}
