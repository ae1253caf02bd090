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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use tokio::sync::{oneshot, watch};

    use super::*;
    use crate::store::LeaseRow;

    const LIFETIME: Duration = Duration::from_secs(30);

    /// Leases in memory, under the conditions both stores apply in one statement.
    struct MemoryLeases {
        rows: Mutex<HashMap<String, LeaseRow>>,
        /// Successful renewals or frees by the holder (`HeldBy` updates that applied).
        held_by_updates: Mutex<usize>,
        /// Takers refused because someone works under the lease (`Free` updates that did not apply).
        refused: watch::Sender<usize>,
    }

    impl MemoryLeases {
        fn new() -> Arc<MemoryLeases> {
            Arc::new(MemoryLeases {
                rows: Mutex::default(),
                held_by_updates: Mutex::new(0),
                refused: watch::channel(0).0,
            })
        }

        fn row(&self) -> LeaseRow {
            self.rows.lock().unwrap()["job"].clone()
        }
    }

    #[async_trait]
    impl Leases for MemoryLeases {
        async fn update_lease(
            &self,
            name: &str,
            condition: LeaseCondition<'_>,
            update: LeaseUpdate<'_>,
        ) -> Result<bool, StoreError> {
            let mut rows = self.rows.lock().unwrap();
            let row = rows.get(name);
            let applies = match condition {
                LeaseCondition::Expired { now } => row.is_none_or(|row| row.expires_at < now),
                LeaseCondition::Free { holder, now } => row.is_none_or(|row| {
                    row.holder.as_deref().is_none_or(|held| held == holder) || row.expires_at < now
                }),
                LeaseCondition::HeldBy { holder } => {
                    row.is_some_and(|row| row.holder.as_deref() == Some(holder))
                }
            };
            match condition {
                LeaseCondition::HeldBy { .. } if applies => {
                    *self.held_by_updates.lock().unwrap() += 1
                }
                LeaseCondition::Free { .. } if !applies => self.refused.send_modify(|n| *n += 1),
                _ => {}
            }
            if applies {
                let row = LeaseRow {
                    name: name.to_string(),
                    holder: update.holder.map(str::to_string),
                    expires_at: update.expires_at,
                };
                rows.insert(name.to_string(), row);
            }
            Ok(applies)
        }

        async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError> {
            Ok(self.rows.lock().unwrap().get(name).cloned())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_holder_renews_while_it_works_then_frees_the_lease_due_again_later() {
        let leases = MemoryLeases::new();
        let a = JobLease::new(leases.clone(), "job", "a", LIFETIME);
        let b = JobLease::new(leases.clone(), "job", "b", LIFETIME);
        assert!(a.take_if_due().await.unwrap(), "a lease never taken is due");
        assert!(!b.take_if_due().await.unwrap(), "a's turn has not expired");

        // 95 s of work: renewed every 10 s (a third of the lifetime), then freed.
        let next_due = Duration::from_secs(3600);
        let ((), freed) = a
            .hold_while(tokio::time::sleep(Duration::from_secs(95)), next_due)
            .await;
        freed.unwrap();
        assert_eq!(
            *leases.held_by_updates.lock().unwrap(),
            9 + 1,
            "9 renewals and the free"
        );
        let row = leases.row();
        assert_eq!(row.holder, None);
        assert!(
            row.expires_at > Utc::now() + TimeDelta::minutes(59),
            "due an hour from now"
        );
        assert_eq!(a.due_at().await.unwrap(), row.expires_at);

        assert!(!b.take_if_due().await.unwrap(), "not due for an hour");
        b.take_when_free().await.unwrap();
        assert_eq!(
            leases.row().holder.as_deref(),
            Some("b"),
            "free: a manual run takes it"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_waiting_for_a_busy_lease_takes_it_once_the_holder_frees_it() {
        let leases = MemoryLeases::new();
        let a = JobLease::new(leases.clone(), "job", "a", LIFETIME);
        let b = JobLease::new(leases.clone(), "job", "b", LIFETIME);
        assert!(a.take_if_due().await.unwrap());
        let (finish_work, work) = oneshot::channel::<()>();
        let holder = tokio::spawn(async move { a.hold_while(work, Duration::ZERO).await });
        let waiter = tokio::spawn(async move { b.take_when_free().await });

        // b has asked three times and been refused each time: a still holds the lease.
        let mut refused = leases.refused.subscribe();
        refused.wait_for(|n| *n >= 3).await.unwrap();
        assert!(!waiter.is_finished());
        assert_eq!(leases.row().holder.as_deref(), Some("a"));

        finish_work.send(()).unwrap();
        holder.await.unwrap().1.unwrap();
        waiter.await.unwrap().unwrap();
        assert_eq!(leases.row().holder.as_deref(), Some("b"));
    }
}
