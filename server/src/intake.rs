//! The inbox worker: takes events from the inbox, completes each lead from the Graph API and
//! hands it to the write service. Nothing is dropped: retryable failures are rescheduled with
//! exponential backoff and jitter, permanent ones keep the event as failed with its reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use leadhook_shared::meta::{IncomingLead, parse_graph_lead};
use rand::Rng;
use thiserror::Error;
use tokio_util::sync::CancellationToken;

use crate::graph::{GraphClient, GraphError};
use crate::inbox::{Inbox, InboxError, PendingEvent};
use crate::metrics::Metrics;
use crate::status::GraphStatus;
use crate::store::StoreError;
use crate::writer::LeadWriter;

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
#[derive(Debug, Error)]
enum Failure {
    #[error(transparent)]
    Graph(GraphError),
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
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
    leads: LeadWriter,
    metrics: std::sync::Arc<Metrics>,
    retry: RetryPolicy,
    concurrency: usize,
}

impl Intake {
    pub fn new(
        inbox: Inbox,
        graph: GraphClient,
        leads: LeadWriter,
        metrics: std::sync::Arc<Metrics>,
        retry: RetryPolicy,
    ) -> Intake {
        Intake {
            inbox,
            graph,
            leads,
            metrics,
            retry,
            concurrency: 16,
        }
    }

    /// Works the inbox until `shutdown`; events in flight are finished, the rest stay in the inbox.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let GraphStatus::RateLimited { until } = self.leads.status().graph() {
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
            Ok(()) => {
                self.metrics.event_processed("stored");
                self.inbox.complete(pending.id).await
            }
            Err(failure) => self.reschedule(&pending, failure).await,
        };
        if let Err(error) = outcome {
            // The event stays claimed and becomes due again after the lease or a restart.
            tracing::error!(%leadgen_id, "cannot record the outcome in the inbox: {error}");
        }
    }

    async fn process(&self, pending: &PendingEvent) -> Result<(), Failure> {
        let lead = self.fetch(pending).await?;
        self.leads
            .store_from_meta(lead, leadhook_shared::team::actor::FACEBOOK)
            .await
            .map(|_| ())
            .map_err(Failure::Store)
    }

    /// The event's lead, completed from the Graph API.
    async fn fetch(&self, pending: &PendingEvent) -> Result<IncomingLead, Failure> {
        let event = &pending.event;
        let started = std::time::Instant::now();
        let fetched = self.graph.lead(&event.leadgen_id).await;
        let outcome = fetched.as_ref().map_or_else(GraphError::kind, |_| "ok");
        self.metrics.graph_call(outcome, started.elapsed());
        let graph_lead = fetched.map_err(Failure::Graph)?;
        self.leads.status().set_graph(GraphStatus::Ok);
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
        Ok(lead)
    }

    /// Retries a retryable failure after its backoff (and no earlier than a Graph rate limit
    /// lifts); keeps any other as failed.
    async fn reschedule(&self, pending: &PendingEvent, failure: Failure) -> Result<(), InboxError> {
        let leadgen_id = &pending.event.leadgen_id;
        let now = Utc::now();
        let graph_status = match &failure {
            Failure::Graph(error) => self.leads.status().graph_failed(error),
            _ => None,
        };
        if failure.is_retryable() {
            self.metrics.event_processed("retry");
            let backoff =
                chrono::Duration::from_std(self.retry.delay(pending.attempts)).unwrap_or_default();
            let mut at = now + backoff;
            if let Some(GraphStatus::RateLimited { until }) = graph_status {
                at = at.max(until);
            }
            tracing::debug!(%leadgen_id, attempts = pending.attempts + 1, %at, "will retry: {failure}");
            return self
                .inbox
                .retry_at(pending.id, at, failure.to_string())
                .await;
        }
        self.metrics.event_processed("failed");
        // A rejected token is logged once by the runtime status, not once per lead.
        if !matches!(graph_status, Some(GraphStatus::TokenInvalid { .. })) {
            tracing::warn!(%leadgen_id, "lead kept as failed: {failure}");
        }
        self.inbox.fail(pending.id, failure.to_string()).await
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
