//! The rep directory in Supabase: the `rep_tokens` table and the `remove_rep` function of
//! `migrations/20261207120000_rep_tokens.sql`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Role;
use serde_json::json;

use super::{PostgrestStore, to_json};
use crate::store::StoreError;
use crate::store::reps::{RepDirectory, Rotation, StoredRep};

const TABLE: &str = "rep_tokens";
const COLUMNS: &str =
    "name,role,token_hash,previous_token_hash,previous_valid_until,created_at,last_used_at";
/// PostgREST's answer to an insert that breaks a unique constraint.
/// Rotations of one rep racing this one before it gives up.
const ROTATE_ATTEMPTS: usize = 5;

impl PostgrestStore {
    async fn rep(&self, name: &str) -> Result<Option<StoredRep>, StoreError> {
        let rows: Vec<StoredRep> = self
            .call(self.client.from(TABLE).select(COLUMNS).eq("name", name))
            .await?
            .json()?;
        Ok(rows.into_iter().next())
    }

    /// Patches the rep rows `filter` leaves; whether any matched.
    async fn patch_rep(
        &self,
        filter: postgrest::Builder,
        body: serde_json::Value,
    ) -> Result<bool, StoreError> {
        let changed: Vec<serde_json::Value> = self
            .call(filter.select("name").update(to_json(&body)?))
            .await?
            .json()?;
        Ok(!changed.is_empty())
    }
}

#[async_trait]
impl RepDirectory for PostgrestStore {
    async fn list_reps(&self) -> Result<Vec<StoredRep>, StoreError> {
        self.call(
            self.client
                .from(TABLE)
                .select(COLUMNS)
                .order("created_at.asc,name.asc"),
        )
        .await?
        .json()
    }

    async fn add_rep(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let row = json!({ "name": name, "role": role, "token_hash": token_hash, "created_at": at });
        self.insert_new(TABLE, "name", &row).await
    }

    async fn rotate_rep(&self, name: &str, rotation: Rotation<'_>) -> Result<bool, StoreError> {
        // The previous hash is the one read, so the update is conditional on it: a rotation that
        // raced this one makes it read again.
        for _ in 0..ROTATE_ATTEMPTS {
            let Some(current) = self.rep(name).await? else {
                return Ok(false);
            };
            let previous = rotation
                .previous_valid_until
                .map(|_| current.token_hash.as_str());
            let body = json!({
                "token_hash": rotation.token_hash,
                "previous_token_hash": previous,
                "previous_valid_until": rotation.previous_valid_until,
            });
            let unchanged = self
                .client
                .from(TABLE)
                .eq("name", name)
                .eq("token_hash", &current.token_hash);
            if self.patch_rep(unchanged, body).await? {
                return Ok(true);
            }
        }
        Err(StoreError::Unavailable(format!(
            "the token of {name} kept changing while it was being rotated; try again"
        )))
    }

    async fn set_rep_role(&self, name: &str, role: Role) -> Result<bool, StoreError> {
        self.patch_rep(
            self.client.from(TABLE).eq("name", name),
            json!({ "role": role }),
        )
        .await
    }

    async fn remove_rep(&self, name: &str, actor: &str) -> Result<Option<u64>, StoreError> {
        let args = json!({ "rep_name": name, "actor": actor });
        self.call(self.client.rpc("remove_rep", args.to_string()))
            .await?
            .json()
    }

    async fn touch_rep(&self, name: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.patch_rep(
            self.client.from(TABLE).eq("name", name),
            json!({ "last_used_at": at }),
        )
        .await
        .map(drop)
    }
}
