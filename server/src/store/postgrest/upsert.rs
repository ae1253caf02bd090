//! Leads from Meta through PostgREST: a piece of up to [`UPSERT_BATCH`](crate::store::UPSERT_BATCH)
//! leads in one request when all are new, more when some were stored before.
//!
//! 1. Insert with `on_conflict=leadgen_id` and `resolution=ignore-duplicates`, each row carrying
//!    what routing needs (`route_to`): the trigger `leads_route` gives each new lead its owner in
//!    this statement, and PostgREST answers with exactly the rows it inserted, so those are the
//!    new leads, decided by the database (race-free).
//! 2. Only if some leads already existed: read them, and upsert with `resolution=merge-duplicates`
//!    those whose Meta-side columns differ (an erased lead is left alone, as it stays erased). A
//!    lead changed when its `updated_at` moved, which the stamp trigger does only for a real change.
//!
//! Bodies hold only the columns Meta owns plus `changed_by` (and `route_to` on the insert), so
//! rep-owned columns (`status`, `notes`, `owner`) and those set once on insert are never written;
//! every object has the same keys (PostgREST refuses an array otherwise). The triggers record each
//! insert or change as activity by `changed_by`. All these writes are keyed on `leadgen_id`, so an
//! answer that cannot be read is retried (see [`StoreError::unreadable`]).

use std::collections::HashMap;

use leadhook_shared::Lead;
use leadhook_shared::meta::IncomingLead;

use super::query::{EVERY_COLUMN, quoted};
use super::{New, PostgrestStore, Written, to_json};
use crate::store::error::Answer;
use crate::store::upsert::in_pieces;
use crate::store::{Routing, StoreError, Upserted};

/// The unique column a lead from Meta is known by.
const ON_CONFLICT: &str = "leadgen_id";

/// Joined to the insert's `return=representation` in its one `Prefer` header: rows that conflict
/// are skipped and not returned.
const IGNORE_DUPLICATES: &str = "resolution=ignore-duplicates";

/// Stored leads read back by `leadgen_id` per request, keeping the URL short.
const READ_BACK: usize = 100;

impl PostgrestStore {
    pub(super) async fn store_from_meta(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        in_pieces(leads, |piece| async move {
            self.upsert_piece(&piece, actor, routing).await
        })
        .await
    }

    /// Stores `leads` (each `leadgen_id` once, at store precision); one result each, in order.
    async fn upsert_piece(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        let rows: Vec<New<'_, &IncomingLead>> = leads
            .iter()
            .map(|lead| New::placed(written(lead, actor), routing))
            .collect();
        let insert = self
            .table()
            .on_conflict(ON_CONFLICT)
            .select(EVERY_COLUMN)
            .insert(to_json(&rows)?);
        let inserted = by_leadgen_id(
            self.send_preferring(insert, Some(IGNORE_DUPLICATES))
                .await?
                .success()?
                .written()?,
        );
        let existing: Vec<&IncomingLead> = leads
            .iter()
            .filter(|lead| !inserted.contains_key(&lead.leadgen_id))
            .collect();
        let before = self.stored(&existing).await?;
        let refreshed: Vec<&IncomingLead> = existing
            .into_iter()
            .filter(|lead| {
                before
                    .get(&lead.leadgen_id)
                    .is_none_or(|stored| stored.meta != lead.meta && stored.erased_at.is_none())
            })
            .collect();
        let merged = if refreshed.is_empty() {
            HashMap::new()
        } else {
            let rows: Vec<_> = refreshed.iter().map(|lead| written(lead, actor)).collect();
            let merge = self
                .table()
                .on_conflict(ON_CONFLICT)
                .select(EVERY_COLUMN)
                .upsert(to_json(&rows)?);
            by_leadgen_id(self.call(merge).await?.written()?)
        };
        leads
            .iter()
            .map(|lead| {
                let id = &lead.leadgen_id;
                if let Some(stored) = inserted.get(id) {
                    return Ok(Upserted {
                        lead: stored.clone(),
                        inserted: true,
                        changed: true,
                    });
                }
                let earlier = before.get(id);
                let stored = merged.get(id).or(earlier).ok_or_else(|| {
                    StoreError::unreadable(
                        Answer::IdempotentWrite,
                        format!("PostgREST returned no row for lead {id}"),
                    )
                })?;
                Ok(Upserted {
                    lead: stored.clone(),
                    inserted: false,
                    changed: earlier.is_none_or(|earlier| earlier.updated_at != stored.updated_at),
                })
            })
            .collect()
    }

    /// The stored leads of `leads`, by `leadgen_id`.
    async fn stored(&self, leads: &[&IncomingLead]) -> Result<HashMap<String, Lead>, StoreError> {
        let mut stored = HashMap::with_capacity(leads.len());
        for chunk in leads.chunks(READ_BACK) {
            let ids = chunk.iter().map(|lead| quoted(&lead.leadgen_id));
            let read = self.table().select(EVERY_COLUMN).in_(ON_CONFLICT, ids);
            stored.extend(by_leadgen_id(self.call(read).await?.json()?));
        }
        Ok(stored)
    }
}

fn written<'a>(lead: &'a IncomingLead, actor: &'a str) -> Written<'a, &'a IncomingLead> {
    Written {
        row: lead,
        changed_by: actor,
        owner_change: None,
    }
}

fn by_leadgen_id(rows: Vec<Lead>) -> HashMap<String, Lead> {
    rows.into_iter()
        .filter_map(|lead| Some((lead.leadgen_id.clone()?, lead)))
        .collect()
}
