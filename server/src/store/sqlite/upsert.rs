//! Leads from Meta in the SQLite store. Each piece of up to [`UPSERT_BATCH`] leads is one
//! transaction in one call of the blocking pool, with cached statements: per lead, one lookup by
//! `leadgen_id`, and for a new or changed lead one write and one activity row (a changed lead's
//! row is read back; a new one's is known). A new lead is placed (its person and owner) before
//! its insert, in the same transaction, so its row is written once.

use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{ActivityKind, Lead, MetaFields};
use rusqlite::{Connection, OptionalExtension, ToSql};

use super::history::{self, Change};
use super::place::{NOT_STORED, place_of};
use super::rows::{
    INSERT_FROM_META, SELECT_LEADS, UPDATE_FROM_META, inserted_from_meta, lead_from_row,
    meta_parameters, micros,
};
use super::{Inner, SqliteStore, internal, search_text};
use crate::store::upsert::in_pieces;
use crate::store::{Routing, StoreError, Upserted};

impl SqliteStore {
    pub(super) async fn store_from_meta(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        let (assignment, reps, repeat_window) = (
            routing.assignment,
            routing.reps.to_vec(),
            routing.repeat_window,
        );
        in_pieces(leads, |piece| {
            let actor = actor.to_string();
            let reps = reps.clone();
            self.with(move |inner| {
                inner.upsert_piece(
                    piece,
                    &actor,
                    Routing {
                        assignment,
                        reps: &reps,
                        repeat_window,
                    },
                )
            })
        })
        .await
    }
}

impl Inner {
    /// Stores `leads` (each `leadgen_id` once, at store precision) in one transaction, routing
    /// the new ones.
    fn upsert_piece(
        &mut self,
        leads: Vec<IncomingLead>,
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        let Inner {
            conn,
            last_change_micros,
        } = self;
        let tx = conn.transaction().map_err(internal)?;
        let stored = leads
            .into_iter()
            .map(|lead| {
                upsert_one(&tx, lead, actor, routing, || {
                    super::next_stamp(last_change_micros)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().map_err(internal)?;
        Ok(stored)
    }
}

fn upsert_one(
    conn: &Connection,
    lead: IncomingLead,
    actor: &str,
    routing: Routing<'_>,
    stamp: impl FnOnce() -> i64,
) -> Result<Upserted, StoreError> {
    let existing = conn
        .prepare_cached(&format!("{SELECT_LEADS} WHERE leadgen_id = ?1"))
        .and_then(|mut select| {
            select
                .query_row([&lead.leadgen_id], lead_from_row)
                .optional()
        })
        .map_err(internal)?;
    // An erased lead stays erased, whatever Meta delivers again.
    if let Some(stored) = existing.as_ref().filter(|stored| {
        stored.meta.as_delivered() == lead.meta.as_delivered() || stored.erased_at.is_some()
    }) {
        let mut stored = stored.clone();
        // Only what the server derives differs (stored before it was derived, or by other
        // rules): filled in without a change, as the backfill does and as the Supabase store's
        // triggers treat it.
        if stored.erased_at.is_none() && stored.meta != lead.meta {
            conn.prepare_cached(
                "UPDATE leads SET phone_e164 = ?2, phone_invalid = ?3, email_key = ?4,
                    junk_reason = ?5, triaged = 1
                 WHERE leadgen_id = ?1",
            )
            .and_then(|mut update| {
                update.execute(rusqlite::params![
                    lead.leadgen_id,
                    lead.meta.phone_e164,
                    lead.meta.phone_invalid,
                    lead.meta.email_key,
                    lead.meta.junk_reason
                ])
            })
            .map_err(internal)?;
            stored.meta = lead.meta;
        }
        return Ok(Upserted {
            lead: stored,
            inserted: false,
            changed: false,
        });
    }
    let now = stamp();
    let Some(before) = existing else {
        return insert_new(conn, lead, actor, routing, now);
    };
    let stored = with_meta_parameters(&lead.leadgen_id, &lead.meta, now, &[], |parameters| {
        conn.prepare_cached(&UPDATE_FROM_META)?
            .query_row(parameters, lead_from_row)
    })?;
    let changed = super::queue::changed_meta_fields(&before.meta, &lead.meta);
    let change = Change::new(ActivityKind::Redelivered, None, Some(changed));
    history::record(conn, stored.id, now, actor, change)?;
    Ok(Upserted {
        lead: stored,
        inserted: false,
        changed: true,
    })
}

/// Inserts `lead`, new, at `now` already in its place (its person and owner, decided first), and
/// records it: `stored`, then what placing it did.
fn insert_new(
    conn: &Connection,
    lead: IncomingLead,
    actor: &str,
    routing: Routing<'_>,
    now: i64,
) -> Result<Upserted, StoreError> {
    let pending = inserted_from_meta(NOT_STORED, lead, now);
    let place = place_of(conn, &pending, routing, now)?;
    let pending = place.on(pending, now);
    let leadgen_id = pending.leadgen_id.as_deref().unwrap_or_default();
    let placed: [&dyn ToSql; 4] = [
        &pending.owner,
        &pending.owned_at.map(micros),
        &pending.repeat_of,
        &place.via(),
    ];
    with_meta_parameters(leadgen_id, &pending.meta, now, &placed, |parameters| {
        conn.prepare_cached(&INSERT_FROM_META)?.execute(parameters)
    })?;
    let stored = Lead {
        id: conn.last_insert_rowid(),
        ..pending
    };
    history::record(
        conn,
        stored.id,
        now,
        actor,
        Change::new(ActivityKind::Stored, None, None),
    )?;
    place.record(conn, &stored, now)?;
    Ok(Upserted {
        lead: stored,
        inserted: true,
        changed: true,
    })
}

/// Runs `write` with the parameters of [`INSERT_FROM_META`] and [`UPDATE_FROM_META`] for the lead
/// `leadgen_id` with `meta` changed at `stamp`, followed by `more`.
fn with_meta_parameters<T>(
    leadgen_id: &str,
    meta: &MetaFields,
    stamp: i64,
    more: &[&dyn ToSql],
    write: impl FnOnce(&[&dyn ToSql]) -> rusqlite::Result<T>,
) -> Result<T, StoreError> {
    let search = search_text(
        meta.name.as_deref(),
        meta.email.as_deref(),
        meta.phone.as_deref(),
    );
    let meta_parameters = meta_parameters(meta).map_err(internal)?;
    let mut parameters: Vec<&dyn ToSql> = vec![&leadgen_id];
    parameters.extend(meta_parameters.iter().map(|value| value as &dyn ToSql));
    parameters.extend([&search as &dyn ToSql, &stamp]);
    parameters.extend(more);
    write(&parameters).map_err(internal)
}
