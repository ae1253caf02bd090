//! The Supabase end of `store copy`: bulk upserts of whole pages through PostgREST.
//!
//! Every request carries `X-Leadhook-Copy: history`, which the triggers of migration
//! `20261130130000_store_copy.sql` read to leave the copied rows as they are: no new stamps, no
//! invented activity, no Conversions API stage queued for old history.

use async_trait::async_trait;
use leadhook_shared::Activity;
use postgrest::{Builder, Postgrest};
use serde::de::DeserializeOwned;

use super::query::{EVERY_COLUMN, TABLE};
use super::{PostgrestStore, to_json};
use crate::store::copy::{CopyEnd, LeadKey, LeadRecord, Page, RepRecord};
use crate::store::{StoreError, StoredRep};

const ACTIVITY: &str = "activity";
const REPS: &str = "reps";
const BY_ID: &str = "id.asc";
/// Rows asked for per read; Supabase's row cap (`db-max-rows`) may cut a page shorter, so reads
/// continue until a page comes back empty.
const READ_PAGE: usize = 1000;

impl PostgrestStore {
    fn copying(&self) -> Postgrest {
        self.client
            .clone()
            .insert_header("X-Leadhook-Copy", "history")
    }

    /// Every row `query` selects, in id order, read page by page after the last id seen.
    async fn all_rows<T: DeserializeOwned>(
        &self,
        query: impl Fn() -> Builder,
        id_of: impl Fn(&T) -> i64,
    ) -> Result<Vec<T>, StoreError> {
        let mut rows: Vec<T> = Vec::new();
        loop {
            let mut builder = query().order(BY_ID).limit(READ_PAGE);
            if let Some(last) = rows.last() {
                builder = builder.gt("id", id_of(last).to_string());
            }
            let page: Vec<T> = self.call(builder).await?.json()?;
            if page.is_empty() {
                return Ok(rows);
            }
            rows.extend(page);
        }
    }

    async fn upsert_rows<T: serde::Serialize>(
        &self,
        table: &str,
        rows: &[T],
        key: &str,
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        self.call(
            self.copying()
                .from(table)
                .upsert(to_json(&rows)?)
                .on_conflict(key),
        )
        .await?;
        Ok(())
    }
}

/// A lead as its table row: the next step in its two columns, as `next_step` is a computed field
/// (read, never written).
fn lead_row(record: &LeadRecord) -> Result<serde_json::Value, StoreError> {
    let mut row =
        serde_json::to_value(record).map_err(|error| StoreError::Internal(error.to_string()))?;
    if let Some(columns) = row.as_object_mut() {
        columns.remove("next_step");
        let step = record.lead.next_step.as_ref();
        columns.insert(
            "next_step_at".into(),
            serde_json::json!(step.map(|step| step.at)),
        );
        columns.insert(
            "next_step_what".into(),
            serde_json::json!(step.map(|step| &step.what)),
        );
    }
    Ok(row)
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: i64,
}

#[async_trait]
impl CopyEnd for PostgrestStore {
    fn name(&self) -> &'static str {
        "supabase"
    }

    /// The copy's header must reach the database, and its migration must be applied: otherwise
    /// the triggers would restamp every copied lead and invent history for it.
    async fn check_ready(&self) -> Result<(), StoreError> {
        let missing = || StoreError::Misconfigured {
            message: "the Supabase schema lacks migration 20261130130000_store_copy.sql, which \
                      lets a copy keep timestamps and history as they were"
                .into(),
            fix: "apply the migrations (supabase db push, or leadhook-server migrate --print | \
                  psql \"$DATABASE_URL\"), then run the copy again"
                .into(),
        };
        let reply = self
            .send(self.copying().rpc("leadhook_copying", "{}"))
            .await?;
        if reply.status == 404 {
            return Err(missing());
        }
        let copying: bool = reply.success()?.json()?;
        if copying {
            Ok(())
        } else {
            Err(StoreError::Misconfigured {
                message: "the X-Leadhook-Copy request header does not reach the database".into(),
                fix: "let the header through any proxy in front of Supabase, or copy with \
                      SUPABASE_URL pointing at the project itself"
                    .into(),
            })
        }
    }

    async fn lead_keys(&self) -> Result<Vec<LeadKey>, StoreError> {
        self.all_rows(
            || self.client.from(TABLE).select("id,leadgen_id"),
            |key: &LeadKey| key.id,
        )
        .await
    }

    async fn activity_ids(&self) -> Result<Vec<i64>, StoreError> {
        let rows = self
            .all_rows(
                || self.client.from(ACTIVITY).select("id"),
                |row: &IdOnly| row.id,
            )
            .await?;
        Ok(rows.into_iter().map(|row| row.id).collect())
    }

    async fn read_page(&self, after_id: i64, limit: u32) -> Result<Page, StoreError> {
        let limit = usize::try_from(limit).unwrap_or(READ_PAGE);
        let mut leads: Vec<LeadRecord> = Vec::new();
        // A row cap below `limit` returns fewer rows: ask again until the page is full or done.
        while leads.len() < limit {
            let after = leads.last().map_or(after_id, |last| last.lead.id);
            let rows: Vec<LeadRecord> = self
                .call(
                    self.client
                        .from(TABLE)
                        .select(EVERY_COLUMN)
                        .gt("id", after.to_string())
                        .order(BY_ID)
                        .limit(limit - leads.len()),
                )
                .await?
                .json()?;
            if rows.is_empty() {
                break;
            }
            leads.extend(rows);
        }
        let (Some(first), Some(last)) = (leads.first(), leads.last()) else {
            return Ok(Page {
                leads,
                activity: Vec::new(),
            });
        };
        let (first, last) = (first.lead.id.to_string(), last.lead.id.to_string());
        let activity = self
            .all_rows(
                || {
                    self.client
                        .from(ACTIVITY)
                        .select("id,lead_id,at,actor,kind,old,new")
                        .gte("lead_id", &first)
                        .lte("lead_id", &last)
                },
                |row: &Activity| row.id,
            )
            .await?;
        Ok(Page { leads, activity })
    }

    async fn write_page(&self, page: &Page) -> Result<(), StoreError> {
        let leads = page
            .leads
            .iter()
            .map(lead_row)
            .collect::<Result<Vec<_>, _>>()?;
        self.upsert_rows(TABLE, &leads, "id").await?;
        self.upsert_rows(ACTIVITY, &page.activity, "id").await
    }

    async fn reps(&self) -> Result<Vec<RepRecord>, StoreError> {
        self.call(
            self.client
                .from(REPS)
                .select(
                    "name,available,last_assigned_at,time_zone,ntfy_topic,quiet_start,quiet_end",
                )
                .order("name.asc"),
        )
        .await?
        .json()
    }

    async fn write_reps(&self, reps: &[RepRecord]) -> Result<(), StoreError> {
        self.upsert_rows(REPS, reps, "name").await
    }

    async fn write_stored_reps(&self, reps: &[StoredRep]) -> Result<(), StoreError> {
        self.upsert_rows("rep_tokens", reps, "name").await
    }

    async fn finish(&self) -> Result<(), StoreError> {
        self.call(self.copying().rpc("leadhook_copy_finished", "{}"))
            .await?;
        Ok(())
    }
}
