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

/// What the insights read of one lead, borrowed from the row being read.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadFacts<'a> {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    /// The lead's source under the query's grouping.
    pub key: Option<&'a str>,
    pub owner: Option<&'a str>,
    pub junk: bool,
    /// The lead the person was first seen on (the lead itself for a first submission).
    pub person: i64,
    /// Whole seconds from the form to the first contact, never negative.
    pub speed_secs: Option<u64>,
    /// Bits of the stages reached.
    pub reached: i64,
}

/// One group's running counts; people are counted only where the figures show them.
#[derive(Debug, Default)]
struct Counts {
    leads: u64,
    people: Option<HashSet<i64>>,
    junk: u64,
    qualified: u64,
    won: u64,
    lost: u64,
    speeds: Vec<u64>,
}

impl Counts {
    fn counting_people() -> Self {
        Self {
            people: Some(HashSet::new()),
            ..Self::default()
        }
    }

    fn add(&mut self, lead: &LeadFacts<'_>) {
        self.leads += 1;
        if lead.junk {
            self.junk += 1;
        } else if let Some(people) = &mut self.people {
            people.insert(lead.person);
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
            people: self.people.map_or(0, |people| people.len() as u64),
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

/// A source's counts, its leads per day and its newest lead, whose name the group is given.
#[derive(Debug)]
struct Group {
    counts: Counts,
    per_day: Vec<u64>,
    newest: (DateTime<Utc>, i64),
}

/// The period's leads counted so far.
#[derive(Debug)]
pub struct Tally {
    day_starts: Vec<DateTime<Utc>>,
    total: Counts,
    /// Sources by key, and the leads without one.
    groups: HashMap<String, Group>,
    no_source: Option<Group>,
    reps: HashMap<String, Counts>,
    histogram: Vec<u64>,
}

impl Tally {
    /// Counts leads into the days `day_starts` cuts (see [`crate::store::InsightsQuery`]).
    pub fn new(day_starts: &[DateTime<Utc>]) -> Self {
        Self {
            day_starts: day_starts.to_vec(),
            total: Counts::counting_people(),
            groups: HashMap::new(),
            no_source: None,
            reps: HashMap::new(),
            histogram: vec![0; SPEED_BUCKET_EDGES.len() + 1],
        }
    }

    pub fn add(&mut self, lead: LeadFacts<'_>) {
        self.total.add(&lead);
        // The day whose start is the last one at or before the lead.
        let day = self
            .day_starts
            .partition_point(|start| *start <= lead.created_at)
            .checked_sub(1);
        let days = self.day_starts.len().saturating_sub(1);
        let new_group = || Group {
            counts: Counts::counting_people(),
            per_day: vec![0; days],
            newest: (lead.created_at, lead.id),
        };
        let group = match lead.key {
            Some(key) => match self.groups.get_mut(key) {
                Some(group) => group,
                None => self.groups.entry(key.to_owned()).or_insert_with(new_group),
            },
            None => self.no_source.get_or_insert_with(new_group),
        };
        group.counts.add(&lead);
        group.newest = group.newest.max((lead.created_at, lead.id));
        if let Some(count) = day.and_then(|day| group.per_day.get_mut(day)) {
            *count += 1;
        }
        if let Some(owner) = lead.owner {
            match self.reps.get_mut(owner) {
                Some(counts) => counts.add(&lead),
                None => self.reps.entry(owner.to_owned()).or_default().add(&lead),
            }
        }
        if let Some(speed) = lead.speed_secs {
            let bucket = SPEED_BUCKET_EDGES
                .iter()
                .filter(|edge| speed > **edge)
                .count();
            self.histogram[bucket] += 1;
        }
    }

    /// Each source's key and when its newest lead was submitted, to name it by.
    pub fn newest_leads(&self) -> impl Iterator<Item = (&str, DateTime<Utc>)> {
        self.groups
            .iter()
            .map(|(key, group)| (key.as_str(), group.newest.0))
    }

    /// The figures, each source named by `name` (its key to the name, if any).
    pub fn finish(self, mut name: impl FnMut(&str) -> Option<String>) -> StoreInsights {
        let sources = self
            .groups
            .into_iter()
            .map(|(key, group)| (Some(key), group))
            .chain(self.no_source.map(|group| (None, group)));
        let mut groups = Vec::new();
        let mut days = Vec::new();
        for (key, group) in sources {
            days.extend(
                group
                    .per_day
                    .iter()
                    .enumerate()
                    .filter(|(_, leads)| **leads > 0)
                    .map(|(day, leads)| DayCount {
                        day,
                        key: key.clone(),
                        leads: *leads,
                    }),
            );
            groups.push(GroupFigures {
                name: key.as_deref().and_then(&mut name),
                key,
                funnel: group.counts.funnel(),
            });
        }
        StoreInsights {
            total: self.total.funnel(),
            groups,
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
            days,
            speed_histogram: self.histogram,
        }
    }
}
