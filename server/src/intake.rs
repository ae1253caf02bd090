//! The intake worker: takes events from the inbox, completes each lead from the Graph API and
//! upserts it into the lead store. Nothing is dropped: retryable failures are rescheduled with
//! exponential backoff and jitter, permanent ones keep the event as failed with its reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use leadhook_shared::meta::{IncomingLead, parse_graph_lead};
use rand::Rng;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use crate::feed::LeadFeed;
use crate::graph::{GraphClient, GraphError};
use crate::inbox::{Inbox, PendingEvent};
use crate::metrics::Metrics;
use crate::status::{GraphStatus, RuntimeStatus, StoreStatus};
use crate::store::{LeadStore, StoreError, Upserted};

/// How retries back off: `base * 2^attempts`, capped, with jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempts + 1`, between half and all of the exponential step.
    pub fn delay(&self, attempts: u32) -> Duration {
        let step = self
            .base
            .saturating_mul(1u32 << attempts.min(20))
            .min(self.cap);
        let half = step / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

/// Why one event did not make it this time.
enum Failure {
    Graph(GraphError),
    Store(StoreError),
    Unparsable(String),
}

impl Failure {
    fn is_retryable(&self) -> bool {
        match self {
            Failure::Graph(error) => error.is_retryable(),
            Failure::Store(error) => error.is_retryable(),
            Failure::Unparsable(_) => false,
        }
    }
}

#[derive(Clone)]
pub struct Intake {
    inbox: Inbox,
    graph: GraphClient,
    store: Arc<dyn LeadStore>,
    status: Arc<RuntimeStatus>,
    metrics: Arc<Metrics>,
    feed: LeadFeed,
    retry: RetryPolicy,
    concurrency: usize,
    form_names: Arc<Mutex<HashMap<String, Option<String>>>>,
}

impl Intake {
    pub fn new(
        inbox: Inbox,
        graph: GraphClient,
        store: Arc<dyn LeadStore>,
        status: Arc<RuntimeStatus>,
        metrics: Arc<Metrics>,
        feed: LeadFeed,
        retry: RetryPolicy,
    ) -> Intake {
        Intake {
            inbox,
            graph,
            store,
            status,
            metrics,
            feed,
            retry,
            concurrency: 16,
            form_names: Arc::default(),
        }
    }

    /// Works the inbox until `shutdown`; events in flight are finished, the rest stay in the inbox.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let GraphStatus::RateLimited { until } = self.status.graph() {
                let wait = (until - Utc::now()).to_std().unwrap_or_default();
                if !wait.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shutdown.cancelled() => break,
                    }
                }
            }
            let batch = match self.inbox.claim(self.concurrency * 4).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::error!("cannot read the inbox: {error}");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = shutdown.cancelled() => break,
                    }
                }
            };
            if batch.is_empty() {
                let wait = match self.inbox.next_due().await {
                    Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default(),
                    _ => Duration::from_secs(30),
                };
                tokio::select! {
                    _ = self.inbox.arrivals() => {}
                    _ = tokio::time::sleep(wait.min(Duration::from_secs(30))) => {}
                    _ = shutdown.cancelled() => break,
                }
                continue;
            }
            futures::stream::iter(batch)
                .for_each_concurrent(self.concurrency, |pending| self.settle(pending))
                .await;
        }
    }

    /// Processes one event and records the outcome in the inbox.
    async fn settle(&self, pending: PendingEvent) {
        let leadgen_id = pending.event.leadgen_id.clone();
        let outcome = match self.process(&pending).await {
            Ok(_) => {
                self.metrics.event_processed("stored");
                self.inbox.complete(pending.id).await
            }
            Err(failure) => self.reschedule(&pending, failure).await,
        };
        if let Err(error) = outcome {
            // The event stays leased and becomes due again after the lease or a restart.
            tracing::error!(%leadgen_id, "cannot record the outcome in the inbox: {error}");
        }
    }

    async fn process(&self, pending: &PendingEvent) -> Result<Upserted, Failure> {
        let event = &pending.event;
        let started = std::time::Instant::now();
        let fetched = self.graph.lead(&event.leadgen_id).await;
        let outcome = fetched.as_ref().map_or_else(GraphError::kind, |_| "ok");
        self.metrics.graph_call(outcome, started.elapsed());
        let graph_lead = fetched.map_err(Failure::Graph)?;
        self.status.set_graph(GraphStatus::Ok);
        let fallback_created = event
            .created_time
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .unwrap_or(pending.received_at);
        let mut lead = parse_graph_lead(graph_lead, fallback_created)
            .map_err(|e| Failure::Unparsable(e.to_string()))?;
        lead.leadgen_id.clone_from(&event.leadgen_id);
        lead.meta.page_id = lead.meta.page_id.take().or_else(|| event.page_id.clone());
        lead.meta.form_id = lead.meta.form_id.take().or_else(|| event.form_id.clone());
        lead.meta.ad_id = lead.meta.ad_id.take().or_else(|| event.ad_id.clone());
        lead.meta.adset_id = lead
            .meta
            .adset_id
            .take()
            .or_else(|| event.adgroup_id.clone());
        self.store(lead).await.map_err(Failure::Store)
    }

    /// Stores a parsed lead (from a webhook or a sweep) and announces it. Fills in the form name.
    pub async fn store(&self, mut lead: IncomingLead) -> Result<Upserted, StoreError> {
        if lead.meta.form_name.is_none()
            && let Some(form_id) = lead.meta.form_id.clone()
        {
            lead.meta.form_name = self.form_name(&form_id).await;
        }
        let result = self.store.upsert(&lead).await;
        match &result {
            Ok(upserted) => {
                self.status.set_store(StoreStatus::Ok);
                if upserted.inserted {
                    tracing::info!(id = upserted.lead.id, leadgen_id = %lead.leadgen_id, "new lead stored");
                }
                self.feed.publish(&upserted.lead);
            }
            Err(StoreError::Misconfigured { message, fix }) => {
                self.status.set_store(StoreStatus::Misconfigured {
                    message: message.clone(),
                    fix: fix.clone(),
                })
            }
            Err(error) => self.status.set_store(StoreStatus::Unavailable {
                message: error.to_string(),
            }),
        }
        result
    }

    /// Form names rarely change: ask once per form and remember (failures too, until restart).
    async fn form_name(&self, form_id: &str) -> Option<String> {
        if let Some(known) = self.form_names.lock().await.get(form_id) {
            return known.clone();
        }
        let name = match self.graph.form_name(form_id).await {
            Ok(name) => name,
            Err(error) if error.is_retryable() => return None,
            Err(error) => {
                tracing::debug!(%form_id, "form name not readable: {error}");
                None
            }
        };
        self.form_names
            .lock()
            .await
            .insert(form_id.to_string(), name.clone());
        name
    }

    /// Remembers a form name learned elsewhere (the sweeper lists forms with their names).
    pub async fn learn_form_name(&self, form_id: &str, name: Option<String>) {
        self.form_names
            .lock()
            .await
            .insert(form_id.to_string(), name);
    }

    async fn reschedule(
        &self,
        pending: &PendingEvent,
        failure: Failure,
    ) -> Result<(), crate::inbox::InboxError> {
        let leadgen_id = &pending.event.leadgen_id;
        self.metrics.event_processed(if failure.is_retryable() {
            "retry"
        } else {
            "failed"
        });
        let later = |extra: Option<Duration>| {
            let delay = self
                .retry
                .delay(pending.attempts)
                .max(extra.unwrap_or_default());
            Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
        };
        match failure {
            Failure::Graph(GraphError::RateLimited { code, retry_after }) => {
                let at = later(retry_after);
                self.status
                    .set_graph(GraphStatus::RateLimited { until: at });
                self.inbox
                    .retry_at(pending.id, at, format!("rate limited (code {code})"))
                    .await
            }
            Failure::Graph(error @ GraphError::Transient(_)) => {
                self.status.set_graph(GraphStatus::Failing {
                    message: error.to_string(),
                });
                tracing::debug!(%leadgen_id, attempts = pending.attempts + 1, "will retry: {error}");
                self.inbox
                    .retry_at(pending.id, later(None), error.to_string())
                    .await
            }
            Failure::Graph(error @ GraphError::TokenInvalid { .. }) => {
                self.status.set_graph(GraphStatus::TokenInvalid {
                    message: error.to_string(),
                });
                self.inbox.fail(pending.id, error.to_string()).await
            }
            Failure::Graph(error) => {
                tracing::warn!(%leadgen_id, "lead kept as failed: {error}");
                self.inbox.fail(pending.id, error.to_string()).await
            }
            Failure::Store(error) if error.is_retryable() => {
                self.inbox
                    .retry_at(pending.id, later(None), error.to_string())
                    .await
            }
            Failure::Store(error) => {
                tracing::error!(%leadgen_id, "lead kept as failed: {error}");
                self.inbox.fail(pending.id, error.to_string()).await
            }
            Failure::Unparsable(reason) => {
                tracing::error!(%leadgen_id, "lead kept as failed: {reason}");
                self.inbox.fail(pending.id, reason).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_stays_capped() {
        let policy = RetryPolicy {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        for attempts in 0..40 {
            let step = Duration::from_secs(1u64 << attempts.min(20)).min(Duration::from_secs(60));
            let delay = policy.delay(attempts);
            assert!(
                delay >= step / 2 && delay <= step,
                "attempt {attempts}: {delay:?} vs step {step:?}"
            );
        }
    }
}
