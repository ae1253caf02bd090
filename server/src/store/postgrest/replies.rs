//! [`ReplyRouting`] on Supabase: one filtered read of `leads`.

use async_trait::async_trait;
use serde::Deserialize;

use super::PostgrestStore;
use super::query::TABLE;
use crate::store::StoreError;
use crate::store::replies::ReplyRouting;

#[derive(Deserialize)]
struct IdRow {
    id: i64,
}

#[async_trait]
impl ReplyRouting for PostgrestStore {
    async fn newest_lead_of_phone(&self, e164: &str) -> Result<Option<i64>, StoreError> {
        let rows: Vec<IdRow> = self
            .call(
                self.client
                    .from(TABLE)
                    .select("id")
                    .eq("phone_e164", e164)
                    .is("erased_at", "null")
                    .order("id.desc")
                    .limit(1),
            )
            .await?
            .json()?;
        Ok(rows.into_iter().next().map(|row| row.id))
    }
}
