//! One person, one lead: a new lead whose phone (E.164) or e-mail key matches a lead of the last
//! [`Routing::repeat_window`](super::Routing) is linked to that lead's person as a repeat, and
//! takes the person's owner instead of a round-robin turn. The store decides it inside the insert
//! (same transaction on SQLite, the `leads_link` trigger on Supabase, under a lock per phone and
//! e-mail), so two submissions arriving at once on two replicas are still linked.
//!
//! The rules, in both stores:
//! - candidates are the other leads, not erased, not junk, created within the window before or
//!   after the new one; the newest with the same `phone_e164` wins, else the newest with the same
//!   `email_key`;
//! - the new lead's `repeat_of` becomes the candidate's person (its `repeat_of`, or its id): links
//!   are never chained;
//! - the owner is the owner of the lead that matched, else of the person's first lead; when
//!   neither has one, the lead is routed as usual;
//! - the new lead's history says `linked` (`#12 (same phone)`), the person's first lead's says
//!   `submitted_again` (`#19 Spring Promo`);
//! - junk is never linked and never routed.
//!
//! A rep merges two leads by hand and undoes a wrong link through [`People`]; erasing a lead
//! removes its links (the leads that were its repeats take the oldest of them as their first).

use async_trait::async_trait;
use leadhook_shared::Lead;
use serde::{Deserialize, Serialize};

use super::{Routing, StoreError};

/// How a lead joined its person, as the stores keep it in `repeat_via`.
pub mod via {
    pub const PHONE: &str = "phone";
    pub const EMAIL: &str = "email";
    pub const HAND: &str = "hand";

    /// How the history spells a link: `same phone`, `same e-mail`, `merged by hand`.
    pub fn spelled(via: &str) -> &'static str {
        match via {
            PHONE => "same phone",
            EMAIL => "same e-mail",
            _ => "merged by hand",
        }
    }
}

/// The `linked` history entry's text: `#12 (same phone)`.
pub fn linked_text(person: i64, via: &str) -> String {
    format!("#{person} ({})", via::spelled(via))
}

/// The `submitted_again` history entry's text: `#19 Spring Promo`, or `#19` without a form name.
pub fn submitted_again_text(lead: i64, form_name: Option<&str>) -> String {
    match form_name {
        Some(form) => format!("#{lead} {form}"),
        None => format!("#{lead}"),
    }
}

/// What a rep's merge or unlink changed: the lead asked about, and the other leads whose person
/// moved with it (to be announced too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relinked {
    pub lead: Lead,
    pub moved: Vec<Lead>,
}

/// A rep's corrections of people and junk, part of [`super::LeadWrites`].
#[async_trait]
pub trait People: Send + Sync {
    /// Makes lead `id` (and the leads that were its repeats) submissions of `same_as`'s person,
    /// recorded as `linked` on both by `rep`. Already the same person: nothing changes. `None`
    /// when either lead does not exist; an erased lead is refused ([`StoreError::Erased`]).
    async fn merge(&self, id: i64, same_as: i64, rep: &str)
    -> Result<Option<Relinked>, StoreError>;

    /// Undoes lead `id`'s link: it becomes a person of its own, recorded as `unlinked` on it and
    /// on its former first lead. When `id` is a person's first lead, its repeats stay together
    /// under the oldest of them. A lead of its own person is left as it is. `None` when no lead
    /// has that id.
    async fn unlink(&self, id: i64, rep: &str) -> Result<Option<Relinked>, StoreError>;

    /// Clears lead `id`'s junk flag (`junk_cleared`, by `rep`); the lead is then linked or routed
    /// by `routing` as a new lead would have been, if it has no owner. A lead that is not junk is
    /// left as it is. `None` when no lead has that id.
    async fn clear_junk(
        &self,
        id: i64,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Option<Lead>, StoreError>;
}

/// A lead stored before people were matched, as the triage backfill reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Untriaged {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub page_id: Option<String>,
    pub is_manual: bool,
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, leadhook_shared::Answer>,
}

/// What the backfill made of an [`Untriaged`] lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Triaged {
    pub id: i64,
    /// The raw values as read: the write is skipped if they changed since.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub phone_e164: Option<String>,
    pub phone_invalid: bool,
    pub email_key: Option<String>,
    pub junk_reason: Option<String>,
}

/// The triage backfill's read role: leads stored before people and junk were read.
#[async_trait]
pub trait TriageBackfill: Send + Sync {
    /// Leads with an id above `after_id`, not erased, never triaged; lowest id first, at most
    /// `limit`.
    async fn untriaged(&self, after_id: i64, limit: u32) -> Result<Vec<Untriaged>, StoreError>;
}

/// The backfill's write, part of [`super::LeadWrites`].
#[async_trait]
pub trait TriageWrites: Send + Sync {
    /// Stores each lead's normalised phone, e-mail key and junk reason, where the lead still has
    /// those raw values, is not erased and was not triaged; links each (in the order given) to
    /// its person as a new lead would be, within `repeat_window`. Owners do not change.
    async fn store_triage(
        &self,
        leads: &[Triaged],
        repeat_window: chrono::Duration,
    ) -> Result<(), StoreError>;
}
