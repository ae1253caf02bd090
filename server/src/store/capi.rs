//! The Conversions API outbox: each stage of each Facebook lead, queued in the transaction that
//! records it (a trigger on the activity history), until Meta has taken it.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;

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

/// What the outbox holds, for `/api/health`.
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

/// How many failures `/api/health` lists.
pub const RECENT_FAILURES: u32 = 10;

#[async_trait]
pub trait CapiOutbox: Send + Sync {
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
    async fn capi_claim(&self, limit: u32, lease: Duration)
    -> Result<Vec<QueuedStage>, StoreError>;

    /// Meta took these: never send them again.
    async fn capi_sent(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// Meta will never take this one (or it may not be sent): keep it with the reason.
    async fn capi_failed(&self, id: i64, reason: &str) -> Result<(), StoreError>;

    /// These stay queued and are due again after `after`.
    async fn capi_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError>;

    async fn capi_figures(&self, today_start: DateTime<Utc>) -> Result<CapiFigures, StoreError>;
}

/// The event id of activity `activity_id` of lead `lead_id`.
pub fn event_id(lead_id: i64, activity_id: i64) -> String {
    format!("leadhook-{lead_id}-{activity_id}")
}

/// A reason as the outbox keeps it: short, one line.
pub fn short_reason(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect()
}
