//! The live feed behind `/api/events`, and the change follower that fills it when the store is
//! shared.
//!
//! On SQLite this server is the only writer, so each write it makes is announced at once. On
//! Supabase other replicas, Studio, SQL or a CRM change leads too; there one [`ChangeFollower`]
//! per server reads the store's change cursor (`since`, the index the idle poll uses) and
//! announces every change it finds, in cursor order. This server's own writes then only wake the
//! follower, which reads them back with the rest: each change is announced once, and never after
//! a later one (a listener that has seen a change skips everything before it).

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::{Cursor, Lead};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use crate::store::{LeadQuery, LeadReader, MAX_PAGE, StoreError};

/// Changes a slow listener may fall behind by before it resumes from its cursor in the store.
pub const FEED_CAPACITY: usize = 1024;

/// Where changes are announced; cheap to clone.
#[derive(Clone)]
pub struct LiveFeed {
    sender: broadcast::Sender<Lead>,
    /// Set when a follower announces changes: writes then wake it instead.
    follower: Option<Arc<Notify>>,
}

impl LiveFeed {
    /// A feed for `store`: announced directly when this server is its only writer, else by a
    /// follower, returned too, which must run for anything to be announced.
    pub fn for_store(
        store: &Arc<dyn LeadReader>,
        interval: Duration,
    ) -> (LiveFeed, Option<ChangeFollower>) {
        let sender = broadcast::channel(FEED_CAPACITY).0;
        if !store.is_shared() {
            return (
                LiveFeed {
                    sender,
                    follower: None,
                },
                None,
            );
        }
        let wake = Arc::new(Notify::new());
        let follower = ChangeFollower {
            store: Arc::clone(store),
            sender: sender.clone(),
            wake: Arc::clone(&wake),
            interval,
        };
        (
            LiveFeed {
                sender,
                follower: Some(wake),
            },
            Some(follower),
        )
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Lead> {
        self.sender.subscribe()
    }

    /// Announces a change this server made.
    pub fn announce(&self, lead: &Lead) {
        match &self.follower {
            Some(wake) => wake.notify_one(),
            // No listeners is fine.
            None => {
                let _ = self.sender.send(lead.clone());
            }
        }
    }
}

/// Reads every change after its cursor from the store and announces it: when woken by a write
/// of this server, and every `interval` for the changes made elsewhere.
pub struct ChangeFollower {
    store: Arc<dyn LeadReader>,
    sender: broadcast::Sender<Lead>,
    wake: Arc<Notify>,
    interval: Duration,
}

impl ChangeFollower {
    pub async fn run(self, shutdown: CancellationToken) {
        let mut failing = false;
        let mut cursor = None;
        loop {
            let result = match cursor {
                // Changes from before this server started were never its to announce.
                None => self.newest_change().await.map(Some),
                Some(since) => self.announce_changes_after(since).await.map(Some),
            };
            match result {
                Ok(next) => {
                    if failing {
                        tracing::info!("change follower reads the store again");
                    }
                    failing = false;
                    cursor = next;
                }
                Err(error) => {
                    if !failing {
                        tracing::warn!("change follower cannot read the store: {error}");
                    }
                    failing = true;
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    async fn newest_change(&self) -> Result<Cursor, StoreError> {
        let query = LeadQuery {
            limit: 1,
            ..LeadQuery::default()
        };
        Ok(self.store.list(&query).await?.cursor)
    }

    /// Announces every change after `cursor`, oldest first; returns the cursor of the last one.
    async fn announce_changes_after(&self, mut cursor: Cursor) -> Result<Cursor, StoreError> {
        loop {
            let page = self
                .store
                .list(&LeadQuery {
                    limit: MAX_PAGE,
                    since: Some(cursor),
                    ..LeadQuery::default()
                })
                .await?;
            for lead in &page.leads {
                // No listeners is fine.
                let _ = self.sender.send(lead.clone());
            }
            cursor = page.cursor;
            if page.leads.len() < MAX_PAGE as usize {
                return Ok(cursor);
            }
        }
    }
}
