//! The thread that owns the inbox database. Every command waiting when it looks is carried out in
//! one transaction (group commit): a burst of webhooks and the worker's claims and outcomes share
//! one disk sync, and no caller hears back before the transaction holding its change is durable.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use leadhook_shared::meta::LeadgenEvent;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::mpsc;

use super::{
    Command, EventState, FailedEvent, InboxCounts, InboxError, PendingEvent, Reply, Settlement,
};

/// How long a claim lasts if its worker never reports back (the outcome could not be recorded).
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// Most commands carried out in one transaction.
const MAX_GROUP: usize = 512;
/// Finished events are kept this long so Meta's re-deliveries (up to 36 h) are recognised without a Graph call.
const KEEP_DONE: Duration = Duration::from_secs(3 * 24 * 3600);
/// How often finished events older than [`KEEP_DONE`] are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(60);

pub(super) struct Database {
    pub(super) conn: Connection,
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn time_from(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// A command's answer, sent once the transaction that holds its change has committed (or failed).
type Deferred = Box<dyn FnOnce(Option<&str>)>;

fn deferred<T: 'static>(reply: Reply<T>, result: Result<T, InboxError>) -> Deferred {
    Box::new(move |commit_error| {
        let answer = match commit_error {
            Some(error) => Err(InboxError::Commit(error.to_string())),
            None => result,
        };
        // The caller may have gone away (a webhook whose client hung up); nothing to tell.
        let _ = reply.send(answer);
    })
}

/// Runs `change` in a savepoint: a command that fails leaves nothing behind, and the others in
/// its group still commit.
fn in_savepoint<T>(
    tx: &mut Transaction,
    change: impl FnOnce(&Connection) -> Result<T, InboxError>,
) -> Result<T, InboxError> {
    let savepoint = tx.savepoint()?;
    let result = change(&savepoint)?;
    savepoint.commit()?;
    Ok(result)
}

impl Database {
    pub(super) fn run(mut self, mut receiver: mpsc::UnboundedReceiver<Command>) {
        let mut last_purge: Option<Instant> = None;
        while let Some(first) = receiver.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match receiver.try_recv() {
                    Ok(command) => group.push(command),
                    Err(_) => break,
                }
            }
            let purge = last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY);
            if purge {
                last_purge = Some(Instant::now());
            }
            self.carry_out(group, purge);
        }
    }

    fn carry_out(&mut self, group: Vec<Command>, purge: bool) {
        let now = Utc::now();
        let mut tx = match self.conn.transaction() {
            Ok(tx) => tx,
            Err(error) => {
                let error = error.to_string();
                for command in group {
                    deferred_failure(command)(Some(&error));
                }
                return;
            }
        };
        let answers: Vec<Deferred> = group
            .into_iter()
            .map(|command| execute(&mut tx, command, now))
            .collect();
        let outcome = (|| {
            if purge {
                tx.execute(
                    &format!(
                        "DELETE FROM events WHERE {done} AND done_at < ?1",
                        done = super::schema::done_events()
                    ),
                    [micros(now) - KEEP_DONE.as_micros() as i64],
                )?;
            }
            tx.commit()
        })();
        let commit_error = outcome.err().map(|error| error.to_string());
        for answer in answers {
            answer(commit_error.as_deref());
        }
    }
}

/// The answer to a command that could not even start: the commit error is all it gets.
fn deferred_failure(command: Command) -> Deferred {
    fn fail<T: 'static>(reply: Reply<T>) -> Deferred {
        deferred(reply, Err(InboxError::Commit(String::new())))
    }
    match command {
        Command::Enqueue(_, reply) => fail(reply),
        Command::Claim(_, reply) => fail(reply),
        Command::Settle(_, reply) => fail(reply),
        Command::RetryFailed(reply) => fail(reply),
        Command::Counts(reply) => fail(reply),
        Command::Failures(_, reply) => fail(reply),
        Command::NextDue(reply) => fail(reply),
    }
}

fn execute(tx: &mut Transaction, command: Command, now: DateTime<Utc>) -> Deferred {
    match command {
        Command::Enqueue(events, reply) => {
            deferred(reply, in_savepoint(tx, |db| enqueue(db, &events, now)))
        }
        Command::Claim(limit, reply) => {
            deferred(reply, in_savepoint(tx, |db| claim(db, limit, now)))
        }
        Command::Settle(settlements, reply) => {
            deferred(reply, in_savepoint(tx, |db| settle(db, &settlements, now)))
        }
        Command::RetryFailed(reply) => deferred(
            reply,
            // Attempts are kept: these events come back at the head of the backlog lane, not as live ones.
            in_savepoint(tx, |db| {
                Ok(db.execute(
                    "UPDATE events SET state = ?1, next_attempt_at = 0 WHERE state = ?2",
                    params![EventState::Pending, EventState::Failed],
                )?)
            }),
        ),
        Command::Counts(reply) => deferred(reply, counts(tx)),
        Command::Failures(limit, reply) => deferred(reply, failures(tx, limit)),
        Command::NextDue(reply) => deferred(reply, next_due(tx)),
    }
}

fn enqueue(
    db: &Connection,
    events: &[LeadgenEvent],
    now: DateTime<Utc>,
) -> Result<usize, InboxError> {
    let mut insert = db.prepare_cached(
        "INSERT INTO events (leadgen_id, page_id, form_id, ad_id, adgroup_id, created_time, received_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (leadgen_id) DO NOTHING",
    )?;
    let mut added = 0;
    for e in events {
        added += insert.execute(params![
            e.leadgen_id,
            e.page_id,
            e.form_id,
            e.ad_id,
            e.adgroup_id,
            e.created_time,
            micros(now)
        ])?;
    }
    Ok(added)
}

