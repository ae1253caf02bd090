//! When a lead's next step is due: what a rep types ("15:30", "tue 10:00", "+2h",
//! "2026-12-14 09:00") read in the rep's own IANA time zone, and a due time shown back to the
//! rep in that zone. Times are kept in UTC; only parsing and showing know about the zone.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta,
    TimeZone, Utc, Weekday,
};
pub use chrono_tz::Tz;

/// The forms `parse_due` accepts, as the error messages list them.
const FORMS: &str = "use 15:30, tue 10:00, +2h or 2026-12-14 09:00";
/// How much of what a user typed an error message repeats.
const ECHO_CHARS: usize = 40;
/// The longest duration `+…` accepts, in minutes.
const MAX_DURATION_MINUTES: u64 = 365 * 24 * 60;

/// Why what a rep typed is not a due time (or not a time zone). Each message is one line that
/// repeats what was typed and says what would be accepted, for a toast in the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DueTimeError {
    #[error("no time typed: {FORMS}")]
    Empty,
    /// Not one of the accepted forms, or an hour over 23 or minutes over 59.
    #[error("\"{input}\" is not a time: {FORMS}")]
    NotATime { input: String },
    /// A date of the right shape that is not on the calendar (2026-02-30, month 13).
    #[error("\"{input}\" is not a day on the calendar: {FORMS}")]
    NoSuchDate { input: String },
    /// More than a minute before now.
    #[error(
        "\"{input}\" is in the past (it is {now_local} in {zone} now): pick a later time, e.g. +2h, tomorrow 9:00 or tue 10:00"
    )]
    InPast {
        input: String,
        /// Now as the rep's wall clock reads it, `YYYY-MM-DD HH:MM`.
        now_local: String,
        zone: Tz,
    },
    /// A `+…` duration of zero or of more than 365 days.
    #[error(
        "\"{input}\" is not a duration from 1 minute to 365 days: use +30m, +2h, +1h30m or +1d"
    )]
    DurationOutOfRange { input: String },
    /// A local time the clocks skip when they go forward.
    #[error("{time} does not exist on {date} in {zone}: the clocks go forward; pick another time")]
    SkippedByClockChange {
        /// `HH:MM`
        time: String,
        date: NaiveDate,
        zone: Tz,
    },
    #[error("no time zone given: use an IANA name like Europe/Berlin or America/New_York")]
    EmptyZone,
    #[error("\"{name}\" is not an IANA time zone: did you mean {suggestion}?")]
    ZoneCase {
        name: String,
        suggestion: &'static str,
    },
    #[error(
        "\"{name}\" is not an IANA time zone: use a name like Europe/Berlin or America/New_York"
    )]
    UnknownZone { name: String },
}

/// One of the ready-made due times the dashboard offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuickChoice {
    pub label: &'static str,
    pub at: DateTime<Utc>,
}

/// Parses a typed time in `zone`, relative to `now`.
///
/// Accepts (case-insensitive, whitespace-flexible) `15:30` (today, or tomorrow once that time
/// today is more than a minute past), `tue 10:00` / `tuesday 10:00` (the next such day, today
/// if the time is still ahead), `today 17:00`, `tomorrow 9:00`, `+2h` / `+30m` / `+1d` /
/// `+1h30m` (real time added to `now`), `2026-12-14 09:00`, `2026-12-14` (09:00) and an RFC 3339
/// time with offset. A local time skipped by a clock change is an error; one that happens twice
/// is the earlier of the two, unless only the later one is still ahead.
pub fn parse_due(input: &str, now: DateTime<Utc>, zone: Tz) -> Result<DateTime<Utc>, DueTimeError> {
    let typed = input.trim();
    if typed.is_empty() {
        return Err(DueTimeError::Empty);
    }
    let lower = typed.to_lowercase();
    let at = At { typed, now, zone };
    if let Some(duration) = lower.strip_prefix('+') {
        return at.after(duration);
    }
    if let Ok(exact) = DateTime::parse_from_rfc3339(typed) {
        return at.not_past(exact.with_timezone(&Utc));
    }
    let today = now.with_timezone(&zone).date_naive();
    let words: Vec<&str> = lower.split_whitespace().collect();
    match words.as_slice() {
        [date] if date.contains('-') => {
            let date = at.date(date)?;
            at.not_past(at.resolve(date.and_time(nine()))?)
        }
        [clock] => at.first_ahead(today, at.clock(clock)?, 1),
        [day, clock] => {
            let time = at.clock(clock)?;
            match *day {
                "today" => at.not_past(at.resolve(today.and_time(time))?),
                "tomorrow" => at.not_past(at.resolve(at.add_days(today, 1)?.and_time(time))?),
                day if day.contains('-') => {
                    let date = at.date(day)?;
                    at.not_past(at.resolve(date.and_time(time))?)
                }
                day => {
                    let weekday = weekday(day).ok_or_else(|| at.not_a_time())?;
                    let ahead = days_until(today.weekday(), weekday);
                    at.first_ahead(at.add_days(today, ahead)?, time, 7)
                }
            }
        }
        _ => Err(at.not_a_time()),
    }
}

