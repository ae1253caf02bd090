//! Where a lead goes as it is stored, in the SQLite store: linked to the person of the newest
//! lead in the duplicate window with the same phone, else the same e-mail key (see
//! [`crate::store::people`]), and given its person's owner or a turn. A lead from Meta is placed
//! before its insert, so its row is written once with its link and owner.

use leadhook_shared::team::actor::SYSTEM;
use leadhook_shared::{ActivityKind, Lead};
use rusqlite::{Connection, OptionalExtension, params};

use super::history::{self, Change};
use super::internal;
use super::people::NOT_JUNK;
use super::queue::owned_by;
use super::route::{Owner, owner_in_turn};
use super::rows::{micros, time_from};
use crate::store::people::{linked_text, submitted_again_text, via};
use crate::store::{Routing, StoreError};

/// The id of a lead placed before its insert ([`place_of`]): no lead has it, nor links to it.
pub(super) const NOT_STORED: i64 = -1;

/// Where a lead goes as it is stored: the person it repeats, if any, and its owner.
pub(super) struct Place {
    person: Option<Match>,
    owner: Owner,
}

/// Where `lead` goes, stored at `now` or about to be (its id then [`NOT_STORED`]): junk stays
/// alone and unowned; a repeat joins its person (and the person's owner); anything else is routed
/// by `routing`, its turn taken in the transaction `conn` holds. Only an unowned lead is given an
/// owner.
pub(super) fn place_of(
    conn: &Connection,
    lead: &Lead,
    routing: Routing<'_>,
    now: i64,
) -> Result<Place, StoreError> {
    if lead.junk().is_some() {
        return Ok(Place {
            person: None,
            owner: Owner::Kept,
        });
    }
    let person = person_of(conn, lead, routing.repeat_window)?;
    let owner = match person.as_ref().and_then(|found| found.owner.clone()) {
        _ if lead.owner.is_some() => Owner::Kept,
        Some(owner) => Owner::Given(owner),
        None => owner_in_turn(conn, routing, now)?,
    };
    Ok(Place { person, owner })
}

impl Place {
    /// `lead` in this place at `now`, as its row then is.
    pub(super) fn on(&self, lead: Lead, now: i64) -> Lead {
        let lead = match &self.owner {
            Owner::Given(owner) => owned_by(lead, Some(owner.clone()), now),
            Owner::Kept | Owner::EveryoneAway => lead,
        };
        match &self.person {
            Some(found) => Lead {
                repeat_of: Some(found.person),
                updated_at: time_from(now),
                ..lead
            },
            None => lead,
        }
    }

    /// How the lead matched its person ([`via`]), if it is a repeat.
    pub(super) fn via(&self) -> Option<&'static str> {
        self.person.as_ref().map(|found| found.how)
    }

    /// Records the place of `lead` (stored, in it) at `now` in the histories, as Supabase does:
    /// the owner first, then the link.
    pub(super) fn record(
        &self,
        conn: &Connection,
        lead: &Lead,
        now: i64,
    ) -> Result<(), StoreError> {
        match &self.owner {
            Owner::Given(owner) => {
                let assign = Change::new(ActivityKind::Assign, None, Some(owner.clone()));
                history::record(conn, lead.id, now, SYSTEM, assign)?;
            }
            Owner::EveryoneAway => {
                tracing::warn!(
                    id = lead.id,
                    "every rep is away: the new lead stays unowned"
                );
            }
            Owner::Kept => {}
        }
        match &self.person {
            Some(found) => record_link(conn, lead, found, now),
            None => Ok(()),
        }
    }
}

/// Gives `lead`, stored at `now` in the transaction `conn` holds, its place ([`place_of`]) in one
/// update of its row. The lead as it is then. (A lead from Meta is placed before its insert.)
pub(super) fn place_new(
    conn: &Connection,
    lead: Lead,
    routing: Routing<'_>,
    now: i64,
) -> Result<Lead, StoreError> {
    let place = place_of(conn, &lead, routing, now)?;
    let lead = if place.person.is_some() || matches!(place.owner, Owner::Given(_)) {
        let lead = place.on(lead, now);
        conn.prepare_cached(
            "UPDATE leads SET owner = ?2, owned_at = ?3, repeat_of = ?4,
                repeat_via = COALESCE(?5, repeat_via), updated_at = ?6
             WHERE id = ?1",
        )
        .and_then(|mut update| {
            update.execute(params![
                lead.id,
                lead.owner,
                lead.owned_at.map(micros),
                lead.repeat_of,
                place.via(),
                now
            ])
        })
        .map_err(internal)?;
        lead
    } else {
        lead
    };
    place.record(conn, &lead, now)?;
    Ok(lead)
}

