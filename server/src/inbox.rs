//! The durable inbox: every leadgen event Meta hands us is committed here (SQLite, WAL,
//! synchronous=FULL) before the webhook answers 200, and stays until its lead is in the store.
//!
//! One thread owns the database. Enqueue requests that arrive while it is busy are committed
//! together in one transaction (group commit), so a burst of webhooks costs one disk sync, not one each.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::LeadgenEvent;
use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;
use tokio::sync::{Notify, mpsc, oneshot};

/// How long a claimed event stays hidden from other claims; a crash mid-processing makes it due again after this.
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// Most enqueue requests folded into one transaction.
const MAX_GROUP: usize = 512;
/// Finished events are kept this long so Meta's re-deliveries (up to 36 h) are recognised without a Graph call.
const KEEP_DONE: Duration = Duration::from_secs(3 * 24 * 3600);

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

type Reply<T> = oneshot::Sender<Result<T, InboxError>>;

enum Command {
    Enqueue(Vec<LeadgenEvent>, Reply<usize>),
    Claim(usize, Reply<Vec<PendingEvent>>),
    Complete(i64, Reply<()>),
    RetryAt(i64, DateTime<Utc>, String, Reply<()>),
    Fail(i64, String, Reply<()>),
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
        let conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| open_error(e.to_string()))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (
                id              INTEGER PRIMARY KEY AUTOINCREMENT,
                leadgen_id      TEXT NOT NULL UNIQUE,
                page_id         TEXT,
                form_id         TEXT,
                ad_id           TEXT,
                adgroup_id      TEXT,
                created_time    INTEGER,
                received_at     INTEGER NOT NULL,
                state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','failed','done')),
                attempts        INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL DEFAULT 0,
                last_error      TEXT,
                done_at         INTEGER
            );
            CREATE INDEX IF NOT EXISTS events_due ON events (state, next_attempt_at);
            -- Leases of a previous run ended with it: whatever was in flight is due again.
            UPDATE events SET next_attempt_at = 0 WHERE state = 'pending';",
        )?;
        let (commands, receiver) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || Writer { conn }.run(receiver))
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

    /// Takes up to `limit` due events, leasing them so they are not handed out twice.
    pub async fn claim(&self, limit: usize) -> Result<Vec<PendingEvent>, InboxError> {
        self.ask(|reply| Command::Claim(limit, reply)).await
    }

    /// The lead is in the store: the event is done.
    pub async fn complete(&self, id: i64) -> Result<(), InboxError> {
        self.ask(|reply| Command::Complete(id, reply)).await
    }

    /// Try again at `at`, remembering why this attempt failed.
    pub async fn retry_at(
        &self,
        id: i64,
        at: DateTime<Utc>,
        reason: String,
    ) -> Result<(), InboxError> {
        self.ask(|reply| Command::RetryAt(id, at, reason, reply))
            .await
    }

    /// Keep the event, but stop trying until someone asks for a retry.
    pub async fn fail(&self, id: i64, reason: String) -> Result<(), InboxError> {
        self.ask(|reply| Command::Fail(id, reason, reply)).await
    }

    /// Makes every failed event due again; returns how many.
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

