//! The Conversions API's switch in the Supabase store (`capi_set_switch`); its stages are
//! deliveries of the outbox (`outbox.rs`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::PostgrestStore;
use super::query::timestamp;
use crate::store::{CapiOutbox, StoreError};

#[async_trait]
impl CapiOutbox for PostgrestStore {
    async fn capi_switch(
        &self,
        enabled: bool,
        backfill_since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let args = json!({"turn_on": enabled, "backfill_since": timestamp(backfill_since)});
        self.call(self.client.rpc("capi_set_switch", args.to_string()))
            .await?
            .json()
    }
}
