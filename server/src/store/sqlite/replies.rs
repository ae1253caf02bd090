//! [`ReplyRouting`] on SQLite: the partial index `leads_phone_e164` answers it.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, internal};
use crate::store::StoreError;
use crate::store::replies::ReplyRouting;

#[async_trait]
impl ReplyRouting for SqliteStore {
    async fn newest_lead_of_phone(&self, e164: &str) -> Result<Option<i64>, StoreError> {
        let e164 = e164.to_string();
        self.read(move |conn| {
            conn.query_row(
                "SELECT id FROM leads WHERE phone_e164 = ?1 AND erased_at IS NULL
                  ORDER BY id DESC LIMIT 1",
                params![e164],
                |row| row.get(0),
            )
            .optional()
            .map_err(internal)
        })
        .await
    }
}