struct Writer {
    conn: Connection,
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time_from(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl Writer {
    fn run(mut self, mut receiver: mpsc::UnboundedReceiver<Command>) {
        while let Some(command) = receiver.blocking_recv() {
            match command {
                Command::Enqueue(events, reply) => {
                    let mut batch = vec![(events, reply)];
                    let mut others = Vec::new();
                    while batch.len() < MAX_GROUP {
                        match receiver.try_recv() {
                            Ok(Command::Enqueue(events, reply)) => batch.push((events, reply)),
                            Ok(other) => others.push(other),
                            Err(_) => break,
                        }
                    }
                    self.enqueue_group(batch);
                    for other in others {
                        self.handle(other);
                    }
                }
                other => self.handle(other),
            }
        }
    }

    fn enqueue_group(&mut self, batch: Vec<(Vec<LeadgenEvent>, Reply<usize>)>) {
        let now = micros(Utc::now());
        let result = (|| -> Result<Vec<usize>, rusqlite::Error> {
            let tx = self.conn.transaction()?;
            let mut added = Vec::with_capacity(batch.len());
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO events (leadgen_id, page_id, form_id, ad_id, adgroup_id, created_time, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (leadgen_id) DO NOTHING",
                )?;
                for (events, _) in &batch {
                    let mut count = 0;
                    for e in events {
                        count += insert.execute(params![
                            e.leadgen_id,
                            e.page_id,
                            e.form_id,
                            e.ad_id,
                            e.adgroup_id,
                            e.created_time,
                            now
                        ])?;
                    }
                    added.push(count);
                }
            }
            tx.commit()?;
            Ok(added)
        })();
        match result {
            Ok(added) => {
                for ((_, reply), count) in batch.into_iter().zip(added) {
                    let _ = reply.send(Ok(count));
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(InboxError::Commit(message.clone())));
                }
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Enqueue(events, reply) => self.enqueue_group(vec![(events, reply)]),
            Command::Claim(limit, reply) => {
                let _ = reply.send(self.claim(limit));
            }
            Command::Complete(id, reply) => {
                let now = micros(Utc::now());
                let result = self
                    .conn
                    .execute(
                        "UPDATE events SET state = 'done', done_at = ?2, last_error = NULL WHERE id = ?1",
                        params![id, now],
                    )
                    .and_then(|_| {
                        self.conn.execute(
                            "DELETE FROM events WHERE state = 'done' AND done_at < ?1",
                            [now - KEEP_DONE.as_micros() as i64],
                        )
                    });
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::RetryAt(id, at, reason, reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
                    params![id, micros(at), reason],
                );
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::Fail(id, reason, reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET state = 'failed', attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                    params![id, reason],
                );
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::RetryFailed(reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET state = 'pending', next_attempt_at = 0, attempts = 0 WHERE state = 'failed'",
                    [],
                );
                let _ = reply.send(result.map_err(Into::into));
            }
            Command::Counts(reply) => {
                let result = self.conn.query_row(
                    "SELECT COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'failed'),
                            MIN(received_at) FILTER (WHERE state = 'pending')
                     FROM events WHERE state != 'done'",
                    [],
                    |row| {
                        Ok(InboxCounts {
                            pending: row.get::<_, i64>(0)? as u64,
                            failed: row.get::<_, i64>(1)? as u64,
                            oldest_pending_at: row.get::<_, Option<i64>>(2)?.map(time_from),
                        })
                    },
                );
                let _ = reply.send(result.map_err(Into::into));
            }
            Command::Failures(limit, reply) => {
                let _ = reply.send(self.failures(limit));
            }
            Command::NextDue(reply) => {
                let result = self
                    .conn
                    .query_row(
                        "SELECT MIN(next_attempt_at) FROM events WHERE state = 'pending'",
                        [],
                        |row| row.get::<_, Option<i64>>(0),
                    )
                    .optional()
                    .map(|due| due.flatten().map(time_from));
                let _ = reply.send(result.map_err(Into::into));
            }
        }
    }

    fn claim(&mut self, limit: usize) -> Result<Vec<PendingEvent>, InboxError> {
        let now = Utc::now();
        let lease_until = micros(now) + CLAIM_LEASE.as_micros() as i64;
        let tx = self.conn.transaction()?;
        let events = {
            let mut select = tx.prepare_cached(
                "SELECT id, leadgen_id, page_id, form_id, ad_id, adgroup_id, created_time, received_at, attempts
                 FROM events WHERE state = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT ?2",
            )?;
            let rows = select.query_map(params![micros(now), limit as i64], |row| {
                Ok(PendingEvent {
                    id: row.get(0)?,
                    event: LeadgenEvent {
                        leadgen_id: row.get(1)?,
                        page_id: row.get(2)?,
                        form_id: row.get(3)?,
                        ad_id: row.get(4)?,
                        adgroup_id: row.get(5)?,
                        created_time: row.get(6)?,
                    },
                    received_at: time_from(row.get(7)?),
                    attempts: row.get(8)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        {
            let mut lease =
                tx.prepare_cached("UPDATE events SET next_attempt_at = ?2 WHERE id = ?1")?;
            for event in &events {
                lease.execute(params![event.id, lease_until])?;
            }
        }
        tx.commit()?;
        Ok(events)
    }

    fn failures(&mut self, limit: usize) -> Result<Vec<FailedEvent>, InboxError> {
        let mut select = self.conn.prepare_cached(
            "SELECT leadgen_id, COALESCE(last_error, ''), attempts FROM events WHERE state = 'failed'
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = select.query_map([limit as i64], |row| {
            Ok(FailedEvent {
                leadgen_id: row.get(0)?,
                reason: row.get(1)?,
                attempts: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> LeadgenEvent {
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
        assert_eq!(ids, ["1", "2"], "a restart makes leased events due again");
        assert_eq!(claimed[0].event, event("1"));
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
        inbox.complete(claimed[0].id).await.unwrap();
        let later = Utc::now() + chrono::Duration::seconds(60);
        inbox
            .retry_at(claimed[1].id, later, "graph timeout".into())
            .await
            .unwrap();
        inbox
            .fail(claimed[2].id, "token invalid".into())
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
