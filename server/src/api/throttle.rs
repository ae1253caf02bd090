//! Guessing bearer tokens, throttled per client address ([`ClientAddr`]): once an address has
//! failed with [`MAX_GUESSES`] different tokens in a [`WINDOW`], every `/api` request from it is
//! answered 429 with `Retry-After` until the window ends, before its token is looked at, so a
//! right guess is refused like a wrong one and guessing stops. The refusal is logged once per
//! window. Only *different* failed tokens count: a client repeating one wrong token (a dashboard
//! left with an old one) is not guessing, and does not lock out the colleagues behind the same
//! office address. A request from an address that is not refused costs one map lookup; valid
//! tokens are never delayed.
//!
//! A fixed window per address in an LRU map of at most [`MAX_TRACKED_ADDRESSES`], each holding at
//! most [`MAX_GUESSES`] fingerprints (keyed hashes, never the tokens), so no one can grow it from
//! outside; IPv6 addresses count per /64, the block one subscriber usually holds. (`governor`'s
//! keyed limiter was the alternative, but its map has no size bound and counts requests, not
//! distinct guesses.)

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use lru::LruCache;

use super::auth::presented_token;
use crate::app::AppState;
use crate::client_addr::ClientAddr;
use crate::error::AppError;

/// Different wrong tokens an address may try per window; then it is refused.
pub const MAX_GUESSES: usize = 20;
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it, the one that failed least recently is forgotten.
pub const MAX_TRACKED_ADDRESSES: NonZeroUsize = NonZeroUsize::new(10_000).expect("non-zero");

#[derive(Debug)]
pub struct AuthThrottle {
    windows: Mutex<LruCache<IpAddr, Window>>,
    max_guesses: usize,
    window: Duration,
    /// Keys the fingerprints of failed tokens, anew in every process.
    fingerprints: RandomState,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    /// Fingerprints of the different tokens that failed in this window.
    guesses: HashSet<u64>,
    /// Whether this window's refusal was logged.
    logged: bool,
}

/// An address refused until its window ends.
#[derive(Debug, PartialEq, Eq)]
struct Refusal {
    retry_after: Duration,
    /// The first refusal of this window, the one to log.
    first: bool,
}

impl Default for AuthThrottle {
    fn default() -> Self {
        AuthThrottle::new(MAX_GUESSES, WINDOW, MAX_TRACKED_ADDRESSES)
    }
}

impl AuthThrottle {
    fn new(max_guesses: usize, window: Duration, capacity: NonZeroUsize) -> Self {
        AuthThrottle {
            windows: Mutex::new(LruCache::new(capacity)),
            max_guesses,
            window,
            fingerprints: RandomState::new(),
        }
    }

    /// Whether `client` has used up its guesses for the current window.
    fn refusal(&self, client: IpAddr, now: Instant) -> Option<Refusal> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = windows.get_mut(&bucket(client))?;
        let elapsed = now.saturating_duration_since(entry.started);
        if elapsed >= self.window || entry.guesses.len() < self.max_guesses {
            return None;
        }
        Some(Refusal {
            retry_after: self.window - elapsed,
            first: !std::mem::replace(&mut entry.logged, true),
        })
    }

    /// Counts `token` (`None`: no token at all) as a failed guess of `client`.
    fn record_failure(&self, client: IpAddr, token: Option<&str>, now: Instant) {
        let guess = self.fingerprints.hash_one(token.unwrap_or_default());
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = || Window {
            started: now,
            guesses: HashSet::new(),
            logged: false,
        };
        let entry = windows.get_or_insert_mut(bucket(client), fresh);
        if now.saturating_duration_since(entry.started) >= self.window {
            *entry = fresh();
        }
        if entry.guesses.len() < self.max_guesses {
            entry.guesses.insert(guess);
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

/// Wraps the token check: an address out of guesses is refused before it; a 401 counts its
/// token as a guess. Layered outside `require_token`, which stays unaware of it.
pub async fn count_failures(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, AppError> {
    let client = request
        .extensions()
        .get::<ClientAddr>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |client| client.0);
    let now = Instant::now();
    if let Some(Refusal { retry_after, first }) = state.auth_throttle.refusal(client, now) {
        if first {
            tracing::warn!(
                %client,
                limit = MAX_GUESSES,
                window = ?WINDOW,
                "too many different failed API tokens from one address; refusing it until the window ends"
            );
        }
        // Whole seconds, rounded up, so a client that waits that long is let in.
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        return Err(AppError::TooManyFailedTokens {
            retry_after_secs: seconds.max(1),
        });
    }
    let token = presented_token(request.headers()).map(str::to_string);
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        state
            .auth_throttle
            .record_failure(client, token.as_deref(), now);
    }
    Ok(response)
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
    fn different_guesses_past_the_limit_refuse_the_address_until_the_window_ends_logged_once() {
        let throttle = throttle(8);
        let start = Instant::now();
        let client = ip("192.0.2.1");
        throttle.record_failure(client, Some("one"), start);
        assert_eq!(throttle.refusal(client, start), None);
        throttle.record_failure(client, Some("two"), start);
        let later = start + Duration::from_secs(20);
        assert_eq!(
            throttle.refusal(client, later),
            Some(Refusal {
                retry_after: Duration::from_secs(40),
                first: true
            })
        );
        assert_eq!(
            throttle.refusal(client, later),
            Some(Refusal {
                retry_after: Duration::from_secs(40),
                first: false
            })
        );
        assert_eq!(throttle.refusal(ip("192.0.2.2"), later), None);
        assert_eq!(throttle.refusal(client, start + MINUTE), None);
    }

    #[test]
    fn one_wrong_token_repeated_is_one_guess() {
        let throttle = throttle(8);
        let now = Instant::now();
        let client = ip("192.0.2.1");
        for _ in 0..10 {
            throttle.record_failure(client, Some("old-token"), now);
        }
        assert_eq!(throttle.refusal(client, now), None);
        // No token at all is a guess of its own.
        throttle.record_failure(client, None, now);
        assert!(throttle.refusal(client, now).is_some());
    }

    #[test]
    fn the_map_keeps_at_most_its_capacity_forgetting_the_least_recent() {
        let throttle = throttle(2);
        let now = Instant::now();
        for client in ["192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"] {
            throttle.record_failure(ip(client), Some(client), now);
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
        throttle.record_failure(ip("2001:db8:1:2::1"), Some("a"), now);
        throttle.record_failure(ip("2001:db8:1:2::2"), Some("b"), now);
        assert!(throttle.refusal(ip("2001:db8:1:2::3"), now).is_some());
    }
}
