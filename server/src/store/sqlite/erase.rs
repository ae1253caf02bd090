//! Erasure in the SQLite store (see [`crate::store::erase`]).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use leadhook_shared::{ActivityKind, Lead};
use rusqlite::{OptionalExtension, params};

use super::history::{self, Change};
use super::rows::{micros, time_from};
use super::{SqliteStore, internal, lead_by_id};
use crate::store::{ERASE_BATCH, Erasure, ErasureTargets, Person, StoreError};

/// Adds `erased_at`, lets activity rows be of kind `erase`, and adds the marker row the daily
/// retention run is taken on.
pub(super) const MIGRATION: &str = concat!(
    "ALTER TABLE leads ADD COLUMN erased_at INTEGER;",
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase'"
    ),
    r#"
    CREATE TABLE retention_run (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        last_run_at INTEGER
    );
    INSERT INTO retention_run (id, last_run_at) VALUES (1, NULL);
"#
);

/// Rebuilds `activity` with `$kinds` (SQL literals) as the kinds its CHECK allows, and the CAPI
/// trigger `$trigger` (by default the first one: see `capi.rs`). SQLite cannot
/// change a CHECK, so the table is rebuilt with every row and the CAPI trigger on it recreated.
/// With foreign keys on, dropping the old `activity` deletes the `capi_events` rows that reference
/// it (ON DELETE CASCADE), so they are kept aside and put back under the same ids.
/// A rebuild after [`super::insights::STAGES_MIGRATION`] and [`super::outbox::MIGRATION`] must
/// create their triggers again (the stage trigger, which keeps each lead's reached stages, and
/// the outbox's queue trigger, which replaces the CAPI trigger of the default: since
/// [`super::event_kinds::MIGRATION`], the one in `event_kinds.rs`).
macro_rules! activity_with_kinds {
    ($kinds:literal) => {
        activity_with_kinds!($kinds, $crate::store::sqlite::capi::queue_stage_trigger!())
    };
    ($kinds:literal, $trigger:expr) => {
        concat!(
            r#"
    CREATE TABLE activity_rebuilt (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        lead_id  INTEGER NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
        at       INTEGER NOT NULL,
        actor    TEXT NOT NULL,
        kind     TEXT NOT NULL CHECK (kind IN ("#,
            $kinds,
            r#")),
        old      TEXT,
        new      TEXT
    );
    INSERT INTO activity_rebuilt (id, lead_id, at, actor, kind, old, new)
        SELECT id, lead_id, at, actor, kind, old, new FROM activity;
    CREATE TEMP TABLE capi_events_kept AS SELECT * FROM capi_events;
    DROP TABLE activity;
    ALTER TABLE activity_rebuilt RENAME TO activity;
    CREATE INDEX activity_by_lead ON activity (lead_id, id);
    CREATE INDEX IF NOT EXISTS activity_erasures ON activity (actor, at) WHERE kind = 'erase';
    INSERT INTO capi_events SELECT * FROM capi_events_kept WHERE true
        ON CONFLICT (id) DO NOTHING;
    DROP TABLE capi_events_kept;
"#,
            $trigger
        )
    };
}
pub(super) use activity_with_kinds;

/// Indexes an admin's erasures by time, for the API's erasure limit (rebuilding `activity` with
/// [`activity_with_kinds`] keeps it).
pub(super) const ERASURES_INDEX_MIGRATION: &str =
    "CREATE INDEX IF NOT EXISTS activity_erasures ON activity (actor, at) WHERE kind = 'erase';";

/// When `actor` erased leads after `since`, oldest first, at most `limit`.
pub(super) fn erasures_since(
    conn: &rusqlite::Connection,
    actor: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT at FROM activity WHERE kind = 'erase' AND actor = ?1 AND at > ?2
             ORDER BY at LIMIT ?3",
        )
        .map_err(internal)?;
    let times = statement
        .query_map(params![actor, micros(since), limit], |row| {
            row.get(0).map(time_from)
        })
        .map_err(internal)?
        .collect::<Result<_, _>>()
        .map_err(internal)?;
    Ok(times)
}

#[async_trait]
impl Erasure for SqliteStore {
    async fn erase(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Option<Lead>, StoreError> {
        let actor = actor.to_string();
        let reason = reason.map(str::to_string);
        self.changing(id, None, move |tx, before, now| {
            if before.erased_at.is_some() {
                return Ok(Some(before));
            }
            // The person's links go with their data; the lead's repeats stay one person.
            super::people::detach(tx, &before, &actor, now, false)?;
            tx.execute(
                "UPDATE leads SET name = NULL, email = NULL, phone = NULL, phone_e164 = NULL, phone_invalid = 0,
                        email_key = NULL, junk_reason = NULL, repeat_of = NULL, repeat_via = NULL,
                        fields = '{}', notes = NULL,
                    next_step_at = NULL, next_step_what = NULL,
                    search_text = '', erased_at = ?2, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(internal)?;
            tx.execute(
                "UPDATE activity SET old = NULL, new = NULL WHERE lead_id = ?1",
                [id],
            )
            .map_err(internal)?;
            history::record(tx, id, now, &actor, Change::new(ActivityKind::Erase, None, reason))?;
            lead_by_id(tx, id)
        })
        .await
    }
}

#[async_trait]
impl ErasureTargets for SqliteStore {
    async fn leads_of(&self, person: &Person) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT id FROM leads WHERE {} = ?1 AND erased_at IS NULL ORDER BY id LIMIT {ERASE_BATCH}",
            person.column()
        );
        let value = person.value().to_string();
        self.with(move |inner| {
            let mut statement = inner.conn.prepare(&sql).map_err(internal)?;
            let ids = statement
                .query_map([value], |row| row.get(0))
                .map_err(internal)?
                .collect::<Result<Vec<i64>, _>>()
                .map_err(internal)?;
            Ok(ids)
        })
        .await
    }

    async fn older_than(&self, cutoff: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
        self.with(move |inner| {
            let mut statement = inner
                .conn
                .prepare_cached(&format!(
                    "SELECT id FROM leads WHERE created_at < ?1 AND erased_at IS NULL
                     ORDER BY created_at, id LIMIT {ERASE_BATCH}"
                ))
                .map_err(internal)?;
            let ids = statement
                .query_map([micros(cutoff)], |row| row.get(0))
                .map_err(internal)?
                .collect::<Result<Vec<i64>, _>>()
                .map_err(internal)?;
            Ok(ids)
        })
        .await
    }

    async fn take_retention_run(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let day_before = micros(now - Duration::days(1));
        let now = micros(now);
        self.with(move |inner| {
            let taken: Option<i64> = inner
                .conn
                .query_row(
                    "UPDATE retention_run SET last_run_at = ?1
                     WHERE id = 1 AND (last_run_at IS NULL OR last_run_at <= ?2) RETURNING id",
                    params![now, day_before],
                    |row| row.get(0),
                )
                .optional()
                .map_err(internal)?;
            Ok(taken.is_some())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use leadhook_shared::NewManualLead;

    use super::*;
    use crate::store::{LeadWrites, Routing};

    /// Erased bytes do not linger in free space of the database file or in its WAL.
    #[tokio::test]
    async fn an_erased_name_is_gone_from_the_file_and_its_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leads.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let name = "Zebulon Quixotic-Erasable";
        let lead = NewManualLead {
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            name: name.into(),
            email: Some("zebulon.quixotic@example.org".into()),
            phone: None,
            status: None,
            notes: Some(format!("call {name} back on Tuesday")),
        };
        let lead = store
            .create_manual(&lead, "alice", Routing::UNOWNED)
            .await
            .unwrap();
        store.erase(lead.id, "alice", None).await.unwrap();
        let checkpoint = rusqlite::Connection::open(&path).unwrap();
        checkpoint
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();

        for file in ["leads.db", "leads.db-wal"] {
            let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
            let found = bytes
                .windows(name.len())
                .any(|window| window == name.as_bytes());
            assert!(!found, "the erased name is still in {file}");
        }
    }
}
