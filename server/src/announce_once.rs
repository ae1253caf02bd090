//! What the escalator and the reminders share: a mark taken in the store, by this server or
//! another replica, is announced to this server's dashboards once. Each check looks back over a
//! short window for marks taken recently and remembers which it announced.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use crate::store::StoreError;

/// How often the store is checked for what fell due.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How far back each check looks for marks to announce. Longer than a check plus a slow commit,
/// so a mark another replica took is seen even when it became visible late.
const RECENT: TimeDelta = TimeDelta::seconds(60);
/// Most marks announced per check (marks taken within `RECENT`).
pub const ANNOUNCE_LIMIT: u32 = 1000;

/// A job that checks the store every [`CHECK_EVERY`] for marks to take and announce.
#[async_trait]
pub trait DueCheck: Send {
    /// What it looks for, for the log: "waiting leads".
    const LOOKS_FOR: &'static str;

    async fn check(&mut self) -> Result<(), StoreError>;
}

/// Runs `job`'s checks until `shutdown`; a failed check is logged and the next one tries again.
pub async fn run_checks<J: DueCheck>(mut job: J, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(CHECK_EVERY) => {}
        }
        if let Err(error) = job.check().await {
            tracing::warn!("cannot check for {}: {error}", J::LOOKS_FOR);
        }
    }
}

/// The marks this server announced, by key, with when each was taken.
pub struct AnnouncedMarks<K> {
    /// Marks taken before this server started are not its dashboards' business.
    started_at: DateTime<Utc>,
    announced: HashMap<K, DateTime<Utc>>,
}

impl<K: Hash + Eq> AnnouncedMarks<K> {
    pub fn new(started_at: DateTime<Utc>) -> AnnouncedMarks<K> {
        AnnouncedMarks {
            started_at,
            announced: HashMap::new(),
        }
    }

    /// Where this check looks for marks from; forgets the marks taken before it.
    pub fn window_start(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let since = (now - RECENT).max(self.started_at);
        self.announced.retain(|_, taken_at| *taken_at > since);
        since
    }

    /// Whether the mark `key`, taken at `taken_at`, is news here; it is not the next time.
    pub fn first_time(&mut self, key: K, taken_at: DateTime<Utc>) -> bool {
        self.announced.insert(key, taken_at).is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_news_once_and_old_marks_are_forgotten() {
        let start = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(1);
        let mut marks = AnnouncedMarks::new(start);
        assert_eq!(marks.window_start(start + TimeDelta::seconds(5)), start);
        assert!(marks.first_time(7, start + TimeDelta::seconds(1)));
        assert!(!marks.first_time(7, start + TimeDelta::seconds(1)));
        let later = start + TimeDelta::seconds(120);
        assert_eq!(marks.window_start(later), later - RECENT);
        assert!(
            marks.first_time(7, later),
            "forgotten once out of the window"
        );
    }
}
