//! Leads from Meta through PostgREST: a piece of up to [`UPSERT_BATCH`](crate::store::UPSERT_BATCH)
//! leads in one or two requests, each one JSON array `POST` with `on_conflict=leadgen_id`.
//!
//! 1. Insert with `resolution=ignore-duplicates`: PostgREST answers with exactly the rows it
//!    inserted, so those are the new leads, decided by the database (race-free).
//! 2. Only if some leads already existed: upsert those with `resolution=merge-duplicates`.
//!
//! Both bodies hold only the columns Meta owns plus `changed_by`, so rep-owned columns (`status`,
//! `notes`, `owner`) and those set once on insert are never written; every object has the same
//! keys (PostgREST refuses an array otherwise). The triggers do the rest as for a single lead:
//! `updated_at` moves only when a row really changed, an erased row keeps no personal data
//! (`leads_keep_erased`), and each insert or change is recorded as activity by `changed_by`.

use std::collections::HashMap;

use leadhook_shared::Lead;
use leadhook_shared::meta::IncomingLead;

use super::query::EVERY_COLUMN;
use super::{PostgrestStore, Written, to_json};
use crate::store::upsert::in_pieces;
use crate::store::{StoreError, Upserted};

/// The unique column a lead from Meta is known by.
const ON_CONFLICT: &str = "leadgen_id";

/// Added to the insert's `Prefer: return=representation` (RFC 7240 allows several `Prefer`
/// headers; PostgREST reads them all): rows that conflict are skipped and not returned.
const IGNORE_DUPLICATES: &str = "resolution=ignore-duplicates";

impl PostgrestStore {
    pub(super) async fn store_from_meta(
        &self,
        leads: &[IncomingLead],
        actor: &str,
    ) -> Result<Vec<Upserted>, StoreError> {
        in_pieces(leads, |piece| async move {
            self.upsert_piece(&piece, actor).await
        })
        .await
    }

    /// Stores `leads` (each `leadgen_id` once, at store precision); one result each, in order.
    async fn upsert_piece(
        &self,
        leads: &[IncomingLead],
        actor: &str,
    ) -> Result<Vec<Upserted>, StoreError> {
        let insert = self
            .table()
            .on_conflict(ON_CONFLICT)
            .select(EVERY_COLUMN)
            .insert(body(leads.iter(), actor)?);
        let inserted = by_leadgen_id(
            self.send_preferring(insert, Some(IGNORE_DUPLICATES))
                .await?
                .success()?
                .json()?,
        );
        let existing: Vec<&IncomingLead> = leads
            .iter()
            .filter(|lead| !inserted.contains_key(&lead.leadgen_id))
            .collect();
        let merged = if existing.is_empty() {
            HashMap::new()
        } else {
            let merge = self
                .table()
                .on_conflict(ON_CONFLICT)
                .select(EVERY_COLUMN)
                .upsert(body(existing.into_iter(), actor)?);
            by_leadgen_id(self.call(merge).await?.json()?)
        };
        leads
            .iter()
            .map(|lead| {
                let (stored, inserted) = match inserted.get(&lead.leadgen_id) {
                    Some(stored) => (stored, true),
                    None => (
                        merged.get(&lead.leadgen_id).ok_or_else(|| {
                            StoreError::Internal(format!(
                                "PostgREST returned no row for lead {}",
                                lead.leadgen_id
                            ))
                        })?,
                        false,
                    ),
                };
                Ok(Upserted {
                    lead: stored.clone(),
                    inserted,
                    changed: true,
                })
            })
            .collect()
    }
}

/// The JSON array of `leads` as written by `actor`.
fn body<'a>(
    leads: impl Iterator<Item = &'a IncomingLead>,
    actor: &str,
) -> Result<String, StoreError> {
    let rows: Vec<Written<'_, &IncomingLead>> = leads
        .map(|lead| Written {
            row: lead,
            changed_by: actor,
            owner_change: None,
        })
        .collect();
    to_json(&rows)
}

fn by_leadgen_id(rows: Vec<Lead>) -> HashMap<String, Lead> {
    rows.into_iter()
        .filter_map(|lead| Some((lead.leadgen_id.clone()?, lead)))
        .collect()
}
