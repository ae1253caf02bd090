//! The team's work queue in the store: who owns a lead, what happened to it, who is away, whose
//! turn it is, and which escalations have been raised (what the escalator reads is
//! [`super::escalation`]). Every backend keeps all of it in the store itself, so several server
//! replicas and restarts agree.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{Activity, Lead, Waiting};
use serde::Deserialize;

use super::{StatsWindow, StoreError};

/// What a claim came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller owns the lead now (or already did).
    Claimed(Box<Lead>),
    /// Another rep owns it.
    Taken {
        owner: String,
    },
    NotFound,
}

/// A lead first contacted in the stats window, for speed-to-lead figures.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contact {
    pub owner: Option<String>,
    pub first_contact_at: DateTime<Utc>,
    pub speed_secs: u64,
}

/// Counts over the leads one rep owns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct OwnerCounts {
    pub owned: u64,
    /// Owned and not `Won`, `Lost` or `Unqualified`.
    pub open: u64,
    pub contacted: u64,
    pub won: u64,
    /// Owned, with a next step past due (servers before follow-ups: 0).
    #[serde(default)]
    pub overdue: u64,
}

/// What the queue figures of `/api/stats` and `/api/reps` are computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct QueueFigures {
    pub waiting: Waiting,
    /// Leads first contacted since the window's `week_start`.
    pub contacts: Vec<Contact>,
    pub by_owner: HashMap<String, OwnerCounts>,
    /// Call attempts and overdue steps over every lead.
    #[serde(default)]
    pub follow_ups: leadhook_shared::FollowUpStats,
}

/// The work-queue writes: owners, turns, availability and escalation marks. Every change writes
/// its activity row in the same transaction; owner changes are conditional in the store, so
/// concurrent claims have one winner. Part of [`super::LeadWrites`].
#[async_trait]
pub trait QueueWrites {
    /// Makes `rep` the owner unless another rep owns the lead.
    async fn claim(&self, id: i64, rep: &str) -> Result<Claim, StoreError>;

    /// Leaves the lead unowned, whoever owned it; `None` when no lead has that id.
    async fn release(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError>;

    /// Records that `actor` exported the leads `ids`: one `exported` activity row each, in one
    /// write. The leads do not change (no `updated_at`, no change cursor, nothing to announce);
    /// an id no longer stored is skipped.
    async fn record_exports(&self, ids: &[i64], actor: &str) -> Result<(), StoreError>;

    async fn set_available(&self, rep: &str, available: bool) -> Result<(), StoreError>;

    /// Keeps `rep`'s IANA time zone, already checked to be one.
    async fn set_time_zone(&self, rep: &str, zone: &str) -> Result<(), StoreError>;

    /// Marks the lead as escalated to `level` at `at` if it is still `New Lead` and below that
    /// level. `true` for the one caller that took the mark.
    async fn take_escalation(
        &self,
        id: i64,
        level: u8,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// The work-queue reads of the HTTP API. Part of [`super::LeadReader`].
#[async_trait]
pub trait QueueReads {
    /// Reps whose availability was ever set, by name; a rep not listed is available.
    async fn availability(&self) -> Result<HashMap<String, bool>, StoreError>;

    /// `rep`'s IANA time zone, once a dashboard has set it.
    async fn time_zone(&self, rep: &str) -> Result<Option<String>, StoreError>;

    /// When `actor` erased leads after `since` (their `erase` history rows), oldest first, at
    /// most `limit`: what the API's erasure limit counts, the same on every replica.
    async fn erasures_since(
        &self,
        actor: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;

    /// The lead's history, oldest first; `None` when no lead has that id.
    async fn activity(&self, id: i64) -> Result<Option<Vec<Activity>>, StoreError>;

    async fn queue_figures(&self, window: StatsWindow) -> Result<QueueFigures, StoreError>;
}

/// Whole seconds from the form to the first contact (0 when the clocks disagree).
pub fn speed_secs(created_at: DateTime<Utc>, first_contact_at: DateTime<Utc>) -> u64 {
    u64::try_from((first_contact_at - created_at).num_seconds()).unwrap_or(0)
}
