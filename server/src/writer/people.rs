//! A rep's corrections of people and junk, and the triage backfill's writes, through the one
//! writer: each change the store makes is announced (a merge or unlink can move other leads too).

use leadhook_shared::Lead;

use super::LeadWriter;
use crate::store::{Relinked, StoreError, TriageWrites, Triaged};

impl LeadWriter {
    /// Makes lead `id` the same person as lead `same_as` (see [`crate::store::People::merge`]);
    /// `None` when either does not exist.
    pub async fn merge(
        &self,
        id: i64,
        same_as: i64,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let merged = self.record(self.inner.store.merge(id, same_as, rep).await)?;
        Ok(merged.map(|relinked| {
            tracing::info!(
                id,
                same_as,
                rep,
                moved = relinked.moved.len(),
                "leads merged"
            );
            self.announce_relinked(relinked)
        }))
    }

    /// Undoes lead `id`'s link to its person (see [`crate::store::People::unlink`]); `None` when
    /// no lead has that id.
    pub async fn unlink(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError> {
        let _in_order = self.inner.in_order.lock().await;
        let unlinked = self.record(self.inner.store.unlink(id, rep).await)?;
        Ok(unlinked.map(|relinked| {
            tracing::info!(id, rep, moved = relinked.moved.len(), "lead unlinked");
            self.announce_relinked(relinked)
        }))
    }

    /// Clears lead `id`'s junk flag; the store then links or routes it as a new lead. `None` when
    /// no lead has that id.
    pub async fn clear_junk(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError> {
        let team = self.team();
        let _in_order = self.inner.in_order.lock().await;
        let cleared = self.record(
            self.inner
                .store
                .clear_junk(id, rep, self.routing(&team))
                .await,
        )?;
        if let Some(lead) = &cleared {
            tracing::info!(id, rep, owner = ?lead.owner, "junk flag cleared");
            self.announce(lead);
        }
        Ok(cleared)
    }

    /// Announces every lead a merge or unlink changed; the lead asked about.
    fn announce_relinked(&self, relinked: Relinked) -> Lead {
        for moved in &relinked.moved {
            self.announce(moved);
        }
        self.announce(&relinked.lead);
        relinked.lead
    }
}

/// The triage backfill writes through the writer, so the store's health is recorded like any
/// write's. Nothing is announced: the values are derived, and the links of leads stored before
/// reach dashboards with their next full load (and through the change cursor on a shared store).
#[async_trait::async_trait]
impl TriageWrites for LeadWriter {
    async fn store_triage(
        &self,
        leads: &[Triaged],
        repeat_window: chrono::Duration,
    ) -> Result<(), StoreError> {
        self.record(self.inner.store.store_triage(leads, repeat_window).await)
    }
}
