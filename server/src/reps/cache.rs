//! The server's table of who may call `/api`: the reps of `LEADHOOK_API_TOKENS` and the reps in
//! the store, by the SHA-256 of their tokens. Refreshed from the store every [`REFRESH_EVERY`], so
//! a rep added, rotated, given another role or removed on any replica counts everywhere within a
//! few seconds; the team's rep list (routing, `/api/reps`) follows the same table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use leadhook_shared::Assignment;
use secrecy::ExposeSecret;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::token;
use crate::api::Caller;
use crate::config::ApiToken;
use crate::store::{RepDirectory, StoredRep};
use crate::team::{Team, TeamView};

/// How often the table is read again from the store.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// Configured tokens shorter than this get a warning at start (the minimum is 8).
const STRONG_TOKEN_CHARS: usize = 32;
/// A rep's `last_used_at` is written at most this often by one server.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Cheap to clone; every clone sees the same table.
#[derive(Clone)]
pub struct RepCache {
    inner: Arc<Inner>,
}

struct Inner {
    configured: Vec<ApiToken>,
    store: Arc<dyn RepDirectory>,
    assignment: Assignment,
    table: RwLock<Arc<Table>>,
    team: watch::Sender<Arc<Team>>,
    /// When this server last decided to write each rep's `last_used_at`.
    touched: Mutex<HashMap<String, Instant>>,
    /// Uses to write at the next refresh: rep and when.
    pending_touches: Mutex<Vec<(String, DateTime<Utc>)>>,
    /// Whether the last refresh failed, so a store outage is logged once, not every 2 s.
    failing: AtomicBool,
}

/// A token's hash and whom it lets in.
#[derive(Default)]
struct Table {
    by_hash: HashMap<String, Entry>,
}

struct Entry {
    caller: Caller,
    /// A rotated-away token's end of grace.
    valid_until: Option<DateTime<Utc>>,
    /// From the store (its use is recorded), not from `LEADHOOK_API_TOKENS`.
    stored: bool,
}

impl Table {
    fn build(configured: &[ApiToken], stored: &[StoredRep]) -> Table {
        let mut by_hash = HashMap::new();
        for entry in configured {
            let caller = Caller {
                name: entry.name.clone(),
                role: entry.role,
            };
            by_hash.insert(
                token::hash(secrecy::ExposeSecret::expose_secret(&entry.token)),
                Entry {
                    caller,
                    valid_until: None,
                    stored: false,
                },
            );
        }
        for rep in stored {
            let caller = Caller {
                name: rep.name.clone(),
                role: rep.role,
            };
            if let (Some(hash), Some(until)) = (&rep.previous_token_hash, rep.previous_valid_until)
            {
                by_hash.entry(hash.clone()).or_insert(Entry {
                    caller: caller.clone(),
                    valid_until: Some(until),
                    stored: true,
                });
            }
            by_hash.entry(rep.token_hash.clone()).or_insert(Entry {
                caller,
                valid_until: None,
                stored: true,
            });
        }
        Table { by_hash }
    }
}

/// The configured reps in their order, then the store's, each name once.
fn team(assignment: Assignment, configured: &[ApiToken], stored: &[StoredRep]) -> Team {
    let mut reps: Vec<String> = Vec::new();
    for name in configured
        .iter()
        .map(|entry| &entry.name)
        .chain(stored.iter().map(|rep| &rep.name))
    {
        if !reps.contains(name) {
            reps.push(name.clone());
        }
    }
    Team { assignment, reps }
}

