//! Conversions API for CRM: tells Meta which stage each Facebook lead reached, so lead ads can
//! optimise for leads that become customers.
//!
//! Stages are queued by the store in the transaction that records them (see `store::capi`);
//! [`CapiSender`] claims them in batches, sends them to `/<dataset>/events`, and marks them sent
//! only after Meta's 200. A crash between the two re-sends the batch with the same `event_id`s,
//! which Meta drops as repeats.

pub mod event;

pub use event::JUNK_STAGE;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::Backoff;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::config::{CapiConfig, Config};
use crate::graph::{GraphClient, GraphError};
use crate::metrics::Metrics;
use crate::store::{CapiFigures, CapiOutbox, QueuedStage, StoreError};
use event::{MAX_EVENT_AGE, Prepared, prepare};

/// Meta takes at most this many events per request.
pub const MAX_EVENTS_PER_REQUEST: u32 = 1000;

/// Sends queued stages to Meta until shutdown.
#[derive(Clone)]
pub struct CapiSender {
    outbox: Arc<dyn CapiOutbox>,
    graph: GraphClient,
    config: CapiConfig,
    metrics: Arc<Metrics>,
}

#[derive(Deserialize)]
struct Received {
    #[serde(default)]
    events_received: Option<u64>,
}

/// Why a batch stopped before all of it was settled: it stays queued and is tried again later.
struct Pause {
    reason: String,
    retry_after: Option<Duration>,
}

impl CapiSender {
    pub fn new(
        config: &Config,
        capi: CapiConfig,
        outbox: Arc<dyn CapiOutbox>,
        metrics: Arc<Metrics>,
    ) -> Result<CapiSender, GraphError> {
        let graph = GraphClient::for_capi(config, &capi)?;
        Ok(CapiSender {
            outbox,
            graph,
            config: capi,
            metrics,
        })
    }

    /// What the outbox holds now, for `/api/health`; `today_start` begins "sent today".
    pub async fn figures(&self, today_start: DateTime<Utc>) -> Result<CapiFigures, StoreError> {
        self.outbox.capi_figures(today_start).await
    }

    /// A claimed batch stays leased this long: a sender that dies mid-batch leaves it to another
    /// (or to itself after a restart) then. Long enough for a batch split down to one event.
    fn lease(&self) -> Duration {
        self.config.timeout * 3 + self.config.batch_wait
    }

