//! A rep's own paging settings in the store (ntfy topic, quiet hours), beside the availability
//! and time zone the work queue already keeps for them, so every replica pages the same way.
//! Read by the outbox's ntfy sender and `GET /api/reps/me`; written by `PUT /api/reps/me`
//! through [`crate::writer::LeadWriter`].

use async_trait::async_trait;
use leadhook_shared::QuietHours;

use super::StoreError;

/// What paging a rep needs to know about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepPaging {
    /// Away reps are not paged, except for escalations.
    pub available: bool,
    /// The IANA zone the quiet hours are read in (`None`: UTC).
    pub time_zone: Option<String>,
    pub ntfy_topic: Option<String>,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for RepPaging {
    /// A rep the store has no row for: available, nothing set.
    fn default() -> RepPaging {
        RepPaging {
            available: true,
            time_zone: None,
            ntfy_topic: None,
            quiet_hours: None,
        }
    }
}

/// Reading a rep's paging settings. Part of [`super::LeadReader`].
#[async_trait]
pub trait PagingReads {
    async fn rep_paging(&self, rep: &str) -> Result<RepPaging, StoreError>;
}

/// Setting a rep's own ntfy topic and quiet hours, and using a claim link from a page. Part of
/// [`super::LeadWrites`].
#[async_trait]
pub trait PagingWrites {
    async fn set_rep_paging(
        &self,
        rep: &str,
        ntfy_topic: Option<&str>,
        quiet_hours: Option<QuietHours>,
    ) -> Result<(), StoreError>;

    /// Records that the claim link `nonce` (for `lead_id`, by `rep`) is used: `true` the first
    /// time, `false` ever after, whichever replica asks.
    async fn use_claim_link(
        &self,
        nonce: &str,
        lead_id: i64,
        rep: &str,
    ) -> Result<bool, StoreError>;
}
