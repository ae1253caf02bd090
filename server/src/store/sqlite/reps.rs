//! The rep directory in the SQLite file: the `rep_tokens` table (the `reps` table of the work
//! queue holds availability and round-robin turns, for every name that ever owned a lead).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{ActivityKind, Role};
use rusqlite::Row;

use super::queue::set_owner;
use super::rows::{micros, time_from};
use super::{Inner, SqliteStore, internal, lead_by_id, next_stamp};
use crate::store::StoreError;
use crate::store::reps::{RepDirectory, Rotation, StoredRep};

/// The schema of this module, appended to the store's migrations.
pub(super) const MIGRATION: &str = r#"
    CREATE TABLE rep_tokens (
        name                 TEXT PRIMARY KEY,
        role                 TEXT NOT NULL CHECK (role IN ('rep','manager','admin')),
        token_hash           TEXT NOT NULL UNIQUE,
        previous_token_hash  TEXT,
        previous_valid_until INTEGER,
        created_at           INTEGER NOT NULL,
        last_used_at         INTEGER
    );
"#;

const COLUMNS: &str = "name, role, token_hash, previous_token_hash, previous_valid_until, \
                       created_at, last_used_at";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<StoredRep> {
    let role: String = row.get("role")?;
    Ok(StoredRep {
        name: row.get("name")?,
        role: role
            .parse()
            .map_err(|e: leadhook_shared::access::UnknownRole| {
                rusqlite::Error::FromSqlConversionFailure(
                    1,
                    rusqlite::types::Type::Text,
                    e.to_string().into(),
                )
            })?,
        token_hash: row.get("token_hash")?,
        previous_token_hash: row.get("previous_token_hash")?,
        previous_valid_until: row
            .get::<_, Option<i64>>("previous_valid_until")?
            .map(time_from),
        created_at: time_from(row.get("created_at")?),
        last_used_at: row.get::<_, Option<i64>>("last_used_at")?.map(time_from),
    })
}

impl SqliteStore {
    /// Runs one statement on the rep named first in `params`; whether it changed a row.
    async fn change_rep<P>(&self, sql: &'static str, params: P) -> Result<bool, StoreError>
    where
        P: rusqlite::Params + Send + 'static,
    {
        self.with(move |inner| Ok(inner.conn.execute(sql, params).map_err(internal)? == 1))
            .await
    }
}

#[async_trait]
impl RepDirectory for SqliteStore {
    async fn list_reps(&self) -> Result<Vec<StoredRep>, StoreError> {
        self.with(|inner| {
            let mut statement = inner
                .conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM rep_tokens ORDER BY created_at, name"
                ))
                .map_err(internal)?;
            let rows = statement
                .query_map([], record_from_row)
                .map_err(internal)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(internal)?;
            Ok(rows)
        })
        .await
    }

    async fn add_rep(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.change_rep(
            "INSERT INTO rep_tokens (name, role, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING",
            (
                name.to_string(),
                role.as_str(),
                token_hash.to_string(),
                micros(at),
            ),
        )
        .await
    }

    async fn rotate_rep(&self, name: &str, rotation: Rotation<'_>) -> Result<bool, StoreError> {
        self.change_rep(
            "UPDATE rep_tokens SET
                 previous_token_hash = CASE WHEN ?3 IS NULL THEN NULL ELSE token_hash END,
                 previous_valid_until = ?3, token_hash = ?2
             WHERE name = ?1",
            (
                name.to_string(),
                rotation.token_hash.to_string(),
                rotation.previous_valid_until.map(micros),
            ),
        )
        .await
    }

    async fn set_rep_role(&self, name: &str, role: Role) -> Result<bool, StoreError> {
        self.change_rep(
            "UPDATE rep_tokens SET role = ?2 WHERE name = ?1",
            (name.to_string(), role.as_str()),
        )
        .await
    }

    async fn remove_rep(&self, name: &str, actor: &str) -> Result<Option<u64>, StoreError> {
        let (name, actor) = (name.to_string(), actor.to_string());
        self.with(move |inner| {
            let Inner {
                conn,
                last_change_micros,
            } = inner;
            let tx = conn.transaction().map_err(internal)?;
            let removed = tx
                .execute("DELETE FROM rep_tokens WHERE name = ?1", [&name])
                .map_err(internal)?;
            if removed == 0 {
                return Ok(None);
            }
            // The rep's phone is no longer theirs to be paged on.
            tx.execute(
                "UPDATE reps SET ntfy_topic = NULL, quiet_start = NULL, quiet_end = NULL
                  WHERE name = ?1",
                [&name],
            )
            .map_err(internal)?;
            let open: Vec<i64> = tx
                .prepare(
                    "SELECT id FROM leads WHERE owner = ?1 AND erased_at IS NULL
                     AND status NOT IN ('Won', 'Lost', 'Unqualified') ORDER BY id",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map([&name], |row| row.get(0))?
                        .collect::<Result<Vec<i64>, _>>()
                })
                .map_err(internal)?;
            for &id in &open {
                let before = lead_by_id(&tx, id)?
                    .ok_or_else(|| StoreError::Internal(format!("lead {id} vanished")))?;
                let stamp = next_stamp(last_change_micros);
                set_owner(&tx, &before, None, ActivityKind::Release, &actor, stamp)?;
            }
            tx.commit().map_err(internal)?;
            Ok(Some(open.len() as u64))
        })
        .await
    }

    async fn touch_rep(&self, name: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.change_rep(
            "UPDATE rep_tokens SET last_used_at = ?2 WHERE name = ?1",
            (name.to_string(), micros(at)),
        )
        .await
        .map(drop)
    }
}
