//! The manager's figures (`GET /api/insights`, `leadhook report`): the store counts a period's
//! leads ([`crate::store::InsightsReads`]); this module cuts the period into the viewer's days,
//! names and orders the sources, splits the days into the top sources, and adds what Meta says
//! they cost ([`spend`]).

pub mod period;
pub mod spend;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use leadhook_shared::insights::{
    Cost, DayLeads, Grouping, Insights, InsightsPeriod, PerDay, Period, SourceFigures, TOP_SERIES,
};
use leadhook_shared::{AnswerColumn, AnswerColumns, Tz};

use crate::store::insights::{DayCount, GroupFigures, InsightsQuery, StoreInsights};
use spend::Spend;

/// `by=answer:<column>` names no configured column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown answer column \"{name}\"; LEADHOOK_ANSWER_COLUMNS names: {}",
    if known.is_empty() { "none (set it to group by form answers)" } else { known.as_str() }
)]
pub struct UnknownColumn {
    pub name: String,
    pub known: String,
}

/// The label of the leads outside the top sources in the per-day bars.
pub const OTHER_SERIES: &str = "Other";

/// What a request asks for, read: the period in the viewer's zone.
#[derive(Debug, Clone)]
pub struct Asked {
    pub period: Period,
    pub by: Grouping,
    /// The answer column grouped by, for [`Grouping::Answer`].
    pub answer: Option<AnswerColumn>,
    pub zone: Tz,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
}

impl Asked {
    /// What was asked, as of `now`; an answer column must be one of `columns`.
    pub fn new(
        period: Period,
        by: Grouping,
        zone: Tz,
        now: DateTime<Utc>,
        columns: &AnswerColumns,
    ) -> Result<Asked, UnknownColumn> {
        let answer = match by.answer_column() {
            Some(name) => Some(columns.get(name).cloned().ok_or_else(|| {
                UnknownColumn {
                    name: name.to_string(),
                    known: columns
                        .0
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                }
            })?),
            None => None,
        };
        let today = now.with_timezone(&zone).date_naive();
        let (first_day, last_day) = period.days(today);
        Ok(Asked {
            period,
            by,
            answer,
            zone,
            first_day,
            last_day,
        })
    }

    pub fn store_query(&self) -> InsightsQuery {
        InsightsQuery {
            by: self.by.clone(),
            answer: self.answer.clone(),
            day_starts: period::day_starts(self.zone, self.first_day, self.last_day),
        }
    }
}

/// The answer from the store's counts and Meta's spend (by source key).
pub fn assemble(
    asked: &Asked,
    query: &InsightsQuery,
    counted: StoreInsights,
    spend: Spend,
) -> Insights {
    let mut sources: Vec<SourceFigures> = counted
        .groups
        .into_iter()
        .map(|group| source(&asked.by, group, &spend))
        .collect();
    // What spent money and brought no lead is the row a manager most needs to see.
    let unseen: Vec<SourceFigures> = spend
        .objects()
        .filter(|(key, _)| {
            !sources
                .iter()
                .any(|s| s.key.as_deref() == Some(key.as_str()))
        })
        .map(|(key, spent)| {
            let group = GroupFigures {
                key: Some(key.clone()),
                name: spent.name.clone(),
                funnel: Default::default(),
            };
            source(&asked.by, group, &spend)
        })
        .collect();
    sources.extend(unseen);
    sources.sort_by(|a, b| {
        b.funnel
            .leads
            .cmp(&a.funnel.leads)
            .then_with(|| a.label.cmp(&b.label))
    });
    let total_spend = spend.total();
    let total = SourceFigures {
        key: None,
        label: "All leads".into(),
        cost: total_spend.map(|amount| Cost::of(amount, &counted.total)),
        funnel: counted.total,
    };
    let mut per_rep = counted.reps;
    per_rep.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.name.cmp(&b.name)));
    Insights {
        period: InsightsPeriod {
            label: asked.period.label(),
            first_day: asked.first_day,
            last_day: asked.last_day,
            time_zone: asked.zone.name().to_string(),
            start: query.start(),
            end: query.end(),
        },
        by: asked.by.as_str().to_string(),
        per_day: per_day(asked, &sources, counted.days),
        total,
        sources,
        per_rep,
        speed_histogram: counted.speed_histogram,
        spend: spend.status,
    }
}

