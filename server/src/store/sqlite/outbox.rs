//! The outbox in the SQLite store (see [`crate::store::outbox`]): the Conversions API's queue,
//! `capi_events`, generalised to every destination (its name kept, as on Supabase, where
//! renaming it would break re-running the earlier migration files). The trigger `outbox_queue`
//! on `activity` queues one delivery per destination that takes the event, in the transaction of
//! the change.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{DeliveryState, LeadDelivery};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter};

use super::rows::{micros, time_from};
use super::{SqliteStore, internal};
use crate::store::outbox::{RECENT_FAILURES, short_reason};
use crate::store::{Delivery, DeliveryFigures, FailedDelivery, Outbox, Route, StoreError};

/// Rebuilds `capi_events` as the outbox (its rows become deliveries to `capi`, same ids; a
/// destination and event type per row, `leadgen_id` optional, one delivery per activity row and
/// destination), adds the route table and replaces the CAPI trigger with one for every destination.
pub(super) const MIGRATION: &str = concat!(
    r#"
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
        state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
        not_before      INTEGER NOT NULL DEFAULT 0,
        attempts        INTEGER NOT NULL DEFAULT 0,
        reason          TEXT,
        done_at         INTEGER,
        UNIQUE (activity_id, destination)
    );
    INSERT INTO outbox_rebuilt (id, destination, event_type, activity_id, lead_id, leadgen_id, stage, at,
                        lead_created_at, queued_at, state, not_before, attempts, reason, done_at)
        SELECT e.id, 'capi',
               CASE WHEN a.kind = 'status' THEN 'lead.status_changed' ELSE 'lead.created' END,
               e.activity_id, e.lead_id, e.leadgen_id, e.stage, e.at, e.lead_created_at, e.at,
               e.state, e.not_before, e.attempts, e.reason, e.done_at
          FROM capi_events AS e LEFT JOIN activity AS a ON a.id = e.activity_id;
    DROP TRIGGER capi_queue_stage;
    DROP TABLE capi_events;
    ALTER TABLE outbox_rebuilt RENAME TO capi_events;
    CREATE INDEX outbox_due ON capi_events (destination, state, not_before, id);
    CREATE INDEX outbox_done ON capi_events (destination, state, done_at);
    CREATE TABLE outbox_routes (
        destination TEXT NOT NULL CHECK (destination <> 'capi'),
        event_type  TEXT NOT NULL,
        PRIMARY KEY (destination, event_type)
    );
"#,
    queue_trigger_by_case!()
);

/// The queue trigger as these migrations and [`super::paging::MIGRATION`] made it, with the
/// event types of the first four kinds spelled in a CASE. Kept as they ran; since
/// [`super::event_kinds::MIGRATION`] the trigger reads the mapping from a table.
macro_rules! queue_trigger_by_case {
    () => {
        r#"
    CREATE TRIGGER outbox_queue AFTER INSERT ON activity
    WHEN NEW.kind IN ('stored', 'status', 'claim', 'assign', 'escalated')
    BEGIN
        INSERT INTO capi_events (destination, event_type, activity_id, lead_id, leadgen_id, stage, at,
                            lead_created_at, queued_at)
        SELECT r.destination, r.event_type, NEW.id, l.id, l.leadgen_id,
               CASE WHEN NEW.kind = 'status' THEN COALESCE(NEW.new, l.status)
                    WHEN r.destination = 'capi' AND l.junk_reason IS NOT NULL
                         AND l.junk_cleared_at IS NULL THEN 'Junk'
                    ELSE l.status END,
               NEW.at, l.created_at, NEW.at
          FROM leads AS l,
               (SELECT 'capi' AS destination,
                       CASE NEW.kind WHEN 'stored' THEN 'lead.created'
                                     ELSE 'lead.status_changed' END AS event_type
                 WHERE NEW.kind IN ('stored', 'status')
                   AND (SELECT enabled FROM capi_switch) = 1
                UNION ALL
                SELECT destination, event_type FROM outbox_routes
                 WHERE event_type = CASE NEW.kind WHEN 'stored' THEN 'lead.created'
                                                  WHEN 'status' THEN 'lead.status_changed'
                                                  WHEN 'claim' THEN 'lead.assigned'
                                                  WHEN 'assign' THEN 'lead.assigned'
                                                  WHEN 'escalated' THEN 'lead.escalated' END) AS r
         WHERE l.id = NEW.lead_id AND (r.destination <> 'capi' OR l.leadgen_id IS NOT NULL);
    END;
"#
    };
}
pub(super) use queue_trigger_by_case;

fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

fn later_micros(after: Duration) -> i64 {
    now_micros().saturating_add(i64::try_from(after.as_micros()).unwrap_or(i64::MAX))
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

impl SqliteStore {
    /// Applies `set` (with its `values`) to the deliveries `ids` that are still queued.
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

/// A lead's deliveries, read one index step per lead for its details. A migration that rebuilds
/// `capi_events` drops it: it must create it again.
pub(super) const BY_LEAD_MIGRATION: &str =
    "CREATE INDEX IF NOT EXISTS outbox_by_lead ON capi_events (lead_id, id);";

#[async_trait]
impl Outbox for SqliteStore {
    async fn outbox_routes(&self, routes: &[Route]) -> Result<(), StoreError> {
        let routes = routes.to_vec();
        self.with(move |inner| {
            let tx = inner.conn.transaction().map_err(internal)?;
            tx.execute("DELETE FROM outbox_routes", [])
                .map_err(internal)?;
            for route in &routes {
                tx.execute(
                    "INSERT INTO outbox_routes (destination, event_type) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                    params![route.destination, route.event_type.as_str()],
                )
                .map_err(internal)?;
            }
            tx.commit().map_err(internal)
        })
        .await
    }

    /// One server owns a SQLite store: its routes are the routes.
    async fn outbox_hold_routes(
        &self,
        _holder: &str,
        routes: &[Route],
        _hold_for: Duration,
        _first: bool,
    ) -> Result<(), StoreError> {
        self.outbox_routes(routes).await
    }

    async fn outbox_claim(
        &self,
        destination: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let destination = destination.to_string();
        self.with(move |inner| {
            let now = now_micros();
            let tx = inner.conn.transaction().map_err(internal)?;
            let mut claimed = {
                let mut statement = tx
                    .prepare_cached(
                        "UPDATE capi_events SET not_before = ?1, attempts = attempts + 1
                          WHERE id IN (SELECT id FROM capi_events
                                        WHERE destination = ?4 AND state = 'queued'
                                          AND not_before <= ?2
                                        ORDER BY id LIMIT ?3)
                         RETURNING id, destination, event_type, lead_id, activity_id, leadgen_id,
                                   stage, at, lead_created_at, queued_at, attempts",
                    )
                    .map_err(internal)?;
                statement
                    .query_map(
                        params![later_micros(lease), now, limit, destination],
                        |row| {
                            Ok(Delivery {
                                id: row.get(0)?,
                                destination: row.get(1)?,
                                event_type: row.get(2)?,
                                lead_id: row.get(3)?,
                                activity_id: row.get(4)?,
                                leadgen_id: row.get(5)?,
                                stage: row.get(6)?,
                                at: time_from(row.get(7)?),
                                lead_created_at: time_from(row.get(8)?),
                                queued_at: time_from(row.get(9)?),
                                attempts: row.get(10)?,
                            })
                        },
                    )
                    .map_err(internal)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(internal)?
            };
            tx.commit().map_err(internal)?;
            claimed.sort_by_key(|delivery| delivery.id);
            Ok(claimed)
        })
        .await
    }

    async fn outbox_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.settle(
            ids,
            "state = 'sent', reason = NULL, done_at = ?",
            vec![now_micros().into()],
        )
        .await
    }

    async fn outbox_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(
            &[id],
            "state = 'failed', reason = ?, done_at = ?",
            vec![short_reason(reason).into(), now_micros().into()],
        )
        .await
    }

    async fn outbox_hold(&self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        self.settle(
            &[id],
            "not_before = ?, queued_at = ?, attempts = MAX(attempts - 1, 0), reason = NULL",
            vec![micros(until).into(), micros(until).into()],
        )
        .await
    }

    async fn outbox_drop(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(
            &[id],
            "state = 'dropped', reason = ?, done_at = ?",
            vec![short_reason(reason).into(), now_micros().into()],
        )
        .await
    }

    async fn outbox_retry(
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

    async fn outbox_of_lead(
        &self,
        lead_id: i64,
        limit: u32,
    ) -> Result<Vec<LeadDelivery>, StoreError> {
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT destination, event_type, state, attempts, reason, queued_at, done_at
                       FROM capi_events WHERE lead_id = ?1 ORDER BY id DESC LIMIT ?2",
                )
                .map_err(internal)?;
            statement
                .query_map(params![lead_id, limit], |row| {
                    Ok(LeadDelivery {
                        destination: row.get(0)?,
                        event_type: row.get(1)?,
                        state: DeliveryState::read(&row.get::<_, String>(2)?),
                        attempts: row.get(3)?,
                        reason: row.get(4)?,
                        queued_at: time_from(row.get(5)?),
                        done_at: row.get::<_, Option<i64>>(6)?.map(time_from),
                    })
                })
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)
        })
        .await
    }

    async fn outbox_figures(
        &self,
        today_start: DateTime<Utc>,
    ) -> Result<BTreeMap<String, DeliveryFigures>, StoreError> {
        self.with(move |inner| {
            let conn = &inner.conn;
            let mut figures = BTreeMap::new();
            let mut counts = conn
                .prepare_cached(
                    "SELECT destination,
                            COUNT(*) FILTER (WHERE state = 'queued'),
                            COUNT(*) FILTER (WHERE state = 'queued' AND reason IS NOT NULL),
                            COUNT(*) FILTER (WHERE state = 'sent' AND done_at >= ?1),
                            COUNT(*) FILTER (WHERE state = 'failed'),
                            MAX(done_at) FILTER (WHERE state = 'sent')
                       FROM capi_events GROUP BY destination",
                )
                .map_err(internal)?;
            let rows = counts
                .query_map([micros(today_start)], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        DeliveryFigures {
                            queued: count(row.get(1)?),
                            retrying: count(row.get(2)?),
                            sent_today: count(row.get(3)?),
                            failed: count(row.get(4)?),
                            last_success_at: row.get::<_, Option<i64>>(5)?.map(time_from),
                            ..DeliveryFigures::default()
                        },
                    ))
                })
                .map_err(internal)?;
            for row in rows {
                let (destination, one) = row.map_err(internal)?;
                figures.insert(destination, one);
            }
            let mut reasons = conn
                .prepare_cached(
                    "SELECT reason FROM capi_events
                      WHERE destination = ?1 AND state = 'queued' AND reason IS NOT NULL
                      ORDER BY not_before DESC LIMIT 1",
                )
                .map_err(internal)?;
            let mut failures = conn
                .prepare_cached(
                    "SELECT id, lead_id, activity_id, stage, reason, done_at FROM capi_events
                      WHERE destination = ?1 AND state = 'failed'
                      ORDER BY done_at DESC, id DESC LIMIT ?2",
                )
                .map_err(internal)?;
            for (destination, one) in figures.iter_mut() {
                one.retry_reason = reasons.query_row([destination], |row| row.get(0)).ok();
                one.recent_failures = failures
                    .query_map(params![destination, RECENT_FAILURES], |row| {
                        Ok(FailedDelivery {
                            delivery_id: row.get(0)?,
                            lead_id: row.get(1)?,
                            activity_id: row.get(2)?,
                            stage: row.get(3)?,
                            reason: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
                            failed_at: time_from(row.get(5)?),
                        })
                    })
                    .map_err(internal)?
                    .collect::<Result<_, _>>()
                    .map_err(internal)?;
            }
            Ok(figures)
        })
        .await
    }
}
