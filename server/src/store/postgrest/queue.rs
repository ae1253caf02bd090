//! The work queue in the Supabase store. Owner changes are conditional PATCHes (PostgreSQL
//! re-checks the filter on the locked row, so of concurrent claims one matches); activity rows are
//! written by the `leads_record_activity` trigger in the same transaction as the change, from the
//! `changed_by` and `owner_change` the request sends; the round-robin turn is one SQL function.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{Activity, ActivityKind, Lead, LeadStatus};
use postgrest::Builder;
use serde::{Deserialize, Serialize};

use super::query::{EVERY_COLUMN, timestamp};
use super::{PostgrestStore, Written, to_json};
use crate::store::{
    Claim, LeadReader, QueueFigures, QueueReads, QueueWrites, StatsWindow, StoreError,
};

/// `public.lead_queue_figures(week_start, at_time)`.
const FIGURES_FUNCTION: &str = "lead_queue_figures";
/// `public.record_exports(lead_ids, exported_by)`.
const EXPORTS_FUNCTION: &str = "record_exports";
const ACTIVITY_TABLE: &str = "activity";
pub(super) const REPS_TABLE: &str = "reps";
/// Rows one request reads; Supabase caps answers at 1000.
const PAGE_ROWS: usize = 1000;
/// A claim that keeps meeting an owner who leaves again gives up after this many tries.
const CLAIM_ATTEMPTS: usize = 3;

#[derive(Serialize)]
struct OwnerColumn<'a> {
    owner: Option<&'a str>,
}

#[derive(Serialize)]
struct EscalationColumns {
    escalated_level: u8,
    escalated_at: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct RepRow {
    name: String,
    available: bool,
}

#[derive(Serialize, Deserialize)]
struct RepTimeZone {
    name: String,
    time_zone: Option<String>,
}

impl PostgrestStore {
    /// PATCHes the leads `filtered` selects; the changed row, or `None` when none matched.
    pub(super) async fn patch_lead<T: Serialize>(
        &self,
        filtered: Builder,
        body: &T,
    ) -> Result<Option<Lead>, StoreError> {
        let rows: Vec<Lead> = self
            .call(filtered.select(EVERY_COLUMN).update(to_json(body)?))
            .await?
            .json()?;
        Ok(rows.into_iter().next())
    }

    /// Writes the columns `row` holds of a rep's row, adding the row when it is the first; the
    /// rep's other columns stay as they are.
    pub(super) async fn upsert_rep<T: Serialize>(&self, row: &T) -> Result<(), StoreError> {
        let body = to_json(row)?;
        self.call(
            self.client
                .from(REPS_TABLE)
                .on_conflict("name")
                .upsert(body),
        )
        .await?;
        Ok(())
    }

    fn lead_filter(&self, id: i64) -> Builder {
        self.table().eq("id", id.to_string())
    }

    fn change_owner<'a>(
        owner: Option<&'a str>,
        kind: ActivityKind,
        actor: &'a str,
    ) -> Written<'a, OwnerColumn<'a>> {
        Written {
            row: OwnerColumn { owner },
            changed_by: actor,
            owner_change: Some(kind),
        }
    }
}

#[async_trait]
impl QueueWrites for PostgrestStore {
    async fn claim(&self, id: i64, rep: &str) -> Result<Claim, StoreError> {
        let body = Self::change_owner(Some(rep), ActivityKind::Claim, rep);
        for _ in 0..CLAIM_ATTEMPTS {
            let unowned = self.lead_filter(id).is("owner", "null");
            if let Some(lead) = self.patch_lead(unowned, &body).await? {
                return Ok(Claim::Claimed(Box::new(lead)));
            }
            match self.get(id).await? {
                None => return Ok(Claim::NotFound),
                Some(lead) => match lead.owner {
                    Some(ref owner) if owner == rep => return Ok(Claim::Claimed(Box::new(lead))),
                    Some(owner) => return Ok(Claim::Taken { owner }),
                    // Released between the two requests: try again.
                    None => continue,
                },
            }
        }
        Err(StoreError::Unavailable(format!(
            "lead {id} kept changing owner while it was being claimed; try again"
        )))
    }

