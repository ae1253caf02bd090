//! The durable inbox: every leadgen event Meta hands us is committed here (SQLite, WAL,
//! synchronous=FULL) before the webhook answers 200, and stays until its lead is in the store.
//!
//! One thread owns the database. Requests that arrive while it is busy (webhooks' enqueues, the
//! worker's claims and outcomes) are committed together in one transaction (group commit), so a
//! burst costs one disk sync, not one each.

mod database;
mod schema;

use std::path::Path;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::LeadgenEvent;
use rusqlite::Connection;
use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};

use database::Database;
use schema::EventState;

#[derive(Debug, Error)]
pub enum InboxError {
    #[error("cannot open the inbox at {path}: {reason}; check that LEADHOOK_DATA_DIR is writable")]
    Open { path: String, reason: String },
    #[error("inbox database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("inbox commit failed: {0}")]
    Commit(String),
    #[error("the inbox writer has stopped")]
    Closed,
    #[error(
        "the inbox was written by a newer leadhook (layout {found}, this one knows {known}); run the newer version or move inbox.db aside"
    )]
    NewerLayout { found: i64, known: i64 },
}

/// An event waiting for (or being given) its lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    pub id: i64,
    pub event: LeadgenEvent,
    pub received_at: DateTime<Utc>,
    /// Failed attempts so far.
    pub attempts: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct InboxCounts {
    /// Events still waiting for their lead, those being worked on included.
    pub pending: u64,
    pub failed: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// A failed event and why, for the health report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FailedEvent {
    pub leadgen_id: String,
    pub reason: String,
    pub attempts: u32,
}

/// What became of a claimed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The lead is in the store: the event is done.
    Done(i64),
    /// Try again at `at`, remembering why this attempt failed.
    RetryAt {
        id: i64,
        at: DateTime<Utc>,
        reason: String,
    },
    /// Keep the event, but stop trying until someone asks for a retry.
    Failed { id: i64, reason: String },
}

type Reply<T> = oneshot::Sender<Result<T, InboxError>>;

enum Command {
    Enqueue(Vec<LeadgenEvent>, Reply<usize>),
    Claim(usize, Reply<Vec<PendingEvent>>),
    Settle(Vec<Settlement>, Reply<()>),
    RetryFailed(Reply<usize>),
    Counts(Reply<InboxCounts>),
    Failures(usize, Reply<Vec<FailedEvent>>),
    NextDue(Reply<Option<DateTime<Utc>>>),
}

/// Handle to the inbox; cheap to clone.
#[derive(Clone)]
pub struct Inbox {
    commands: mpsc::UnboundedSender<Command>,
    arrivals: std::sync::Arc<Notify>,
}

