//! Where a period's days begin in the viewer's zone: the store counts between these instants,
//! so a lead at 23:30 in Berlin is that day's, whatever the store's own clock says.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use leadhook_shared::Tz;

/// The instant `day` begins in `zone`: its midnight, or where a clock change skips midnight
/// (a few zones move their clocks at 00:00), the first minute that exists.
pub fn day_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    (0..=180)
        .find_map(|minutes| {
            zone.from_local_datetime(&(midnight + TimeDelta::minutes(minutes)))
                .earliest()
        })
        .map(|start| start.with_timezone(&Utc))
        .unwrap_or_else(|| midnight.and_utc())
}

/// The start of every day from `first` through `last`, then the start of the day after.
pub fn day_starts(zone: Tz, first: NaiveDate, last: NaiveDate) -> Vec<DateTime<Utc>> {
    first
        .iter_days()
        .take_while(|day| *day <= last)
        .chain(last.checked_add_days(Days::new(1)))
        .map(|day| day_start(zone, day))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    #[test]
    fn days_begin_at_local_midnight_across_a_clock_change() {
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        let starts = day_starts(berlin, date("2026-10-24"), date("2026-10-25"));
        let utc: Vec<String> = starts.iter().map(|t| t.to_rfc3339()).collect();
        assert_eq!(
            utc,
            [
                "2026-10-23T22:00:00+00:00",
                "2026-10-24T22:00:00+00:00",
                // 25 October has 25 hours in Berlin: summer time ends.
                "2026-10-25T23:00:00+00:00",
            ]
        );
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_its_first_minute() {
        // Santiago de Chile moves its clocks from 00:00 to 01:00 on 6 September 2026.
        let santiago: Tz = "America/Santiago".parse().expect("zone");
        let start = day_start(santiago, date("2026-09-06"));
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
