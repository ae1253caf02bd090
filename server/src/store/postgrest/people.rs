//! People and junk in the Supabase store (see [`crate::store::people`]): linking happens in the
//! insert (trigger `leads_link`); a rep's merge, unlink and junk clearing, and the triage
//! backfill's write, are one SQL function each (migrations/20261207160000_people.sql), so each
//! is one transaction under the routing lock.

use async_trait::async_trait;
use leadhook_shared::Lead;
use serde::Serialize;

use super::query::EVERY_COLUMN;
use super::{PostgrestStore, to_json};
use crate::store::{
    People, Relinked, Routing, StoreError, TriageBackfill, TriageWrites, Triaged, Untriaged,
};

impl PostgrestStore {
    /// Calls the SQL function `name` that answers leads, `target` first; `None` when it answered
    /// none.
    async fn relinking(
        &self,
        name: &str,
        args: &impl Serialize,
        target: i64,
    ) -> Result<Option<Relinked>, StoreError> {
        let call = self.client.rpc(name, to_json(args)?).select(EVERY_COLUMN);
        let mut leads: Vec<Lead> = self.call(call).await?.json()?;
        let Some(position) = leads.iter().position(|lead| lead.id == target) else {
            return Ok(None);
        };
        let lead = leads.remove(position);
        Ok(Some(Relinked { lead, moved: leads }))
    }
}

#[async_trait]
impl People for PostgrestStore {
    async fn merge(
        &self,
        id: i64,
        same_as: i64,
        rep: &str,
    ) -> Result<Option<Relinked>, StoreError> {
        let args = serde_json::json!({"target_lead": id, "same_as": same_as, "actor": rep});
        match self.relinking("merge_leads", &args, id).await? {
            Some(merged) => Ok(Some(merged)),
            // Nothing merged: a lead is missing, or erased (refused as such).
            None => {
                let (Some(_), Some(_)) =
                    (self.unchanged(id).await?, self.unchanged(same_as).await?)
                else {
                    return Ok(None);
                };
                Err(StoreError::Internal(format!(
                    "merge_leads changed nothing for leads {id} and {same_as}"
                )))
            }
        }
    }

    async fn unlink(&self, id: i64, rep: &str) -> Result<Option<Relinked>, StoreError> {
        let args = serde_json::json!({"target_lead": id, "actor": rep});
        self.relinking("unlink_lead", &args, id).await
    }

    async fn clear_junk(
        &self,
        id: i64,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Option<Lead>, StoreError> {
        let args = serde_json::json!({
            "target_lead": id,
            "actor": rep,
            "route_to": routing.turns(),
            "repeat_window": routing.repeat_window.num_seconds().max(0),
        });
        Ok(self
            .relinking("clear_junk", &args, id)
            .await?
            .map(|cleared| cleared.lead))
    }
}

#[async_trait]
impl TriageBackfill for PostgrestStore {
    async fn untriaged(&self, after_id: i64, limit: u32) -> Result<Vec<Untriaged>, StoreError> {
        let untriaged = self
            .table()
            .select("id,name,email,phone,page_id,is_manual,fields")
            .gt("id", after_id.to_string())
            .eq("triaged", "false")
            .is("erased_at", "null")
            .order("id.asc")
            .limit(limit as usize);
        self.call(untriaged).await?.json()
    }
}

#[async_trait]
impl TriageWrites for PostgrestStore {
    async fn store_triage(
        &self,
        leads: &[Triaged],
        repeat_window: chrono::Duration,
    ) -> Result<(), StoreError> {
        if leads.is_empty() {
            return Ok(());
        }
        let args = format!(
            "{{\"leads\":{},\"repeat_window\":{}}}",
            to_json(&leads)?,
            repeat_window.num_seconds().max(0)
        );
        self.call(self.client.rpc("store_triage", args)).await?;
        Ok(())
    }
}
