//! The change follower: on a shared store, the one source of this server's lead changes.
//!
//! It reads the changes after its cursor when this server wrote, when PostgreSQL notifies a
//! change past its cursor (see [`super::listen`]), and when the listening session comes up or
//! goes down (to catch up on what no notification told it). It polls every `interval` only while
//! it cannot listen, or after a failed read until one succeeds: an idle server that listens asks
//! PostgREST nothing.

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::{Cursor, Lead};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::listen::Pushed;
use super::{changes_after, newest_change};
use crate::store::{LeadReader, MAX_PAGE, StoreError};

/// Reads every change after its cursor from the store and announces it: when woken by a write
/// of this server, and for the changes made elsewhere when PostgreSQL pushes them or, while it
/// does not (or without `DATABASE_URL`), every `interval`.
pub struct ChangeFollower {
    store: Arc<dyn LeadReader>,
    sender: broadcast::Sender<Lead>,
    wake: Arc<Notify>,
    interval: Duration,
    pushed: Option<Pushed>,
}

impl ChangeFollower {
    pub(super) fn new(
        store: Arc<dyn LeadReader>,
        sender: broadcast::Sender<Lead>,
        wake: Arc<Notify>,
        interval: Duration,
        pushed: Option<Pushed>,
    ) -> ChangeFollower {
        ChangeFollower {
            store,
            sender,
            wake,
            interval,
            pushed,
        }
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
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
            let read_again = match cursor {
                Some(cursor) if !failing => self.next_reason(cursor, &shutdown).await,
                _ => self.poll_wait(&shutdown).await,
            };
            if !read_again {
                return;
            }
        }
    }

    /// Waits until the changes after `cursor` are worth reading; `false` at shutdown.
    async fn next_reason(&mut self, cursor: Cursor, shutdown: &CancellationToken) -> bool {
        let Some(pushed) = self.pushed.as_mut() else {
            return self.poll_wait(shutdown).await;
        };
        let woke = loop {
            let listening = pushed.status.borrow_and_update().is_listening();
            tokio::select! {
                _ = self.wake.notified() => break Woke::Read,
                _ = tokio::time::sleep(self.interval), if !listening => break Woke::Read,
                // Up or down, catch up at once on what no notification told.
                changed = pushed.status.changed() => break Woke::from(changed),
                changed = pushed.notified.changed() => {
                    if changed.is_err() {
                        break Woke::ListenerGone;
                    }
                    // A change this server has read already (its own write) costs no request.
                    if pushed.notified.borrow_and_update().is_some_and(|newest| newest > cursor) {
                        break Woke::Read;
                    }
                }
                _ = shutdown.cancelled() => return false,
            }
        };
        if let Woke::ListenerGone = woke {
            // The listener has stopped for good: poll from now on.
            self.pushed = None;
        }
        true
    }

    /// Waits for a write of this server or `interval`; `false` at shutdown.
    async fn poll_wait(&self, shutdown: &CancellationToken) -> bool {
        tokio::select! {
            _ = self.wake.notified() => true,
            _ = tokio::time::sleep(self.interval) => true,
            _ = shutdown.cancelled() => false,
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

/// Why the follower stopped waiting.
enum Woke {
    Read,
    ListenerGone,
}

impl From<Result<(), tokio::sync::watch::error::RecvError>> for Woke {
    fn from(changed: Result<(), tokio::sync::watch::error::RecvError>) -> Woke {
        match changed {
            Ok(()) => Woke::Read,
            Err(_) => Woke::ListenerGone,
        }
    }
}
