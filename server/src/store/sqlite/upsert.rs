//! Leads from Meta in the SQLite store. Each piece of up to [`UPSERT_BATCH`] leads is one
//! transaction in one call of the blocking pool, with cached statements: per lead, one lookup by
//! `leadgen_id`, and for a new or changed lead one write that returns the stored row and one
//! activity row.

use leadhook_shared::ActivityKind;
use leadhook_shared::meta::IncomingLead;
use rusqlite::{Connection, OptionalExtension, ToSql};

use super::queue::{self, Change};
use super::rows::{
    INSERT_FROM_META, SELECT_LEADS, UPDATE_FROM_META, lead_from_row, meta_parameters,
};
use super::{Inner, SqliteStore, internal, search_text};
use crate::store::upsert::in_pieces;
use crate::store::{StoreError, Upserted};

impl SqliteStore {
    pub(super) async fn store_from_meta(
        &self,
        leads: &[IncomingLead],
        actor: &str,
    ) -> Result<Vec<Upserted>, StoreError> {
        in_pieces(leads, |piece| {
            let actor = actor.to_string();
            self.with(move |inner| inner.upsert_piece(&piece, &actor))
        })
        .await
    }
}

impl Inner {
    /// Stores `leads` (each `leadgen_id` once, at store precision) in one transaction.
    fn upsert_piece(
        &mut self,
        leads: &[IncomingLead],
        actor: &str,
    ) -> Result<Vec<Upserted>, StoreError> {
        let Inner {
            conn,
            last_change_micros,
        } = self;
        let tx = conn.transaction().map_err(internal)?;
        let stored = leads
            .iter()
            .map(|lead| upsert_one(&tx, lead, actor, || super::next_stamp(last_change_micros)))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit().map_err(internal)?;
        Ok(stored)
    }
}

fn upsert_one(
    conn: &Connection,
    lead: &IncomingLead,
    actor: &str,
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
    let meta = &lead.meta;
    // An erased lead stays erased, whatever Meta delivers again.
    if let Some(stored) = existing
        .as_ref()
        .filter(|stored| stored.meta == *meta || stored.erased_at.is_some())
    {
        return Ok(Upserted {
            lead: stored.clone(),
            inserted: false,
        });
    }
    let search = search_text(
        meta.name.as_deref(),
        meta.email.as_deref(),
        meta.phone.as_deref(),
    );
    let now = stamp();
    let meta_parameters = meta_parameters(meta).map_err(internal)?;
    let mut parameters: Vec<&dyn ToSql> = vec![&lead.leadgen_id];
    parameters.extend(meta_parameters.iter().map(|value| value as &dyn ToSql));
    parameters.extend([&search as &dyn ToSql, &now]);
    let sql = if existing.is_some() {
        &UPDATE_FROM_META
    } else {
        &INSERT_FROM_META
    };
    let stored = conn
        .prepare_cached(sql)
        .and_then(|mut write| write.query_row(parameters.as_slice(), lead_from_row))
        .map_err(internal)?;
    let change = match &existing {
        None => Change::new(ActivityKind::Stored, None, None),
        Some(before) => Change::new(
            ActivityKind::Redelivered,
            None,
            Some(queue::changed_meta_fields(&before.meta, meta)),
        ),
    };
    queue::record(conn, stored.id, now, actor, change)?;
    Ok(Upserted {
        lead: stored,
        inserted: existing.is_none(),
    })
}
