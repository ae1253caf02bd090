//! The inbox worker: a continuous pipeline from the inbox to the lead store. Claimed events are
//! fetched from the Graph API with at most `LEADHOOK_GRAPH_CONCURRENCY` calls in flight, each
//! freed slot taking the next event at once (no batch waits for its slowest call); fetched leads
//! are stored in batches and their events settled together (see [`storing`]). Live events go
//! before the backlog (see [`Inbox::claim`]). Nothing is dropped: retryable failures are
//! rescheduled with exponential backoff and jitter, permanent ones keep the event as failed.

mod fetch;
mod outcome;
mod storing;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use outcome::{DEFAULT_RETRY, RetryPolicy};
use storing::{Fetched, STORE_BATCH};

use crate::graph::GraphClient;
use crate::health::GraphStatus;
use crate::inbox::{Inbox, PendingEvent};
use crate::metrics::Metrics;
use crate::writer::LeadWriter;

/// Longest idle wait before the worker looks at the inbox again by itself.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// After a claim came back short, how long before a busy worker asks the inbox again unprompted
/// (retries that came due meanwhile).
const RECHECK: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct Intake {
    inbox: Inbox,
    graph: GraphClient,
    leads: LeadWriter,
    metrics: Arc<Metrics>,
    retry: RetryPolicy,
    /// Graph fetches in flight at once.
    concurrency: usize,
}

/// Claimed events not yet being fetched, live ones in front.
struct Claimed {
    events: VecDeque<PendingEvent>,
    /// When the inbox last had fewer due events than asked for.
    drained_at: Option<Instant>,
}

impl Intake {
    pub fn new(
        inbox: Inbox,
        graph: GraphClient,
        leads: LeadWriter,
        metrics: Arc<Metrics>,
        retry: RetryPolicy,
        concurrency: usize,
    ) -> Intake {
        Intake {
            inbox,
            graph,
            leads,
            metrics,
            retry,
            concurrency: concurrency.max(1),
        }
    }

    /// Works the inbox until `shutdown`; events in flight are finished and stored, the rest stay
    /// in the inbox.
    pub async fn run(self, shutdown: CancellationToken) {
        let (to_store, fetched) = mpsc::channel(STORE_BATCH);
        let storing = tokio::spawn(self.clone().store_fetched(fetched));
        self.fetch_until(&shutdown, to_store).await;
        if let Err(error) = storing.await {
            tracing::error!("the store stage of the inbox worker failed: {error}");
        }
    }

    async fn fetch_until(&self, shutdown: &CancellationToken, to_store: mpsc::Sender<Fetched>) {
        let mut claimed = Claimed {
            events: VecDeque::new(),
            drained_at: None,
        };
        let mut fetching = JoinSet::new();
        while !shutdown.is_cancelled() {
            self.wait_out_rate_limit(shutdown).await;
            if claimed.events.len() < self.concurrency
                && claimed.drained_at.is_none_or(|at| at.elapsed() >= RECHECK)
                && !self
                    .refill(&mut claimed, 2 * self.concurrency, false, shutdown)
                    .await
            {
                continue;
            }
            while fetching.len() < self.concurrency
                && let Some(pending) = claimed.events.pop_front()
            {
                let (this, to_store) = (self.clone(), to_store.clone());
                fetching.spawn(async move { this.fetch_one(pending, to_store).await });
            }
            if fetching.is_empty() {
                self.wait_for_work(shutdown).await;
                claimed.drained_at = None;
                continue;
            }
            tokio::select! {
                Some(joined) = fetching.join_next() => {
                    if let Err(error) = joined {
                        // The event stays claimed and becomes due again when its lease ends.
                        tracing::error!("a lead fetch failed unexpectedly: {error}");
                    }
                }
                _ = self.inbox.arrivals() => {
                    // Live events go in front of what was claimed before them.
                    if claimed.events.len() < 4 * self.concurrency {
                        let live = self.concurrency.div_ceil(4).max(4);
                        self.refill(&mut claimed, live, true, shutdown).await;
                    }
                }
                _ = shutdown.cancelled() => {}
            }
        }
        while fetching.join_next().await.is_some() {}
    }

    /// Claims up to `limit` more events, in front of the others when `in_front`. `false` when the
    /// inbox could not be read (after a pause, or at shutdown).
    async fn refill(
        &self,
        claimed: &mut Claimed,
        limit: usize,
        in_front: bool,
        shutdown: &CancellationToken,
    ) -> bool {
        let wanted = limit.saturating_sub(if in_front { 0 } else { claimed.events.len() });
        match self.inbox.claim(wanted).await {
            Ok(events) => {
                claimed.drained_at = (events.len() < wanted).then(Instant::now);
                if in_front {
                    for event in events.into_iter().rev() {
                        claimed.events.push_front(event);
                    }
                } else {
                    claimed.events.extend(events);
                }
                true
            }
            Err(error) => {
                tracing::error!("cannot read the inbox: {error}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.cancelled() => {}
                }
                false
            }
        }
    }

    /// While the Graph API rate-limits us, no new fetch starts.
    async fn wait_out_rate_limit(&self, shutdown: &CancellationToken) {
        if let GraphStatus::RateLimited { until } = self.leads.status().graph() {
            let wait = (until - Utc::now()).to_std().unwrap_or_default();
            if !wait.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
        }
    }

    /// Nothing is due: sleeps until an event arrives, the next retry is due, or shutdown.
    async fn wait_for_work(&self, shutdown: &CancellationToken) {
        let wait = match self.inbox.next_due().await {
            Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default(),
            _ => IDLE_CHECK,
        };
        tokio::select! {
            _ = self.inbox.arrivals() => {}
            _ = tokio::time::sleep(wait.min(IDLE_CHECK)) => {}
            _ = shutdown.cancelled() => {}
        }
    }

    /// Fetches one event's lead and hands it to the store stage, or settles the failure.
    async fn fetch_one(&self, pending: PendingEvent, to_store: mpsc::Sender<Fetched>) {
        match self.fetch(&pending).await {
            Ok(lead) => {
                // The store stage outlives every fetch; if it is gone the event stays claimed.
                let _ = to_store.send(Fetched { pending, lead }).await;
            }
            Err(failure) => {
                let leadgen_id = pending.event.leadgen_id.clone();
                let settlement = self.failed(&pending, failure);
                if let Err(error) = self.inbox.settle(vec![settlement]).await {
                    // The event stays claimed and becomes due again after the lease or a restart.
                    tracing::error!(%leadgen_id, "cannot record the outcome in the inbox: {error}");
                }
            }
        }
    }
}
