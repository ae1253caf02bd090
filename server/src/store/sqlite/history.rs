//! The activity history in the SQLite store: one row per change, written in the transaction of
//! the change it records, and read back oldest first.

use leadhook_shared::{Activity, ActivityKind};
use rusqlite::{Connection, params};

use super::internal;
use super::rows::time_from;
use crate::store::StoreError;

/// One activity row before it is written: what changed, from what to what.
pub(super) struct Change {
    kind: ActivityKind,
    old: Option<String>,
    new: Option<String>,
}

impl Change {
    pub(super) fn new(kind: ActivityKind, old: Option<String>, new: Option<String>) -> Change {
        Change { kind, old, new }
    }
}

/// The activity rows matching `condition` (with its `parameters`), oldest first.
pub(super) fn activity_where(
    conn: &Connection,
    condition: &str,
    parameters: impl rusqlite::Params,
) -> Result<Vec<Activity>, StoreError> {
    let mut statement = conn
        .prepare_cached(&format!(
            "SELECT id, lead_id, at, actor, kind, old, new FROM activity
             WHERE {condition} ORDER BY id"
        ))
        .map_err(internal)?;
    let rows = statement
        .query_map(parameters, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })
        .map_err(internal)?;
    let mut history = Vec::new();
    for row in rows {
        let (id, lead_id, at, actor, kind, old, new) = row.map_err(internal)?;
        history.push(Activity {
            id,
            lead_id,
            at: time_from(at),
            actor,
            kind: ActivityKind::read(&kind),
            old,
            new,
        });
    }
    Ok(history)
}

/// Writes an activity row; call it inside the transaction of the change it records.
pub(super) fn record(
    conn: &Connection,
    lead_id: i64,
    at: i64,
    actor: &str,
    change: Change,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO activity (lead_id, at, actor, kind, old, new) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut insert| {
        insert.execute(params![
            lead_id,
            at,
            actor,
            change.kind.as_str(),
            change.old,
            change.new
        ])
    })
    .map_err(internal)?;
    Ok(())
}
