//! This computer's IANA time zone, which the rep types follow-up times in until the server knows
//! theirs (the dashboard sends it on start).

use leadhook_shared::{Tz, parse_zone};

/// The local zone, and whether it was found: the system's zone, else `TZ`, else UTC with a
/// logged warning.
pub fn local_zone() -> (Tz, bool) {
    let system = iana_time_zone::get_timezone().map_err(|err| err.to_string());
    let zone = pick(system, std::env::var("TZ").ok().as_deref());
    match zone {
        Some(zone) => (zone, true),
        None => {
            tracing::warn!(
                "could not find this computer's time zone (nor TZ); due times are read in UTC"
            );
            (Tz::UTC, false)
        }
    }
}

/// The first of the system's answer and `TZ` (which may start with `:`) that is an IANA name.
fn pick(system: Result<String, String>, tz_env: Option<&str>) -> Option<Tz> {
    let system = match system {
        Ok(name) => parse_zone(&name)
            .inspect_err(|err| tracing::warn!("the system's time zone: {err}"))
            .ok(),
        Err(err) => {
            tracing::warn!("could not read the system's time zone: {err}");
            None
        }
    };
    system.or_else(|| {
        let name = tz_env?.trim_start_matches(':');
        parse_zone(name).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_systems_zone_comes_first_then_tz() {
        let berlin = Ok("Europe/Berlin".to_string());
        assert_eq!(pick(berlin, Some("Asia/Tokyo")), Some(Tz::Europe__Berlin));
        let unknown = Err("no zone".to_string());
        assert_eq!(
            pick(unknown.clone(), Some(":America/New_York")),
            Some(Tz::America__New_York)
        );
        assert_eq!(pick(unknown.clone(), Some("CET-1CEST")), None);
        assert_eq!(pick(unknown, None), None);
        assert_eq!(pick(Ok("Mars/Olympus".into()), Some("UTC")), Some(Tz::UTC));
    }
}
