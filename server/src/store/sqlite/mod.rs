//! The embedded lead store: one SQLite file in the data dir, the default backend.
//!
//! rusqlite is blocking, so every call runs on tokio's blocking pool. One connection behind a
//! mutex serialises writers, which also lets `updated_at` be strictly increasing: cursors never tie.
//! A second, read-only connection serves the long reads (the insights) beside it, and a thread
//! of its own checkpoints the WAL (`checkpoint`), so no writer ever does.

mod capi;
mod checkpoint;
mod conversation;
mod copy;
mod erase;
mod escalation;
mod event_kinds;
mod export;
mod follow_ups;
mod history;
mod insights;
mod open;
mod outbox;
mod paging;
mod people;
mod place;
mod queue;
mod reads;
mod reminders;
mod replica;
mod replies;
mod reps;
mod route;
mod rows;
#[cfg(test)]
mod tests;
mod triage;
mod upsert;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{ActivityKind, Lead, LeadPatch, LeadStatus, NewManualLead};
use rusqlite::{Connection, OptionalExtension, params};

use super::{LeadWrites, Routing, StoreError, Upserted};
pub use checkpoint::{CheckpointCounts, CheckpointPolicy};
use history::Change;
use rows::{SELECT_LEADS, lead_from_row};

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE leads (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        leadgen_id    TEXT UNIQUE,
        name          TEXT,
        email         TEXT,
        phone         TEXT,
        status        TEXT NOT NULL DEFAULT 'New Lead'
                      CHECK (status IN ('New Lead','Contacted','Qualified','Unqualified','Won','Lost')),
        is_manual     INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL,
        received_at   INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        page_id       TEXT,
        form_id       TEXT,
        form_name     TEXT,
        ad_id         TEXT,
        ad_name       TEXT,
        adset_id      TEXT,
        adset_name    TEXT,
        campaign_id   TEXT,
        campaign_name TEXT,
        platform      TEXT,
        is_organic    INTEGER NOT NULL DEFAULT 0,
        fields        TEXT NOT NULL DEFAULT '{}',
        notes         TEXT,
        search_text   TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX leads_newest_first ON leads (created_at DESC, id DESC);
    CREATE INDEX leads_changes ON leads (updated_at, id);
    CREATE INDEX leads_status ON leads (status);
"#,
    queue::MIGRATION,
    replica::MIGRATION,
    capi::MIGRATION,
    erase::MIGRATION,
    export::MIGRATION,
    reps::MIGRATION,
    follow_ups::MIGRATION,
    reminders::MIGRATION,
    erase::ERASURES_INDEX_MIGRATION,
    people::PHONES_MIGRATION,
    people::MIGRATION,
    insights::MIGRATION,
    insights::STAGES_MIGRATION,
    outbox::MIGRATION,
    paging::MIGRATION,
    outbox::BY_LEAD_MIGRATION,
    event_kinds::MIGRATION,
    queue::MARKS_INDEX_MIGRATION,
    conversation::MIGRATION,
];

pub struct SqliteStore {
    inner: Arc<Mutex<Inner>>,
    /// A second, read-only connection for long reads (the insights): with WAL it reads its own
    /// snapshot while the writer goes on, so a manager's figures never hold up a lead's write.
    reader: Arc<Mutex<Connection>>,
    /// Declared last: dropped after the connections, so it is the file's last one to close.
    checkpointer: Option<checkpoint::Checkpointer>,
}