/// A source's row: named as Ads Manager names it now (a campaign renamed after its leads came
/// in reads as today), else as its newest lead says, else by its key.
fn source(by: &Grouping, group: GroupFigures, spend: &Spend) -> SourceFigures {
    let spent = group.key.as_deref().and_then(|key| spend.of(key));
    let name = spent
        .and_then(|spent| spent.name.as_ref())
        .or(group.name.as_ref())
        .filter(|name| !name.trim().is_empty());
    let label = match (name, &group.key) {
        (Some(name), _) => name.clone(),
        (None, Some(key)) => by.value_label(key),
        (None, None) => by.none_label().to_string(),
    };
    let cost = spent.map(|spent| Cost::of(spent.amount, &group.funnel));
    SourceFigures {
        key: group.key,
        label,
        funnel: group.funnel,
        cost,
    }
}

/// Every day of the period with its leads split into the top sources (by leads) and the rest.
fn per_day(asked: &Asked, sources: &[SourceFigures], counts: Vec<DayCount>) -> PerDay {
    let top: Vec<&SourceFigures> = sources.iter().take(TOP_SERIES).collect();
    let has_other = sources.len() > TOP_SERIES;
    let mut series: Vec<String> = top.iter().map(|source| source.label.clone()).collect();
    if has_other {
        series.push(OTHER_SERIES.into());
    }
    let slot: HashMap<Option<&str>, usize> = top
        .iter()
        .enumerate()
        .map(|(at, source)| (source.key.as_deref(), at))
        .collect();
    let mut days: Vec<DayLeads> = asked
        .first_day
        .iter_days()
        .take_while(|day| *day <= asked.last_day)
        .map(|day| DayLeads {
            day,
            leads: vec![0; series.len()],
        })
        .collect();
    for count in counts {
        let Some(day) = days.get_mut(count.day) else {
            continue;
        };
        let at = slot
            .get(&count.key.as_deref())
            .copied()
            .unwrap_or(series.len().saturating_sub(1));
        if let Some(leads) = day.leads.get_mut(at) {
            *leads += count.leads;
        }
    }
    PerDay { series, days }
}

#[cfg(test)]
mod tests {
    use leadhook_shared::insights::{Funnel, SpendStatus};

    use super::*;

    fn group(key: &str, leads: u64) -> GroupFigures {
        GroupFigures {
            key: Some(key.into()),
            name: None,
            funnel: Funnel {
                leads,
                ..Funnel::default()
            },
        }
    }

    #[test]
    fn days_split_into_the_top_sources_and_the_rest() {
        let asked = Asked::new(
            Period::Last7Days,
            Grouping::Form,
            Tz::UTC,
            "2026-12-07T12:00:00Z".parse().expect("time"),
            &AnswerColumns::default(),
        )
        .expect("no answer column asked");
        let query = asked.store_query();
        let counted = StoreInsights {
            groups: (1..=6).map(|n| group(&format!("f{n}"), n)).collect(),
            days: vec![
                DayCount {
                    day: 6,
                    key: Some("f6".into()),
                    leads: 6,
                },
                DayCount {
                    day: 6,
                    key: Some("f1".into()),
                    leads: 1,
                },
                DayCount {
                    day: 0,
                    key: Some("f2".into()),
                    leads: 2,
                },
                DayCount {
                    day: 9,
                    key: Some("f6".into()),
                    leads: 1,
                },
            ],
            ..StoreInsights::default()
        };
        let insights = assemble(&asked, &query, counted, Spend::without(SpendStatus::Off));
        assert_eq!(insights.per_day.series, ["f6", "f5", "f4", "f3", "Other"]);
        assert_eq!(insights.per_day.days.len(), 7);
        assert_eq!(insights.per_day.days[6].leads, [6, 0, 0, 0, 1]);
        assert_eq!(insights.per_day.days[0].leads, [0, 0, 0, 0, 2]);
        assert_eq!(insights.sources[0].label, "f6");
        assert_eq!(insights.period.start, query.day_starts[0]);
    }
}