/// Quick choices offered in the dashboard, in this order: "in 1 hour", "this afternoon" (today
/// 14:00, offered only before 13:00 local), "tomorrow 9:00" and "next Monday 9:00" (the Monday
/// after today, never today). A choice whose local time the clocks skip is left out.
pub fn quick_choices(now: DateTime<Utc>, zone: Tz) -> Vec<QuickChoice> {
    let local = now.with_timezone(&zone);
    let today = local.date_naive();
    let at = At {
        typed: "",
        now,
        zone,
    };
    let mut choices = Vec::with_capacity(4);
    if let Some(at) = now.checked_add_signed(TimeDelta::hours(1)) {
        choices.push(QuickChoice {
            label: "in 1 hour",
            at,
        });
    }
    let mut offer = |label, date: Option<NaiveDate>, time| {
        if let Some(Ok(at)) = date.map(|date| at.resolve(date.and_time(time))) {
            choices.push(QuickChoice { label, at });
        }
    };
    if local.time() < hm(13, 0) {
        offer("this afternoon", Some(today), hm(14, 0));
    }
    offer("tomorrow 9:00", today.succ_opt(), nine());
    let to_monday = match days_until(today.weekday(), Weekday::Mon) {
        0 => 7,
        n => n,
    };
    offer(
        "next Monday 9:00",
        today.checked_add_days(Days::new(to_monday)),
        nine(),
    );
    choices
}

/// How the dashboard shows a due time to the rep, in `zone`: "today 15:30", "tomorrow 09:00",
/// "yesterday 09:00", "Tue 10:00" (2 to 6 days ahead), else "2026-12-14 09:00".
pub fn show_due(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    let today = now.with_timezone(&zone).date_naive();
    let time = local.format("%H:%M");
    match (local.date_naive() - today).num_days() {
        -1 => format!("yesterday {time}"),
        0 => format!("today {time}"),
        1 => format!("tomorrow {time}"),
        2..=6 => format!("{} {time}", local.format("%a")),
        _ => local.format("%Y-%m-%d %H:%M").to_string(),
    }
}

/// Parses an IANA zone name ("Europe/Berlin"). A name that is only wrongly capitalised is still
/// refused (settings should hold the one spelling) but the error names the right spelling.
pub fn parse_zone(name: &str) -> Result<Tz, DueTimeError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DueTimeError::EmptyZone);
    }
    if let Ok(zone) = name.parse::<Tz>() {
        return Ok(zone);
    }
    let same_but_case = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(name));
    Err(match same_but_case {
        Some(zone) => DueTimeError::ZoneCase {
            name: echo(name),
            suggestion: zone.name(),
        },
        None => DueTimeError::UnknownZone { name: echo(name) },
    })
}

