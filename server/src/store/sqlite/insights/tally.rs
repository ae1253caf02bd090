//! The period's leads counted in one pass. SQLite has neither hash aggregation nor an ordered-set
//! aggregate (`percentile_disc`), so counting by source, by rep and by day in SQL means a sort of
//! every lead per grouping (about a second at 100,000 leads, BENCHMARKS.md "Insights"). Instead
//! the store streams one narrow row per lead from a covering index and counts here, in memory
//! bounded by the period: a few numbers per group, and each contacted lead's speed for the
//! medians.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use leadhook_shared::insights::{Funnel, RepInsights, SPEED_BUCKET_EDGES};
use leadhook_shared::team::percentile;

use crate::store::insights::{DayCount, GroupFigures, StoreInsights};

/// The stages a lead ever reached, as bits (see `STAGE_BITS` in `mod.rs`).
pub const QUALIFIED: i64 = 1;
pub const WON: i64 = 2;
pub const LOST: i64 = 4;

/// What the insights read of one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The lead's source under the query's grouping.
    pub key: Option<String>,
    pub owner: Option<String>,
    pub junk: bool,
    /// The lead the person was first seen on (the lead itself for a first submission).
    pub person: i64,
    /// Whole seconds from the form to the first contact, never negative.
    pub speed_secs: Option<u64>,
    /// Bits of the stages reached.
    pub reached: i64,
}

/// One group's running counts.
#[derive(Debug, Default)]
struct Counts {
    leads: u64,
    people: HashSet<i64>,
    junk: u64,
    qualified: u64,
    won: u64,
    lost: u64,
    speeds: Vec<u64>,
}

impl Counts {
    fn add(&mut self, lead: &LeadFacts) {
        self.leads += 1;
        if lead.junk {
            self.junk += 1;
        } else {
            self.people.insert(lead.person);
        }
        self.qualified += u64::from(lead.reached & QUALIFIED != 0);
        self.won += u64::from(lead.reached & WON != 0);
        self.lost += u64::from(lead.reached & LOST != 0);
        self.speeds.extend(lead.speed_secs);
    }

    fn funnel(mut self) -> Funnel {
        self.speeds.sort_unstable();
        Funnel {
            leads: self.leads,
            people: self.people.len() as u64,
            junk: self.junk,
            contacted: self.speeds.len() as u64,
            qualified: self.qualified,
            won: self.won,
            lost: self.lost,
            median_speed_secs: percentile(&self.speeds, 50),
            p90_speed_secs: percentile(&self.speeds, 90),
        }
    }
}

/// A source's counts and its newest lead, whose name the group is given.
#[derive(Debug, Default)]
struct Group {
    counts: Counts,
    newest: Option<(DateTime<Utc>, i64)>,
}

/// The period's leads counted so far.
#[derive(Debug)]
pub struct Tally {
    day_starts: Vec<DateTime<Utc>>,
    total: Counts,
    groups: HashMap<Option<String>, Group>,
    reps: HashMap<String, Counts>,
    days: HashMap<(usize, Option<String>), u64>,
    histogram: Vec<u64>,
}

impl Tally {
    /// Counts leads into the days `day_starts` cuts (see [`crate::store::InsightsQuery`]).
    pub fn new(day_starts: &[DateTime<Utc>]) -> Self {
        Self {
            day_starts: day_starts.to_vec(),
            total: Counts::default(),
            groups: HashMap::new(),
            reps: HashMap::new(),
            days: HashMap::new(),
            histogram: vec![0; SPEED_BUCKET_EDGES.len() + 1],
        }
    }

    pub fn add(&mut self, lead: LeadFacts) {
        self.total.add(&lead);
        let group = self.groups.entry(lead.key.clone()).or_default();
        group.counts.add(&lead);
        if group.newest < Some((lead.created_at, lead.id)) {
            group.newest = Some((lead.created_at, lead.id));
        }
        if let Some(owner) = &lead.owner {
            self.reps.entry(owner.clone()).or_default().add(&lead);
        }
        // The day whose start is the last one at or before the lead.
        let day = self
            .day_starts
            .partition_point(|start| *start <= lead.created_at);
        if let Some(day) = day.checked_sub(1) {
            *self.days.entry((day, lead.key)).or_default() += 1;
        }
        if let Some(speed) = lead.speed_secs {
            let bucket = SPEED_BUCKET_EDGES
                .iter()
                .filter(|edge| speed > **edge)
                .count();
            self.histogram[bucket] += 1;
        }
    }

    /// Each source's key and the id of its newest lead, to name it by.
    pub fn newest_leads(&self) -> impl Iterator<Item = (&Option<String>, i64)> {
        self.groups
            .iter()
            .filter_map(|(key, group)| Some((key, group.newest?.1)))
    }

    /// The figures, each source named by `name` (its key to the name, if any).
    pub fn finish(self, mut name: impl FnMut(&Option<String>) -> Option<String>) -> StoreInsights {
        StoreInsights {
            total: self.total.funnel(),
            groups: self
                .groups
                .into_iter()
                .map(|(key, group)| GroupFigures {
                    name: name(&key),
                    key,
                    funnel: group.counts.funnel(),
                })
                .collect(),
            reps: self
                .reps
                .into_iter()
                .map(|(name, counts)| {
                    let funnel = counts.funnel();
                    RepInsights {
                        name,
                        leads: funnel.leads,
                        contacted: funnel.contacted,
                        won: funnel.won,
                        median_speed_secs: funnel.median_speed_secs,
                    }
                })
                .collect(),
            days: self
                .days
                .into_iter()
                .map(|((day, key), leads)| DayCount { day, key, leads })
                .collect(),
            speed_histogram: self.histogram,
        }
    }
}
