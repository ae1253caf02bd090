//! Erasing a person's data (a data-subject request, or retention): name, email, phone, every
//! answer, the notes and the values in the lead's activity rows go (the `erase` row keeps its
//! reason); a tombstone stays (id,
//! `leadgen_id`, times, status, `erased_at`) so the stats stay right and so neither a re-delivery
//! from Meta nor the sweeper brings the person back: both stores keep an erased row erased when
//! the same `leadgen_id` is stored again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;

use super::StoreError;

/// Most leads one [`ErasureTargets::leads_of`] or [`ErasureTargets::older_than`] call returns.
pub const ERASE_BATCH: u32 = 1000;

/// Whose data to erase: the leads holding this email, phone or Meta lead id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    Email(String),
    Phone(String),
    LeadgenId(String),
}

impl Person {
    /// The column the value is matched against, exactly.
    pub fn column(&self) -> &'static str {
        match self {
            Person::Email(_) => "email",
            Person::Phone(_) => "phone",
            Person::LeadgenId(_) => "leadgen_id",
        }
    }

    pub fn value(&self) -> &str {
        match self {
            Person::Email(value) | Person::Phone(value) | Person::LeadgenId(value) => value,
        }
    }
}

/// Erasing one lead: part of [`super::LeadWrites`], so it goes through the writer like every
/// other change.
#[async_trait]
pub trait Erasure {
    /// Erases lead `id` and records an `erase` activity by `actor`, with `reason` as its new
    /// value, in one transaction; `None` when no lead has that id. An erased lead is returned as
    /// it is, without a second record. The reason is what the admin typed (the request's
    /// reference), not the person's data, so it is kept.
    async fn erase(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Option<Lead>, StoreError>;
}

/// Which leads to erase: a person's, or those past the retention limit.
#[async_trait]
pub trait ErasureTargets: Send + Sync {
    /// Ids of the leads not yet erased that hold `person`'s email, phone or Meta lead id.
    async fn leads_of(&self, person: &Person) -> Result<Vec<i64>, StoreError>;

    /// Ids of up to [`ERASE_BATCH`] leads not yet erased submitted before `cutoff`, oldest first.
    async fn older_than(&self, cutoff: DateTime<Utc>) -> Result<Vec<i64>, StoreError>;

    /// Takes today's retention run for the caller when no server took one in the 24 hours before
    /// `now`: a conditional update of one marker row, so of two replicas only one gets `true`.
    async fn take_retention_run(&self, now: DateTime<Utc>) -> Result<bool, StoreError>;
}
