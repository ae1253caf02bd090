//! Follow-ups in the Supabase store. Setting a next step is a conditional PATCH whose history row
//! the `leads_record_activity` trigger writes; an attempt is one SQL function that counts it,
//! records it and schedules the next step together (migrations/20261207130000_follow_ups.sql).

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use leadhook_shared::{Lead, NewAttempt, NextStep};
use serde::Serialize;

use super::query::{EVERY_COLUMN, timestamp};
use super::{PostgrestStore, Written};
use crate::store::{FollowUps, LeadReader, StoreError};

/// `public.record_attempt(target_lead, actor, history, schedule_at, schedule_what)`.
const ATTEMPT_FUNCTION: &str = "record_attempt";

/// Cut to the microsecond as the SQLite store does; PostgreSQL would round instead.
fn at_store_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}

#[derive(Serialize)]
struct ReminderColumn {
    reminded_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct NextStepColumns<'a> {
    next_step_at: Option<DateTime<Utc>>,
    next_step_what: Option<&'a str>,
}

impl PostgrestStore {
    /// `id`'s lead, or the error for an erased one: what a write that matched no live lead means.
    pub(super) async fn unchanged(&self, id: i64) -> Result<Option<Lead>, StoreError> {
        match self.get(id).await? {
            Some(lead) if lead.erased_at.is_some() => Err(StoreError::Erased { id }),
            found => Ok(found),
        }
    }
}

#[async_trait]
impl FollowUps for PostgrestStore {
    async fn set_next_step(
        &self,
        id: i64,
        step: Option<&NextStep>,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError> {
        let body = Written {
            row: NextStepColumns {
                next_step_at: step.map(|step| at_store_precision(step.at)),
                next_step_what: step.map(|step| step.what.as_str()),
            },
            changed_by: rep,
            owner_change: None,
        };
        let live = self
            .table()
            .eq("id", id.to_string())
            .is("erased_at", "null");
        match self.patch_lead(live, &body).await? {
            Some(lead) => Ok(Some(lead)),
            None => self.unchanged(id).await,
        }
    }

    async fn record_attempt(
        &self,
        id: i64,
        attempt: &NewAttempt,
        rep: &str,
        schedule: Option<&[NextStep]>,
    ) -> Result<Option<Lead>, StoreError> {
        let args = serde_json::json!({
            "target_lead": id,
            "actor": rep,
            "history": attempt.outcome.history_text(attempt.note.as_deref()),
            "schedule_at": schedule.map(|steps| steps.iter().map(|step| at_store_precision(step.at)).collect::<Vec<_>>()),
            "schedule_what": schedule.map(|steps| steps.iter().map(|step| step.what.as_str()).collect::<Vec<_>>()),
        });
        let rows: Vec<Lead> = self
            .call(
                self.client
                    .rpc(ATTEMPT_FUNCTION, args.to_string())
                    .select(EVERY_COLUMN),
            )
            .await?
            .json()?;
        match rows.into_iter().next() {
            Some(lead) => Ok(Some(lead)),
            None => self.unchanged(id).await,
        }
    }

    async fn take_reminder(
        &self,
        id: i64,
        step_at: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let still_due = self
            .table()
            .eq("id", id.to_string())
            .eq("next_step_at", timestamp(step_at))
            .is("reminded_at", "null")
            .is("erased_at", "null");
        let taken = self
            .patch_lead(still_due, &ReminderColumn { reminded_at: at })
            .await?;
        Ok(taken.is_some())
    }
}
