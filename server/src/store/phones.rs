//! The normalised phone of leads stored before it existed: the backfill
//! ([`crate::phones::backfill`]) reads the leads whose phone was never read, in id order, and
//! writes back what libphonenumber made of it. These writes are derived values, not changes: they
//! neither move the change cursor nor write history (both stores), so dashboards pick them up on
//! their next full load.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;

/// A lead whose phone has not been read yet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UnreadPhone {
    pub id: i64,
    pub phone: String,
    pub page_id: Option<String>,
}

/// What the backfill read from a lead's `phone`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadPhone {
    pub id: i64,
    /// The raw phone as read: the write is skipped if it changed since.
    pub phone: String,
    pub phone_e164: Option<String>,
    pub phone_invalid: bool,
}

#[async_trait]
pub trait PhoneBackfill: Send + Sync {
    /// Leads with an id above `after_id`, not erased, with a phone that was never read (no E.164
    /// and not marked invalid); lowest id first, at most `limit`.
    async fn unread_phones(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<UnreadPhone>, StoreError>;
}

/// The backfill's write, part of [`super::LeadWrites`]: the server makes it through
/// [`crate::writer::LeadWriter`] like every other.
#[async_trait]
pub trait PhoneWrites: Send + Sync {
    /// Stores each lead's normalised phone, where the lead still has that raw phone and is not
    /// erased.
    async fn store_read_phones(&self, phones: &[ReadPhone]) -> Result<(), StoreError>;
}
