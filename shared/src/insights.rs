//! The manager's view (`GET /api/insights`): which sources bring leads that turn into customers,
//! how fast the team answers them, and what they cost.
//!
//! A stage (qualified, won, lost) counts the leads that ever reached it, from their history;
//! contacted is a rep's first contact (`first_contact_at`); speeds are nearest-rank
//! ([`crate::team::percentile`]), as everywhere else.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::AnswerColumns;

/// The longest custom range, in days.
pub const MAX_RANGE_DAYS: u64 = 366;

/// The sources drawn as their own series in the leads-per-day bars; the rest is "Other".
pub const TOP_SERIES: usize = 4;

/// The upper edges (inclusive, seconds) of the speed-to-lead histogram's buckets; a last bucket
/// holds everything slower. The stores count into these; the dashboard labels them.
pub const SPEED_BUCKET_EDGES: [u64; 7] = [60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

/// The labels of the buckets above, one more than edges.
pub const SPEED_BUCKET_LABELS: [&str; 8] = [
    "≤1m", "1-5m", "5-15m", "15-30m", "30-60m", "1-4h", "4-24h", ">1d",
];

/// The index of the first bucket slower than five minutes (where the dashboard draws its line).
pub const PAST_FIVE_MINUTES: usize = 2;

/// How `by` names an answer column: `answer:budget`.
pub const ANSWER_PREFIX: &str = "answer:";

/// Which days the figures cover, in the viewer's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Today,
    Last7Days,
    Last30Days,
    /// From `from` through `to`, both included.
    Range {
        from: NaiveDate,
        to: NaiveDate,
    },
}

impl Period {
    /// The periods the dashboard cycles through.
    pub const PRESETS: [Period; 3] = [Period::Today, Period::Last7Days, Period::Last30Days];

    /// The first and last day (both included) as of the viewer's `today`.
    pub fn days(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let back = |days: u64| today.checked_sub_days(Days::new(days)).unwrap_or(today);
        match self {
            Period::Today => (today, today),
            Period::Last7Days => (back(6), today),
            Period::Last30Days => (back(29), today),
            Period::Range { from, to } => (from, to),
        }
    }

    /// The `period` query value: `today`, `7d`, `30d`, or `custom` (with `from` and `to`).
    pub fn as_param(self) -> &'static str {
        match self {
            Period::Today => "today",
            Period::Last7Days => "7d",
            Period::Last30Days => "30d",
            Period::Range { .. } => "custom",
        }
    }

    pub fn label(self) -> String {
        match self {
            Period::Today => "today".into(),
            Period::Last7Days => "last 7 days".into(),
            Period::Last30Days => "last 30 days".into(),
            Period::Range { from, to } => format!("{from} to {to}"),
        }
    }

    /// The next preset (a custom range goes back to the first).
    pub fn next(self) -> Period {
        let at = Self::PRESETS.iter().position(|p| *p == self);
        Self::PRESETS[at.map_or(0, |at| (at + 1) % Self::PRESETS.len())]
    }
}

/// What the figures are grouped by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Grouping {
    Campaign,
    AdSet,
    Ad,
    Form,
    /// Facebook or Instagram.
    Platform,
    /// Organic or paid.
    Organic,
    /// A form answer named as a column (`LEADHOOK_ANSWER_COLUMNS`); `param` is `answer:<column>`.
    Answer {
        param: String,
    },
}

impl Grouping {
    /// Every grouping, in the order the dashboard cycles through them.
    pub const ALL: [Grouping; 6] = [
        Grouping::Campaign,
        Grouping::AdSet,
        Grouping::Ad,
        Grouping::Form,
        Grouping::Platform,
        Grouping::Organic,
    ];

    /// Grouping by the answer column `column`.
    pub fn answer(column: &str) -> Grouping {
        Grouping::Answer {
            param: format!("{ANSWER_PREFIX}{column}"),
        }
    }

    /// The answer column grouped by, if any.
    pub fn answer_column(&self) -> Option<&str> {
        match self {
            Grouping::Answer { param } => param.strip_prefix(ANSWER_PREFIX),
            _ => None,
        }
    }

    /// The `by` query value.
    pub fn as_str(&self) -> &str {
        match self {
            Grouping::Campaign => "campaign",
            Grouping::AdSet => "adset",
            Grouping::Ad => "ad",
            Grouping::Form => "form",
            Grouping::Platform => "platform",
            Grouping::Organic => "organic",
            Grouping::Answer { param } => param,
        }
    }

