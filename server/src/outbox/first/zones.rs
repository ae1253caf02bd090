//! The time zone a phone number's person is taken to live in: the zone the operator named for
//! its country (`zones`), else the default of [`DEFAULT_ZONES`], else the operator's
//! `default_zone`. For a country that spans several zones the default is one of them, chosen to
//! be near most of its people and its middle (the README lists them); the operator can name
//! another.

use chrono_tz::Tz;

use crate::config::FirstRules;

/// Countries (ISO 3166-1 alpha-2) and their zone. Those marked `several` span more than one.
pub const DEFAULT_ZONES: &[(&str, &str)] = &[
    ("US", "America/Chicago"), // several: Eastern to Hawaii; Central is the middle
    ("CA", "America/Toronto"), // several: most people live in Eastern
    ("MX", "America/Mexico_City"), // several
    ("BR", "America/Sao_Paulo"), // several: most people live in Brasília time
    ("AU", "Australia/Sydney"), // several: Sydney and Melbourne
    ("RU", "Europe/Moscow"),   // several
    ("ID", "Asia/Jakarta"),    // several: Western Indonesia, most people
    ("KZ", "Asia/Almaty"),     // several
    ("AR", "America/Argentina/Buenos_Aires"),
    ("CL", "America/Santiago"),
    ("CO", "America/Bogota"),
    ("PE", "America/Lima"),
    ("NZ", "Pacific/Auckland"),
    ("GB", "Europe/London"),
    ("IE", "Europe/Dublin"),
    ("PT", "Europe/Lisbon"),
    ("ES", "Europe/Madrid"),
    ("FR", "Europe/Paris"),
    ("DE", "Europe/Berlin"),
    ("IT", "Europe/Rome"),
    ("NL", "Europe/Amsterdam"),
    ("BE", "Europe/Brussels"),
    ("LU", "Europe/Luxembourg"),
    ("CH", "Europe/Zurich"),
    ("AT", "Europe/Vienna"),
    ("PL", "Europe/Warsaw"),
    ("CZ", "Europe/Prague"),
    ("SK", "Europe/Bratislava"),
    ("SE", "Europe/Stockholm"),
    ("NO", "Europe/Oslo"),
    ("DK", "Europe/Copenhagen"),
    ("FI", "Europe/Helsinki"),
    ("GR", "Europe/Athens"),
    ("RO", "Europe/Bucharest"),
    ("BG", "Europe/Sofia"),
    ("HU", "Europe/Budapest"),
    ("HR", "Europe/Zagreb"),
    ("UA", "Europe/Kyiv"),
    ("TR", "Europe/Istanbul"),
    ("IL", "Asia/Jerusalem"),
    ("AE", "Asia/Dubai"),
    ("SA", "Asia/Riyadh"),
    ("EG", "Africa/Cairo"),
    ("MA", "Africa/Casablanca"),
    ("ZA", "Africa/Johannesburg"),
    ("NG", "Africa/Lagos"),
    ("KE", "Africa/Nairobi"),
    ("IN", "Asia/Kolkata"),
    ("PK", "Asia/Karachi"),
    ("BD", "Asia/Dhaka"),
    ("CN", "Asia/Shanghai"),
    ("HK", "Asia/Hong_Kong"),
    ("TW", "Asia/Taipei"),
    ("JP", "Asia/Tokyo"),
    ("KR", "Asia/Seoul"),
    ("SG", "Asia/Singapore"),
    ("MY", "Asia/Kuala_Lumpur"),
    ("TH", "Asia/Bangkok"),
    ("VN", "Asia/Ho_Chi_Minh"),
    ("PH", "Asia/Manila"),
];

/// The zone of `country`'s numbers under `rules`, or `None` when neither the operator nor the
/// defaults name one.
pub fn zone_of(country: &str, rules: &FirstRules) -> Option<Tz> {
    rules.zones.get(country).copied().or_else(|| {
        DEFAULT_ZONES
            .iter()
            .find(|(code, _)| *code == country)
            .and_then(|(_, zone)| zone.parse().ok())
            .or(rules.default_zone)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_is_a_zone_and_each_country_is_named_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (country, zone) in DEFAULT_ZONES {
            assert!(zone.parse::<Tz>().is_ok(), "{zone}");
            assert!(seen.insert(*country), "{country} twice");
        }
    }
}