    pub async fn run(self, shutdown: CancellationToken) {
        if !self.switch_on(&shutdown).await {
            return;
        }
        let mut failures: u32 = 0;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.batch_wait) => {}
            }
            loop {
                let batch = match self
                    .outbox
                    .capi_claim(MAX_EVENTS_PER_REQUEST, self.lease())
                    .await
                {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::warn!(%error, "Conversions API: cannot read the outbox");
                        break;
                    }
                };
                let full = batch.len() as u32 == MAX_EVENTS_PER_REQUEST;
                if batch.is_empty() {
                    break;
                }
                match self.deliver(&batch).await {
                    Ok(()) => failures = 0,
                    Err(pause) => {
                        failures = failures.saturating_add(1);
                        let wait = self.backoff(failures, pause.retry_after);
                        tracing::warn!(reason = %pause.reason, retry_in = ?wait, "Conversions API: batch postponed");
                        let ids: Vec<i64> = batch.iter().map(|stage| stage.id).collect();
                        if let Err(error) = self.outbox.capi_retry(&ids, wait, &pause.reason).await
                        {
                            tracing::warn!(%error, "Conversions API: cannot postpone the batch; its lease ends it");
                        }
                        break;
                    }
                }
                if !full {
                    break;
                }
            }
        }
    }

    /// Turns queueing on in the store (backfilling the last 7 days the first time), retrying
    /// while the store is unreachable; `false` on shutdown.
    async fn switch_on(&self, shutdown: &CancellationToken) -> bool {
        loop {
            match self
                .outbox
                .capi_switch(true, Utc::now() - MAX_EVENT_AGE)
                .await
            {
                Ok(backfilled) => {
                    tracing::info!(
                        dataset = %self.config.dataset_id,
                        backfilled,
                        "Conversions API on: lead stages go to Meta"
                    );
                    return true;
                }
                Err(error) => {
                    tracing::warn!(%error, "Conversions API: cannot switch queueing on yet");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return false,
                _ = tokio::time::sleep(self.config.batch_wait) => {}
            }
        }
    }

    /// The shared backoff from the batch wait up to the configured cap; Meta's advertised regain
    /// time wins when longer (still capped).
    fn backoff(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        Backoff::new(self.config.batch_wait, self.config.retry_cap)
            .delay(failures)
            .max(retry_after.unwrap_or_default())
            .min(self.config.retry_cap)
    }

    /// Validates, sends, and settles one claimed batch. A rejected request is split to find
    /// the event Meta refuses; everything else goes through.
    async fn deliver(&self, batch: &[QueuedStage]) -> Result<(), Pause> {
        let now = Utc::now();
        let mut valid = Vec::with_capacity(batch.len());
        for stage in batch {
            match prepare(stage, &self.config, now) {
                Ok(event) => valid.push(event),
                Err(reason) => self.fail(stage.id, &reason).await?,
            }
        }
        let mut pending: Vec<Vec<Prepared>> = vec![valid];
        while let Some(events) = pending.pop() {
            if events.is_empty() {
                continue;
            }
            match self.post(&events).await {
                Ok(()) => {
                    let ids: Vec<i64> = events.iter().map(|event| event.outbox_id).collect();
                    self.outbox.capi_sent(&ids).await.map_err(store_pause)?;
                    self.metrics.capi_request("ok");
                    self.metrics.capi_events("sent", ids.len());
                }
                Err(error) if is_pause(&error) => {
                    self.metrics.capi_request("retry");
                    return Err(Pause {
                        reason: reason(&error),
                        retry_after: match error {
                            GraphError::RateLimited { retry_after, .. } => retry_after,
                            _ => None,
                        },
                    });
                }
                Err(error) => {
                    self.metrics.capi_request("rejected");
                    if let [single] = events.as_slice() {
                        self.fail(single.outbox_id, &reason(&error)).await?;
                    } else {
                        let mut first = events;
                        let second = first.split_off(first.len() / 2);
                        pending.push(second);
                        pending.push(first);
                    }
                }
            }
        }
        Ok(())
    }

    async fn fail(&self, id: i64, reason: &str) -> Result<(), Pause> {
        tracing::warn!(
            outbox_id = id,
            reason,
            "Conversions API: stage will not be sent"
        );
        self.outbox
            .capi_failed(id, reason)
            .await
            .map_err(store_pause)?;
        self.metrics.capi_events("failed", 1);
        Ok(())
    }

    async fn post(&self, events: &[Prepared]) -> Result<(), GraphError> {
        let body = serde_json::json!({
            "data": events.iter().map(|event| &event.body).collect::<Vec<_>>(),
        });
        let received: Received = self
            .graph
            .post_json(&format!("{}/events", self.config.dataset_id), &body)
            .await?;
        match received.events_received {
            Some(count) if count != events.len() as u64 => Err(GraphError::Transient(format!(
                "Meta received {count} of {} events",
                events.len()
            ))),
            _ => Ok(()),
        }
    }
}

/// Errors that say nothing about the events themselves: wait, the same batch may pass later.
fn is_pause(error: &GraphError) -> bool {
    error.is_retryable()
        || matches!(
            error,
            GraphError::TokenInvalid { .. } | GraphError::PermissionDenied { .. }
        )
}

/// Meta's reason, worded for the Conversions API rather than for lead reading.
fn reason(error: &GraphError) -> String {
    match error {
        GraphError::TokenInvalid { message, .. } => {
            format!("token rejected (code 190): {message}; set FB_CAPI_TOKEN")
        }
        GraphError::PermissionDenied { code, message } => format!(
            "token lacks permission (code {code}): {message}; give FB_CAPI_TOKEN access to the dataset"
        ),
        GraphError::NotReadable { message } => format!("code 100: {message}"),
        GraphError::Other(message) | GraphError::Transient(message) => message.clone(),
        GraphError::RateLimited { .. } => error.to_string(),
    }
}

