//! The insights role: a period's leads counted by source, by rep, by day and by speed, in the
//! store (SQL aggregates), never by loading the leads into the server.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::AnswerColumn;
use leadhook_shared::insights::{Funnel, Grouping, RepInsights, SPEED_BUCKET_EDGES};
use serde::Deserialize;

use super::StoreError;

/// What to count: the leads created in the period, grouped by `by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightsQuery {
    pub by: Grouping,
    /// For [`Grouping::Answer`]: the column's question per form, as configured.
    pub answer: Option<AnswerColumn>,
    /// The local midnights of the period's days in UTC, and the end after the last day: day `i`
    /// is `day_starts[i]..day_starts[i + 1]`, the period `day_starts[0]..day_starts[last]`.
    /// Computed by the server from the viewer's zone, so both stores cut days the same way.
    pub day_starts: Vec<DateTime<Utc>>,
}

impl InsightsQuery {
    pub fn start(&self) -> DateTime<Utc> {
        self.day_starts.first().copied().unwrap_or_default()
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.day_starts.last().copied().unwrap_or_default()
    }
}

/// One source as the store counts it: its key (`None` for leads without one), the newest name
/// Meta gave it, and its funnel.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GroupFigures {
    pub key: Option<String>,
    pub name: Option<String>,
    #[serde(flatten)]
    pub funnel: Funnel,
}

/// Leads of one source on one day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DayCount {
    /// The index into the period's days.
    pub day: usize,
    pub key: Option<String>,
    pub leads: u64,
}

/// What the store answers; the server names, orders and prices it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct StoreInsights {
    pub total: Funnel,
    pub groups: Vec<GroupFigures>,
    /// Reps owning leads of the period.
    pub reps: Vec<RepInsights>,
    pub days: Vec<DayCount>,
    /// Contacted leads per bucket of [`SPEED_BUCKET_EDGES`] (one more bucket than edges).
    pub speed_histogram: Vec<u64>,
}

impl StoreInsights {
    /// The histogram with every bucket present, from (bucket, count) pairs.
    pub fn histogram(counts: impl IntoIterator<Item = (usize, u64)>) -> Vec<u64> {
        let mut buckets = vec![0; SPEED_BUCKET_EDGES.len() + 1];
        for (bucket, count) in counts {
            if let Some(slot) = buckets.get_mut(bucket) {
                *slot += count;
            }
        }
        buckets
    }
}

/// The insights read, part of [`super::LeadReader`].
#[async_trait]
pub trait InsightsReads {
    async fn insights(&self, query: &InsightsQuery) -> Result<StoreInsights, StoreError>;
}
