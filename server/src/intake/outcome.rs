//! What becomes of an event whose lead could not be stored this time: retried after a backoff
//! with jitter (no earlier than a Graph rate limit lifts), or kept as failed with its reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::Backoff;
use thiserror::Error;

use crate::graph::GraphError;
use crate::health::{GraphStatus, RuntimeHealth};
use crate::inbox::{PendingEvent, Settlement};
use crate::metrics::Metrics;
use crate::store::StoreError;

/// How the intake backs off an event's retries: the shared formula, attempt by attempt.
pub type RetryPolicy = Backoff;

/// The intake's retries: from 1 second, doubling up to 5 minutes, with jitter.
pub const DEFAULT_RETRY: RetryPolicy =
    Backoff::new(Duration::from_secs(1), Duration::from_secs(300));

/// Why one event did not make it this time.
#[derive(Debug, Error)]
pub(super) enum Failure {
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

/// Decides, counts and logs what becomes of `pending` after `failure`.
pub(super) fn after_failure(
    pending: &PendingEvent,
    failure: Failure,
    retry: &RetryPolicy,
    status: &RuntimeHealth,
    metrics: &Metrics,
) -> Settlement {
    let leadgen_id = &pending.event.leadgen_id;
    let graph_status = match &failure {
        Failure::Graph(error) => status.graph_failed(error),
        _ => None,
    };
    if failure.is_retryable() {
        metrics.event_processed("retry");
        let backoff = chrono::Duration::from_std(retry.delay(pending.attempts)).unwrap_or_default();
        let mut at: DateTime<Utc> = Utc::now() + backoff;
        if let Some(GraphStatus::RateLimited { until }) = graph_status {
            at = at.max(until);
        }
        tracing::debug!(%leadgen_id, attempts = pending.attempts + 1, %at, "will retry: {failure}");
        return Settlement::RetryAt {
            id: pending.id,
            at,
            reason: failure.to_string(),
        };
    }
    metrics.event_processed("failed");
    // A rejected token is logged once by the runtime status, not once per lead.
    if !matches!(graph_status, Some(GraphStatus::TokenInvalid { .. })) {
        tracing::warn!(%leadgen_id, "lead kept as failed: {failure}");
    }
    Settlement::Failed {
        id: pending.id,
        reason: failure.to_string(),
    }
}
