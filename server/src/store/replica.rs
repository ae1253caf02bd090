//! What several servers on one store coordinate through: [`Leases`] (who does a scheduled job
//! now) and [`SweepPositions`] (how far the backfill sweep got per lead form). Every backend
//! implements both, so one code path serves a single server on SQLite and N replicas on Supabase
//! alike.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// A lease as the store keeps it: who holds `name` and until when. A lease without a holder is
/// free; its `expires_at` then says when the job is next due.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LeaseRow {
    pub name: String,
    pub holder: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// When a conditional lease update applies. `now` is the caller's clock: replicas' clocks must
/// agree to well within a lease's lifetime (NTP does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseCondition<'a> {
    /// The lease has expired (the job is due, or its holder stopped renewing), whoever held it.
    Expired { now: DateTime<Utc> },
    /// Nobody works under the lease now: it has no holder, is held by `holder`, or has expired.
    Free { holder: &'a str, now: DateTime<Utc> },
    /// `holder` holds it (to renew or release it).
    HeldBy { holder: &'a str },
}

/// What a conditional lease update writes when its condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseUpdate<'a> {
    /// `None` frees the lease.
    pub holder: Option<&'a str>,
    pub expires_at: DateTime<Utc>,
}

/// Turns at scheduled jobs, for [`crate::lease::JobLease`].
#[async_trait]
pub trait Leases: Send + Sync {
    /// Writes `update` to lease `name` when `condition` holds, in one conditional statement, and
    /// says whether it did. A lease that does not exist yet is created for `Expired` and `Free`
    /// (unless another caller creates it first).
    async fn update_lease(
        &self,
        name: &str,
        condition: LeaseCondition<'_>,
        update: LeaseUpdate<'_>,
    ) -> Result<bool, StoreError>;

    async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError>;
}

/// Where the backfill sweep stopped, per lead form.
#[async_trait]
pub trait SweepPositions: Send + Sync {
    /// Per lead form, the newest `created_time` (unix seconds) a complete sweep has seen.
    async fn sweep_positions(&self) -> Result<HashMap<String, i64>, StoreError>;

    /// Records the sweep position of one form, replacing the previous one.
    async fn save_sweep_position(&self, form_id: &str, newest: i64) -> Result<(), StoreError>;
}
