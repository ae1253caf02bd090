//! The outbox in the Supabase store: the `outbox_queue` trigger on `activity` queues deliveries
//! in the transaction of the change; routes, claims, settling and figures are SQL functions of
//! `20261207180000_outbox.sql` (settling is `capi_settle` of `20261130120000_capi.sql`, which
//! settles deliveries by id whatever their destination).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::LeadDelivery;
use serde::Deserialize;
use serde_json::json;

use super::PostgrestStore;
use super::error::FIX_MIGRATIONS;
use super::query::timestamp;
use crate::store::outbox::{RECENT_FAILURES, short_reason};
use crate::store::{Delivery, DeliveryFigures, FailedDelivery, Outbox, Route, StoreError};

/// The outbox's table (named when it held only the Conversions API's stages).
const OUTBOX_TABLE: &str = "capi_events";

#[derive(Deserialize)]
struct DeliveryRow {
    id: i64,
    destination: String,
    event_type: String,
    lead_id: i64,
    activity_id: i64,
    leadgen_id: Option<String>,
    stage: String,
    at: DateTime<Utc>,
    lead_created_at: DateTime<Utc>,
    queued_at: DateTime<Utc>,
    attempts: u32,
}

#[derive(Deserialize)]
struct FailureRow {
    delivery_id: i64,
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
impl Outbox for PostgrestStore {
    async fn outbox_routes(&self, routes: &[Route]) -> Result<(), StoreError> {
        let routes: Vec<_> = routes
            .iter()
            .map(|route| json!({"destination": route.destination, "event_type": route.event_type}))
            .collect();
        let args = json!({ "routes": routes });
        self.call(self.client.rpc("outbox_set_routes", args.to_string()))
            .await?;
        Ok(())
    }

    async fn outbox_hold_routes(
        &self,
        holder: &str,
        routes: &[Route],
        hold_for: Duration,
        first: bool,
    ) -> Result<(), StoreError> {
        let held: Vec<_> = routes
            .iter()
            .map(|route| json!({"destination": route.destination, "event_type": route.event_type}))
            .collect();
        let args = json!({"holder": holder, "routes": held,
            "hold_seconds": hold_for.as_secs_f64(), "drop_older": first});
        match self
            .call(self.client.rpc("outbox_hold_routes", args.to_string()))
            .await
        {
            Ok(_) => Ok(()),
            // A schema from before 20261207212000: the routes as that release wrote them (which a
            // replica started later with another file replaces), rather than no channel at all.
            Err(StoreError::Misconfigured { fix, message }) if fix == FIX_MIGRATIONS => {
                tracing::warn!(
                    %message,
                    "outbox: the store lacks outbox_hold_routes, so this server replaces every \
                     route as the release before did (another replica's start may take this \
                     one's away); {FIX_MIGRATIONS}"
                );
                self.outbox_routes(routes).await
            }
            Err(error) => Err(error),
        }
    }

    async fn outbox_claim(
        &self,
        destination: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError> {
        let args = json!({"dest": destination, "claim_limit": limit,
            "lease_seconds": lease.as_secs_f64()});
        let mut rows: Vec<DeliveryRow> = self
            .call(self.client.rpc("outbox_claim", args.to_string()))
            .await?
            .json()?;
        rows.sort_by_key(|row| row.id);
        Ok(rows
            .into_iter()
            .map(|row| Delivery {
                id: row.id,
                destination: row.destination,
                event_type: row.event_type,
                lead_id: row.lead_id,
                activity_id: row.activity_id,
                leadgen_id: row.leadgen_id,
                stage: row.stage,
                at: row.at,
                lead_created_at: row.lead_created_at,
                queued_at: row.queued_at,
                attempts: row.attempts,
            })
            .collect())
    }

    async fn outbox_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.settle(ids, "sent", None, Duration::ZERO).await
    }

    async fn outbox_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(&[id], "failed", Some(reason), Duration::ZERO)
            .await
    }

    async fn outbox_hold(&self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError> {
        let args = json!({"delivery_id": id, "until": timestamp(until)});
        self.call(self.client.rpc("outbox_hold", args.to_string()))
            .await?;
        Ok(())
    }

    async fn outbox_drop(&self, id: i64, reason: &str) -> Result<(), StoreError> {
        self.settle(&[id], "dropped", Some(reason), Duration::ZERO)
            .await
    }

    async fn outbox_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError> {
        self.settle(ids, "queued", Some(reason), after).await
    }

    async fn outbox_of_lead(
        &self,
        lead_id: i64,
        limit: u32,
    ) -> Result<Vec<LeadDelivery>, StoreError> {
        let rows = self
            .client
            .from(OUTBOX_TABLE)
            .select("destination,event_type,state,attempts,reason,queued_at,done_at")
            .eq("lead_id", lead_id.to_string())
            .order("id.desc")
            .limit(usize::try_from(limit).unwrap_or(usize::MAX));
        self.call(rows).await?.json()
    }

    async fn outbox_figures(
        &self,
        today_start: DateTime<Utc>,
    ) -> Result<BTreeMap<String, DeliveryFigures>, StoreError> {
        let args = json!({"today_start": timestamp(today_start), "failure_limit": RECENT_FAILURES});
        let rows: BTreeMap<String, FiguresRow> = self
            .call(self.client.rpc("outbox_figures", args.to_string()))
            .await?
            .json()?;
        Ok(rows
            .into_iter()
            .map(|(destination, row)| {
                let figures = DeliveryFigures {
                    queued: row.queued,
                    retrying: row.retrying,
                    retry_reason: row.retry_reason,
                    sent_today: row.sent_today,
                    failed: row.failed,
                    last_success_at: row.last_success_at,
                    recent_failures: row
                        .recent_failures
                        .into_iter()
                        .map(|failure| FailedDelivery {
                            delivery_id: failure.delivery_id,
                            lead_id: failure.lead_id,
                            activity_id: failure.activity_id,
                            stage: failure.stage,
                            reason: failure.reason,
                            failed_at: failure.failed_at,
                        })
                        .collect(),
                };
                (destination, figures)
            })
            .collect())
    }
}
