//! Follow-ups: a lead's next step and the call attempts made on it. Held with [`super::LeadWrites`]
//! by [`crate::writer::LeadWriter`] alone.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{Lead, NewAttempt, NextStep};

use super::StoreError;

#[async_trait]
pub trait FollowUps: Send + Sync {
    /// Sets lead `id`'s next step (`None` clears it), recorded as a `next_step` activity by `rep`
    /// when it changed. `None` when no lead has that id; an erased lead is refused
    /// ([`StoreError::Erased`]).
    async fn set_next_step(
        &self,
        id: i64,
        step: Option<&NextStep>,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError>;

    /// Records `rep`'s call attempt as an `attempt` activity and counts it on the lead. With a
    /// `schedule`, the next step becomes the schedule's entry for this attempt's number (the first
    /// entry after attempt 1), or none past its end; without one the next step stays. Counting
    /// and scheduling happen in one write, so concurrent attempts each get their own number.
    async fn record_attempt(
        &self,
        id: i64,
        attempt: &NewAttempt,
        rep: &str,
        schedule: Option<&[NextStep]>,
    ) -> Result<Option<Lead>, StoreError>;

    /// Marks the reminder of lead `id`'s next step, due at `step_at`, as taken at `at`, if the
    /// lead still has that step, is not erased and its reminder was not taken. `true` for the one
    /// caller that took the mark. The mark writes a `reminded` history row (which queues
    /// `lead.follow_up_due`); the lead does not change otherwise (no `updated_at`).
    async fn take_reminder(
        &self,
        id: i64,
        step_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
