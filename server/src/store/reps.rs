//! The reps the store knows, with their roles and the SHA-256 of their tokens
//! (`leadhook-server reps ...`). The server reads them into [`crate::reps::RepCache`] every few
//! seconds, so a change reaches every replica without a restart. Tokens themselves are never
//! stored.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::Role;
use serde::{Deserialize, Serialize};

use super::StoreError;

/// One rep as the store holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRep {
    pub name: String,
    pub role: Role,
    /// SHA-256 (hex) of the current token.
    pub token_hash: String,
    /// SHA-256 of the token before the last rotation, accepted until `previous_valid_until`.
    pub previous_token_hash: Option<String>,
    pub previous_valid_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Written at most once a minute per server (see [`crate::reps::RepCache`]).
    pub last_used_at: Option<DateTime<Utc>>,
}

impl StoredRep {
    /// Whether the token hashing to `hash` lets this rep in at `now`.
    pub fn accepts(&self, hash: &str, now: DateTime<Utc>) -> bool {
        self.token_hash == hash
            || (self.previous_token_hash.as_deref() == Some(hash)
                && self.previous_valid_until.is_some_and(|until| now < until))
    }
}

/// A token rotation: the new token's hash, and until when the old one still works (`None`: not
/// at all).
#[derive(Debug, Clone, Copy)]
pub struct Rotation<'a> {
    pub token_hash: &'a str,
    pub previous_valid_until: Option<DateTime<Utc>>,
}

/// The reps and their tokens: read by the server's [`crate::reps::RepCache`], changed by
/// `leadhook-server reps`. Each change that names a rep answers `false` (or `None`) when no rep
/// has that name.
#[async_trait]
pub trait RepDirectory: Send + Sync {
    /// Every rep, oldest first.
    async fn list_reps(&self) -> Result<Vec<StoredRep>, StoreError>;

    /// Adds a rep created `at`; `false` when the name is taken.
    async fn add_rep(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    async fn rotate_rep(&self, name: &str, rotation: Rotation<'_>) -> Result<bool, StoreError>;

    async fn set_rep_role(&self, name: &str, role: Role) -> Result<bool, StoreError>;

    /// Removes the rep and returns their open leads (not `Won`, `Lost` or `Unqualified`, not
    /// erased) to the unowned queue, recorded as releases by `actor`, in one transaction. The
    /// number of leads released; `None` when no rep has that name. Lead histories keep the name.
    async fn remove_rep(&self, name: &str, actor: &str) -> Result<Option<u64>, StoreError>;

    /// Records that the rep used a token at `at`.
    async fn touch_rep(&self, name: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
}
