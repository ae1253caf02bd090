//! Which history rows the outbox queues as which event, in the SQLite store: the table
//! `outbox_event_kinds`, filled from [`EventType::activity_kinds`] at every start and read by the
//! queue trigger, so a new event type changes no SQL. One server owns the file (the data dir's
//! lock), so its build's mapping is the one in force.

use rusqlite::{Connection, params};

use super::erase::activity_with_kinds;
use super::insights::{stage_bit, stage_trigger};
use super::internal;
use crate::store::{EventType, StoreError};

/// The mapping table; `activity` rebuilt to allow `reminded` (the reminder mark's history row),
/// with its triggers made again: the queue trigger now reads the table.
pub(super) const MIGRATION: &str = concat!(
    r#"
    CREATE TABLE outbox_event_kinds (
        kind       TEXT PRIMARY KEY,
        event_type TEXT NOT NULL
    ) WITHOUT ROWID;
"#,
    activity_with_kinds!(
        "'stored','redelivered','status','notes','claim','release','assign','erase','exported','next_step','attempt','linked','submitted_again','unlinked','junk_cleared','escalated','reminded'",
        concat!(stage_trigger!(), queue_trigger!())
    )
);

/// The trigger that queues deliveries: to `capi` (while its switch is on) the `stored` and
/// `status` rows of a lead from Meta, with its stage (`Junk` for a junk lead as stored); to every
/// routed destination the rows whose kind `outbox_event_kinds` maps to an event type it takes.
/// A macro, so a later migration that rebuilds `activity` can recreate it.
macro_rules! queue_trigger {
    () => {
        r#"
    CREATE TRIGGER outbox_queue AFTER INSERT ON activity
    WHEN NEW.kind IN (SELECT kind FROM outbox_event_kinds)
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
                SELECT o.destination, o.event_type
                  FROM outbox_routes AS o
                  JOIN outbox_event_kinds AS k ON k.event_type = o.event_type
                 WHERE k.kind = NEW.kind) AS r
         WHERE l.id = NEW.lead_id AND (r.destination <> 'capi' OR l.leadgen_id IS NOT NULL);
    END;
"#
    };
}
pub(super) use queue_trigger;

/// Writes this build's mapping over the table's.
pub(super) fn fill(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(internal)?;
    tx.execute("DELETE FROM outbox_event_kinds", [])
        .map_err(internal)?;
    for (kind, event) in EventType::by_activity_kind() {
        tx.execute(
            "INSERT INTO outbox_event_kinds (kind, event_type) VALUES (?1, ?2)",
            params![kind.as_str(), event.as_str()],
        )
        .map_err(internal)?;
    }
    tx.commit().map_err(internal)
}