/// Links `lead`, stored before people were matched, to its person as [`place_new`] would, without
/// changing its owner.
pub(super) fn place_existing(
    conn: &Connection,
    lead: &Lead,
    window: chrono::Duration,
    now: i64,
) -> Result<(), StoreError> {
    let has_repeats = conn
        .prepare_cached("SELECT 1 FROM leads WHERE repeat_of = ?1 LIMIT 1")
        .and_then(|mut select| select.exists([lead.id]))
        .map_err(internal)?;
    // A person's first lead (merged by hand meanwhile) stays first: links are never chained.
    if lead.junk().is_some() || has_repeats {
        return Ok(());
    }
    match person_of(conn, lead, window)? {
        Some(found) => link(conn, lead, &found, now),
        None => Ok(()),
    }
}

/// An earlier lead of the same person.
struct Match {
    /// The person's first lead.
    person: i64,
    /// What matched ([`via`]).
    how: &'static str,
    /// Who works the person: the owner of the lead that matched, else of the person's first lead.
    owner: Option<String>,
}

/// The person `lead` is a repeat of: the newest other lead within `window`, not erased, not junk
/// and not one of `lead`'s own repeats, with the same phone, else the same e-mail key (found
/// through the indexes on key and time, however many leads share the key).
fn person_of(
    conn: &Connection,
    lead: &Lead,
    window: chrono::Duration,
) -> Result<Option<Match>, StoreError> {
    if window <= chrono::Duration::zero() || lead.repeat_of.is_some() {
        return Ok(None);
    }
    let created = micros(lead.meta.created_at);
    let window = window.num_microseconds().unwrap_or(i64::MAX);
    let keys = [
        ("phone_e164", lead.meta.phone_e164.as_deref(), via::PHONE),
        ("email_key", lead.meta.email_key.as_deref(), via::EMAIL),
    ];
    for (column, key, how) in keys {
        let Some(key) = key else { continue };
        let person = conn
            .prepare_cached(&person_lookup(column))
            .and_then(|mut select| {
                select
                    .query_row(
                        params![
                            key,
                            lead.id,
                            created.saturating_sub(window),
                            created.saturating_add(window)
                        ],
                        |row| {
                            Ok(Match {
                                person: row.get(0)?,
                                how,
                                owner: row.get(1)?,
                            })
                        },
                    )
                    .optional()
            })
            .map_err(internal)?;
        if person.is_some() {
            return Ok(person);
        }
    }
    Ok(None)
}

/// The query of [`person_of`] on `column` (`phone_e164` or `email_key`): the person of the newest
/// match of key `?1` for lead `?2` created between `?3` and `?4`, and who works it (the match is
/// never erased; the person's first lead may be).
pub(super) fn person_lookup(column: &str) -> String {
    format!(
        "SELECT COALESCE(repeat_of, id),
                COALESCE(owner, (SELECT origin.owner FROM leads AS origin
                                  WHERE origin.id = leads.repeat_of AND origin.erased_at IS NULL))
         FROM leads
         WHERE {column} = ?1 AND id <> ?2 AND erased_at IS NULL AND {NOT_JUNK}
           AND created_at BETWEEN ?3 AND ?4 AND COALESCE(repeat_of, 0) <> ?2
         ORDER BY created_at DESC, id DESC LIMIT 1"
    )
}

/// Makes `lead` a submission of the person `found`, in both histories.
fn link(conn: &Connection, lead: &Lead, found: &Match, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE leads SET repeat_of = ?2, repeat_via = ?3, updated_at = ?4 WHERE id = ?1",
    )
    .and_then(|mut update| update.execute(params![lead.id, found.person, found.how, now]))
    .map_err(internal)?;
    record_link(conn, lead, found, now)
}

/// Records that `lead` became a submission of the person `found`, in both histories.
fn record_link(conn: &Connection, lead: &Lead, found: &Match, now: i64) -> Result<(), StoreError> {
    let linked = linked_text(found.person, found.how);
    let linked = Change::new(ActivityKind::Linked, None, Some(linked));
    history::record(conn, lead.id, now, SYSTEM, linked)?;
    let again = submitted_again_text(lead.id, lead.meta.form_name.as_deref());
    let again = Change::new(ActivityKind::SubmittedAgain, None, Some(again));
    history::record(conn, found.person, now, SYSTEM, again)
}
