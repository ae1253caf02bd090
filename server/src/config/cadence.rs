//! `LEADHOOK_CADENCE`: when to call back after an unanswered call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::NextStep;

use super::ConfigError;

const VAR: &str = "LEADHOOK_CADENCE";
pub const DEFAULT_CADENCE: &str = "15m,2h,1d,3d,7d";
/// Longest wait between two calls the cadence may plan.
const LONGEST_WAIT: Duration = Duration::from_secs(90 * 86_400);
/// Most calls back the cadence may plan.
const MOST_CALLS: usize = 20;

/// The waits before each call back: after unanswered attempt N the next call is due after the
/// N-th wait; after the last one no call is planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence(Vec<Duration>);

impl Cadence {
    pub fn waits(&self) -> &[Duration] {
        &self.0
    }

    /// The next step after each unanswered attempt, counted `from`: entry N-1 for attempt N, "Call
    /// back (attempt N+1)" after the N-th wait.
    pub fn schedule(&self, from: DateTime<Utc>) -> Vec<NextStep> {
        self.0
            .iter()
            .zip(2..)
            .map(|(wait, next_attempt)| NextStep {
                at: from + chrono::Duration::from_std(*wait).unwrap_or(chrono::Duration::MAX),
                what: format!("Call back (attempt {next_attempt})"),
            })
            .collect()
    }
}

/// A comma-separated list of waits like `15m,2h,1d`, each from a second to 90 days, at most 20;
/// unset or empty: [`DEFAULT_CADENCE`].
pub(super) fn parse_cadence(value: Option<String>) -> Result<Cadence, ConfigError> {
    let text = value
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| DEFAULT_CADENCE.to_string());
    let mut waits = Vec::new();
    for part in text.split(',').map(str::trim) {
        let wait = humantime::parse_duration(part).map_err(|_| {
            ConfigError::invalid(
                VAR,
                format!("\"{part}\" is not a wait like 15m, 2h or 1d (the list is comma-separated, like {DEFAULT_CADENCE})"),
            )
        })?;
        if wait < Duration::from_secs(1) || wait > LONGEST_WAIT {
            return Err(ConfigError::invalid(
                VAR,
                format!("\"{part}\" must be between 1s and 90d"),
            ));
        }
        waits.push(wait);
    }
    if waits.len() > MOST_CALLS {
        return Err(ConfigError::invalid(
            VAR,
            format!("plans {} calls back; at most {MOST_CALLS}", waits.len()),
        ));
    }
    Ok(Cadence(waits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_cadence() {
        let cadence = parse_cadence(None).unwrap();
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            cadence.waits(),
            [
                Duration::from_secs(900),
                hours(2),
                hours(24),
                hours(72),
                hours(168)
            ]
        );
        assert_eq!(parse_cadence(Some("  ".into())).unwrap(), cadence);
    }

    #[test]
    fn a_schedule_names_the_next_attempt() {
        let cadence = parse_cadence(Some("10m, 1d".into())).unwrap();
        let from: DateTime<Utc> = "2026-12-07T10:00:00Z".parse().unwrap();
        let schedule = cadence.schedule(from);
        assert_eq!(
            schedule,
            [
                NextStep {
                    at: "2026-12-07T10:10:00Z".parse().unwrap(),
                    what: "Call back (attempt 2)".into()
                },
                NextStep {
                    at: "2026-12-08T10:00:00Z".parse().unwrap(),
                    what: "Call back (attempt 3)".into()
                },
            ]
        );
    }

    #[test]
    fn bad_cadences_name_the_variable_and_the_part() {
        for (text, part) in [
            ("15m,soon", "\"soon\""),
            ("15m,,1d", "\"\""),
            ("0s", "\"0s\""),
            ("100d", "\"100d\""),
        ] {
            match parse_cadence(Some(text.into())) {
                Err(ConfigError::Invalid { var, problem }) => {
                    assert_eq!(var, VAR);
                    assert!(problem.contains(part), "{text}: {problem}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let long = vec!["1h"; 21].join(",");
        assert!(parse_cadence(Some(long)).is_err());
    }
}