    async fn release(&self, id: i64, rep: &str) -> Result<Option<Lead>, StoreError> {
        let body = Self::change_owner(None, ActivityKind::Release, rep);
        self.patch_lead(self.lead_filter(id), &body).await
    }

    async fn record_exports(&self, ids: &[i64], actor: &str) -> Result<(), StoreError> {
        let args = serde_json::json!({ "lead_ids": ids, "exported_by": actor });
        self.call(self.client.rpc(EXPORTS_FUNCTION, args.to_string()))
            .await?;
        Ok(())
    }

    async fn set_available(&self, rep: &str, available: bool) -> Result<(), StoreError> {
        self.upsert_rep(&RepRow {
            name: rep.to_string(),
            available,
        })
        .await
    }

    async fn set_time_zone(&self, rep: &str, zone: &str) -> Result<(), StoreError> {
        self.upsert_rep(&RepTimeZone {
            name: rep.to_string(),
            time_zone: Some(zone.to_string()),
        })
        .await
    }

    async fn take_escalation(
        &self,
        id: i64,
        level: u8,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let still_waiting = self
            .lead_filter(id)
            .eq("status", LeadStatus::NewLead.as_str())
            .lt("escalated_level", level.to_string())
            .or("junk_reason.is.null,junk_cleared_at.not.is.null");
        let taken = self
            .patch_lead(
                still_waiting,
                &EscalationColumns {
                    escalated_level: level,
                    escalated_at: at,
                },
            )
            .await?;
        Ok(taken.is_some())
    }
}

#[async_trait]
impl QueueReads for PostgrestStore {
    async fn availability(&self) -> Result<HashMap<String, bool>, StoreError> {
        let mut availability = HashMap::new();
        loop {
            let rows: Vec<RepRow> = self
                .call(
                    self.client
                        .from(REPS_TABLE)
                        .select("name,available")
                        .order("name.asc")
                        .range(availability.len(), availability.len() + PAGE_ROWS - 1),
                )
                .await?
                .json()?;
            let full_page = rows.len() == PAGE_ROWS;
            availability.extend(rows.into_iter().map(|row| (row.name, row.available)));
            if !full_page {
                return Ok(availability);
            }
        }
    }

    async fn activity(&self, id: i64) -> Result<Option<Vec<Activity>>, StoreError> {
        let mut history: Vec<Activity> = Vec::new();
        loop {
            let rows: Vec<Activity> = self
                .call(
                    self.client
                        .from(ACTIVITY_TABLE)
                        .select("id,lead_id,at,actor,kind,old,new")
                        .eq("lead_id", id.to_string())
                        .order("id.asc")
                        .range(history.len(), history.len() + PAGE_ROWS - 1),
                )
                .await?
                .json()?;
            let full_page = rows.len() == PAGE_ROWS;
            history.extend(rows);
            if !full_page {
                break;
            }
        }
        if history.is_empty() && self.get(id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(history))
    }

    async fn time_zone(&self, rep: &str) -> Result<Option<String>, StoreError> {
        let rows: Vec<RepTimeZone> = self
            .call(
                self.client
                    .from(REPS_TABLE)
                    .select("name,time_zone")
                    .eq("name", rep),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().next().and_then(|row| row.time_zone))
    }

    async fn erasures_since(
        &self,
        actor: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        #[derive(Deserialize)]
        struct At {
            at: DateTime<Utc>,
        }
        let erasures = self
            .client
            .from(ACTIVITY_TABLE)
            .select("at")
            .eq("kind", ActivityKind::Erase.as_str())
            .eq("actor", actor)
            .gt("at", timestamp(since));
        let rows: Vec<At> = self
            .call(
                erasures
                    .order("at.asc")
                    .limit(usize::try_from(limit).unwrap_or(PAGE_ROWS).min(PAGE_ROWS)),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().map(|row| row.at).collect())
    }

    async fn queue_figures(&self, window: StatsWindow) -> Result<QueueFigures, StoreError> {
        let args = serde_json::json!({
            "week_start": timestamp(window.week_start),
            "at_time": timestamp(window.now),
        });
        self.call(self.client.rpc(FIGURES_FUNCTION, args.to_string()))
            .await?
            .json()
    }
}
