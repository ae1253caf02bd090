//! Escalation: a lead still `New Lead` after `LEADHOOK_ESCALATE_AFTER`, and again after 30
//! minutes, raises an `escalation` event on `/api/events`. The "escalated to level N" mark lives in
//! the store and is taken by a conditional update, so each lead is escalated once per threshold,
//! across restarts and replicas alike.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::QueueConfig;
use crate::store::StoreError;
use crate::writer::LeadWriter;

/// How often waiting leads are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Most leads escalated per threshold per check; the rest follow at the next check.
const BATCH: u32 = 100;
/// Leads submitted longer ago than this are not escalated: a sweep that backfills a week of
/// missed leads should not ring every dashboard hundreds of times.
const HORIZON: chrono::TimeDelta = chrono::TimeDelta::days(1);

#[derive(Clone)]
pub struct Escalator {
    leads: LeadWriter,
    clock: Arc<dyn Clock>,
    thresholds: Vec<Duration>,
}

impl Escalator {
    pub fn new(leads: LeadWriter, config: &QueueConfig) -> Escalator {
        Escalator {
            leads,
            clock: Arc::clone(&config.clock),
            thresholds: config.escalation_thresholds(),
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(CHECK_EVERY) => {}
            }
            if let Err(error) = self.check().await {
                tracing::warn!("cannot check for waiting leads: {error}");
            }
        }
    }

    /// Escalates every lead that has crossed a threshold since it was last escalated. A lead past
    /// several thresholds (the server was down) is escalated for the longest one only: longest
    /// first, and taking that mark takes the shorter ones with it.
    pub async fn check(&self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let horizon = now - HORIZON;
        for (index, threshold) in self.thresholds.iter().enumerate().rev() {
            let level = u8::try_from(index + 1).unwrap_or(u8::MAX);
            let Ok(age) = chrono::Duration::from_std(*threshold) else {
                continue;
            };
            let due = self
                .leads
                .store()
                .due_for_escalation(horizon, now - age, level, BATCH)
                .await?;
            for lead in &due {
                self.leads.escalate(lead, level, *threshold, now).await?;
            }
        }
        Ok(())
    }
}
