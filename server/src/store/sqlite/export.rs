//! Exports in the SQLite store: each exported lead gets an `exported` activity row, and nothing
//! else changes (no `updated_at`, so no change cursor moves).

use leadhook_shared::ActivityKind;
use rusqlite::{Connection, params};

use super::erase::activity_with_kinds;
use super::internal;
use crate::store::StoreError;

/// Lets activity rows be of kind `exported`.
pub(super) const MIGRATION: &str = activity_with_kinds!(
    "'stored','redelivered','status','notes','claim','release','assign','erase','exported'"
);

/// One `exported` row by `actor` at `at` for each of the leads `ids` still stored, in one
/// statement.
pub(super) fn record(
    conn: &Connection,
    ids: &[i64],
    actor: &str,
    at: i64,
) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::Internal(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO activity (lead_id, at, actor, kind)
         SELECT id, ?1, ?2, ?3 FROM leads WHERE id IN (SELECT value FROM json_each(?4)) ORDER BY id",
    )
    .and_then(|mut insert| insert.execute(params![at, actor, ActivityKind::Exported.as_str(), ids]))
    .map_err(internal)?;
    Ok(())
}
