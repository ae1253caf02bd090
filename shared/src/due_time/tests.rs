use super::*;

/// Quick choices, showing due times and parsing zones.
mod shown;

pub(super) const BERLIN: Tz = Tz::Europe__Berlin;
pub(super) const NEW_YORK: Tz = Tz::America__New_York;
pub(super) const LOS_ANGELES: Tz = Tz::America__Los_Angeles;
/// Tuesday 2026-12-08, 10:00 in Berlin (UTC+1), 01:00 in Los Angeles (UTC-8).
pub(super) const TUESDAY: &str = "2026-12-08T09:00:00Z";

pub(super) fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("test time is RFC 3339")
        .with_timezone(&Utc)
}

pub(super) fn due(input: &str, now: &str, zone: Tz) -> DateTime<Utc> {
    parse_due(input, utc(now), zone).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn refused(input: &str, now: &str, zone: Tz) -> DueTimeError {
    match parse_due(input, utc(now), zone) {
        Ok(at) => panic!("{input:?} should be refused, got {at}"),
        Err(e) => e,
    }
}

fn not_a_time(input: &str) -> DueTimeError {
    DueTimeError::NotATime {
        input: input.to_string(),
    }
}

#[test]
fn a_clock_time_is_today_while_ahead_and_tomorrow_once_past() {
    assert_eq!(due("15:30", TUESDAY, BERLIN), utc("2026-12-08T14:30:00Z"));
    assert_eq!(due("9:05", TUESDAY, BERLIN), utc("2026-12-09T08:05:00Z"));
    assert_eq!(due("09:05", TUESDAY, BERLIN), utc("2026-12-09T08:05:00Z"));
    assert_eq!(due("23:59", TUESDAY, BERLIN), utc("2026-12-08T22:59:00Z"));
    assert_eq!(due("0:00", TUESDAY, BERLIN), utc("2026-12-08T23:00:00Z"));
    // Up to a minute ago still counts as now; more is tomorrow.
    assert_eq!(due("9:59", TUESDAY, BERLIN), utc("2026-12-08T08:59:00Z"));
    assert_eq!(
        due("10:00", "2026-12-08T09:00:59Z", BERLIN),
        utc("2026-12-08T09:00:00Z")
    );
    assert_eq!(due("9:58", TUESDAY, BERLIN), utc("2026-12-09T08:58:00Z"));
}

#[test]
fn a_rep_in_los_angeles_reads_the_same_clock_time_in_their_own_zone() {
    // 09:00 UTC is 01:00 in Los Angeles: 15:30 is later today there, 23:30 UTC.
    let la = due("15:30", TUESDAY, LOS_ANGELES);
    let berlin = due("15:30", TUESDAY, BERLIN);
    assert_eq!(la, utc("2026-12-08T23:30:00Z"));
    assert_eq!(berlin, utc("2026-12-08T14:30:00Z"));
    assert_ne!(la, berlin);
    // At 20:00 UTC it is still noon in Los Angeles but 21:00 in Berlin, so Berlin gets tomorrow.
    let evening = "2026-12-08T20:00:00Z";
    assert_eq!(
        due("15:30", evening, LOS_ANGELES),
        utc("2026-12-08T23:30:00Z")
    );
    assert_eq!(due("15:30", evening, BERLIN), utc("2026-12-09T14:30:00Z"));
}

#[test]
fn a_weekday_is_the_next_such_day_today_only_while_the_time_is_ahead() {
    assert_eq!(
        due("tue 10:30", TUESDAY, BERLIN),
        utc("2026-12-08T09:30:00Z")
    );
    assert_eq!(
        due("tue 9:00", TUESDAY, BERLIN),
        utc("2026-12-15T08:00:00Z")
    );
    assert_eq!(
        due("tuesday 10:30", TUESDAY, BERLIN),
        utc("2026-12-08T09:30:00Z")
    );
    assert_eq!(
        due("wed 10:00", TUESDAY, BERLIN),
        utc("2026-12-09T09:00:00Z")
    );
    assert_eq!(
        due("mon 8:00", TUESDAY, BERLIN),
        utc("2026-12-14T07:00:00Z")
    );
    let names = [
        ("mon", "monday", Weekday::Mon),
        ("tue", "tuesday", Weekday::Tue),
        ("wed", "wednesday", Weekday::Wed),
        ("thu", "thursday", Weekday::Thu),
        ("fri", "friday", Weekday::Fri),
        ("sat", "saturday", Weekday::Sat),
        ("sun", "sunday", Weekday::Sun),
    ];
    let now = utc(TUESDAY);
    for (short, long, weekday) in names {
        let at = due(&format!("{short} 12:00"), TUESDAY, BERLIN);
        assert_eq!(due(&format!("{long} 12:00"), TUESDAY, BERLIN), at);
        let local = at.with_timezone(&BERLIN);
        assert_eq!(local.weekday(), weekday, "{short}");
        assert_eq!(local.format("%H:%M").to_string(), "12:00");
        assert!(at > now && at - now < TimeDelta::days(7), "{short}: {at}");
    }
}

#[test]
fn today_tomorrow_and_dates_are_local_wall_times() {
    assert_eq!(
        due("today 17:00", TUESDAY, BERLIN),
        utc("2026-12-08T16:00:00Z")
    );
    assert_eq!(
        due("tomorrow 9:00", TUESDAY, BERLIN),
        utc("2026-12-09T08:00:00Z")
    );
    assert_eq!(
        due("2026-12-14 09:00", TUESDAY, BERLIN),
        utc("2026-12-14T08:00:00Z")
    );
    assert_eq!(
        due("2026-12-14", TUESDAY, BERLIN),
        utc("2026-12-14T08:00:00Z")
    );
    assert_eq!(
        due("2027-1-5 9:00", TUESDAY, BERLIN),
        utc("2027-01-05T08:00:00Z")
    );
    assert_eq!(
        due("2026-12-14 09:00", TUESDAY, NEW_YORK),
        utc("2026-12-14T14:00:00Z")
    );
}

#[test]
fn case_and_whitespace_do_not_matter() {
    let at = utc("2026-12-08T09:30:00Z");
    for typed in ["TUE 10:30", "  Tuesday\t 10:30 \n", "tUeSdAy 10:30"] {
        assert_eq!(due(typed, TUESDAY, BERLIN), at, "{typed:?}");
    }
    assert_eq!(
        due(" TOMORROW   9:00 ", TUESDAY, BERLIN),
        utc("2026-12-09T08:00:00Z")
    );
    assert_eq!(
        due(" +1H 30M ", TUESDAY, BERLIN),
        utc("2026-12-08T10:30:00Z")
    );
}

#[test]
fn durations_add_real_time_to_now() {
    let cases = [
        ("+2h", "2026-12-08T11:00:00Z"),
        ("+30m", "2026-12-08T09:30:00Z"),
        ("+1d", "2026-12-09T09:00:00Z"),
        ("+1h30m", "2026-12-08T10:30:00Z"),
        ("+90m", "2026-12-08T10:30:00Z"),
        ("+1d2h3m", "2026-12-09T11:03:00Z"),
        ("+ 2 h", "2026-12-08T11:00:00Z"),
        ("+365d", "2027-12-08T09:00:00Z"),
        ("+1m", "2026-12-08T09:01:00Z"),
    ];
    for (typed, at) in cases {
        assert_eq!(due(typed, TUESDAY, BERLIN), utc(at), "{typed:?}");
    }
    // Seconds in now are kept: a duration is exact.
    assert_eq!(
        due("+2h", "2026-12-08T09:00:42Z", BERLIN),
        utc("2026-12-08T11:00:42Z")
    );
}

#[test]
fn an_rfc3339_time_is_taken_as_it_is() {
    for typed in [
        "2026-12-14T09:00:00Z",
        "2026-12-14t09:00:00z",
        "2026-12-14T14:30:00+05:30",
    ] {
        assert_eq!(
            due(typed, TUESDAY, LOS_ANGELES),
            utc("2026-12-14T09:00:00Z"),
            "{typed:?}"
        );
    }
}

#[test]
fn empty_input_is_refused() {
    assert_eq!(refused("", TUESDAY, BERLIN), DueTimeError::Empty);
    assert_eq!(refused(" \t\n", TUESDAY, BERLIN), DueTimeError::Empty);
    assert_eq!(
        DueTimeError::Empty.to_string(),
        "no time typed: use 15:30, tue 10:00, +2h or 2026-12-14 09:00"
    );
}

#[test]
fn what_is_not_one_of_the_forms_is_not_a_time() {
    for typed in [
        "25:00",
        "24:00",
        "12:60",
        "9",
        "930",
        "9:5",
        "9:005",
        "123:00",
        "tue",
        "tues 10:00",
        "tuesday10:00",
        "next tue 10:00",
        "tomorrow",
        "today 25:00",
        "15:30 tomorrow",
        "in 2 hours",
        "2026/12/14",
        "26-12-14",
        "2026-12-14 25:00",
        "2026-12-14-01",
        "+2",
        "+h",
        "+",
        "+2x",
        "+30m1h",
        "+1h1h",
        "+-2h",
        "-2h",
        "2026-12-14T09:00:00",
        "１５:３０",
    ] {
        assert_eq!(
            refused(typed, TUESDAY, BERLIN),
            not_a_time(typed),
            "{typed:?}"
        );
    }
    assert_eq!(
        refused("25:00", TUESDAY, BERLIN).to_string(),
        r#""25:00" is not a time: use 15:30, tue 10:00, +2h or 2026-12-14 09:00"#
    );
    // The message repeats what was typed, trimmed but not lowercased.
    assert_eq!(refused(" Noon ", TUESDAY, BERLIN), not_a_time("Noon"));
}

#[test]
fn a_date_not_on_the_calendar_is_refused() {
    for (typed, date) in [
        ("2026-02-30", "2026-02-30"),
        ("2026-02-29 09:00", "2026-02-29"),
        ("2026-13-01 09:00", "2026-13-01"),
        ("2026-12-00", "2026-12-00"),
    ] {
        assert_eq!(
            refused(typed, TUESDAY, BERLIN),
            DueTimeError::NoSuchDate {
                input: date.to_string()
            },
            "{typed:?}"
        );
    }
    assert_eq!(
        refused("2026-02-30", TUESDAY, BERLIN).to_string(),
        r#""2026-02-30" is not a day on the calendar: use 15:30, tue 10:00, +2h or 2026-12-14 09:00"#
    );
    // 2028 is a leap year.
    assert_eq!(
        due("2028-02-29", TUESDAY, BERLIN),
        utc("2028-02-29T08:00:00Z")
    );
}

#[test]
fn a_time_more_than_a_minute_past_is_refused() {
    let past = |typed: &str| DueTimeError::InPast {
        input: typed.to_string(),
        now_local: "2026-12-08 10:00".to_string(),
        zone: BERLIN,
    };
    for typed in [
        "2026-01-01 09:00",
        "2026-01-01",
        "today 8:00",
        "today 9:58",
        "2026-12-08T08:58:00Z",
    ] {
        assert_eq!(refused(typed, TUESDAY, BERLIN), past(typed), "{typed:?}");
    }
    assert_eq!(
        refused("2026-01-01 09:00", TUESDAY, BERLIN).to_string(),
        r#""2026-01-01 09:00" is in the past (it is 2026-12-08 10:00 in Europe/Berlin now): pick a later time, e.g. +2h, tomorrow 9:00 or tue 10:00"#
    );
    // Within the minute is still fine.
    assert_eq!(
        due("today 9:59", TUESDAY, BERLIN),
        utc("2026-12-08T08:59:00Z")
    );
    assert_eq!(
        due("2026-12-08T08:59:00Z", TUESDAY, BERLIN),
        utc("2026-12-08T08:59:00Z")
    );
}

#[test]
fn a_duration_of_zero_or_over_a_year_is_refused() {
    for typed in [
        "+0m",
        "+0h0m",
        "+0d",
        "+366d",
        "+8761h",
        "+365d1m",
        "+525601m",
        "+99999999999999999999999d",
    ] {
        assert_eq!(
            refused(typed, TUESDAY, BERLIN),
            DueTimeError::DurationOutOfRange {
                input: typed.to_string()
            },
            "{typed:?}"
        );
    }
    assert_eq!(
        refused("+0m", TUESDAY, BERLIN).to_string(),
        r#""+0m" is not a duration from 1 minute to 365 days: use +30m, +2h, +1h30m or +1d"#
    );
}

#[test]
fn long_or_odd_input_is_cut_in_messages() {
    let long = "x".repeat(100);
    let expected = format!("{}…", "x".repeat(40));
    assert_eq!(refused(&long, TUESDAY, BERLIN), not_a_time(&expected));
    assert_eq!(
        refused(&"é".repeat(41), TUESDAY, BERLIN),
        not_a_time(&format!("{}…", "é".repeat(40)))
    );
    assert_eq!(
        refused(&"x".repeat(40), TUESDAY, BERLIN),
        not_a_time(&"x".repeat(40))
    );
    assert_eq!(
        refused("15\u{7}:30\nnow", TUESDAY, BERLIN),
        not_a_time("15\u{fffd}:30\u{fffd}now")
    );
}

#[test]
fn berlin_spring_forward_gap_is_an_error_saying_so() {
    let saturday = "2027-03-27T12:00:00Z";
    let skipped = DueTimeError::SkippedByClockChange {
        time: "02:30".to_string(),
        date: NaiveDate::from_ymd_opt(2027, 3, 28).expect("date"),
        zone: BERLIN,
    };
    for typed in ["2027-03-28 02:30", "tomorrow 2:30", "sun 2:30"] {
        assert_eq!(refused(typed, saturday, BERLIN), skipped, "{typed:?}");
    }
    assert_eq!(
        skipped.to_string(),
        "02:30 does not exist on 2027-03-28 in Europe/Berlin: the clocks go forward; pick another time"
    );
    // Either side of the gap is fine: 01:59 CET and 03:00 CEST are a minute apart.
    assert_eq!(
        due("2027-03-28 01:59", saturday, BERLIN),
        utc("2027-03-28T00:59:00Z")
    );
    assert_eq!(
        due("2027-03-28 03:00", saturday, BERLIN),
        utc("2027-03-28T01:00:00Z")
    );
}

#[test]
fn a_clock_time_skipped_today_but_already_behind_is_tomorrow() {
    // 00:30 CET on the day of the change: 02:30 would be ahead, and it does not exist.
    assert!(matches!(
        refused("2:30", "2027-03-27T23:30:00Z", BERLIN),
        DueTimeError::SkippedByClockChange { .. }
    ));
    // 12:00 CEST the same day: 02:30 is behind, so tomorrow's 02:30 CEST.
    assert_eq!(
        due("2:30", "2027-03-28T10:00:00Z", BERLIN),
        utc("2027-03-29T00:30:00Z")
    );
    // Likewise a weekday: this Sunday's 02:30 is behind, next Sunday's exists.
    assert_eq!(
        due("sun 2:30", "2027-03-28T10:00:00Z", BERLIN),
        utc("2027-04-04T00:30:00Z")
    );
}

#[test]
fn berlin_fall_back_overlap_takes_the_earlier_time() {
    // 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    let saturday = "2027-10-30T12:00:00Z";
    assert_eq!(
        due("2027-10-31 02:30", saturday, BERLIN),
        utc("2027-10-31T00:30:00Z")
    );
    assert_eq!(
        due("tomorrow 2:30", saturday, BERLIN),
        utc("2027-10-31T00:30:00Z")
    );
    // At 02:10 CET, in the repeated hour, the first 02:30 is past but the second is ahead.
    let repeated_hour = "2027-10-31T01:10:00Z";
    assert_eq!(
        due("2:30", repeated_hour, BERLIN),
        utc("2027-10-31T01:30:00Z")
    );
    assert_eq!(
        due("today 2:30", repeated_hour, BERLIN),
        utc("2027-10-31T01:30:00Z")
    );
}

#[test]
fn new_york_gap_and_overlap() {
    let saturday = "2027-03-13T17:00:00Z";
    let skipped = refused("2027-03-14 2:30", saturday, NEW_YORK);
    assert_eq!(
        skipped.to_string(),
        "02:30 does not exist on 2027-03-14 in America/New_York: the clocks go forward; pick another time"
    );
    assert_eq!(
        due("2027-03-14 3:00", saturday, NEW_YORK),
        utc("2027-03-14T07:00:00Z")
    );
    // 01:30 on 2027-11-07 is first EDT (05:30 UTC), then EST (06:30 UTC).
    assert_eq!(
        due("2027-11-07 1:30", saturday, NEW_YORK),
        utc("2027-11-07T05:30:00Z")
    );
}

#[test]
fn tomorrow_is_the_same_wall_time_across_a_clock_change() {
    // Saturday 09:00 CET to Sunday 09:00 CEST: 23 hours.
    let spring = "2027-03-27T08:00:00Z";
    let at = due("tomorrow 9:00", spring, BERLIN);
    assert_eq!(at, utc("2027-03-28T07:00:00Z"));
    assert_eq!(at - utc(spring), TimeDelta::hours(23));
    // Saturday 09:00 CEST to Sunday 09:00 CET: 25 hours.
    let autumn = "2027-10-30T07:00:00Z";
    let at = due("tomorrow 9:00", autumn, BERLIN);
    assert_eq!(at, utc("2027-10-31T08:00:00Z"));
    assert_eq!(at - utc(autumn), TimeDelta::hours(25));
    // +1d stays 24 hours of real time, so 10:00 local.
    let at = due("+1d", spring, BERLIN);
    assert_eq!(at - utc(spring), TimeDelta::hours(24));
    assert_eq!(show_due(at, utc(spring), BERLIN), "tomorrow 10:00");
}
