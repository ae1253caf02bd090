//! The Conversions API's switch in the SQLite store. Its stages are deliveries of the outbox
//! (`outbox.rs`), which generalised its first queue; that queue's migration and trigger stay
//! here, as the migrations before the outbox's ran them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::rows::micros;
use super::{SqliteStore, internal};
use crate::store::{CapiOutbox, StoreError};

/// `capi_switch` says whether stages are queued (off until a server starts with CAPI on);
/// `capi_events` holds them (the outbox since [`super::outbox::MIGRATION`]): `queued` (due at `not_before`, which a claim pushes out as its
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
                    "INSERT INTO capi_events (destination, event_type, activity_id, lead_id, leadgen_id,
                                         stage, at, lead_created_at, queued_at)
                     SELECT 'capi',
                            CASE WHEN a.kind = 'status' THEN 'lead.status_changed' ELSE 'lead.created' END,
                            a.id, l.id, l.leadgen_id,
                            CASE WHEN a.kind = 'status' THEN a.new ELSE 'New Lead' END, a.at,
                            l.created_at, ?2
                       FROM activity AS a JOIN leads AS l ON l.id = a.lead_id
                      WHERE a.kind IN ('stored', 'status') AND a.at >= ?1 AND l.leadgen_id IS NOT NULL
                      ORDER BY a.id
                     ON CONFLICT (activity_id, destination) DO NOTHING",
                    [micros(backfill_since), Utc::now().timestamp_micros()],
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
}