    /// The heading of the grouping's column ("Campaign", "Ad set", ...).
    pub fn heading(&self) -> &str {
        match self {
            Grouping::Campaign => "Campaign",
            Grouping::AdSet => "Ad set",
            Grouping::Ad => "Ad",
            Grouping::Form => "Form",
            Grouping::Platform => "Platform",
            Grouping::Organic => "Organic/paid",
            Grouping::Answer { .. } => self.answer_column().unwrap_or_default(),
        }
    }

    /// The label of a source without a value ("(no campaign)"): organic leads have no ad.
    pub fn none_label(&self) -> &'static str {
        match self {
            Grouping::Campaign => "(no campaign)",
            Grouping::AdSet => "(no ad set)",
            Grouping::Ad => "(no ad)",
            Grouping::Form => "(no form)",
            Grouping::Platform => "(unknown platform)",
            Grouping::Organic => "(unknown)",
            Grouping::Answer { .. } => "(no answer)",
        }
    }

    /// How a stored value reads: Meta's platform codes and the organic flag get words.
    pub fn value_label(&self, value: &str) -> String {
        match (self, value) {
            (Grouping::Platform, "fb") => "Facebook".into(),
            (Grouping::Platform, "ig") => "Instagram".into(),
            (Grouping::Organic, "1") => "Organic".into(),
            (Grouping::Organic, "0") => "Paid".into(),
            _ => value.into(),
        }
    }

    /// The grouping after this one: Meta's, then the server's answer `columns`, then Meta's
    /// again.
    pub fn next(&self, columns: &AnswerColumns) -> Grouping {
        let all: Vec<Grouping> = Self::ALL
            .into_iter()
            .chain(
                columns
                    .0
                    .iter()
                    .map(|column| Grouping::answer(&column.name)),
            )
            .collect();
        let at = all.iter().position(|grouping| grouping == self);
        all[at.map_or(0, |at| (at + 1) % all.len())].clone()
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grouping {
    type Err = InsightsParamError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(column) = s.strip_prefix(ANSWER_PREFIX) {
            return Ok(Grouping::answer(column));
        }
        Self::ALL
            .into_iter()
            .find(|grouping| grouping.as_str() == s)
            .ok_or_else(|| InsightsParamError::Grouping(s.to_string()))
    }
}

/// A request's query parameters that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightsParamError {
    #[error(
        "unknown grouping \"{0}\"; by must be one of campaign, adset, ad, form, platform, organic, or answer:<column>"
    )]
    Grouping(String),
    #[error("unknown period \"{0}\"; period must be today, 7d, 30d, or custom with from and to")]
    Period(String),
    #[error("period=custom needs from and to, as dates like 2026-11-01")]
    MissingRange,
    #[error("from and to go with period=custom only")]
    RangeWithoutCustom,
    #[error("from ({from}) is after to ({to})")]
    Backwards { from: NaiveDate, to: NaiveDate },
    #[error("a custom range is at most {MAX_RANGE_DAYS} days; {days} asked")]
    TooLong { days: u64 },
}

/// `GET /api/insights` query parameters as they come; [`InsightsParams::read`] checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightsParams {
    /// `today`, `7d` (the default), `30d` or `custom`.
    pub period: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// `campaign` (the default), `adset`, `ad`, `form`, `platform` or `organic`.
    pub by: Option<String>,
    /// The viewer's IANA time zone (`Europe/Berlin`); UTC when absent.
    pub tz: Option<String>,
}

impl InsightsParams {
    pub fn new(period: Period, by: &Grouping, tz: &str) -> InsightsParams {
        let (from, to) = match period {
            Period::Range { from, to } => (Some(from), Some(to)),
            _ => (None, None),
        };
        InsightsParams {
            period: Some(period.as_param().into()),
            from,
            to,
            by: Some(by.as_str().into()),
            tz: Some(tz.into()),
        }
    }

