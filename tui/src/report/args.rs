//! `leadhook report`'s flags: the period (a preset or a custom range), the grouping and the
//! format.

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use leadhook_shared::{Grouping, Period};

/// `leadhook report`: which period, grouped how, printed how.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
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
    /// What the leads are grouped by: campaign, adset, ad, form, platform (Facebook or
    /// Instagram), organic (organic or paid), or answer:<column> (a form answer the server
    /// names as a column, LEADHOOK_ANSWER_COLUMNS)
    #[arg(long, default_value = "campaign", value_parser = grouping)]
    pub by: Grouping,
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
}

/// The clap parser of `--by`, with the server's own reading of `by`.
fn grouping(text: &str) -> Result<Grouping, String> {
    text.parse()
        .map_err(|err: leadhook_shared::insights::InsightsParamError| err.to_string())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::config::{Cli, Command};

    fn args(line: &[&str]) -> Result<ReportArgs, clap::Error> {
        let cli = Cli::try_parse_from(["leadhook", "report"].iter().chain(line))?;
        match cli.command {
            Some(Command::Report(args)) => Ok(args),
            other => panic!("not a report: {other:?}"),
        }
    }

    #[test]
    fn the_period_is_a_preset_or_a_range() {
        let default = args(&[]).expect("no flags");
        assert_eq!(default.period(), Period::Last7Days);
        assert_eq!(
            (default.by, default.format),
            (Grouping::Campaign, ReportFormat::Text)
        );
        let range = args(&["--from", "2026-11-01", "--to", "2026-11-30"]).expect("a range");
        let (from, to) = (
            "2026-11-01".parse().expect("day"),
            "2026-11-30".parse().expect("day"),
        );
        assert_eq!(range.period(), Period::Range { from, to });
        assert!(
            args(&["--from", "2026-11-01"]).is_err(),
            "--from needs --to"
        );
        assert!(
            args(&[
                "--period",
                "30d",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-02"
            ])
            .is_err()
        );
        assert_eq!(
            args(&["--period", "today"]).expect("today").period(),
            Period::Today
        );
    }

    #[test]
    fn by_takes_the_servers_groupings_and_answer_columns() {
        let by = |value: &str| args(&["--by", value]).map(|args| args.by);
        assert_eq!(by("adset").ok(), Some(Grouping::AdSet));
        assert_eq!(by("answer:budget").ok(), Some(Grouping::answer("budget")));
        let refused = by("country").expect_err("not a grouping").to_string();
        assert!(refused.contains("answer:<column>"), "{refused}");
    }
}