fn store_pause(error: StoreError) -> Pause {
    Pause {
        reason: format!("outbox unavailable: {error}"),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use chrono::TimeDelta;
    use secrecy::SecretString;
    use tokio::sync::watch;

    use super::*;
    use crate::store::{Delivery, DeliveryFigures, Outbox, Route};

    /// An outbox in memory that hands out one batch, then nothing, and records how each stage
    /// was settled.
    struct MemoryOutbox {
        batch: Mutex<Vec<Delivery>>,
        claims: watch::Sender<usize>,
        failed: Mutex<Vec<(i64, String)>>,
        sent_or_retried: Mutex<Vec<i64>>,
    }

    #[async_trait]
    impl Outbox for MemoryOutbox {
        async fn outbox_routes(&self, _: &[Route]) -> Result<(), StoreError> {
            Ok(())
        }

        async fn outbox_hold_routes(
            &self,
            _: &str,
            _: &[Route],
            _: Duration,
            _: bool,
        ) -> Result<(), StoreError> {
            Ok(())
        }

        async fn outbox_claim(
            &self,
            _: &str,
            _: u32,
            _: Duration,
        ) -> Result<Vec<Delivery>, StoreError> {
            let batch = std::mem::take(&mut *self.batch.lock().unwrap());
            self.claims.send_modify(|n| *n += 1);
            Ok(batch)
        }

        async fn outbox_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
            self.sent_or_retried.lock().unwrap().extend(ids);
            Ok(())
        }

        async fn outbox_failed(&self, id: i64, reason: &str) -> Result<(), StoreError> {
            self.failed.lock().unwrap().push((id, reason.to_string()));
            Ok(())
        }

        async fn outbox_retry(&self, ids: &[i64], _: Duration, _: &str) -> Result<(), StoreError> {
            self.sent_or_retried.lock().unwrap().extend(ids);
            Ok(())
        }

        async fn outbox_hold(&self, _: i64, _: DateTime<Utc>) -> Result<(), StoreError> {
            unreachable!("the Conversions API never holds a stage")
        }

        async fn outbox_drop(&self, _: i64, _: &str) -> Result<(), StoreError> {
            unreachable!("the Conversions API never drops a stage")
        }

        async fn outbox_of_lead(
            &self,
            _: i64,
            _: u32,
        ) -> Result<Vec<leadhook_shared::LeadDelivery>, StoreError> {
            unreachable!("the Conversions API never reads a lead's deliveries")
        }

        async fn outbox_figures(
            &self,
            _: DateTime<Utc>,
        ) -> Result<BTreeMap<String, DeliveryFigures>, StoreError> {
            Ok(BTreeMap::new())
        }
    }

    #[async_trait]
    impl CapiOutbox for MemoryOutbox {
        async fn capi_switch(&self, _: bool, _: DateTime<Utc>) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn stage(id: i64, leadgen_id: &str, at: DateTime<Utc>) -> Delivery {
        Delivery {
            id,
            destination: crate::store::CAPI.into(),
            event_type: "lead.status_changed".into(),
            lead_id: id,
            activity_id: 1,
            leadgen_id: Some(leadgen_id.to_string()),
            stage: "Contacted".to_string(),
            at,
            lead_created_at: at,
            queued_at: at,
            attempts: 1,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stages_meta_would_refuse_are_kept_as_failed_without_asking_meta() {
        let now = Utc::now();
        let outbox = Arc::new(MemoryOutbox {
            batch: Mutex::new(vec![
                stage(1, "1234", now - TimeDelta::days(8)),
                stage(2, "not-a-number", now),
            ]),
            claims: watch::channel(0).0,
            failed: Mutex::default(),
            sent_or_retried: Mutex::default(),
        });
        let secret = SecretString::from("unused");
        // Nothing listens there: a request would fail and postpone the batch (a retry).
        let graph = GraphClient::new(
            "http://127.0.0.1:9",
            "v25.0",
            secret.clone(),
            &secret,
            Duration::from_secs(1),
            1,
        )
        .unwrap();
        let sender = CapiSender {
            outbox: outbox.clone(),
            graph,
            config: CapiConfig {
                dataset_id: "42".into(),
                token: secret,
                stages: BTreeMap::new(),
                junk_event: crate::capi::JUNK_STAGE.into(),
                batch_wait: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                retry_cap: Duration::from_secs(60),
            },
            metrics: Arc::default(),
        };
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(sender.run(shutdown.clone()));

        // The second claim comes after the first batch was settled.
        outbox
            .claims
            .subscribe()
            .wait_for(|n| *n >= 2)
            .await
            .unwrap();
        shutdown.cancel();
        running.await.unwrap();

        let failed = outbox.failed.lock().unwrap().clone();
        assert_eq!(failed.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [1, 2]);
        assert!(
            failed[0].1.contains("more than 7 days ago"),
            "{}",
            failed[0].1
        );
        assert!(failed[1].1.contains("not numeric"), "{}", failed[1].1);
        assert!(outbox.sent_or_retried.lock().unwrap().is_empty());
    }
}