impl RepCache {
    /// The table with the configured reps only; [`Self::refresh`] adds the store's.
    pub fn new(
        configured: Vec<ApiToken>,
        assignment: Assignment,
        store: Arc<dyn RepDirectory>,
    ) -> RepCache {
        let older: Vec<&str> = configured
            .iter()
            .filter(|entry| !entry.role_given)
            .map(|entry| entry.name.as_str())
            .collect();
        if !older.is_empty() {
            tracing::warn!(
                reps = %older.join(", "),
                "LEADHOOK_API_TOKENS entries of the form name:token give admin power; move each rep to \
                 `leadhook-server reps add NAME --role rep|manager|admin` (or write name:role:token)"
            );
        }
        let short: Vec<&str> = configured
            .iter()
            .filter(|entry| entry.token.expose_secret().chars().count() < STRONG_TOKEN_CHARS)
            .map(|entry| entry.name.as_str())
            .collect();
        if !short.is_empty() {
            tracing::warn!(
                reps = %short.join(", "),
                "LEADHOOK_API_TOKENS tokens shorter than {STRONG_TOKEN_CHARS} characters can be \
                 guessed; give these reps tokens from `leadhook-server reps add` (32 random bytes)"
            );
        }
        let (team, _) = watch::channel(Arc::new(team(assignment, &configured, &[])));
        RepCache {
            inner: Arc::new(Inner {
                table: RwLock::new(Arc::new(Table::build(&configured, &[]))),
                configured,
                store,
                assignment,
                team,
                touched: Mutex::default(),
                pending_touches: Mutex::default(),
                failing: AtomicBool::new(false),
            }),
        }
    }

    /// Who `presented` lets in, if anyone.
    pub fn authenticate(&self, presented: &str) -> Option<Caller> {
        let hash = token::hash(presented);
        let table = self.current_table();
        let entry = table.by_hash.get(&hash)?;
        let now = Utc::now();
        if entry.valid_until.is_some_and(|until| now >= until) {
            return None;
        }
        if entry.stored {
            self.note_use(&entry.caller.name, now);
        }
        Some(entry.caller.clone())
    }

    /// The rep named `name` with their role, if they may call the API now (a claim link from a
    /// phone acts as them; a removed rep's links stop working).
    pub fn caller(&self, name: &str) -> Option<Caller> {
        let table = self.current_table();
        let now = Utc::now();
        table
            .by_hash
            .values()
            .find(|entry| {
                entry.caller.name == name && entry.valid_until.is_none_or(|until| now < until)
            })
            .map(|entry| entry.caller.clone())
    }

    /// The team as it is now, following every refresh.
    pub fn team(&self) -> TeamView {
        self.inner.team.subscribe()
    }

