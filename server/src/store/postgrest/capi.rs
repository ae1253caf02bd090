//! The Conversions API outbox in the Supabase store: the `capi_queue_stage` trigger on
//! `activity` queues stages in the transaction of the change; claims and settling are SQL
//! functions of `20261130120000_capi.sql`.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use super::PostgrestStore;
use super::query::timestamp;
use crate::store::capi::{RECENT_FAILURES, event_id, short_reason};
use crate::store::{CapiFigures, CapiOutbox, FailedStage, QueuedStage, StoreError};

#[derive(Deserialize)]
struct OutboxRow {
    id: i64,
    lead_id: i64,
    activity_id: i64,
    leadgen_id: String,
    stage: String,
    at: DateTime<Utc>,
    lead_created_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct FailureRow {
    lead_id: i64,
    activity_id: i64,
    stage: String,
    reason: String,
    failed_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct FiguresRow {
    queued: u64,
    retrying: u64,
    retry_reason: Option<String>,
    sent_today: u64,
    failed: u64,
    last_success_at: Option<DateTime<Utc>>,
    recent_failures: Vec<FailureRow>,
}

impl PostgrestStore {
    async fn settle(
        &self,
        ids: &[i64],
        state: &str,
        reason: Option<&str>,
        retry: Duration,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let args = json!({"event_ids": ids, "new_state": state, "why": reason.map(short_reason),
            "retry_seconds": retry.as_secs_f64()});
        self.call(self.client.rpc("capi_settle", args.to_string()))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl CapiOutbox for PostgrestStore {
    async fn capi_switch(
        &self,
        enabled: bool,
        backfill_since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let args = json!({"turn_on": enabled, "backfill_since": timestamp(backfill_since)});
        self.call(self.client.rpc("capi_set_switch", args.to_string()))
            .await?
            .json()
    }

    async fn capi_claim(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<QueuedStage>, StoreError> {
        let args = json!({"claim_limit": limit, "lease_seconds": lease.as_secs_f64()});
        let mut rows: Vec<OutboxRow> = self
            .call(self.client.rpc("capi_claim", args.to_string()))
            .await?
            .json()?;
        rows.sort_by_key(|row| row.id);
        Ok(rows
            .into_iter()
            .map(|row| QueuedStage {
                id: row.id,
                event_id: event_id(row.lead_id, row.activity_id),
                leadgen_id: row.leadgen_id,
                stage: row.stage,
                at: row.at,
                lead_created_at: row.lead_created_at,
            })
            .collect())
    }

    async fn capi_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.settle(ids, "sent", None, Duration::ZERO).await
    }

    async fn capi_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(&[id], "failed", Some(reason), Duration::ZERO)
            .await
    }

    async fn capi_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(ids, "queued", Some(reason), after).await
    }

    async fn capi_figures(&self, today_start: DateTime<Utc>) -> Result<CapiFigures, StoreError> {
        let args = json!({"today_start": timestamp(today_start), "failure_limit": RECENT_FAILURES});
        let row: FiguresRow = self
            .call(self.client.rpc("capi_figures", args.to_string()))
            .await?
            .json()?;
        Ok(CapiFigures {
            queued: row.queued,
            retrying: row.retrying,
            retry_reason: row.retry_reason,
            sent_today: row.sent_today,
            failed: row.failed,
            last_success_at: row.last_success_at,
            recent_failures: row
                .recent_failures
                .into_iter()
                .map(|failure| FailedStage {
                    event_id: event_id(failure.lead_id, failure.activity_id),
                    stage: failure.stage,
                    reason: failure.reason,
                    failed_at: failure.failed_at,
                })
                .collect(),
        })
    }
}
