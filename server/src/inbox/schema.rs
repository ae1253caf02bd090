//! The inbox's table, its states, and the migration of files written by older versions.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, Transaction, params};

use super::InboxError;

/// Where an event is in its life. Stored as text in `events.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    /// Waiting for its next attempt at `next_attempt_at` (its retry backoff; 0 for a new event).
    Pending,
    /// Handed to a worker until `lease_until`; a claim that outlives its lease, or the run that
    /// made it, is pending again.
    Claimed,
    /// Kept with its reason; not tried again until someone asks for a retry.
    Failed,
    /// Its lead is in the store; kept a while to recognise re-deliveries.
    Done,
}

impl EventState {
    pub const ALL: [EventState; 4] = [
        EventState::Pending,
        EventState::Claimed,
        EventState::Failed,
        EventState::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventState::Pending => "pending",
            EventState::Claimed => "claimed",
            EventState::Failed => "failed",
            EventState::Done => "done",
        }
    }
}

impl ToSql for EventState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for EventState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        EventState::ALL
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown event state {text:?}").into()))
    }
}

/// `PRAGMA user_version` of the current layout. Files from before it carry 0 and have no
/// `claimed` state: their `next_attempt_at` was lease and retry time at once.
/// 1: explicit states and claims; 2: events due from their arrival, the indexes of the live lane
/// and of finished events.
const VERSION: i64 = 2;

/// Events nobody has tried yet: the live lane (see the inbox's `claim`).
pub fn live_events() -> String {
    format!(
        "state = '{}' AND attempts = 0",
        EventState::Pending.as_str()
    )
}

/// Finished events, kept a while to recognise re-deliveries.
pub fn done_events() -> String {
    format!("state = '{}'", EventState::Done.as_str())
}

/// Partial indexes, so the live lane and the purge of old finished events read only their rows
/// however many finished events the inbox keeps.
fn create_indexes(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(&format!(
        "CREATE INDEX IF NOT EXISTS events_live ON events (id) WHERE {live};
         CREATE INDEX IF NOT EXISTS events_done ON events (done_at) WHERE {done};",
        live = live_events(),
        done = done_events(),
    ))
}

fn create_events(tx: &Transaction) -> rusqlite::Result<()> {
    let states = EventState::ALL
        .map(|state| format!("'{}'", state.as_str()))
        .join(",");
    tx.execute_batch(&format!(
        "CREATE TABLE events (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            leadgen_id      TEXT NOT NULL UNIQUE,
            page_id         TEXT,
            form_id         TEXT,
            ad_id           TEXT,
            adgroup_id      TEXT,
            created_time    INTEGER,
            received_at     INTEGER NOT NULL,
            state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ({states})),
            attempts        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL DEFAULT 0,
            lease_until     INTEGER CHECK ((state = 'claimed') = (lease_until IS NOT NULL)),
            last_error      TEXT,
            done_at         INTEGER
        );
        CREATE INDEX events_due ON events (state, next_attempt_at);"
    ))
}

/// Brings the file to the current layout, then ends the claims of the previous run: whatever was
/// in flight is pending again, with its retry time untouched.
pub fn prepare(conn: &mut Connection) -> Result<(), InboxError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let tx = conn.transaction()?;
    let has_events: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events')",
        [],
        |row| row.get(0),
    )?;
    match (version, has_events) {
        (1 | VERSION, _) => {}
        (0, false) => create_events(&tx)?,
        (0, true) => migrate_from_unversioned(&tx)?,
        (found, _) => {
            return Err(InboxError::NewerLayout {
                found,
                known: VERSION,
            });
        }
    }
    if version < 2 {
        // Events are due from when they arrive, so the backlog lane takes them in that order.
        tx.execute(
            "UPDATE events SET next_attempt_at = received_at WHERE attempts = 0 AND next_attempt_at = 0",
            [],
        )?;
    }
    create_indexes(&tx)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.execute(
        "UPDATE events SET state = ?1, lease_until = NULL WHERE state = ?2",
        params![EventState::Pending, EventState::Claimed],
    )?;
    tx.commit()?;
    Ok(())
}

