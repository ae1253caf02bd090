//! Routing in the SQLite store: the owner of a new lead is decided in the transaction that inserts
//! it, before its insert (see [`crate::store::Routing`] and `people::place_of`). The store's one connection serialises these transactions,
//! so two new leads never take the same turn.

use rusqlite::{Connection, params};

use super::internal;
use crate::store::{Routing, StoreError};

/// The owner placing a new lead gives it.
pub(super) enum Owner {
    /// None: not given out (junk, claim mode), or the lead has one already.
    Kept,
    /// Every rep in turn is away: the lead stays unowned (logged once it is stored).
    EveryoneAway,
    /// This rep, by turn or as the owner of the lead's person.
    Given(String),
}

/// The owner `routing` gives a new lead at `now`, its turn taken in the transaction `conn` holds.
pub(super) fn owner_in_turn(
    conn: &Connection,
    routing: Routing<'_>,
    now: i64,
) -> Result<Owner, StoreError> {
    let Some(reps) = routing.turns() else {
        return Ok(Owner::Kept);
    };
    Ok(match next_in_turn(conn, reps, now)? {
        Some(owner) => Owner::Given(owner),
        None => Owner::EveryoneAway,
    })
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
