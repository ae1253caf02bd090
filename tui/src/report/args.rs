//! `leadhook report`'s flags: the period (a preset or a custom range), the grouping and the
//! format.

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use leadhook_shared::{Grouping, Period};

/// `leadhook report`: which period, grouped how, printed how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Args)]
pub struct ReportArgs {
    /// The days to report, in this computer's time zone [default: 7d]
    #[arg(long, value_enum, conflicts_with = "from")]
    pub period: Option<ReportPeriod>,
    /// First day of a custom range, e.g. 2026-11-01 (with --to)
    #[arg(long, requires = "to", value_name = "DATE")]
    pub from: Option<NaiveDate>,
    /// Last day of a custom range, included (with --from)
    #[arg(long, requires = "from", value_name = "DATE")]
    pub to: Option<NaiveDate>,
    /// What the leads are grouped by
    #[arg(long, value_enum, default_value_t)]
    pub by: ReportBy,
    /// text (aligned tables), csv (one row per source) or json (the server's answer)
    #[arg(long, value_enum, default_value_t)]
    pub format: ReportFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportPeriod {
    Today,
    #[default]
    #[value(name = "7d")]
    Last7Days,
    #[value(name = "30d")]
    Last30Days,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportBy {
    #[default]
    Campaign,
    Adset,
    Ad,
    Form,
    /// Facebook or Instagram
    Platform,
    /// Organic or paid
    Organic,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    #[default]
    Text,
    Csv,
    Json,
}

impl ReportArgs {
    /// The period asked for: the custom range when given, else the preset.
    pub fn period(&self) -> Period {
        match (self.from, self.to, self.period.unwrap_or_default()) {
            (Some(from), Some(to), _) => Period::Range { from, to },
            (_, _, ReportPeriod::Today) => Period::Today,
            (_, _, ReportPeriod::Last7Days) => Period::Last7Days,
            (_, _, ReportPeriod::Last30Days) => Period::Last30Days,
        }
    }

    pub fn grouping(&self) -> Grouping {
        match self.by {
            ReportBy::Campaign => Grouping::Campaign,
            ReportBy::Adset => Grouping::AdSet,
            ReportBy::Ad => Grouping::Ad,
            ReportBy::Form => Grouping::Form,
            ReportBy::Platform => Grouping::Platform,
            ReportBy::Organic => Grouping::Organic,
        }
    }
}