struct Inner {
    conn: Connection,
    /// The newest `updated_at` handed out, so the next one is strictly later.
    last_change_micros: i64,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, Some(CheckpointPolicy::DEFAULT)).await
    }

    /// [`SqliteStore::open`], checkpointing the WAL in the background by `policy`, or with
    /// `None` as SQLite does by itself: in the commit that takes the WAL past 1,000 pages (what
    /// leadhook did before the background checkpoints; the benchmarks compare the two).
    pub async fn open_with(
        path: &Path,
        policy: Option<CheckpointPolicy>,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let (inner, reader, checkpointer) = tokio::task::spawn_blocking(move || {
            let inner = open::writer(&path, policy.is_none())?;
            let reader = open::reader(&path)?;
            let checkpointer = policy
                .map(|policy| checkpoint::Checkpointer::start(&path, policy))
                .transpose()?;
            Ok::<_, StoreError>((inner, reader, checkpointer))
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        Ok(SqliteStore {
            inner: Arc::new(Mutex::new(inner)),
            reader: Arc::new(Mutex::new(reader)),
            checkpointer,
        })
    }

    /// What the WAL checkpointer has done so far (`None`: SQLite checkpoints in the commit).
    pub fn checkpoints(&self) -> Option<&CheckpointCounts> {
        self.checkpointer
            .as_ref()
            .map(checkpoint::Checkpointer::counts)
    }

    async fn with<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Inner) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut guard = inner
                .lock()
                .map_err(|_| StoreError::Internal("a previous store call panicked".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

impl SqliteStore {
    /// Runs `read` on the read-only connection, on tokio's blocking pool; it sees the store as
    /// of its first statement's snapshot (wrap several in a transaction for one snapshot).
    async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let mut guard = reader
                .lock()
                .map_err(|_| StoreError::Internal("a previous store read panicked".into()))?;
            read(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(internal)?;
    let applied = usize::try_from(applied).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Misconfigured {
            message: format!(
                "the lead database has schema version {applied}, newer than this leadhook knows"
            ),
            fix: "upgrade leadhook-server, or point LEADHOOK_DATA_DIR at another directory".into(),
        });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction().map_err(internal)?;
        tx.execute_batch(sql).map_err(internal)?;
        tx.pragma_update(None, "user_version", (version + 1) as i64)
            .map_err(internal)?;
        tx.commit().map_err(internal)?;
    }
    Ok(())
}

fn internal(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(ref e, _)
            if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
            ) =>
        {
            StoreError::Unavailable(error.to_string())
        }
        other => StoreError::Internal(other.to_string()),
    }
}

impl Inner {
    fn next_change_micros(&mut self) -> i64 {
        next_stamp(&mut self.last_change_micros)
    }

    fn get(&self, id: i64) -> Result<Option<Lead>, StoreError> {
        lead_by_id(&self.conn, id)
    }
}

/// The next change stamp after `last` (now, or just after `last` if the clock is not past it).
fn next_stamp(last: &mut i64) -> i64 {
    *last = Utc::now().timestamp_micros().max(*last + 1);
    *last
}

fn lead_by_id(conn: &Connection, id: i64) -> Result<Option<Lead>, StoreError> {
    conn.prepare_cached(&format!("{SELECT_LEADS} WHERE id = ?1"))
        .and_then(|mut select| select.query_row([id], lead_from_row).optional())
        .map_err(internal)
}

fn search_text(name: Option<&str>, email: Option<&str>, phone: Option<&str>) -> String {
    [name, email, phone]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
}

#[async_trait]
impl LeadWrites for SqliteStore {
    async fn upsert_many(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError> {
        self.store_from_meta(leads, actor, routing).await
    }

    async fn create_manual(
        &self,
        lead: &NewManualLead,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Lead, StoreError> {
        let lead = lead.clone();
        let rep = rep.to_string();
        let (assignment, reps, repeat_window) = (
            routing.assignment,
            routing.reps.to_vec(),
            routing.repeat_window,
        );
        self.with(move |inner| {
            let now = inner.next_change_micros();
            let search = search_text(Some(&lead.name), lead.email.as_deref(), lead.phone.as_deref());
            let status = lead.status.unwrap_or_default();
            // A rep who enters a lead already past `New Lead` has just spoken to the person.
            let first_contact = (status != LeadStatus::NewLead).then_some(now);
            let tx = inner.conn.transaction().map_err(internal)?;
            let id: i64 = tx
                .query_row(
                    "INSERT INTO leads (name, email, phone, status, notes, is_manual, created_at, received_at, updated_at,
                        search_text, first_contact_at, phone_e164, phone_invalid, email_key, triaged)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?6, ?7, ?8, ?9, ?10, ?11, 1) RETURNING id",
                    params![
                        lead.name,
                        lead.email,
                        lead.phone,
                        status.as_str(),
                        lead.notes,
                        now,
                        search,
                        first_contact,
                        lead.phone_e164,
                        lead.phone_invalid,
                        lead.email_key
                    ],
                    |row| row.get(0),
                )
                .map_err(internal)?;
            history::record(&tx, id, now, &rep, Change::new(ActivityKind::Stored, None, None))?;
            let stored = lead_by_id(&tx, id)?
                .ok_or_else(|| StoreError::Internal("lead vanished after insert".into()))?;
            let routing = Routing { assignment, reps: &reps, repeat_window };
            let stored = place::place_new(&tx, stored, routing, now)?;
            tx.commit().map_err(internal)?;
            Ok(stored)
        })
        .await
    }

    async fn update(
        &self,
        id: i64,
        patch: &LeadPatch,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let patch = patch.clone();
        let rep = rep.to_string();
        self.changing(id, None, move |tx, before, now| {
            if before.erased_at.is_some() {
                return Err(StoreError::Erased { id });
            }
            queue::apply_patch(tx, &before, &patch, &rep, now)?;
            lead_by_id(tx, id)
        })
        .await
    }
}
