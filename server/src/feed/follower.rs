//! The change follower: on a shared store, the one source of this server's lead changes.

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::{Cursor, Lead};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::{changes_after, newest_change};
use crate::store::{LeadReader, MAX_PAGE, StoreError};

/// Reads every change after its cursor from the store and announces it: when woken by a write
/// of this server, and every `interval` for the changes made elsewhere.
pub struct ChangeFollower {
    store: Arc<dyn LeadReader>,
    sender: broadcast::Sender<Lead>,
    wake: Arc<Notify>,
    interval: Duration,
}

impl ChangeFollower {
    pub(super) fn new(
        store: Arc<dyn LeadReader>,
        sender: broadcast::Sender<Lead>,
        wake: Arc<Notify>,
        interval: Duration,
    ) -> ChangeFollower {
        ChangeFollower {
            store,
            sender,
            wake,
            interval,
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut failing = false;
        let mut cursor = None;
        loop {
            let result = match cursor {
                // Changes from before this server started were never its to announce.
                None => newest_change(self.store.as_ref()).await.map(Some),
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

    /// Announces every change after `cursor`, oldest first; returns the cursor of the last one.
    async fn announce_changes_after(&self, mut cursor: Cursor) -> Result<Cursor, StoreError> {
        loop {
            let page = changes_after(self.store.as_ref(), cursor).await?;
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
