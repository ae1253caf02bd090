//! When a channel's loop looks at the outbox again. The write that queues an event also changes
//! the lead (created, assigned, status) or raises an escalation, and every change reaches this
//! server's live feed, its own at once and another replica's through the change follower (with
//! LISTEN, within milliseconds). So a loop with nothing to send waits for the feed, or for the
//! retry it knows is due next, and otherwise asks the store only every [`OUTBOX_IDLE_POLL`] (for
//! what another replica left to retry or a crashed one left leased).

use std::time::Duration;

use leadhook_shared::Lead;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use crate::feed::{Alert, LiveFeed};
use crate::limits::OUTBOX_IDLE_POLL;

/// One channel loop's view of the live feed.
pub struct Wake {
    changes: Option<Receiver<Lead>>,
    alerts: Option<Receiver<Alert>>,
    /// The earliest retry or hold this loop set that is not due yet.
    next_due: Option<Instant>,
}

impl Wake {
    pub fn new(feed: &LiveFeed) -> Wake {
        Wake {
            changes: Some(feed.subscribe()),
            alerts: Some(feed.subscribe_alerts()),
            next_due: None,
        }
    }

    /// A delivery this loop settled is due again in `after`.
    pub fn due_in(&mut self, after: Duration) {
        let at = Instant::now() + after;
        self.next_due = Some(self.next_due.map_or(at, |due| due.min(at)));
    }

    /// Waits until the feed announces something, a known retry falls due, or the idle poll.
    pub async fn wait(&mut self) {
        let idle = Instant::now() + OUTBOX_IDLE_POLL;
        let until = self.next_due.map_or(idle, |due| due.min(idle));
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = self.announced() => {}
        }
        if self.next_due.is_some_and(|due| due <= Instant::now()) {
            self.next_due = None;
        }
    }

    /// The next announcement on the feed, and every one already waiting with it (a burst of
    /// changes is one look at the outbox). Never returns once the feed is gone.
    async fn announced(&mut self) {
        loop {
            tokio::select! {
                received = recv(&mut self.changes), if self.changes.is_some() => {
                    if matches!(received, Err(RecvError::Closed)) {
                        self.changes = None;
                        continue;
                    }
                }
                received = recv(&mut self.alerts), if self.alerts.is_some() => {
                    if matches!(received, Err(RecvError::Closed)) {
                        self.alerts = None;
                        continue;
                    }
                }
                else => std::future::pending::<()>().await,
            }
            drain(&mut self.changes);
            drain(&mut self.alerts);
            return;
        }
    }
}

async fn recv<T: Clone>(receiver: &mut Option<Receiver<T>>) -> Result<T, RecvError> {
    match receiver {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

fn drain<T: Clone>(receiver: &mut Option<Receiver<T>>) {
    if let Some(open) = receiver {
        loop {
            match open.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Closed) => {
                    *receiver = None;
                    return;
                }
            }
        }
    }
}
