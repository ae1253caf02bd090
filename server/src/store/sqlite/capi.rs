//! The Conversions API outbox in the SQLite store. A trigger on `activity` queues each stage of
//! a Facebook lead in the transaction that records it, whichever write path made the change.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

use super::rows::{micros, time_from};
use super::{SqliteStore, internal};
use crate::store::capi::{RECENT_FAILURES, event_id, short_reason};
use crate::store::{CapiFigures, CapiOutbox, FailedStage, QueuedStage, StoreError};

/// `capi_switch` says whether stages are queued (off until a server starts with CAPI on);
/// `capi_events` holds them: `queued` (due at `not_before`, which a claim pushes out as its
/// lease), `sent`, or `failed` with the reason.
pub(super) const MIGRATION: &str = concat!(
    r#"
    CREATE TABLE capi_switch (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        enabled INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO capi_switch (id, enabled) VALUES (1, 0);
    CREATE TABLE capi_events (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        activity_id     INTEGER NOT NULL UNIQUE REFERENCES activity (id) ON DELETE CASCADE,
        lead_id         INTEGER NOT NULL,
        leadgen_id      TEXT NOT NULL,
        stage           TEXT NOT NULL,
        at              INTEGER NOT NULL,
        lead_created_at INTEGER NOT NULL,
        state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
        not_before      INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        reason          TEXT,
        done_at         INTEGER
    );
    CREATE INDEX capi_events_due ON capi_events (state, not_before, id);
    CREATE INDEX capi_events_done ON capi_events (state, done_at);
"#,
    queue_stage_trigger!()
);

/// The trigger that queues a stage for each `stored` or `status` activity row of a Facebook lead;
/// a literal, so the migration that rebuilds `activity` (see `erase.rs`) creates the same one.
/// Without an argument the stage is the status, as first written; migrations from
/// [`super::people::MIGRATION`] on pass the junk-aware stage as `$stage`, so a junk lead
/// is stored as the stage `Junk` ([`crate::capi::JUNK_STAGE`]).
macro_rules! queue_stage_trigger {
    () => {
        $crate::store::sqlite::capi::queue_stage_trigger!(
            "CASE WHEN NEW.kind = 'status' THEN NEW.new ELSE l.status END"
        )
    };
    ($stage:literal) => {
        concat!(
            r#"
    CREATE TRIGGER capi_queue_stage AFTER INSERT ON activity
    WHEN NEW.kind IN ('stored', 'status') AND (SELECT enabled FROM capi_switch) = 1
    BEGIN
        INSERT INTO capi_events (activity_id, lead_id, leadgen_id, stage, at, lead_created_at)
        SELECT NEW.id, l.id, l.leadgen_id,
               "#,
            $stage,
            r#", NEW.at, l.created_at
          FROM leads AS l WHERE l.id = NEW.lead_id AND l.leadgen_id IS NOT NULL;
    END;
"#
        )
    };
}
pub(super) use queue_stage_trigger;

fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

fn later_micros(after: Duration) -> i64 {
    now_micros().saturating_add(i64::try_from(after.as_micros()).unwrap_or(i64::MAX))
}

impl SqliteStore {
    /// Applies `set` (with its `values`) to the stages `ids` that are still queued.
    async fn settle(
        &self,
        ids: &[i64],
        set: &'static str,
        values: Vec<Value>,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids = ids.to_vec();
        self.with(move |inner| {
            let sql = format!(
                "UPDATE capi_events SET {set} WHERE state = 'queued' AND id IN ({})",
                vec!["?"; ids.len()].join(", ")
            );
            let mut values = values;
            values.extend(ids.into_iter().map(Value::from));
            inner
                .conn
                .execute(&sql, params_from_iter(values))
                .map_err(internal)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl CapiOutbox for SqliteStore {
    async fn capi_switch(
        &self,
        enabled: bool,
        backfill_since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            let was: bool = tx
                .query_row("SELECT enabled FROM capi_switch", [], |row| row.get(0))
                .map_err(internal)?;
            tx.execute("UPDATE capi_switch SET enabled = ?1", [enabled])
                .map_err(internal)?;
            let backfilled = if enabled && !was {
                tx.execute(
                    "INSERT INTO capi_events (activity_id, lead_id, leadgen_id, stage, at, lead_created_at)
                     SELECT a.id, l.id, l.leadgen_id,
                            CASE WHEN a.kind = 'status' THEN a.new ELSE 'New Lead' END, a.at, l.created_at
                       FROM activity AS a JOIN leads AS l ON l.id = a.lead_id
                      WHERE a.kind IN ('stored', 'status') AND a.at >= ?1 AND l.leadgen_id IS NOT NULL
                      ORDER BY a.id
                     ON CONFLICT (activity_id) DO NOTHING",
                    [micros(backfill_since)],
                )
                .map_err(internal)?
            } else {
                0
            };
            tx.commit().map_err(internal)?;
            Ok(backfilled as u64)
        })
        .await
    }

    async fn capi_claim(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<QueuedStage>, StoreError> {
        self.with(move |inner| {
            let now = now_micros();
            let tx = inner.conn.transaction().map_err(internal)?;
            let claimed = {
                let mut statement = tx
                    .prepare_cached(
                        "UPDATE capi_events SET not_before = ?1, attempts = attempts + 1
                          WHERE id IN (SELECT id FROM capi_events
                                        WHERE state = 'queued' AND not_before <= ?2
                                        ORDER BY id LIMIT ?3)
                         RETURNING id, lead_id, activity_id, leadgen_id, stage, at, lead_created_at",
                    )
                    .map_err(internal)?;
                statement
                    .query_map(params![later_micros(lease), now, limit], |row| {
                        Ok(QueuedStage {
                            id: row.get(0)?,
                            event_id: event_id(row.get(1)?, row.get(2)?),
                            leadgen_id: row.get(3)?,
                            stage: row.get(4)?,
                            at: time_from(row.get(5)?),
                            lead_created_at: time_from(row.get(6)?),
                        })
                    })
                    .map_err(internal)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(internal)?
            };
            tx.commit().map_err(internal)?;
            let mut claimed = claimed;
            claimed.sort_by_key(|stage| stage.id);
            Ok(claimed)
        })
        .await
    }

    async fn capi_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.settle(
            ids,
            "state = 'sent', reason = NULL, done_at = ?",
            vec![now_micros().into()],
        )
        .await
    }

    async fn capi_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(
            &[id],
            "state = 'failed', reason = ?, done_at = ?",
            vec![short_reason(reason).into(), now_micros().into()],
        )
        .await
    }

    async fn capi_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(
            ids,
            "not_before = ?, reason = ?",
            vec![later_micros(after).into(), short_reason(reason).into()],
        )
        .await
    }

    async fn capi_figures(&self, today_start: DateTime<Utc>) -> Result<CapiFigures, StoreError> {
        self.with(move |inner| {
            let conn = &inner.conn;
            let (queued, retrying, sent_today, failed, last_success): (
                i64,
                i64,
                i64,
                i64,
                Option<i64>,
            ) = conn
                .query_row(
                    "SELECT COUNT(*) FILTER (WHERE state = 'queued'),
                            COUNT(*) FILTER (WHERE state = 'queued' AND reason IS NOT NULL),
                            COUNT(*) FILTER (WHERE state = 'sent' AND done_at >= ?1),
                            COUNT(*) FILTER (WHERE state = 'failed'),
                            MAX(done_at) FILTER (WHERE state = 'sent')
                       FROM capi_events",
                    [micros(today_start)],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .map_err(internal)?;
            let retry_reason: Option<String> = conn
                .query_row(
                    "SELECT reason FROM capi_events WHERE state = 'queued' AND reason IS NOT NULL
                     ORDER BY not_before DESC LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .ok();
            let mut statement = conn
                .prepare_cached(
                    "SELECT lead_id, activity_id, stage, reason, done_at FROM capi_events
                      WHERE state = 'failed' ORDER BY done_at DESC, id DESC LIMIT ?1",
                )
                .map_err(internal)?;
            let recent_failures = statement
                .query_map([RECENT_FAILURES], |row| {
                    Ok(FailedStage {
                        event_id: event_id(row.get(0)?, row.get(1)?),
                        stage: row.get(2)?,
                        reason: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                        failed_at: time_from(row.get(4)?),
                    })
                })
                .map_err(internal)?
                .collect::<Result<_, _>>()
                .map_err(internal)?;
            let count = |n: i64| n.max(0) as u64;
            Ok(CapiFigures {
                queued: count(queued),
                retrying: count(retrying),
                retry_reason,
                sent_today: count(sent_today),
                failed: count(failed),
                recent_failures,
                last_success_at: last_success.map(time_from),
            })
        })
        .await
    }
}
