//! Where a person's message belongs when no message went to their number on that channel yet:
//! the newest lead with their phone.

use async_trait::async_trait;

use super::StoreError;

/// Finding a lead by the phone a message came from (held by [`crate::replies::Replies`]).
#[async_trait]
pub trait ReplyRouting: Send + Sync {
    /// The newest lead, not erased, whose normalised phone (`phone_e164`) is `e164`.
    async fn newest_lead_of_phone(&self, e164: &str) -> Result<Option<i64>, StoreError>;
}
