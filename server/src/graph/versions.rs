//! When Graph API versions stop working: the one table of what Meta's changelog says (see
//! `shared/meta-facts.md` of the project notes), for `doctor`'s warning.

use chrono::NaiveDate;

/// Versions whose end of availability Meta has published, newest first. v18.0 ended in
/// January 2026 (the day is not in our notes; the month's last day is used).
const AVAILABLE_UNTIL: &[(&str, (i32, u32, u32))] = &[
    ("v25.0", (2028, 7, 29)),
    ("v20.0", (2026, 9, 24)),
    ("v18.0", (2026, 1, 31)),
];

/// `"v25.0"` → `(25, 0)`.
fn number(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.strip_prefix('v')?.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn date((year, month, day): (i32, u32, u32)) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// What leadhook knows about how long a Graph API version works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Meta published its last day.
    Until(NaiveDate),
    /// Older than a version that ended on this day (Meta retires versions oldest first).
    EndedBy(NaiveDate),
    /// Not published yet, or not a version number.
    Unknown,
}

/// How long `version` works, as seen on `today`.
pub fn availability(version: &str, today: NaiveDate) -> Availability {
    let Some(wanted) = number(version) else {
        return Availability::Unknown;
    };
    let known = AVAILABLE_UNTIL
        .iter()
        .filter_map(|(known, until)| Some((number(known)?, date(*until)?)));
    if let Some((_, until)) = known.clone().find(|(known, _)| *known == wanted) {
        return Availability::Until(until);
    }
    known
        .filter(|(known, until)| *known > wanted && *until < today)
        .map(|(_, until)| until)
        .min()
        .map_or(Availability::Unknown, Availability::EndedBy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).unwrap()
    }

    #[test]
    fn every_date_in_the_table_is_a_real_day() {
        for (version, until) in AVAILABLE_UNTIL {
            assert!(number(version).is_some(), "{version}");
            assert!(date(*until).is_some(), "{version}: {until:?}");
        }
    }

    #[test]
    fn known_versions_have_their_published_end() {
        let today = day(2026, 11, 30);
        assert_eq!(
            availability("v25.0", today),
            Availability::Until(day(2028, 7, 29))
        );
        assert_eq!(
            availability("v20.0", today),
            Availability::Until(day(2026, 9, 24))
        );
    }

    #[test]
    fn a_version_older_than_an_ended_one_has_ended_too() {
        let today = day(2026, 11, 30);
        assert_eq!(
            availability("v19.0", today),
            Availability::EndedBy(day(2026, 9, 24))
        );
        assert_eq!(
            availability("v2.12", today),
            Availability::EndedBy(day(2026, 1, 31))
        );
        assert_eq!(
            availability("v24.0", day(2028, 8, 1)),
            Availability::EndedBy(day(2028, 7, 29))
        );
    }

    #[test]
    fn unpublished_ends_stay_unknown() {
        let today = day(2026, 11, 30);
        assert_eq!(
            availability("v24.0", today),
            Availability::Unknown,
            "v25.0 still works, so nothing is known about v24.0's end"
        );
        assert_eq!(availability("v27.0", today), Availability::Unknown);
        assert_eq!(availability("latest", today), Availability::Unknown);
    }
}
