//! The thread that owns the inbox database and answers the typed commands, folding enqueues
//! that arrive together into one transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::meta::LeadgenEvent;
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::mpsc;

use super::{Command, EventState, FailedEvent, InboxCounts, InboxError, PendingEvent, Reply};

/// How long a claim lasts if its worker never reports back (the outcome could not be recorded).
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// Most enqueue requests folded into one transaction.
const MAX_GROUP: usize = 512;
/// Finished events are kept this long so Meta's re-deliveries (up to 36 h) are recognised without a Graph call.
const KEEP_DONE: Duration = Duration::from_secs(3 * 24 * 3600);

pub(super) struct Database {
    pub(super) conn: Connection,
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time_from(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl Database {
    pub(super) fn run(mut self, mut receiver: mpsc::UnboundedReceiver<Command>) {
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
                        "UPDATE events SET state = ?3, lease_until = NULL, done_at = ?2, last_error = NULL
                         WHERE id = ?1",
                        params![id, now, EventState::Done],
                    )
                    .and_then(|_| {
                        self.conn.execute(
                            "DELETE FROM events WHERE state = ?2 AND done_at < ?1",
                            params![now - KEEP_DONE.as_micros() as i64, EventState::Done],
                        )
                    });
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::RetryAt(id, at, reason, reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET state = ?4, lease_until = NULL, attempts = attempts + 1,
                            next_attempt_at = ?2, last_error = ?3
                     WHERE id = ?1",
                    params![id, micros(at), reason, EventState::Pending],
                );
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::Fail(id, reason, reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET state = ?3, lease_until = NULL, attempts = attempts + 1, last_error = ?2
                     WHERE id = ?1",
                    params![id, reason, EventState::Failed],
                );
                let _ = reply.send(result.map(|_| ()).map_err(Into::into));
            }
            Command::RetryFailed(reply) => {
                let result = self.conn.execute(
                    "UPDATE events SET state = ?1, next_attempt_at = 0, attempts = 0 WHERE state = ?2",
                    params![EventState::Pending, EventState::Failed],
                );
                let _ = reply.send(result.map_err(Into::into));
            }
            Command::Counts(reply) => {
                let result = self.conn.query_row(
                    "SELECT COUNT(*) FILTER (WHERE state IN (?1, ?2)), COUNT(*) FILTER (WHERE state = ?3),
                            MIN(received_at) FILTER (WHERE state IN (?1, ?2))
                     FROM events WHERE state != ?4",
                    params![
                        EventState::Pending,
                        EventState::Claimed,
                        EventState::Failed,
                        EventState::Done
                    ],
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
                        "SELECT MIN(CASE state WHEN ?1 THEN next_attempt_at ELSE lease_until END)
                         FROM events WHERE state IN (?1, ?2)",
                        params![EventState::Pending, EventState::Claimed],
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
                 FROM events
                 WHERE (state = ?3 AND next_attempt_at <= ?1) OR (state = ?4 AND lease_until <= ?1)
                 ORDER BY next_attempt_at, id LIMIT ?2",
            )?;
            let due = params![
                micros(now),
                limit as i64,
                EventState::Pending,
                EventState::Claimed
            ];
            let rows = select.query_map(due, |row| {
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
                tx.prepare_cached("UPDATE events SET state = ?3, lease_until = ?2 WHERE id = ?1")?;
            for event in &events {
                lease.execute(params![event.id, lease_until, EventState::Claimed])?;
            }
        }
        tx.commit()?;
        Ok(events)
    }

    fn failures(&mut self, limit: usize) -> Result<Vec<FailedEvent>, InboxError> {
        let mut select = self.conn.prepare_cached(
            "SELECT leadgen_id, COALESCE(last_error, ''), attempts FROM events WHERE state = ?2
             ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = select.query_map(params![limit as i64, EventState::Failed], |row| {
            Ok(FailedEvent {
                leadgen_id: row.get(0)?,
                reason: row.get(1)?,
                attempts: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }
}