    /// The period and grouping asked for (the time zone is the caller's to check).
    pub fn read(&self) -> Result<(Period, Grouping), InsightsParamError> {
        let by = self.by.as_deref().unwrap_or("campaign").parse()?;
        let period = match (self.period.as_deref().unwrap_or("7d"), self.from, self.to) {
            ("custom", Some(from), Some(to)) => {
                if from > to {
                    return Err(InsightsParamError::Backwards { from, to });
                }
                let days = (to - from).num_days().unsigned_abs() + 1;
                if days > MAX_RANGE_DAYS {
                    return Err(InsightsParamError::TooLong { days });
                }
                Period::Range { from, to }
            }
            ("custom", _, _) => return Err(InsightsParamError::MissingRange),
            (_, Some(_), _) | (_, _, Some(_)) => {
                return Err(InsightsParamError::RangeWithoutCustom);
            }
            ("today", None, None) => Period::Today,
            ("7d", None, None) => Period::Last7Days,
            ("30d", None, None) => Period::Last30Days,
            (other, None, None) => return Err(InsightsParamError::Period(other.into())),
        };
        Ok((period, by))
    }
}

/// The period the figures cover, as the server read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightsPeriod {
    pub label: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub time_zone: String,
    /// The first day's local midnight and the end (the day after the last, or now for today).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The counts of one source (or of all leads, or one rep's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// Every submission in the period, junk included.
    pub leads: u64,
    /// Distinct people among the leads that are not junk (a repeat counts once).
    pub people: u64,
    pub junk: u64,
    pub contacted: u64,
    pub qualified: u64,
    pub won: u64,
    pub lost: u64,
    pub median_speed_secs: Option<u64>,
    pub p90_speed_secs: Option<u64>,
}

impl Funnel {
    /// `count` as a share of the leads (0 to 1), `None` without leads.
    pub fn share(&self, count: u64) -> Option<f64> {
        (self.leads > 0).then(|| count as f64 / self.leads as f64)
    }
}

/// What a source cost in the period, in the ad account's currency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub spend: f64,
    pub per_lead: Option<f64>,
    pub per_contacted: Option<f64>,
    pub per_won: Option<f64>,
}

impl Cost {
    /// Spend divided by each count (none where the count is 0), rounded to cents.
    pub fn of(spend: f64, funnel: &Funnel) -> Cost {
        let per = |count: u64| (count > 0).then(|| cents(spend / count as f64));
        Cost {
            spend: cents(spend),
            per_lead: per(funnel.leads),
            per_contacted: per(funnel.contacted),
            per_won: per(funnel.won),
        }
    }
}

fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

/// One source's row: its key (the campaign id, the platform code, ...; `None` for leads
/// without one), what it reads as, its funnel and, where Meta says, its cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceFigures {
    pub key: Option<String>,
    pub label: String,
    #[serde(flatten)]
    pub funnel: Funnel,
    pub cost: Option<Cost>,
}

/// One rep's row: leads of the period the rep owns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RepInsights {
    pub name: String,
    pub leads: u64,
    pub contacted: u64,
    pub won: u64,
    pub median_speed_secs: Option<u64>,
}

/// Leads per local day, split into the top sources and the rest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PerDay {
    /// The labels of the series: up to [`TOP_SERIES`] sources, then "Other" when there are more.
    pub series: Vec<String>,
    /// Every day of the period, oldest first; `leads[i]` belongs to `series[i]`.
    pub days: Vec<DayLeads>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayLeads {
    pub day: NaiveDate,
    pub leads: Vec<u64>,
}

/// Whether spend could be read from Meta for this answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SpendStatus {
    /// No ad account configured (`FB_AD_ACCOUNT_ID`).
    Off,
    /// This grouping has no spend (forms, platforms, organic/paid).
    NotForGrouping,
    Read {
        currency: Option<String>,
        read_at: DateTime<Utc>,
    },
    /// Meta could not be asked or refused; the figures stand without cost.
    Unavailable { reason: String },
}

/// `GET /api/insights`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    pub period: InsightsPeriod,
    pub by: String,
    pub total: SourceFigures,
    /// Most leads first.
    pub sources: Vec<SourceFigures>,
    /// Most leads first; only the caller's own row for a caller who may not see the team's.
    pub per_rep: Vec<RepInsights>,
    pub per_day: PerDay,
    /// Contacted leads per speed bucket ([`SPEED_BUCKET_EDGES`]).
    pub speed_histogram: Vec<u64>,
    pub spend: SpendStatus,
}

#[cfg(test)]
mod tests;
