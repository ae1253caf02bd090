//! The store stage: fetched leads are written in batches (one store transaction or request for
//! many leads) and their events settled in the inbox together.

use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Intake;
use super::outcome::{Failure, after_failure};
use crate::inbox::{PendingEvent, Settlement};

/// A lead completed from the Graph API, waiting to be stored.
pub(super) struct Fetched {
    pub pending: PendingEvent,
    pub lead: IncomingLead,
}

/// Most leads written in one store call (the store's all-or-nothing unit).
pub(super) const STORE_BATCH: usize = crate::store::UPSERT_BATCH;
/// Batches whose inbox outcomes may be on their way at once.
const SETTLING: usize = 4;

impl Intake {
    /// Stores what `fetched` brings until every sender is gone, then waits for the last outcomes.
    pub(super) async fn store_fetched(self, mut fetched: mpsc::Receiver<Fetched>) {
        let mut batch = Vec::with_capacity(STORE_BATCH);
        let mut settling = JoinSet::new();
        while fetched.recv_many(&mut batch, STORE_BATCH).await > 0 {
            let settlements = self.store_batch(std::mem::take(&mut batch)).await;
            if settling.len() >= SETTLING {
                settling.join_next().await;
            }
            let inbox = self.inbox.clone();
            settling.spawn(async move {
                if let Err(error) = inbox.settle(settlements).await {
                    // The events stay claimed and become due again after the lease or a restart;
                    // storing their leads again changes nothing.
                    tracing::error!("cannot record stored leads in the inbox: {error}");
                }
            });
        }
        while settling.join_next().await.is_some() {}
    }

    /// Stores `batch` in one call; if the store refuses it for something other than an outage,
    /// one lead at a time, so that one bad lead does not hold back the others.
    async fn store_batch(&self, batch: Vec<Fetched>) -> Vec<Settlement> {
        let (pendings, mut leads): (Vec<_>, Vec<_>) =
            batch.into_iter().map(|f| (f.pending, f.lead)).unzip();
        let error = match self.leads.store_many_from_meta(&mut leads, FACEBOOK).await {
            Ok(_) => return self.stored(&pendings),
            Err(error) => error,
        };
        if error.is_retryable() || leads.len() == 1 {
            return pendings
                .iter()
                .map(|pending| self.failed(pending, Failure::Store(error.clone())))
                .collect();
        }
        let mut settlements = Vec::with_capacity(leads.len());
        for (pending, lead) in pendings.iter().zip(leads) {
            settlements.push(
                match self.leads.store_many_from_meta(&mut [lead], FACEBOOK).await {
                    Ok(_) => self.stored(std::slice::from_ref(pending)).remove(0),
                    Err(error) => self.failed(pending, Failure::Store(error)),
                },
            );
        }
        settlements
    }

    fn stored(&self, pendings: &[PendingEvent]) -> Vec<Settlement> {
        pendings
            .iter()
            .map(|pending| {
                self.metrics.event_processed("stored");
                Settlement::Done(pending.id)
            })
            .collect()
    }

    pub(super) fn failed(&self, pending: &PendingEvent, failure: Failure) -> Settlement {
        after_failure(
            pending,
            failure,
            &self.retry,
            self.leads.status(),
            &self.metrics,
        )
    }
}
