//! The one way leads are written. Leads from Meta (webhook or sweep), a rep's edit and a manual lead
//! all go through [`LeadWriter`], which keeps the form-name cache, records the store's health in
//! the runtime status and announces every stored change on the live feed (directly, or through
//! the change follower when the store is shared: see [`crate::follower`]). Nothing else in this
//! server publishes its writes, so each is announced exactly once.

use std::collections::HashMap;
use std::sync::Arc;

use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{Lead, LeadPatch, NewManualLead};
use tokio::sync::{Mutex, broadcast};

use crate::follower::{ChangeFollower, LiveFeed};

use crate::graph::GraphClient;
use crate::status::{RuntimeStatus, StoreStatus};
use crate::store::{LeadStore, StoreError, Upserted};

/// Handle to the write service; cheap to clone.
#[derive(Clone)]
pub struct LeadWriter {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn LeadStore>,
    graph: GraphClient,
    status: Arc<RuntimeStatus>,
    feed: LiveFeed,
    form_names: Mutex<HashMap<String, Option<String>>>,
}

impl LeadWriter {
    /// The write service, and the change follower that must run when `store` is shared (see
    /// [`LiveFeed::for_store`]); it reads the store every `follow_interval` when idle.
    pub fn new(
        store: Arc<dyn LeadStore>,
        graph: GraphClient,
        follow_interval: std::time::Duration,
    ) -> (LeadWriter, Option<ChangeFollower>) {
        let (feed, follower) = LiveFeed::for_store(&store, follow_interval);
        let writer = LeadWriter {
            inner: Arc::new(Inner {
                store,
                graph,
                status: Arc::default(),
                feed,
                form_names: Mutex::default(),
            }),
        };
        (writer, follower)
    }

    /// The store, for reading. Writes go through this service.
    pub fn store(&self) -> &Arc<dyn LeadStore> {
        &self.inner.store
    }

    /// The server's runtime status, which this service and the Graph callers keep up to date.
    pub fn status(&self) -> &Arc<RuntimeStatus> {
        &self.inner.status
    }

    /// Every lead stored or changed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Lead> {
        self.inner.feed.subscribe()
    }

    /// Stores a lead from Meta (webhook or sweep), filling in its form name, and announces it.
    pub async fn store_from_meta(&self, mut lead: IncomingLead) -> Result<Upserted, StoreError> {
        if lead.meta.form_name.is_none()
            && let Some(form_id) = lead.meta.form_id.clone()
        {
            lead.meta.form_name = self.form_name(&form_id).await;
        }
        let upserted = self.record(self.inner.store.upsert(&lead).await)?;
        if upserted.inserted {
            tracing::info!(id = upserted.lead.id, leadgen_id = %lead.leadgen_id, "new lead stored");
        }
        self.announce(&upserted.lead);
        Ok(upserted)
    }

    /// Applies a rep's change and announces it; `None` when no lead has that id.
    pub async fn update(
        &self,
        id: i64,
        patch: &LeadPatch,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let updated = self.record(self.inner.store.update(id, patch).await)?;
        if let Some(lead) = &updated {
            tracing::info!(id, rep, status = ?patch.status, notes_changed = patch.notes.is_some(), "lead updated");
            self.announce(lead);
        }
        Ok(updated)
    }

    /// Stores a lead a rep took by phone or in person, and announces it.
    pub async fn create_manual(&self, new: &NewManualLead, rep: &str) -> Result<Lead, StoreError> {
        let lead = self.record(self.inner.store.create_manual(new).await)?;
        tracing::info!(id = lead.id, rep, "manual lead created");
        self.announce(&lead);
        Ok(lead)
    }

    /// Remembers a form name learned elsewhere (the sweeper lists forms with their names).
    pub async fn learn_form_name(&self, form_id: &str, name: Option<String>) {
        self.inner
            .form_names
            .lock()
            .await
            .insert(form_id.to_string(), name);
    }

    /// Form names rarely change: ask once per form and remember (failures too, until restart).
    async fn form_name(&self, form_id: &str) -> Option<String> {
        if let Some(known) = self.inner.form_names.lock().await.get(form_id) {
            return known.clone();
        }
        let name = match self.inner.graph.form_name(form_id).await {
            Ok(name) => name,
            Err(error) if error.is_retryable() => return None,
            Err(error) => {
                tracing::debug!(%form_id, "form name not readable: {error}");
                None
            }
        };
        self.learn_form_name(form_id, name.clone()).await;
        name
    }

    /// Records what a store call says about the store's health. A refusal of one lead's data
    /// says nothing about the store as a whole.
    fn record<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        let status = match &result {
            Ok(_) => StoreStatus::Ok,
            Err(StoreError::Rejected(_)) => return result,
            Err(StoreError::Misconfigured { message, fix }) => StoreStatus::Misconfigured {
                message: message.clone(),
                fix: fix.clone(),
            },
            Err(error) => StoreStatus::Unavailable {
                message: error.to_string(),
            },
        };
        self.inner.status.set_store(status);
        result
    }

    /// The only place this server's writes reach the live feed.
    fn announce(&self, lead: &Lead) {
        self.inner.feed.announce(lead);
    }
}
