//! The store's connections to its file: the writer, set up once, and the read-only reader.

use std::path::Path;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

use super::{Inner, StoreError, internal, migrate};

/// The most memory each connection's page cache takes.
const PAGE_CACHE_KIB: i64 = 32 * 1024;

/// Prepared statements the writing connection keeps (rusqlite keeps 16 by default). Storing a
/// piece of leads alone uses about a dozen, and the rest of the server (queue, follow-ups, people,
/// reminders, the outbox) its own: with 16, a lead's statements pushed each other out and were
/// parsed again for every lead.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// How long a connection waits for another one's lock before the call fails as busy.
const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn cannot_open(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("cannot open {}: {error}", path.display()))
}

/// The writing connection, with the schema brought up to date; it checkpoints the WAL in its
/// commits only if `checkpoints_in_commit`.
pub(super) fn writer(path: &Path, checkpoints_in_commit: bool) -> Result<Inner, StoreError> {
    crate::private_files::prepare_private_database(path).map_err(|e| cannot_open(path, e))?;
    let mut conn = Connection::open(path).map_err(|e| cannot_open(path, e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(internal)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(internal)?;
    if !checkpoints_in_commit {
        // The store's own thread checkpoints (`super::checkpoint`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(internal)?;
    }
    // An erased person's bytes are overwritten, not left in free pages for a copy of the
    // file to reveal.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(internal)?;
    // Negative: KiB. SQLite's default of 2 MiB no longer holds the `leadgen_id` index once
    // there are ~50,000 leads, and every new lead's lookup and insert then reads pages back.
    conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
        .map_err(internal)?;
    conn.busy_timeout(BUSY_WAIT).map_err(internal)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
    // No plan depends on a bound value (SQLite's query planner stability guarantee).
    // Without it, planning a query with `column = ?` marks it to be planned again when
    // that parameter changes, and rusqlite clears a cached statement's parameters each
    // time it is returned to the cache: the person lookups were parsed and planned again
    // for every lead, 14 % of a bulk store's time. No query here needs a bound value to
    // pick its index (partial indexes are matched by literals).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(internal)?;
    // Every transaction writes: take the write lock at its start, so a second connection
    // to the file (a tool, `store copy`) waits its turn instead of failing on an upgrade,
    // and what a transaction reads before it writes (a person's earlier leads) is current.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    migrate(&mut conn)?;
    super::event_kinds::fill(&mut conn)?;
    let last_change_micros = conn
        .query_row(
            "SELECT COALESCE(MAX(updated_at), 0) FROM leads",
            [],
            |row| row.get(0),
        )
        .map_err(internal)?;
    Ok(Inner {
        conn,
        last_change_micros,
    })
}

/// The read-only connection for long reads.
pub(super) fn reader(path: &Path) -> Result<Connection, StoreError> {
    let reader = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| cannot_open(path, e))?;
    reader
        .pragma_update(None, "cache_size", -PAGE_CACHE_KIB)
        .map_err(internal)?;
    reader.busy_timeout(BUSY_WAIT).map_err(internal)?;
    Ok(reader)
}
