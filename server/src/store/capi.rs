//! The Conversions API on the outbox (see [`super::outbox`]): the destination [`CAPI`], whose
//! deliveries are the stages of each Facebook lead (stored, then every status change), queued in
//! the transaction that records them while the switch is on, until Meta has taken them.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;
use super::outbox::{CAPI, Delivery, DeliveryFigures, Outbox};

/// A stage waiting to be sent, leased to the sender that claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedStage {
    pub id: i64,
    /// `leadhook-<lead id>-<activity id>`: the same for every re-send, so Meta drops repeats.
    pub event_id: String,
    pub leadgen_id: String,
    /// The status the lead reached (`New Lead` when it was stored).
    pub stage: String,
    pub at: DateTime<Utc>,
    pub lead_created_at: DateTime<Utc>,
}

/// A stage Meta will never take, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedStage {
    pub event_id: String,
    pub stage: String,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// What the outbox holds for the Conversions API, for `/api/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CapiFigures {
    /// Waiting to be sent (including those retried after an error).
    pub queued: u64,
    /// Queued stages whose last attempt failed, and the latest reason.
    pub retrying: u64,
    pub retry_reason: Option<String>,
    pub sent_today: u64,
    pub failed: u64,
    /// The newest failures, newest first.
    pub recent_failures: Vec<FailedStage>,
    pub last_success_at: Option<DateTime<Utc>>,
}

impl From<DeliveryFigures> for CapiFigures {
    fn from(figures: DeliveryFigures) -> CapiFigures {
        CapiFigures {
            queued: figures.queued,
            retrying: figures.retrying,
            retry_reason: figures.retry_reason,
            sent_today: figures.sent_today,
            failed: figures.failed,
            recent_failures: figures
                .recent_failures
                .into_iter()
                .map(|failure| FailedStage {
                    event_id: event_id(failure.lead_id, failure.activity_id),
                    stage: failure.stage,
                    reason: failure.reason,
                    failed_at: failure.failed_at,
                })
                .collect(),
            last_success_at: figures.last_success_at,
        }
    }
}

impl From<Delivery> for QueuedStage {
    fn from(delivery: Delivery) -> QueuedStage {
        QueuedStage {
            id: delivery.id,
            event_id: event_id(delivery.lead_id, delivery.activity_id),
            // The stores queue CAPI deliveries only for leads from Meta.
            leadgen_id: delivery.leadgen_id.unwrap_or_default(),
            stage: delivery.stage,
            at: delivery.at,
            lead_created_at: delivery.lead_created_at,
        }
    }
}

/// The Conversions API's view of the outbox: its switch, and the outbox's operations on the
/// destination [`CAPI`] in its own terms.
#[async_trait]
pub trait CapiOutbox: Outbox {
    /// Switches queueing on or off for every writer of the store. Switching it on when it was
    /// off also queues the stages recorded since `backfill_since` (Meta takes 7 days back);
    /// returns how many were queued that way.
    async fn capi_switch(
        &self,
        enabled: bool,
        backfill_since: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Leases up to `limit` due stages, oldest first, for `lease`; a sender that dies leaves
    /// them to be claimed again when the lease ends.
    async fn capi_claim(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<QueuedStage>, StoreError> {
        let claimed = self.outbox_claim(CAPI, limit, lease).await?;
        Ok(claimed.into_iter().map(QueuedStage::from).collect())
    }

    /// Meta took these: never send them again.
    async fn capi_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.outbox_sent(ids).await
    }

    /// Meta will never take this one (or it may not be sent): keep it with the reason.
    async fn capi_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.outbox_failed(id, reason).await
    }

    /// These stay queued and are due again after `after`.
    async fn capi_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.outbox_retry(ids, after, reason).await
    }

    async fn capi_figures(&self, today_start: DateTime<Utc>) -> Result<CapiFigures, StoreError> {
        let mut figures = self.outbox_figures(today_start).await?;
        Ok(figures
            .remove(CAPI)
            .map(CapiFigures::from)
            .unwrap_or_default())
    }
}

/// The event id of activity `activity_id` of lead `lead_id`.
pub fn event_id(lead_id: i64, activity_id: i64) -> String {
    format!("leadhook-{lead_id}-{activity_id}")
}
