//! A rep's own paging settings, kept with the rep in the store (`PUT /api/reps/me`): the ntfy
//! topic their phone subscribes to and the quiet hours in which pages wait. Read the same by the
//! server (which checks and applies them) and the dashboard (which offers them).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Longest ntfy topic (ntfy's own limit).
pub const NTFY_TOPIC_MAX: usize = 64;
/// Shortest ntfy topic accepted: a topic on the public server is a password, so a short one is
/// guessable.
pub const NTFY_TOPIC_MIN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error(
        "the ntfy topic must be {NTFY_TOPIC_MIN} to {NTFY_TOPIC_MAX} of A-Z, a-z, 0-9, - and _ \
         (anyone who knows it reads the pages: make one with `openssl rand -hex 12`)"
    )]
    Topic,
    #[error(
        "quiet hours must be two times of day like \"22:00-07:00\" (start, then end; the window \
         may cross midnight and must not be empty)"
    )]
    QuietHours,
}

/// Checks an ntfy topic as ntfy itself and the public server's guessing risk require.
pub fn check_ntfy_topic(topic: &str) -> Result<(), PagingError> {
    let charset = topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if charset && (NTFY_TOPIC_MIN..=NTFY_TOPIC_MAX).contains(&topic.len()) {
        Ok(())
    } else {
        Err(PagingError::Topic)
    }
}

/// A daily window in the rep's own time: from `start` (inclusive) to `end` (exclusive); when
/// `end` is before `start` the window crosses midnight ("22:00-07:00").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Minutes after midnight of `start` and `end`, as the stores keep them.
    pub fn minutes(self) -> (u16, u16) {
        let of = |t: NaiveTime| (t.hour() * 60 + t.minute()) as u16;
        (of(self.start), of(self.end))
    }

    /// The window kept as minutes after midnight; `None` for a value out of range.
    pub fn from_minutes(start: i64, end: i64) -> Option<QuietHours> {
        let time = |m: i64| {
            let m = u32::try_from(m).ok().filter(|m| *m < 24 * 60)?;
            NaiveTime::from_hms_opt(m / 60, m % 60, 0)
        };
        let hours = QuietHours {
            start: time(start)?,
            end: time(end)?,
        };
        (hours.start != hours.end).then_some(hours)
    }

    fn covers(self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// When the window that holds `now` (in `zone`) ends, or `None` when `now` is outside it.
    /// A window end that a clock change skips is taken at the first instant after the gap.
    pub fn holds_until(self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&zone);
        if !self.covers(local.time()) {
            return None;
        }
        let mut day = local.date_naive();
        if self.start > self.end && local.time() >= self.start {
            day = day.checked_add_days(Days::new(1))?;
        }
        let end = day.and_time(self.end);
        let instant = zone.from_local_datetime(&end).earliest().or_else(|| {
            // In a spring-forward gap: the hour after.
            zone.from_local_datetime(&(end + chrono::TimeDelta::hours(1)))
                .earliest()
        })?;
        Some(instant.with_timezone(&Utc))
    }
}

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

impl FromStr for QuietHours {
    type Err = PagingError;

    fn from_str(text: &str) -> Result<QuietHours, PagingError> {
        let (start, end) = text.trim().split_once('-').ok_or(PagingError::QuietHours)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        let hours = QuietHours {
            start: time(start).ok_or(PagingError::QuietHours)?,
            end: time(end).ok_or(PagingError::QuietHours)?,
        };
        if hours.start == hours.end {
            return Err(PagingError::QuietHours);
        }
        Ok(hours)
    }
}

impl TryFrom<String> for QuietHours {
    type Error = PagingError;

    fn try_from(text: String) -> Result<QuietHours, PagingError> {
        text.parse()
    }
}

impl From<QuietHours> for String {
    fn from(hours: QuietHours) -> String {
        hours.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn topics_are_ntfys_charset_and_long_enough_to_be_unguessable() {
        assert!(check_ntfy_topic("alice_phone-7f3a9c2e41").is_ok());
        for bad in [
            "short",
            "has space in it here",
            "slash/in/the/topic1",
            &"a".repeat(65),
        ] {
            assert_eq!(check_ntfy_topic(bad), Err(PagingError::Topic), "{bad}");
        }
    }

    #[test]
    fn quiet_hours_read_back_and_refuse_nonsense() {
        let hours: QuietHours = "22:00-07:30".parse().unwrap();
        assert_eq!(hours.to_string(), "22:00-07:30");
        assert_eq!(hours.minutes(), (22 * 60, 7 * 60 + 30));
        assert_eq!(QuietHours::from_minutes(1320, 450), Some(hours));
        for bad in ["", "22:00", "22:00-22:00", "25:00-07:00", "evening-morning"] {
            assert!(bad.parse::<QuietHours>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_window_across_midnight_holds_until_the_morning_in_the_reps_zone() {
        let hours: QuietHours = "22:00-07:00".parse().unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 23:30 in Berlin (winter, UTC+1): held until 07:00 the next day.
        assert_eq!(
            hours.holds_until(at("2026-12-07T22:30:00Z"), berlin),
            Some(at("2026-12-08T06:00:00Z"))
        );
        // 05:00 in Berlin: held until 07:00 the same day.
        assert_eq!(
            hours.holds_until(at("2026-12-08T04:00:00Z"), berlin),
            Some(at("2026-12-08T06:00:00Z"))
        );
        // 12:00: not held.
        assert_eq!(hours.holds_until(at("2026-12-08T11:00:00Z"), berlin), None);
    }

    #[test]
    fn a_daytime_window_holds_until_its_end() {
        let hours: QuietHours = "12:00-13:00".parse().unwrap();
        let zone: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            hours.holds_until(at("2026-12-07T17:30:00Z"), zone),
            Some(at("2026-12-07T18:00:00Z"))
        );
        assert_eq!(hours.holds_until(at("2026-12-07T18:00:00Z"), zone), None);
    }
}
