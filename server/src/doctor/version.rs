//! The Graph API version check: Meta retires each version about two years after its release.

use chrono::NaiveDate;

use super::Check;
use crate::config::DEFAULT_GRAPH_VERSION;
use crate::graph::versions::{Availability, availability};

/// A Graph API version ending within this many days gets a warning.
const VERSION_WARNING_DAYS: i64 = 90;

/// Fails a version Meta has retired, warns about one retiring within [`VERSION_WARNING_DAYS`].
pub(super) fn check_graph_version(version: &str, today: NaiveDate) -> Check {
    const NAME: &str = "Graph API version";
    let fix = format!(
        "set FB_GRAPH_VERSION to {DEFAULT_GRAPH_VERSION} (or newer), then run doctor again"
    );
    match availability(version, today) {
        Availability::Until(end) if end < today => {
            Check::fail(NAME, format!("{version} stopped working on {end}"), fix)
        }
        Availability::EndedBy(end) => Check::fail(
            NAME,
            format!("{version} stopped working by {end}, when a newer version did"),
            fix,
        ),
        Availability::Until(end) if (end - today).num_days() <= VERSION_WARNING_DAYS => {
            Check::warn(
                NAME,
                format!(
                    "{version} stops working on {end}, in {} days",
                    (end - today).num_days()
                ),
                fix,
            )
        }
        Availability::Until(end) => Check::pass(NAME, format!("{version}, available until {end}")),
        Availability::Unknown => Check::pass(
            NAME,
            format!("{version} (Meta has not published when it stops working)"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::{Verdict, render};

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn the_default_version_passes_for_years() {
        let check = check_graph_version(DEFAULT_GRAPH_VERSION, day(2026, 11, 30));
        assert_eq!(
            check.verdict,
            Verdict::Pass("v25.0, available until 2028-07-29".into())
        );
    }

    #[test]
    fn a_version_ending_within_90_days_is_warned_about() {
        let check = check_graph_version("v25.0", day(2028, 5, 1));
        match &check.verdict {
            Verdict::Warn { problem, fix } => {
                assert_eq!(problem, "v25.0 stops working on 2028-07-29, in 89 days");
                assert!(fix.contains("FB_GRAPH_VERSION"), "{fix}");
            }
            other => panic!("expected a warning, got {other:?}"),
        }
        assert!(check.passed(), "a warning still works today");
        assert!(matches!(
            check_graph_version("v25.0", day(2028, 4, 30)).verdict,
            Verdict::Warn { .. }
        ));
        assert!(matches!(
            check_graph_version("v25.0", day(2028, 4, 29)).verdict,
            Verdict::Pass(_)
        ));
        assert!(render(&[check]).contains("  ! Graph API version: v25.0 stops working"));
    }

    #[test]
    fn a_retired_version_fails() {
        let ended = check_graph_version("v20.0", day(2026, 11, 30));
        assert!(!ended.passed());
        assert!(
            matches!(&ended.verdict, Verdict::Fail { problem, .. } if problem == "v20.0 stopped working on 2026-09-24"),
            "{ended:?}"
        );
        let older = check_graph_version("v19.0", day(2026, 11, 30));
        assert!(!older.passed(), "{older:?}");
    }

    #[test]
    fn an_unpublished_end_passes() {
        assert!(check_graph_version("v24.0", day(2026, 11, 30)).passed());
    }
}