const EVENT_COLUMNS: &str =
    "id, leadgen_id, page_id, form_id, ad_id, adgroup_id, created_time, received_at, attempts";

fn pending_event(row: &rusqlite::Row) -> rusqlite::Result<PendingEvent> {
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
}

/// Up to `limit` due events, leased so they are not handed out twice, from two lanes:
/// - live: events never tried yet, newest first, so a lead that just arrived goes next even when
///   thousands wait (a rep calls it while it is fresh);
/// - backlog: every due event (retries, and live events nobody reached yet), oldest first. It
///   gets at least a quarter of every claim, so it drains even while live events keep coming,
///   and all of what the live lane leaves.
fn claim(
    db: &Connection,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<PendingEvent>, InboxError> {
    let backlog_share = limit / 4;
    // The conditions are written out (not bound) to match the partial index `events_live`, which
    // reads only never-tried events; without statistics SQLite would sort every pending one.
    let mut live = db.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events INDEXED BY events_live WHERE {live}
         ORDER BY id DESC LIMIT ?1",
        live = super::schema::live_events()
    ))?;
    let mut claimed = live
        .query_map([(limit - backlog_share) as i64], pending_event)?
        .collect::<Result<Vec<_>, _>>()?;
    // Two reads in the order of `events_due`, each stopping at its limit: claims whose lease ran
    // out (a fetch that crashed or hung; they were due before anything pending now), then due
    // events oldest first. One query with OR would sort every due event on every claim.
    let mut expired = db.prepare_cached(&backlog_lane("lease_until"))?;
    let mut due = db.prepare_cached(&backlog_lane("next_attempt_at"))?;
    // Ask for as many more as the live lane took: those may come back from this lane too.
    let wanted = (limit + claimed.len()) as i64;
    let at = micros(now);
    let oldest = expired
        .query_map(params![at, EventState::Claimed, wanted], pending_event)?
        .chain(due.query_map(params![at, EventState::Pending, wanted], pending_event)?);
    for event in oldest {
        let event = event?;
        if claimed.len() == limit {
            break;
        }
        if !claimed.iter().any(|taken| taken.id == event.id) {
            claimed.push(event);
        }
    }
    let lease_until = micros(now) + CLAIM_LEASE.as_micros() as i64;
    let mut lease =
        db.prepare_cached("UPDATE events SET state = ?3, lease_until = ?2 WHERE id = ?1")?;
    for event in &claimed {
        lease.execute(params![event.id, lease_until, EventState::Claimed])?;
    }
    Ok(claimed)
}

/// Events in state `?2` whose `due_column` is at most `?1`, oldest due first, at most `?3`.
fn backlog_lane(due_column: &str) -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE state = ?2 AND {due_column} <= ?1
         ORDER BY next_attempt_at, id LIMIT ?3"
    )
}

fn settle(
    db: &Connection,
    settlements: &[Settlement],
    now: DateTime<Utc>,
) -> Result<(), InboxError> {
    for settlement in settlements {
        match settlement {
            Settlement::Done(id) => {
                db.prepare_cached(
                    "UPDATE events SET state = ?3, lease_until = NULL, done_at = ?2, last_error = NULL
                     WHERE id = ?1",
                )?
                .execute(params![id, micros(now), EventState::Done])?;
            }
            Settlement::RetryAt { id, at, reason } => {
                db.prepare_cached(
                    "UPDATE events SET state = ?4, lease_until = NULL, attempts = attempts + 1,
                            next_attempt_at = ?2, last_error = ?3
                     WHERE id = ?1",
                )?
                .execute(params![id, micros(*at), reason, EventState::Pending])?;
            }
            Settlement::Failed { id, reason } => {
                db.prepare_cached(
                    "UPDATE events SET state = ?3, lease_until = NULL, attempts = attempts + 1,
                            last_error = ?2
                     WHERE id = ?1",
                )?
                .execute(params![id, reason, EventState::Failed])?;
            }
        }
    }
    Ok(())
}

fn counts(db: &Connection) -> Result<InboxCounts, InboxError> {
    Ok(db.query_row(
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
    )?)
}

fn failures(db: &Connection, limit: usize) -> Result<Vec<FailedEvent>, InboxError> {
    let mut select = db.prepare_cached(
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

/// Two indexed lookups; MIN over an expression would read every pending event.
const NEXT_DUE: &str = "SELECT MIN(at) FROM (
    SELECT MIN(next_attempt_at) AS at FROM events WHERE state = ?1
    UNION ALL SELECT MIN(lease_until) FROM events WHERE state = ?2)";

fn next_due(db: &Connection) -> Result<Option<DateTime<Utc>>, InboxError> {
    Ok(db
        .query_row(
            NEXT_DUE,
            params![EventState::Pending, EventState::Claimed],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten()
        .map(time_from))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How SQLite runs `sql` on an inbox: one line per step of `EXPLAIN QUERY PLAN`.
    fn plan(sql: &str) -> Vec<String> {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::prepare(&mut conn).unwrap();
        let mut explain = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let parameters = explain.parameter_count();
        explain
            .query_map(rusqlite::params_from_iter(vec![0; parameters]), |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// The claim runs on the writer thread that every webhook's commit waits for: its cost must
    /// not grow with the events waiting, as a sort or a scan of them on each claim would.
    #[test]
    fn the_backlog_lanes_neither_sort_nor_scan_the_waiting_events() {
        for sql in [backlog_lane("lease_until"), backlog_lane("next_attempt_at")] {
            let steps = plan(&sql);
            assert!(
                steps
                    .iter()
                    .all(|step| !step.contains("TEMP B-TREE") && !step.starts_with("SCAN events")),
                "{sql}\n{steps:#?}"
            );
        }
    }
}
