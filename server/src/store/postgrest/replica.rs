//! Leases and sweep positions in Supabase: the `leases` and `sweep_positions` tables of
//! `migrations/20261130110000_replicas.sql`. A lease changes hands only through a conditional
//! `PATCH` (the condition is part of the `UPDATE`'s `WHERE`, so two servers cannot both win), or
//! the `INSERT` that creates it, which the primary key lets only one server make.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;

use super::query::{quoted, timestamp};
use super::{PostgrestStore, to_json};
use crate::store::StoreError;
use crate::store::replica::{LeaseCondition, LeaseRow, LeaseUpdate, Leases, SweepPositions};

const LEASES: &str = "leases";
const LEASE_COLUMNS: &str = "name,holder,expires_at";
const SWEEP_POSITIONS: &str = "sweep_positions";
/// PostgREST's answer to an insert that breaks a unique constraint.

#[derive(Deserialize)]
struct PositionRow {
    form_id: String,
    newest_created_at: i64,
}

#[async_trait]
impl Leases for PostgrestStore {
    async fn update_lease(
        &self,
        name: &str,
        condition: LeaseCondition<'_>,
        update: LeaseUpdate<'_>,
    ) -> Result<bool, StoreError> {
        let row = json!({
            "name": name,
            "holder": update.holder,
            "expires_at": timestamp(update.expires_at),
        });
        let mut patch = self.client.from(LEASES).eq("name", name);
        patch = match condition {
            LeaseCondition::Expired { now } => patch.lt("expires_at", timestamp(now)),
            LeaseCondition::Free { holder, now } => patch.or(format!(
                "holder.is.null,holder.eq.{},expires_at.lt.{}",
                quoted(holder),
                timestamp(now)
            )),
            LeaseCondition::HeldBy { holder } => patch.eq("holder", holder),
        };
        // PostgREST 12 applies an `or` filter of a PATCH to the returned columns as well, so
        // they must include every column the filter names.
        let changed: Vec<serde_json::Value> = self
            .call(patch.select(LEASE_COLUMNS).update(to_json(&row)?))
            .await?
            .json()?;
        if !changed.is_empty() {
            return Ok(true);
        }
        if matches!(condition, LeaseCondition::HeldBy { .. }) {
            return Ok(false);
        }
        // Nothing matched: the lease is taken, or does not exist yet. Creating it settles which.
        self.insert_new(LEASES, "name", &row).await
    }

    async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, StoreError> {
        let rows: Vec<LeaseRow> = self
            .call(
                self.client
                    .from(LEASES)
                    .select(LEASE_COLUMNS)
                    .eq("name", name),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().next())
    }
}

#[async_trait]
impl SweepPositions for PostgrestStore {
    async fn sweep_positions(&self) -> Result<HashMap<String, i64>, StoreError> {
        let rows: Vec<PositionRow> = self
            .call(
                self.client
                    .from(SWEEP_POSITIONS)
                    .select("form_id,newest_created_at"),
            )
            .await?
            .json()?;
        Ok(rows
            .into_iter()
            .map(|row| (row.form_id, row.newest_created_at))
            .collect())
    }

    async fn save_sweep_position(&self, form_id: &str, newest: i64) -> Result<(), StoreError> {
        let row = json!({ "form_id": form_id, "newest_created_at": newest });
        self.call(
            self.client
                .from(SWEEP_POSITIONS)
                .on_conflict("form_id")
                .select("form_id")
                .upsert(to_json(&row)?),
        )
        .await?;
        Ok(())
    }
}
