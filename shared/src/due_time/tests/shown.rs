use super::*;

fn labels(choices: &[QuickChoice]) -> Vec<&'static str> {
    choices.iter().map(|c| c.label).collect()
}

#[test]
fn quick_choices_before_one_offer_this_afternoon() {
    let choices = quick_choices(utc(TUESDAY), BERLIN);
    assert_eq!(
        choices,
        vec![
            QuickChoice {
                label: "in 1 hour",
                at: utc("2026-12-08T10:00:00Z")
            },
            QuickChoice {
                label: "this afternoon",
                at: utc("2026-12-08T13:00:00Z")
            },
            QuickChoice {
                label: "tomorrow 9:00",
                at: utc("2026-12-09T08:00:00Z")
            },
            QuickChoice {
                label: "next Monday 9:00",
                at: utc("2026-12-14T08:00:00Z")
            },
        ]
    );
    let at_12_59 = quick_choices(utc("2026-12-08T11:59:59Z"), BERLIN);
    assert_eq!(labels(&at_12_59)[1], "this afternoon");
}

#[test]
fn quick_choices_from_one_leave_out_this_afternoon() {
    let at_13 = quick_choices(utc("2026-12-08T12:00:00Z"), BERLIN);
    assert_eq!(
        labels(&at_13),
        ["in 1 hour", "tomorrow 9:00", "next Monday 9:00"]
    );
    assert_eq!(at_13[0].at, utc("2026-12-08T13:00:00Z"));
    // The same instant is 04:00 in Los Angeles, where the afternoon is still ahead.
    let la = quick_choices(utc("2026-12-08T12:00:00Z"), LOS_ANGELES);
    assert_eq!(la[1].label, "this afternoon");
    assert_eq!(la[1].at, utc("2026-12-08T22:00:00Z"));
}

#[test]
fn next_monday_is_never_today_and_tomorrow_follows_the_wall_clock() {
    // Monday 2026-12-07 10:00 Berlin: next Monday is a week later.
    let monday = quick_choices(utc("2026-12-07T09:00:00Z"), BERLIN);
    assert_eq!(monday[3].label, "next Monday 9:00");
    assert_eq!(monday[3].at, utc("2026-12-14T08:00:00Z"));
    // Sunday: next Monday is tomorrow.
    let sunday = quick_choices(utc("2026-12-13T09:00:00Z"), BERLIN);
    assert_eq!(sunday[2].at, sunday[3].at);
    // Saturday before the spring change: tomorrow 9:00 is 09:00 CEST.
    let saturday = quick_choices(utc("2027-03-27T08:00:00Z"), BERLIN);
    assert_eq!(saturday[2].label, "tomorrow 9:00");
    assert_eq!(saturday[2].at, utc("2027-03-28T07:00:00Z"));
}

#[test]
fn show_due_has_a_short_shape_for_each_distance() {
    let now = utc(TUESDAY);
    let cases = [
        ("2026-12-08T14:30:00Z", "today 15:30"),
        ("2026-12-08T08:00:00Z", "today 09:00"),
        ("2026-12-09T08:00:00Z", "tomorrow 09:00"),
        ("2026-12-07T08:00:00Z", "yesterday 09:00"),
        ("2026-12-10T09:00:00Z", "Thu 10:00"),
        ("2026-12-14T08:00:00Z", "Mon 09:00"),
        ("2026-12-15T08:00:00Z", "2026-12-15 09:00"),
        ("2026-12-06T08:00:00Z", "2026-12-06 09:00"),
        ("2027-01-02T08:00:00Z", "2027-01-02 09:00"),
        ("2026-12-08T22:59:59Z", "today 23:59"),
    ];
    for (at, shown) in cases {
        assert_eq!(show_due(utc(at), now, BERLIN), shown, "{at}");
    }
}

#[test]
fn show_due_uses_the_reps_zone_for_day_and_time() {
    let now = utc(TUESDAY);
    let at = utc("2026-12-08T23:30:00Z");
    assert_eq!(show_due(at, now, BERLIN), "tomorrow 00:30");
    assert_eq!(show_due(at, now, LOS_ANGELES), "today 15:30");
}

#[test]
fn what_is_parsed_shows_back_as_typed() {
    let now = utc(TUESDAY);
    for (typed, shown) in [
        ("15:30", "today 15:30"),
        ("9:05", "tomorrow 09:05"),
        ("fri 10:00", "Fri 10:00"),
        ("tue 9:00", "2026-12-15 09:00"),
    ] {
        let at = due(typed, TUESDAY, BERLIN);
        assert_eq!(show_due(at, now, BERLIN), shown, "{typed:?}");
    }
}

#[test]
fn zones_parse_by_their_iana_name() {
    assert_eq!(parse_zone("Europe/Berlin"), Ok(BERLIN));
    assert_eq!(parse_zone(" America/New_York\n"), Ok(NEW_YORK));
    assert_eq!(parse_zone("UTC"), Ok(Tz::UTC));
    assert_eq!(parse_zone(""), Err(DueTimeError::EmptyZone));
    assert_eq!(parse_zone("  "), Err(DueTimeError::EmptyZone));
    let wrong_case = parse_zone("europe/berlin");
    assert_eq!(
        wrong_case,
        Err(DueTimeError::ZoneCase {
            name: "europe/berlin".to_string(),
            suggestion: "Europe/Berlin"
        })
    );
    assert_eq!(
        wrong_case.map_err(|e| e.to_string()),
        Err(r#""europe/berlin" is not an IANA time zone: did you mean Europe/Berlin?"#.to_string())
    );
    assert_eq!(
        parse_zone("Mars/Olympus").map_err(|e| e.to_string()),
        Err(r#""Mars/Olympus" is not an IANA time zone: use a name like Europe/Berlin or America/New_York"#.to_string())
    );
    assert_eq!(
        parse_zone(&"Z".repeat(60)),
        Err(DueTimeError::UnknownZone {
            name: format!("{}…", "Z".repeat(40))
        })
    );
}
