//! The live feed behind `/api/events`: every lead change, once and in cursor order, and the
//! escalations raised while a dashboard listens.
//!
//! - [`ChangeAnnouncer`]: where [`crate::writer::LeadWriter`], which owns the only one, announces
//!   the changes it made. On SQLite this server is the store's only writer, so each change goes
//!   to listeners at once. On Supabase other replicas, Studio, SQL or a CRM change leads too;
//!   there the announcer only wakes the [`ChangeFollower`] (in [`follower`]), which reads every
//!   change after its cursor from the store, its own writes with the rest, and announces them in
//!   cursor order: each change is announced once, and never after a later one.
//! - [`LiveFeed`]: what listeners subscribe to, and where the escalator, the reminders and the
//!   replies announce their [`Alert`]s (live only: a dashboard that was away lists what is overdue
//!   itself).
//! - [`ChangeListener`] (in [`listen`]): with `DATABASE_URL`, the PostgreSQL session on which
//!   the store pushes each change's cursor, so the follower reads when something changed instead
//!   of polling; [`PushStatus`] says in `/api/health` which of the two it does and why.
//! - [`stream`]: one listener's Server-Sent Events, replayed from the store after the cursor it
//!   resumes from, then live.

mod follower;
pub mod listen;
mod listen_tls;
pub mod stream;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::{Cursor, Escalation, Lead, Reminder, Reply};
use tokio::sync::{Notify, broadcast, watch};

pub use follower::ChangeFollower;
pub use listen::{ChangeListener, PushStatus};

use crate::config::DatabaseConfig;
use crate::store::{LeadPage, LeadQuery, LeadReader, MAX_PAGE, StoreError};

/// Changes a slow listener may fall behind by before it resumes from its cursor in the store.
pub const FEED_CAPACITY: usize = 1024;

/// The feed of one server, as [`Feed::for_store`] builds it.
pub struct Feed {
    pub live: LiveFeed,
    pub announcer: ChangeAnnouncer,
    /// Present when the store is shared: it must run for anything to be announced.
    pub follower: Option<ChangeFollower>,
    /// Present with a shared store and `DATABASE_URL`: it must run for the store to push.
    pub listener: Option<ChangeListener>,
    /// How changes made elsewhere reach this server, for `/api/health`.
    pub push: watch::Receiver<PushStatus>,
}

impl Feed {
    /// The feed for `store`. When the store is shared, the follower listens on `database` if
    /// given, and reads every `interval` while it does not.
    pub fn for_store(
        store: Arc<dyn LeadReader>,
        interval: Duration,
        database: Option<DatabaseConfig>,
    ) -> Feed {
        let changes = broadcast::channel(FEED_CAPACITY).0;
        let live = LiveFeed {
            changes: changes.clone(),
            alerts: broadcast::channel(FEED_CAPACITY).0,
        };
        if !store.is_shared() {
            return Feed {
                live,
                announcer: ChangeAnnouncer {
                    changes,
                    follower: None,
                },
                follower: None,
                listener: None,
                push: watch::channel(PushStatus::Local).1,
            };
        }
        let (listener, pushed, push) = match database {
            Some(database) => {
                let (listener, pushed) = ChangeListener::new(database, interval);
                let push = pushed.status.clone();
                (Some(listener), Some(pushed), push)
            }
            None => {
                let polling = PushStatus::Polling {
                    interval_ms: u64::try_from(interval.as_millis()).unwrap_or(u64::MAX),
                    reason: "DATABASE_URL is not set".to_string(),
                };
                (None, None, watch::channel(polling).1)
            }
        };
        let wake = Arc::new(Notify::new());
        Feed {
            live,
            announcer: ChangeAnnouncer {
                changes: changes.clone(),
                follower: Some(Arc::clone(&wake)),
            },
            follower: Some(ChangeFollower::new(store, changes, wake, interval, pushed)),
            listener,
            push,
        }
    }
}

/// Something a rep may have to act on now, announced once per server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    Escalation(Escalation),
    Reminder(Reminder),
    /// The person wrote back ([`crate::replies`]).
    Reply(Reply),
}

impl Alert {
    /// Who owns the lead it is about.
    pub fn owner(&self) -> Option<&str> {
        match self {
            Alert::Escalation(escalation) => escalation.owner.as_deref(),
            Alert::Reminder(reminder) => reminder.owner.as_deref(),
            Alert::Reply(reply) => reply.owner.as_deref(),
        }
    }
}

/// What listeners subscribe to; cheap to clone.
#[derive(Clone)]
pub struct LiveFeed {
    changes: broadcast::Sender<Lead>,
    alerts: broadcast::Sender<Alert>,
}

impl LiveFeed {
    /// Every lead change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Lead> {
        self.changes.subscribe()
    }

    /// Every escalation and reminder from now on.
    pub fn subscribe_alerts(&self) -> broadcast::Receiver<Alert> {
        self.alerts.subscribe()
    }

    /// Tells this server's listeners that `lead` has waited past `threshold`.
    pub fn announce_escalation(&self, lead: &Lead, threshold: Duration, now: DateTime<Utc>) {
        let waiting_secs = u64::try_from((now - lead.meta.created_at).num_seconds()).unwrap_or(0);
        // No listeners is fine.
        let _ = self.alerts.send(Alert::Escalation(Escalation {
            lead_id: lead.id,
            name: lead.display_name(),
            form_name: lead.meta.form_name.clone(),
            owner: lead.owner.clone(),
            threshold_secs: threshold.as_secs(),
            waiting_secs,
        }));
    }

    /// Tells this server's listeners that a person wrote back.
    pub fn announce_reply(&self, reply: Reply) {
        // No listeners is fine.
        let _ = self.alerts.send(Alert::Reply(reply));
    }

    /// Tells this server's listeners that a lead's next step fell due.
    pub fn announce_reminder(&self, reminder: Reminder) {
        // No listeners is fine.
        let _ = self.alerts.send(Alert::Reminder(reminder));
    }
}

/// Where this server's own changes are announced; there is one, and the writer holds it.
pub struct ChangeAnnouncer {
    changes: broadcast::Sender<Lead>,
    /// Set when a follower announces changes: writes then wake it instead.
    follower: Option<Arc<Notify>>,
}

impl ChangeAnnouncer {
    /// Announces a change this server made.
    pub fn announce(&self, lead: &Lead) {
        match &self.follower {
            Some(wake) => wake.notify_one(),
            // No listeners is fine.
            None => {
                let _ = self.changes.send(lead.clone());
            }
        }
    }
}

/// The cursor of the newest change in the store: where a listener that wants only what comes
/// next starts.
async fn newest_change(store: &dyn LeadReader) -> Result<Cursor, StoreError> {
    let query = LeadQuery {
        limit: 1,
        ..LeadQuery::default()
    };
    Ok(store.list(&query).await?.cursor)
}

/// The next page of changes after `cursor`, oldest first.
async fn changes_after(store: &dyn LeadReader, cursor: Cursor) -> Result<LeadPage, StoreError> {
    store
        .list(&LeadQuery {
            limit: MAX_PAGE,
            since: Some(cursor),
            ..LeadQuery::default()
        })
        .await
}
