//! Paging in the SQLite store: a rep's ntfy topic and quiet hours (beside their availability
//! and time zone in `reps`), the outbox's `dropped` state, the `escalated` history kind that
//! queues `lead.escalated` (written by `take_escalation` in the mark's transaction), and the
//! used claim links.

use async_trait::async_trait;
use chrono::Utc;
use leadhook_shared::QuietHours;
use rusqlite::{OptionalExtension, params};

use super::erase::activity_with_kinds;
use super::insights::{stage_bit, stage_trigger};
use super::outbox::queue_trigger_by_case;
use super::rows::micros;
use super::{SqliteStore, internal};
use crate::store::{PagingReads, PagingWrites, RepPaging, StoreError};

/// The reps' paging columns; `capi_events` rebuilt to allow `dropped` (SQLite cannot change a
/// CHECK); `activity` rebuilt to allow `escalated`, with its triggers made again; and the claim
/// links used so far.
pub(super) const MIGRATION: &str = concat!(
    r#"
    ALTER TABLE reps ADD COLUMN ntfy_topic TEXT;
    ALTER TABLE reps ADD COLUMN quiet_start INTEGER;
    ALTER TABLE reps ADD COLUMN quiet_end INTEGER;
    DROP TRIGGER outbox_queue;
    CREATE TABLE outbox_rebuilt (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        destination     TEXT NOT NULL,
        event_type      TEXT NOT NULL,
        activity_id     INTEGER NOT NULL REFERENCES activity (id) ON DELETE CASCADE,
        lead_id         INTEGER NOT NULL,
        leadgen_id      TEXT,
        stage           TEXT NOT NULL,
        at              INTEGER NOT NULL,
        lead_created_at INTEGER NOT NULL,
        queued_at       INTEGER NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued'
                        CHECK (state IN ('queued', 'sent', 'failed', 'dropped')),
        not_before      INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        reason          TEXT,
        done_at         INTEGER,
        UNIQUE (activity_id, destination)
    );
    INSERT INTO outbox_rebuilt SELECT * FROM capi_events;
    DROP TABLE capi_events;
    ALTER TABLE outbox_rebuilt RENAME TO capi_events;
    CREATE INDEX outbox_due ON capi_events (destination, state, not_before, id);
    CREATE INDEX outbox_done ON capi_events (destination, state, done_at);
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt','linked','submitted_again','unlinked','junk_cleared','escalated'",
        concat!(stage_trigger!(), queue_trigger_by_case!())
    ),
    r#"
    CREATE TABLE claim_links (
        nonce   TEXT PRIMARY KEY,
        lead_id INTEGER NOT NULL,
        rep     TEXT NOT NULL,
        used_at INTEGER NOT NULL
    );
"#
);

#[async_trait]
impl PagingReads for SqliteStore {
    async fn rep_paging(&self, rep: &str) -> Result<RepPaging, StoreError> {
        let rep = rep.to_string();
        self.with(move |inner| {
            let row = inner
                .conn
                .query_row(
                    "SELECT available, time_zone, ntfy_topic, quiet_start, quiet_end
                       FROM reps WHERE name = ?1",
                    [rep],
                    |row| {
                        let quiet = match (row.get::<_, Option<i64>>(3)?, row.get(4)?) {
                            (Some(start), Some(end)) => QuietHours::from_minutes(start, end),
                            _ => None,
                        };
                        Ok(RepPaging {
                            available: row.get(0)?,
                            time_zone: row.get(1)?,
                            ntfy_topic: row.get(2)?,
                            quiet_hours: quiet,
                        })
                    },
                )
                .optional()
                .map_err(internal)?;
            Ok(row.unwrap_or_default())
        })
        .await
    }
}

#[async_trait]
impl PagingWrites for SqliteStore {
    async fn set_rep_paging(
        &self,
        rep: &str,
        ntfy_topic: Option<&str>,
        quiet_hours: Option<QuietHours>,
    ) -> Result<(), StoreError> {
        let (rep, topic) = (rep.to_string(), ntfy_topic.map(str::to_string));
        let (start, end) = quiet_hours.map(QuietHours::minutes).unzip();
        self.with(move |inner| {
            inner
                .conn
                .execute(
                    "INSERT INTO reps (name, ntfy_topic, quiet_start, quiet_end)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (name) DO UPDATE SET ntfy_topic = excluded.ntfy_topic,
                         quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end",
                    params![rep, topic, start, end],
                )
                .map_err(internal)?;
            Ok(())
        })
        .await
    }

    async fn use_claim_link(
        &self,
        nonce: &str,
        lead_id: i64,
        rep: &str,
    ) -> Result<bool, StoreError> {
        let (nonce, rep) = (nonce.to_string(), rep.to_string());
        self.with(move |inner| {
            let added = inner
                .conn
                .execute(
                    "INSERT INTO claim_links (nonce, lead_id, rep, used_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (nonce) DO NOTHING",
                    params![nonce, lead_id, rep, micros(Utc::now())],
                )
                .map_err(internal)?;
            Ok(added == 1)
        })
        .await
    }
}
