//! Routing in the SQLite store: the owner of a new lead is decided in the transaction that inserts
//! it (see [`crate::store::Routing`]). The store's one connection serialises these transactions,
//! so two new leads never take the same turn.

use leadhook_shared::team::actor::SYSTEM;
use leadhook_shared::{ActivityKind, Lead};
use rusqlite::{Connection, params};

use super::internal;
use super::queue::{owned_by, set_owner};
use crate::store::{Routing, StoreError};

/// Gives `lead`, inserted at `now` in the transaction `conn` holds, the owner `routing` decides,
/// recorded as assigned by the system; the lead as it is then.
pub(super) fn route_new(
    conn: &Connection,
    lead: Lead,
    routing: Routing<'_>,
    now: i64,
) -> Result<Lead, StoreError> {
    let Some(reps) = routing.turns() else {
        return Ok(lead);
    };
    let Some(owner) = next_in_turn(conn, reps, now)? else {
        tracing::warn!(
            id = lead.id,
            "every rep is away: the new lead stays unowned"
        );
        return Ok(lead);
    };
    set_owner(conn, &lead, Some(&owner), ActivityKind::Assign, SYSTEM, now)?;
    Ok(owned_by(lead, Some(owner), now))
}

/// The available rep of `reps` assigned least recently (never assigned first, then in the order
/// given), whose turn is then taken at `now`; `None` when everyone is away.
fn next_in_turn(
    conn: &Connection,
    reps: &[String],
    now: i64,
) -> Result<Option<String>, StoreError> {
    let mut turns = Vec::with_capacity(reps.len());
    for (position, rep) in reps.iter().enumerate() {
        let (available, last_assigned): (bool, Option<i64>) = conn
            .prepare_cached(
                "INSERT INTO reps (name) VALUES (?1)
                 ON CONFLICT (name) DO UPDATE SET name = excluded.name
                 RETURNING available, last_assigned_at",
            )
            .and_then(|mut statement| {
                statement.query_row([rep], |row| Ok((row.get(0)?, row.get(1)?)))
            })
            .map_err(internal)?;
        if available {
            turns.push((last_assigned, position, rep));
        }
    }
    let Some((_, _, next)) = turns.into_iter().min() else {
        return Ok(None);
    };
    conn.prepare_cached("UPDATE reps SET last_assigned_at = ?2 WHERE name = ?1")
        .and_then(|mut update| update.execute(params![next, now]))
        .map_err(internal)?;
    Ok(Some(next.clone()))
}