impl Inbox {
    pub fn open(path: &Path) -> Result<Inbox, InboxError> {
        let open_error = |reason: String| InboxError::Open {
            path: path.display().to_string(),
            reason,
        };
        crate::private_files::prepare_private_database(path)
            .map_err(|e| open_error(e.to_string()))?;
        let mut conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::prepare(&mut conn)?;
        let (commands, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || Database { conn }.run(receiver))
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Inbox {
            commands,
            arrivals: std::sync::Arc::new(Notify::new()),
        })
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .map_err(|_| InboxError::Closed)?;
        answer.await.map_err(|_| InboxError::Closed)?
    }

    /// Commits the events durably; returns how many were new (re-deliveries are recognised by `leadgen_id`).
    pub async fn enqueue(&self, events: Vec<LeadgenEvent>) -> Result<usize, InboxError> {
        if events.is_empty() {
            return Ok(0);
        }
        let added = self.ask(|reply| Command::Enqueue(events, reply)).await?;
        if added > 0 {
            self.arrivals.notify_one();
        }
        Ok(added)
    }

    /// Resolves when new events were enqueued since the last call.
    pub async fn arrivals(&self) {
        self.arrivals.notified().await
    }

    /// Takes up to `limit` due events, leasing them so they are not handed out twice: live
    /// events (never tried) newest first, and at least a quarter of `limit` from the backlog,
    /// oldest first.
    pub async fn claim(&self, limit: usize) -> Result<Vec<PendingEvent>, InboxError> {
        self.ask(|reply| Command::Claim(limit, reply)).await
    }

    /// Records what became of claimed events, all in one commit.
    pub async fn settle(&self, settlements: Vec<Settlement>) -> Result<(), InboxError> {
        if settlements.is_empty() {
            return Ok(());
        }
        self.ask(|reply| Command::Settle(settlements, reply)).await
    }

    /// Makes every failed event due again (in the backlog lane); returns how many.
    pub async fn retry_failed(&self) -> Result<usize, InboxError> {
        let count = self.ask(Command::RetryFailed).await?;
        if count > 0 {
            self.arrivals.notify_one();
        }
        Ok(count)
    }

    pub async fn counts(&self) -> Result<InboxCounts, InboxError> {
        self.ask(Command::Counts).await
    }

    /// The most recent failures, newest first.
    pub async fn failures(&self, limit: usize) -> Result<Vec<FailedEvent>, InboxError> {
        self.ask(|reply| Command::Failures(limit, reply)).await
    }

    /// When the next pending event becomes due, if any.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, InboxError> {
        self.ask(Command::NextDue).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leadgen ids of the events the next claim hands out.
    pub(super) async fn claim_ids(inbox: &Inbox) -> Vec<String> {
        let claimed = inbox.claim(10).await.unwrap();
        claimed.into_iter().map(|p| p.event.leadgen_id).collect()
    }

    pub(super) async fn next_due_micros(inbox: &Inbox) -> Option<i64> {
        inbox
            .next_due()
            .await
            .unwrap()
            .map(|t| t.timestamp_micros())
    }

    fn retry(id: i64, at: DateTime<Utc>) -> Settlement {
        Settlement::RetryAt {
            id,
            at,
            reason: "graph timeout".into(),
        }
    }

    pub(super) fn event(id: &str) -> LeadgenEvent {
        LeadgenEvent {
            leadgen_id: id.into(),
            page_id: Some("p".into()),
            form_id: Some("f".into()),
            ad_id: None,
            adgroup_id: None,
            created_time: Some(1_700_000_000),
        }
    }

    #[tokio::test]
    async fn events_survive_reopening_and_duplicates_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        {
            let inbox = Inbox::open(&path).unwrap();
            assert_eq!(
                inbox
                    .enqueue(vec![event("1"), event("2"), event("1")])
                    .await
                    .unwrap(),
                2
            );
            assert_eq!(inbox.enqueue(vec![event("2")]).await.unwrap(), 0);
            let claimed = inbox.claim(10).await.unwrap();
            assert_eq!(claimed.len(), 2);
            assert!(
                inbox.claim(10).await.unwrap().is_empty(),
                "claimed events are leased"
            );
        }
        let inbox = Inbox::open(&path).unwrap();
        let claimed = inbox.claim(10).await.unwrap();
        let ids: Vec<_> = claimed
            .iter()
            .map(|p| p.event.leadgen_id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["2", "1"],
            "a restart makes leased events due again (live ones newest first)"
        );
        assert_eq!(claimed[1].event, event("1"));
    }

    #[tokio::test]
    async fn a_restart_ends_claims_but_keeps_retry_backoffs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        let later = Utc::now() + chrono::Duration::seconds(120);
        {
            let inbox = Inbox::open(&path).unwrap();
            inbox
                .enqueue(vec![event("backing-off"), event("in-flight")])
                .await
                .unwrap();
            let claimed = inbox.claim(10).await.unwrap();
            let backing_off = claimed
                .iter()
                .find(|p| p.event.leadgen_id == "backing-off")
                .unwrap();
            inbox
                .settle(vec![retry(backing_off.id, later)])
                .await
                .unwrap();
        }
        let inbox = Inbox::open(&path).unwrap();
        assert_eq!(
            claim_ids(&inbox).await,
            ["in-flight"],
            "only the claim of the last run ended"
        );
        assert_eq!(inbox.counts().await.unwrap().pending, 2);
        assert_eq!(
            next_due_micros(&inbox).await,
            Some(later.timestamp_micros()),
            "the backoff survived the restart (and ends before the new claim's lease)"
        );
    }

    #[tokio::test]
    async fn a_claim_whose_outcome_was_never_recorded_is_due_once_its_lease_ends() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        inbox.enqueue(vec![event("x")]).await.unwrap();
        let claimed = inbox.claim(10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let due = inbox.next_due().await.unwrap().expect("the lease end");
        let lease = due - Utc::now();
        assert!(
            lease > chrono::Duration::seconds(290) && lease <= chrono::Duration::seconds(300),
            "{lease}"
        );
    }

    #[tokio::test]
    async fn lifecycle_complete_retry_fail() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        inbox
            .enqueue(vec![event("a"), event("b"), event("c")])
            .await
            .unwrap();
        let claimed = inbox.claim(10).await.unwrap();
        let id = |leadgen_id: &str| {
            claimed
                .iter()
                .find(|p| p.event.leadgen_id == leadgen_id)
                .unwrap()
                .id
        };
        let later = Utc::now() + chrono::Duration::seconds(60);
        inbox
            .settle(vec![
                Settlement::Done(id("a")),
                retry(id("b"), later),
                Settlement::Failed {
                    id: id("c"),
                    reason: "token invalid".into(),
                },
            ])
            .await
            .unwrap();

        let counts = inbox.counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (1, 1));
        assert!(counts.oldest_pending_at.is_some());
        assert_eq!(
            inbox.next_due().await.unwrap().map(|t| t.timestamp()),
            Some(later.timestamp())
        );
        assert!(inbox.claim(10).await.unwrap().is_empty(), "not due yet");
        let failures = inbox.failures(10).await.unwrap();
        assert_eq!(failures[0].leadgen_id, "c");
        assert_eq!(failures[0].reason, "token invalid");

        assert_eq!(inbox.retry_failed().await.unwrap(), 1);
        let again = inbox.claim(10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event.leadgen_id, "c");
        assert_eq!(
            inbox.enqueue(vec![event("a")]).await.unwrap(),
            0,
            "done events still dedupe"
        );
    }

    async fn claim_of(inbox: &Inbox, limit: usize) -> Vec<String> {
        let claimed = inbox.claim(limit).await.unwrap();
        claimed.into_iter().map(|p| p.event.leadgen_id).collect()
    }

    #[tokio::test]
    async fn a_live_event_goes_before_the_backlog_which_keeps_a_share() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        let backlog = (0..100).map(|i| event(&format!("old-{i:03}"))).collect();
        inbox.enqueue(backlog).await.unwrap();
        inbox.enqueue(vec![event("live")]).await.unwrap();
        let claimed = claim_of(&inbox, 8).await;
        assert_eq!(claimed.len(), 8);
        assert_eq!(
            claimed[0], "live",
            "the newest event goes first: {claimed:?}"
        );
        assert!(
            claimed[6..] == ["old-000", "old-001"],
            "a quarter of the claim goes to the oldest: {claimed:?}"
        );
    }

    #[tokio::test]
    async fn retries_wait_behind_live_events_but_are_not_starved() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        inbox
            .enqueue((0..4).map(|i| event(&format!("retry-{i}"))).collect())
            .await
            .unwrap();
        let due_again = Utc::now() - chrono::Duration::seconds(1);
        let retries = inbox.claim(4).await.unwrap();
        inbox
            .settle(retries.iter().map(|p| retry(p.id, due_again)).collect())
            .await
            .unwrap();
        inbox
            .enqueue((0..40).map(|i| event(&format!("live-{i:02}"))).collect())
            .await
            .unwrap();

        let first = claim_of(&inbox, 8).await;
        assert_eq!(
            first[..6],
            [
                "live-39", "live-38", "live-37", "live-36", "live-35", "live-34"
            ],
            "live events, newest first"
        );
        assert_eq!(first[6..], ["retry-0", "retry-1"], "and the oldest retries");
        let second = claim_of(&inbox, 8).await;
        assert_eq!(second[6..], ["retry-2", "retry-3"], "{second:?}");
        let rest = claim_of(&inbox, 100).await;
        assert_eq!(
            rest.len(),
            40 - 12,
            "everything is handed out once: {rest:?}"
        );
    }

    #[tokio::test]
    async fn retried_failures_join_the_backlog_not_the_live_lane() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        inbox.enqueue(vec![event("failed")]).await.unwrap();
        let claimed = inbox.claim(1).await.unwrap();
        inbox
            .settle(vec![Settlement::Failed {
                id: claimed[0].id,
                reason: "token invalid".into(),
            }])
            .await
            .unwrap();
        inbox
            .enqueue((0..8).map(|i| event(&format!("live-{i}"))).collect())
            .await
            .unwrap();
        assert_eq!(inbox.retry_failed().await.unwrap(), 1);
        let claimed = claim_of(&inbox, 4).await;
        assert_eq!(claimed, ["live-7", "live-6", "live-5", "failed"]);
    }

    #[tokio::test]
    async fn concurrent_enqueues_are_all_committed() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("inbox.db")).unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let inbox = inbox.clone();
                tokio::spawn(async move { inbox.enqueue(vec![event(&i.to_string())]).await })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), 1);
        }
        assert_eq!(inbox.counts().await.unwrap().pending, 200);
    }
}
