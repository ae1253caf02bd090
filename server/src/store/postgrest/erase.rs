//! Erasure in the Supabase store (see [`crate::store::erase`]): one SQL function erases a lead
//! and its activity values in one transaction; the `leads_keep_erased` trigger keeps an erased row
//! erased when an upsert of the same `leadgen_id` merges into it.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use serde::Deserialize;

use super::PostgrestStore;
use super::query::{quoted, timestamp};
use crate::store::{ERASE_BATCH, Erasure, ErasureTargets, Person, StoreError};

/// `public.erase_lead(target_lead, actor, reason)` (20261207100000_erase_reason.sql).
const ERASE_FUNCTION: &str = "erase_lead";
/// `public.take_retention_run(run_at)`.
const RETENTION_FUNCTION: &str = "take_retention_run";

#[derive(Deserialize)]
struct IdRow {
    id: i64,
}

impl PostgrestStore {
    async fn ids(&self, builder: postgrest::Builder) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<IdRow> = self.call(builder).await?.json()?;
        Ok(rows.into_iter().map(|row| row.id).collect())
    }
}

fn batch() -> usize {
    usize::try_from(ERASE_BATCH).unwrap_or(1000)
}

#[async_trait]
impl Erasure for PostgrestStore {
    async fn erase(
        &self,
        id: i64,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Option<Lead>, StoreError> {
        let args = serde_json::json!({ "target_lead": id, "actor": actor, "reason": reason });
        let rows: Vec<Lead> = self
            .call(self.client.rpc(ERASE_FUNCTION, args.to_string()))
            .await?
            .json()?;
        Ok(rows.into_iter().next())
    }
}

#[async_trait]
impl ErasureTargets for PostgrestStore {
    async fn leads_of(&self, person: &Person) -> Result<Vec<i64>, StoreError> {
        let filtered = self
            .table()
            .select("id")
            // In a logic tree the quoted value is taken literally, whatever it holds.
            .or(format!("{}.eq.{}", person.column(), quoted(person.value())))
            .is("erased_at", "null")
            .order("id")
            .range(0, batch() - 1);
        self.ids(filtered).await
    }

    async fn older_than(&self, cutoff: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
        let filtered = self
            .table()
            .select("id")
            .lt("created_at", timestamp(cutoff))
            .is("erased_at", "null")
            .order("created_at,id")
            .range(0, batch() - 1);
        self.ids(filtered).await
    }

    async fn take_retention_run(&self, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let args = serde_json::json!({ "run_at": timestamp(now) });
        self.call(self.client.rpc(RETENTION_FUNCTION, args.to_string()))
            .await?
            .json()
    }
}
