//! Failed bearer tokens counted per client address ([`ClientAddr`]): past [`MAX_FAILURES`] in a
//! [`WINDOW`], an address's failed attempts are answered 429 with `Retry-After` until the window
//! ends, and the refusal is logged once per window. Only failures count and only failures are
//! refused: a valid token from the same address (a colleague behind the same office NAT) still
//! works, and costs nothing here.
//!
//! A fixed window per address in an LRU map of at most [`MAX_TRACKED_ADDRESSES`], so no one can
//! grow it from outside; IPv6 addresses count per /64, the block one subscriber usually holds.
//! (`governor`'s keyed limiter was the alternative, but its map has no size bound and no place
//! for the once-per-window log mark, so it would need this map beside it anyway.)

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use lru::LruCache;

use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::error::AppError;

/// Failed attempts an address may make per window; the next ones are refused.
pub const MAX_FAILURES: u32 = 20;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it, the one that failed least recently is forgotten.
pub const MAX_TRACKED_ADDRESSES: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

#[derive(Debug)]
pub struct AuthThrottle {
    windows: Mutex<LruCache<IpAddr, Window>>,
    max_failures: u32,
    window: Duration,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
    /// Whether this window's refusal was logged.
    logged: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Refused {
        retry_after: Duration,
        /// The first refusal of this window, the one to log.
        first: bool,
    },
}

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(MAX_FAILURES, WINDOW, MAX_TRACKED_ADDRESSES)
    }
}

impl AuthThrottle {
    fn new(max_failures: u32, window: Duration, capacity: NonZeroUsize) -> Self {
        AuthThrottle {
            windows: Mutex::new(LruCache::new(capacity)),
            max_failures,
            window,
        }
    }

    fn record_failure(&self, client: IpAddr, now: Instant) -> Verdict {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = || Window {
            started: now,
            failures: 0,
            logged: false,
        };
        let entry = windows.get_or_insert_mut(bucket(client), fresh);
        if now.saturating_duration_since(entry.started) >= self.window {
            *entry = fresh();
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures <= self.max_failures {
            return Verdict::Allowed;
        }
        let elapsed = now.saturating_duration_since(entry.started);
        Verdict::Refused {
            retry_after: self.window.saturating_sub(elapsed),
            first: !std::mem::replace(&mut entry.logged, true),
        }
    }
}

/// The key an address is counted under: itself, or its /64 for IPv6.
fn bucket(client: IpAddr) -> IpAddr {
    match client.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        v4 => v4,
    }
}

/// Wraps the token check: a 401 counts against the client address, and past the limit becomes
/// a 429. Layered outside `require_token`, which stays unaware of it.
pub async fn count_failures(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |client| client.0);
    let response = next.run(request).await;
    if response.status() != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    match state.auth_throttle.record_failure(client, Instant::now()) {
        Verdict::Allowed => Ok(response),
        Verdict::Refused { retry_after, first } => {
            if first {
                tracing::warn!(
                    %client,
                    limit = MAX_FAILURES,
                    window = ?WINDOW,
                    "too many failed API tokens from one address; refusing its failed attempts until the window ends"
                );
            }
            // Whole seconds, rounded up, so a client that waits that long is let in.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            Err(AppError::TooManyFailedTokens {
                retry_after_secs: seconds.max(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn throttle(capacity: usize) -> AuthThrottle {
        AuthThrottle::new(2, MINUTE, NonZeroUsize::new(capacity).unwrap())
    }

    #[test]
    fn past_the_limit_failures_are_refused_until_the_window_ends_and_logged_once() {
        let throttle = throttle(8);
        let start = Instant::now();
        let client = ip("192.0.2.1");
        assert_eq!(throttle.record_failure(client, start), Verdict::Allowed);
        assert_eq!(throttle.record_failure(client, start), Verdict::Allowed);
        let later = start + Duration::from_secs(20);
        assert_eq!(
            throttle.record_failure(client, later),
            Verdict::Refused {
                retry_after: Duration::from_secs(40),
                first: true
            }
        );
        assert_eq!(
            throttle.record_failure(client, later),
            Verdict::Refused {
                retry_after: Duration::from_secs(40),
                first: false
            }
        );
        assert_eq!(
            throttle.record_failure(ip("192.0.2.2"), later),
            Verdict::Allowed
        );
        assert_eq!(
            throttle.record_failure(client, start + MINUTE),
            Verdict::Allowed
        );
    }

    #[test]
    fn the_map_keeps_at_most_its_capacity_forgetting_the_least_recent() {
        let throttle = throttle(2);
        let now = Instant::now();
        for client in ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            throttle.record_failure(ip(client), now);
        }
        let windows = throttle.windows.lock().unwrap();
        assert_eq!(windows.len(), 2);
        assert!(!windows.contains(&ip("192.0.2.1")));
    }

    #[test]
    fn ipv6_addresses_count_per_64_block() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let throttle = throttle(8);
        let now = Instant::now();
        throttle.record_failure(ip("2001:db8:1:2::1"), now);
        throttle.record_failure(ip("2001:db8:1:2::2"), now);
        assert!(matches!(
            throttle.record_failure(ip("2001:db8:1:2::3"), now),
            Verdict::Refused { .. }
        ));
    }
}
