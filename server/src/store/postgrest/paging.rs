//! A rep's paging settings in the Supabase store: columns of `public.reps`
//! (`20261207200000_paging.sql`), written by the same upsert as availability and time zone.

use async_trait::async_trait;
use leadhook_shared::QuietHours;
use serde::{Deserialize, Serialize};

use super::PostgrestStore;
use super::queue::REPS_TABLE;
use crate::store::{PagingReads, PagingWrites, RepPaging, StoreError};

/// The used claim links (`public.claim_links`).
const CLAIM_LINKS_TABLE: &str = "claim_links";

#[derive(Serialize)]
struct PagingColumns<'a> {
    name: &'a str,
    ntfy_topic: Option<&'a str>,
    quiet_start: Option<u16>,
    quiet_end: Option<u16>,
}

#[derive(Deserialize)]
struct PagingRow {
    available: bool,
    time_zone: Option<String>,
    ntfy_topic: Option<String>,
    quiet_start: Option<i64>,
    quiet_end: Option<i64>,
}

#[async_trait]
impl PagingReads for PostgrestStore {
    async fn rep_paging(&self, rep: &str) -> Result<RepPaging, StoreError> {
        let rows: Vec<PagingRow> = self
            .call(
                self.client
                    .from(REPS_TABLE)
                    .select("available,time_zone,ntfy_topic,quiet_start,quiet_end")
                    .eq("name", rep),
            )
            .await?
            .json()?;
        Ok(rows
            .into_iter()
            .next()
            .map(|row| RepPaging {
                available: row.available,
                time_zone: row.time_zone,
                ntfy_topic: row.ntfy_topic,
                quiet_hours: row
                    .quiet_start
                    .zip(row.quiet_end)
                    .and_then(|(start, end)| QuietHours::from_minutes(start, end)),
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl PagingWrites for PostgrestStore {
    async fn set_rep_paging(
        &self,
        rep: &str,
        ntfy_topic: Option<&str>,
        quiet_hours: Option<QuietHours>,
    ) -> Result<(), StoreError> {
        let (quiet_start, quiet_end) = quiet_hours.map(QuietHours::minutes).unzip();
        self.upsert_rep(&PagingColumns {
            name: rep,
            ntfy_topic,
            quiet_start,
            quiet_end,
        })
        .await
    }

    async fn use_claim_link(
        &self,
        nonce: &str,
        lead_id: i64,
        rep: &str,
    ) -> Result<bool, StoreError> {
        let row = serde_json::json!({ "nonce": nonce, "lead_id": lead_id, "rep": rep });
        self.insert_new(CLAIM_LINKS_TABLE, "nonce", &row).await
    }
}
