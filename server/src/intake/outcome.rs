//! What becomes of an event whose lead could not be stored this time: retried after a backoff
//! with jitter (no earlier than a Graph rate limit lifts), or kept as failed with its reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use thiserror::Error;

use crate::graph::GraphError;
use crate::inbox::{PendingEvent, Settlement};
use crate::metrics::Metrics;
use crate::status::{GraphStatus, RuntimeStatus};
use crate::store::StoreError;

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
    status: &RuntimeStatus,
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
