//! Normalised phones in the Supabase store (see [`crate::store::PhoneBackfill`]). The write is
//! one call of `store_read_phones` (migrations/20261207150000_phone_e164.sql) per batch; the
//! triggers leave `updated_at` and the history alone for these columns.

use async_trait::async_trait;

use super::{PostgrestStore, to_json};
use crate::store::{PhoneBackfill, PhoneWrites, ReadPhone, StoreError, UnreadPhone};

/// `public.store_read_phones(phones)`.
const STORE_FUNCTION: &str = "store_read_phones";

#[async_trait]
impl PhoneBackfill for PostgrestStore {
    async fn unread_phones(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<UnreadPhone>, StoreError> {
        let unread = self
            .table()
            .select("id,phone,page_id")
            .gt("id", after_id.to_string())
            .not("is", "phone", "null")
            .is("phone_e164", "null")
            .eq("phone_invalid", "false")
            .is("erased_at", "null")
            .order("id.asc")
            .limit(limit as usize);
        self.call(unread).await?.json()
    }
}

#[async_trait]
impl PhoneWrites for PostgrestStore {
    async fn store_read_phones(&self, phones: &[ReadPhone]) -> Result<(), StoreError> {
        if phones.is_empty() {
            return Ok(());
        }
        let args = format!("{{\"phones\":{}}}", to_json(&phones)?);
        self.call(self.client.rpc(STORE_FUNCTION, args)).await?;
        Ok(())
    }
}