/// What a user typed, as an error message repeats it: at most [`ECHO_CHARS`] characters, and
/// no control characters to break the one-line toast.
fn echo(typed: &str) -> String {
    let mut shown: String = typed
        .chars()
        .take(ECHO_CHARS)
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect();
    if typed.chars().nth(ECHO_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// One parse: what was typed (for messages), when and where.
struct At<'a> {
    typed: &'a str,
    now: DateTime<Utc>,
    zone: Tz,
}

impl At<'_> {
    fn not_a_time(&self) -> DueTimeError {
        DueTimeError::NotATime {
            input: echo(self.typed),
        }
    }

    /// Whether `at` is more than a minute before now.
    fn is_past(&self, at: DateTime<Utc>) -> bool {
        self.now
            .checked_sub_signed(TimeDelta::minutes(1))
            .is_some_and(|limit| at < limit)
    }

    fn not_past(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, DueTimeError> {
        if self.is_past(at) {
            return Err(DueTimeError::InPast {
                input: echo(self.typed),
                now_local: self
                    .now
                    .with_timezone(&self.zone)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                zone: self.zone,
            });
        }
        Ok(at)
    }

    /// The UTC instant of a local wall-clock time in the zone.
    fn resolve(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, DueTimeError> {
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
            // Clocks went back: the earlier, unless only the later is still ahead (a rep typing
            // 02:30 at 02:10 in the repeated hour means 20 minutes from now).
            LocalResult::Ambiguous(earlier, later) => {
                let (earlier, later) = (earlier.with_timezone(&Utc), later.with_timezone(&Utc));
                Ok(if self.is_past(earlier) && !self.is_past(later) {
                    later
                } else {
                    earlier
                })
            }
            LocalResult::None => Err(DueTimeError::SkippedByClockChange {
                time: local.format("%H:%M").to_string(),
                date: local.date(),
                zone: self.zone,
            }),
        }
    }

    /// `time` on `date` if that is not past, else on the day `step` days later.
    fn first_ahead(
        &self,
        date: NaiveDate,
        time: NaiveTime,
        step: u64,
    ) -> Result<DateTime<Utc>, DueTimeError> {
        let first = date.and_time(time);
        match self.resolve(first) {
            Ok(at) if !self.is_past(at) => return Ok(at),
            Ok(_) => {}
            // Skipped on `date`: only an error if the rep meant a time still to come that day.
            Err(skipped) => {
                let wall_now = self.now.with_timezone(&self.zone).naive_local();
                if wall_now
                    .checked_sub_signed(TimeDelta::minutes(1))
                    .is_none_or(|limit| first >= limit)
                {
                    return Err(skipped);
                }
            }
        }
        self.resolve(self.add_days(date, step)?.and_time(time))
    }

    fn add_days(&self, date: NaiveDate, days: u64) -> Result<NaiveDate, DueTimeError> {
        date.checked_add_days(Days::new(days))
            .ok_or_else(|| self.not_a_time())
    }

    /// `H:MM` or `HH:MM`, 00:00 to 23:59.
    fn clock(&self, word: &str) -> Result<NaiveTime, DueTimeError> {
        let parsed = word.split_once(':').and_then(|(hour, minute)| {
            let hour = digits(hour, 1..=2)?;
            let minute = digits(minute, 2..=2)?;
            NaiveTime::from_hms_opt(hour, minute, 0)
        });
        parsed.ok_or_else(|| self.not_a_time())
    }

    /// `YYYY-MM-DD` (month and day may have one digit); a date of that shape that is not on
    /// the calendar is `NoSuchDate`.
    fn date(&self, word: &str) -> Result<NaiveDate, DueTimeError> {
        let mut parts = word.split('-');
        let (Some(year), Some(month), Some(day), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(self.not_a_time());
        };
        let (Some(year), Some(month), Some(day)) = (
            digits(year, 4..=4),
            digits(month, 1..=2),
            digits(day, 1..=2),
        ) else {
            return Err(self.not_a_time());
        };
        // Four digits always fit an i32 year.
        let year = i32::try_from(year).map_err(|_| self.not_a_time())?;
        NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| DueTimeError::NoSuchDate { input: echo(word) })
    }

    /// Now plus a typed duration: `1d`, `2h`, `30m` or a combination in that order (`1h30m`).
    fn after(&self, duration: &str) -> Result<DateTime<Utc>, DueTimeError> {
        let compact: String = duration.chars().filter(|c| !c.is_whitespace()).collect();
        let mut rest = compact.as_str();
        let mut minutes: Option<u64> = Some(0);
        let mut units_left = "dhm";
        if rest.is_empty() {
            return Err(self.not_a_time());
        }
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = rest[number_len..].chars().next();
            let unit_at = unit.and_then(|unit| units_left.find(unit));
            let (Some(unit), Some(unit_at), true) = (unit, unit_at, number_len > 0) else {
                return Err(self.not_a_time());
            };
            let per_unit = match unit {
                'd' => 24 * 60,
                'h' => 60,
                _ => 1,
            };
            // Too many digits for a u64 is far over the limit, not a malformed duration.
            let amount = rest[..number_len].parse::<u64>().ok();
            minutes = minutes
                .zip(amount)
                .and_then(|(sum, amount)| amount.checked_mul(per_unit)?.checked_add(sum));
            units_left = &units_left[unit_at + 1..];
            rest = &rest[number_len + unit.len_utf8()..];
        }
        let out_of_range = || DueTimeError::DurationOutOfRange {
            input: echo(self.typed),
        };
        let minutes = minutes
            .filter(|m| (1..=MAX_DURATION_MINUTES).contains(m))
            .ok_or_else(out_of_range)?;
        let minutes = i64::try_from(minutes).map_err(|_| out_of_range())?;
        self.now
            .checked_add_signed(TimeDelta::minutes(minutes))
            .ok_or_else(out_of_range)
    }
}

/// An ASCII decimal number with a digit count in `len`.
fn digits(text: &str, len: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tuesday" => Weekday::Tue,
        "wed" | "wednesday" => Weekday::Wed,
        "thu" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        "sat" | "saturday" => Weekday::Sat,
        "sun" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// Days from `from` to the next `to`, 0 if they are the same day.
fn days_until(from: Weekday, to: Weekday) -> u64 {
    u64::from((to.num_days_from_monday() + 7 - from.num_days_from_monday()) % 7)
}

fn hm(hour: u32, minute: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN)
}

fn nine() -> NaiveTime {
    hm(9, 0)
}

#[cfg(test)]
mod tests;
