//! Turns at a scheduled job among several servers on one store, so that one of them does it at a
//! time, through a lease row in the store (a [`crate::store::LeaseRow`], kept through
//! [`crate::store::Leases`]).
//!
//! The lease names the server working on the job now, until `expires_at`, which it pushes on while
//! it works. When it is done it frees the lease and sets `expires_at` to when the job is next due;
//! then whichever server asks first after that gets the next turn. A server that dies mid-job stops
//! pushing `expires_at` on, and the lease goes to the next taker one lifetime later.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::store::{LeaseCondition, LeaseUpdate, Leases, StoreError};

/// How often a server waiting for a busy lease asks again.
const WAIT_STEP: Duration = Duration::from_millis(200);

/// One server's turn-taking at one scheduled job, through the job's lease row; cheap to clone.
#[derive(Clone)]
pub struct JobLease {
    store: Arc<dyn Leases>,
    name: &'static str,
    holder: Arc<str>,
    lifetime: Duration,
}

impl JobLease {
    /// The lease `name` for this server (`holder`). While held it lasts `lifetime` past the last
    /// renewal, which happens three times a lifetime.
    pub fn new(
        store: Arc<dyn Leases>,
        name: &'static str,
        holder: &str,
        lifetime: Duration,
    ) -> JobLease {
        JobLease {
            store,
            name,
            holder: holder.into(),
            lifetime,
        }
    }

    /// When the job is next due, or when the current holder's claim ends; now if never taken.
    pub async fn due_at(&self) -> Result<DateTime<Utc>, StoreError> {
        Ok(self
            .store
            .lease(self.name)
            .await?
            .map_or_else(Utc::now, |lease| lease.expires_at))
    }

    /// Takes the lease if the job is due (or its holder stopped renewing); says whether it did.
    pub async fn take_if_due(&self) -> Result<bool, StoreError> {
        let now = Utc::now();
        self.update(LeaseCondition::Expired { now }, self.held_from(now))
            .await
    }

    /// Takes the lease as soon as nobody works under it: at once if free, else when its holder
    /// frees it or stops renewing it.
    pub async fn take_when_free(&self) -> Result<(), StoreError> {
        loop {
            let now = Utc::now();
            let condition = LeaseCondition::Free {
                holder: &self.holder,
                now,
            };
            if self.update(condition, self.held_from(now)).await? {
                return Ok(());
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// Runs `work` while renewing the lease, then frees it, due again `next_due` from then.
    pub async fn hold_while<T>(
        &self,
        work: impl Future<Output = T>,
        next_due: Duration,
    ) -> (T, Result<(), StoreError>) {
        let renewals: Pin<Box<dyn Future<Output = Infallible> + Send + '_>> = Box::pin(async {
            loop {
                tokio::time::sleep(self.lifetime / 3).await;
                let condition = LeaseCondition::HeldBy {
                    holder: &self.holder,
                };
                match self.update(condition, self.held_from(Utc::now())).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        lease = self.name,
                        "lease lost while working: another server may work on the same job"
                    ),
                    Err(error) => tracing::warn!(lease = self.name, "cannot renew lease: {error}"),
                }
            }
        });
        let output = tokio::select! {
            output = work => output,
            never = renewals => match never {},
        };
        let freed = LeaseUpdate {
            holder: None,
            expires_at: Utc::now() + delta(next_due),
        };
        let condition = LeaseCondition::HeldBy {
            holder: &self.holder,
        };
        let released = self.update(condition, freed).await.map(drop);
        (output, released)
    }

    fn held_from(&self, now: DateTime<Utc>) -> LeaseUpdate<'_> {
        LeaseUpdate {
            holder: Some(&self.holder),
            expires_at: now + delta(self.lifetime),
        }
    }

    async fn update(
        &self,
        condition: LeaseCondition<'_>,
        update: LeaseUpdate<'_>,
    ) -> Result<bool, StoreError> {
        self.store.update_lease(self.name, condition, update).await
    }
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// A name for this server in lease rows: host, process id and a random part (a restarted
/// server is a new holder).
pub fn replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "leadhook".into());
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}