    /// Reads the reps again from the store, after writing the uses noted since the last time.
    /// When the store cannot be read, the last table stays.
    pub async fn refresh(&self) {
        let touches = std::mem::take(&mut *lock(&self.inner.pending_touches));
        for (name, at) in touches {
            if let Err(error) = self.inner.store.touch_rep(&name, at).await {
                tracing::debug!(rep = %name, %error, "cannot record the rep's last use");
            }
        }
        match self.inner.store.list_reps().await {
            Ok(stored) => {
                let table = Table::build(&self.inner.configured, &stored);
                *self.inner.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
                let now = team(self.inner.assignment, &self.inner.configured, &stored);
                self.inner.team.send_if_modified(|team| {
                    let changed = **team != now;
                    if changed {
                        *team = Arc::new(now);
                    }
                    changed
                });
                if self.inner.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("the reps are read from the store again");
                }
            }
            Err(error) => {
                if !self.inner.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        %error,
                        "cannot read the reps from the store; the last known reps and tokens stay valid until it answers"
                    );
                }
            }
        }
    }

    /// How many tokens let someone in now (configured and stored, rotated-away ones included).
    pub fn tokens(&self) -> usize {
        self.current_table().by_hash.len()
    }

    /// Refreshes every [`REFRESH_EVERY`] until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(REFRESH_EVERY) => self.refresh().await,
            }
        }
    }

    fn current_table(&self) -> Arc<Table> {
        Arc::clone(&self.inner.table.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Schedules writing the rep's last use, at most once per [`TOUCH_EVERY`].
    fn note_use(&self, name: &str, at: DateTime<Utc>) {
        let mut touched = lock(&self.inner.touched);
        let due = touched
            .get(name)
            .is_none_or(|last| last.elapsed() >= TOUCH_EVERY);
        if due {
            touched.insert(name.to_string(), Instant::now());
            lock(&self.inner.pending_touches).push((name.to_string(), at));
        }
    }
}

/// A poisoned lock still holds usable data: the table is replaced whole, never half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use leadhook_shared::Role;

    use super::*;
    use crate::store::{Rotation, StoreError};

    /// One stored rep, `ann` with token `ann-token`; reads fail while `down`.
    #[derive(Default)]
    struct Directory {
        down: AtomicBool,
        touches: AtomicUsize,
    }

    #[async_trait]
    impl RepDirectory for Directory {
        async fn list_reps(&self) -> Result<Vec<StoredRep>, StoreError> {
            if self.down.load(Ordering::Relaxed) {
                return Err(StoreError::Unavailable("down".into()));
            }
            Ok(vec![StoredRep {
                name: "ann".into(),
                role: Role::Manager,
                token_hash: token::hash("ann-token"),
                previous_token_hash: None,
                previous_valid_until: None,
                created_at: Utc::now(),
                last_used_at: None,
            }])
        }
        async fn add_rep(
            &self,
            _: &str,
            _: Role,
            _: &str,
            _: DateTime<Utc>,
        ) -> Result<bool, StoreError> {
            unreachable!("the cache never adds reps")
        }
        async fn rotate_rep(&self, _: &str, _: Rotation<'_>) -> Result<bool, StoreError> {
            unreachable!("the cache never rotates")
        }
        async fn set_rep_role(&self, _: &str, _: Role) -> Result<bool, StoreError> {
            unreachable!("the cache never changes roles")
        }
        async fn remove_rep(&self, _: &str, _: &str) -> Result<Option<u64>, StoreError> {
            unreachable!("the cache never removes reps")
        }
        async fn touch_rep(&self, name: &str, _: DateTime<Utc>) -> Result<(), StoreError> {
            assert_eq!(name, "ann");
            self.touches.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }

    fn configured() -> Vec<ApiToken> {
        vec![ApiToken {
            name: "bob".into(),
            role: Role::Rep,
            token: "bob-token".to_string().into(),
            role_given: true,
        }]
    }

    #[tokio::test]
    async fn store_reps_join_the_configured_ones_and_stay_while_the_store_is_down() {
        let directory = Arc::new(Directory::default());
        let cache = RepCache::new(configured(), Assignment::Claim, directory.clone());
        let team = cache.team();
        assert_eq!(cache.authenticate("ann-token"), None, "not read yet");
        cache.refresh().await;
        assert_eq!(
            cache.authenticate("ann-token"),
            Some(Caller {
                name: "ann".into(),
                role: Role::Manager
            })
        );
        assert_eq!(
            cache.authenticate("bob-token").map(|c| c.role),
            Some(Role::Rep)
        );
        assert_eq!(team.borrow().reps, ["bob", "ann"]);
        directory.down.store(true, Ordering::Relaxed);
        cache.refresh().await;
        assert!(
            cache.authenticate("ann-token").is_some(),
            "the last good table stays"
        );
        assert_eq!(cache.authenticate("nobody"), None);
    }

    #[tokio::test]
    async fn a_reps_use_is_written_once_a_minute_at_most() {
        let directory = Arc::new(Directory::default());
        let cache = RepCache::new(configured(), Assignment::Claim, directory.clone());
        cache.refresh().await;
        for _ in 0..3 {
            cache.authenticate("ann-token").unwrap();
            cache.authenticate("bob-token").unwrap();
            cache.refresh().await;
        }
        assert_eq!(directory.touches.load(Ordering::Relaxed), 1);
    }
}