/// The first layout had no `claimed` state (SQLite cannot widen a CHECK in place, so the table
/// is rebuilt). Its pending events keep `next_attempt_at` as their retry time: a lease of the
/// last run cannot be told from a backoff there, so such an event waits out at most its lease.
fn migrate_from_unversioned(tx: &Transaction) -> rusqlite::Result<()> {
    const COLUMNS: &str = "id, leadgen_id, page_id, form_id, ad_id, adgroup_id, created_time, \
                           received_at, state, attempts, next_attempt_at, last_error, done_at";
    tx.execute_batch("DROP INDEX IF EXISTS events_due; ALTER TABLE events RENAME TO events_v0;")?;
    create_events(tx)?;
    tx.execute_batch(&format!(
        "INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events_v0; DROP TABLE events_v0;"
    ))?;
    tracing::info!("inbox migrated to explicit claims");
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::inbox::Inbox;
    use crate::inbox::tests::{claim_ids, next_due_micros};

    /// The layout leadhook wrote before claims had their own state.
    const UNVERSIONED: &str = "CREATE TABLE events (
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
        CREATE INDEX events_due ON events (state, next_attempt_at);";

    #[tokio::test]
    async fn an_unversioned_inbox_migrates_in_place_and_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        let now = Utc::now().timestamp_micros();
        let backoff_end = now + 120_000_000;
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(UNVERSIONED).unwrap();
            let mut insert = conn
                .prepare(
                    "INSERT INTO events (leadgen_id, page_id, form_id, created_time, received_at,
                                         state, attempts, next_attempt_at, last_error, done_at)
                     VALUES (?1, 'p', 'f', 1700000000, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .unwrap();
            let none = None::<String>;
            for row in [
                params!["due", now, "pending", 0, 0, none, none],
                params![
                    "backing-off",
                    now,
                    "pending",
                    3,
                    backoff_end,
                    "graph timeout",
                    none
                ],
                params!["failed", now, "failed", 1, 0, "token invalid", none],
                params!["done", now, "done", 0, 0, none, now],
            ] {
                insert.execute(row).unwrap();
            }
        }

        let inbox = Inbox::open(&path).unwrap();
        let counts = inbox.counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (2, 1));
        assert_eq!(
            claim_ids(&inbox).await,
            ["due"],
            "the backing-off event keeps its backoff"
        );
        assert_eq!(
            next_due_micros(&inbox).await,
            Some(backoff_end),
            "the backoff ends before the new claim's lease"
        );
        let failures = inbox.failures(10).await.unwrap();
        assert_eq!(
            (
                failures[0].leadgen_id.as_str(),
                failures[0].reason.as_str(),
                failures[0].attempts
            ),
            ("failed", "token invalid", 1)
        );
        assert_eq!(
            inbox
                .enqueue(vec![leadhook_shared::meta::LeadgenEvent {
                    leadgen_id: "done".into(),
                    page_id: None,
                    form_id: None,
                    ad_id: None,
                    adgroup_id: None,
                    created_time: None,
                }])
                .await
                .unwrap(),
            0,
            "finished events still recognise re-deliveries"
        );
        drop(inbox);

        let reopened = Inbox::open(&path).unwrap();
        let counts = reopened.counts().await.unwrap();
        assert_eq!((counts.pending, counts.failed), (2, 1));
        assert_eq!(
            claim_ids(&reopened).await,
            ["due"],
            "opening the migrated inbox again only ends the claim"
        );
    }

    #[tokio::test]
    async fn a_version_1_inbox_gains_the_lane_indexes_and_keeps_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            let tx = conn.transaction().unwrap();
            create_events(&tx).unwrap();
            tx.execute(
                "INSERT INTO events (leadgen_id, received_at) VALUES ('kept', 1)",
                [],
            )
            .unwrap();
            tx.pragma_update(None, "user_version", 1).unwrap();
            tx.commit().unwrap();
        }
        let inbox = Inbox::open(&path).unwrap();
        assert_eq!(claim_ids(&inbox).await, ["kept"]);
        drop(inbox);
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, VERSION);
        let due_from: i64 = conn
            .query_row("SELECT next_attempt_at FROM events", [], |row| row.get(0))
            .unwrap();
        assert_eq!(due_from, 1, "due from its arrival");
        let plan: String = conn
            .query_row(
                &format!(
                    "EXPLAIN QUERY PLAN SELECT id FROM events INDEXED BY events_live WHERE {}
                     ORDER BY id DESC LIMIT 8",
                    live_events()
                ),
                [],
                |row| row.get(3),
            )
            .unwrap();
        assert!(plan.contains("events_live"), "{plan}");
    }

    #[test]
    fn an_inbox_from_a_newer_leadhook_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        let error = Inbox::open(&path).err().expect("refused");
        assert!(error.to_string().contains("newer leadhook"), "{error}");
    }

    #[test]
    fn every_state_round_trips_through_the_table() {
        let mut conn = Connection::open_in_memory().unwrap();
        prepare(&mut conn).unwrap();
        for state in EventState::ALL {
            let lease = (state == EventState::Claimed).then_some(1_i64);
            conn.execute(
                "INSERT INTO events (leadgen_id, received_at, state, lease_until) VALUES (?1, 0, ?2, ?3)",
                params![state.as_str(), state, lease],
            )
            .unwrap();
            let read: EventState = conn
                .query_row(
                    "SELECT state FROM events WHERE leadgen_id = ?1",
                    [state.as_str()],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(read, state);
        }
    }
}
