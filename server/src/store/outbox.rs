//! The outbox: everything that leaves the server for somewhere else (Meta's Conversions API, the
//! operator's webhooks) as one delivery per event and destination, queued by the store in the
//! transaction that records the event (a trigger on the activity history, both stores), so any
//! write path on any replica queues it.
//!
//! A delivery is `queued` (due at `not_before`; a claim pushes that out by its lease, so two
//! replicas never hold it at once and a crashed one's claim expires), then `sent`, or `failed`:
//! the dead-letter state, kept with its reason, never tried again, or `dropped`: not sent on
//! purpose, with the reason (a page for a lead that is no longer the rep's). A sender may also
//! hold a delivery (a rep's quiet hours): due later, the attempt not counted, its expiry counted
//! from the end of the hold. Which events reach which
//! destination is the store's route table ([`Outbox::outbox_routes`]); the Conversions API is
//! the destination [`CAPI`], switched by [`super::CapiOutbox::capi_switch`].

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use leadhook_shared::{ActivityKind, LeadDelivery};
use serde::{Deserialize, Serialize};

use super::StoreError;

pub use leadhook_shared::delivery::CAPI;

/// How many failures `/api/health` lists per destination.
pub const RECENT_FAILURES: u32 = 10;

/// What happened to a lead, as the outbox and the outgoing webhooks name it. Each is queued by
/// the stores' trigger from one kind of activity row: see [`EventType::activity_kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// The lead was stored (from Meta, the sweep, or a rep's manual lead).
    #[serde(rename = "lead.created")]
    Created,
    /// A rep claimed the lead or someone gave it an owner.
    #[serde(rename = "lead.assigned")]
    Assigned,
    /// The lead's status changed.
    #[serde(rename = "lead.status_changed")]
    StatusChanged,
    /// The lead waited past an escalation threshold (`LEADHOOK_ESCALATE_AFTER`).
    #[serde(rename = "lead.escalated")]
    Escalated,
    /// A rep set, moved or cleared the lead's next step.
    #[serde(rename = "lead.next_step_changed")]
    NextStepChanged,
    /// A rep logged a call attempt (its outcome and note).
    #[serde(rename = "lead.attempt_logged")]
    AttemptLogged,
    /// The lead's next step fell due: its owner should act now.
    #[serde(rename = "lead.follow_up_due")]
    FollowUpDue,
    /// The lead's person filled in a form again: this lead is the earlier one, told of the new.
    #[serde(rename = "lead.submitted_again")]
    SubmittedAgain,
    /// The lead became a submission of another lead's person (the same phone or e-mail, or
    /// merged by hand).
    #[serde(rename = "lead.linked")]
    Linked,
    /// A rep undid the lead's link: it is a person of its own again.
    #[serde(rename = "lead.unlinked")]
    Unlinked,
    /// A rep cleared the lead's junk flag: it is a lead to work after all.
    #[serde(rename = "lead.junk_cleared")]
    JunkCleared,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::Created,
        EventType::Assigned,
        EventType::StatusChanged,
        EventType::Escalated,
        EventType::NextStepChanged,
        EventType::AttemptLogged,
        EventType::FollowUpDue,
        EventType::SubmittedAgain,
        EventType::Linked,
        EventType::Unlinked,
        EventType::JunkCleared,
    ];

    /// The one spelling: the webhook's `type`, the stores' `event_type` column, the channels file.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "lead.created",
            EventType::Assigned => "lead.assigned",
            EventType::StatusChanged => "lead.status_changed",
            EventType::Escalated => "lead.escalated",
            EventType::NextStepChanged => "lead.next_step_changed",
            EventType::AttemptLogged => "lead.attempt_logged",
            EventType::FollowUpDue => "lead.follow_up_due",
            EventType::SubmittedAgain => "lead.submitted_again",
            EventType::Linked => "lead.linked",
            EventType::Unlinked => "lead.unlinked",
            EventType::JunkCleared => "lead.junk_cleared",
        }
    }

    /// The activity kinds whose rows queue this event. The stores' triggers read it from the
    /// table `outbox_event_kinds`: the SQLite store fills it from here at every start; the
    /// Supabase migrations spell it (a test holds them equal).
    pub fn activity_kinds(self) -> &'static [ActivityKind] {
        match self {
            EventType::Created => &[ActivityKind::Stored],
            EventType::Assigned => &[ActivityKind::Claim, ActivityKind::Assign],
            EventType::StatusChanged => &[ActivityKind::Status],
            EventType::Escalated => &[ActivityKind::Escalated],
            EventType::NextStepChanged => &[ActivityKind::NextStep],
            EventType::AttemptLogged => &[ActivityKind::Attempt],
            EventType::FollowUpDue => &[ActivityKind::Reminded],
            EventType::SubmittedAgain => &[ActivityKind::SubmittedAgain],
            EventType::Linked => &[ActivityKind::Linked],
            EventType::Unlinked => &[ActivityKind::Unlinked],
            EventType::JunkCleared => &[ActivityKind::JunkCleared],
        }
    }

    /// Every (activity kind, event type) pair: the rows of `outbox_event_kinds`.
    pub fn by_activity_kind() -> impl Iterator<Item = (ActivityKind, EventType)> {
        EventType::ALL.into_iter().flat_map(|event| {
            event
                .activity_kinds()
                .iter()
                .map(move |kind| (*kind, event))
        })
    }

    pub fn read(name: &str) -> Option<EventType> {
        EventType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// "Events of `event_type` go to `destination`."
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub destination: String,
    pub event_type: EventType,
}

/// A delivery waiting to be sent, leased to the dispatcher that claimed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Stable for the delivery's life: the webhook's `webhook-id` is made from it.
    pub id: i64,
    pub destination: String,
    /// As stored; an event type this build does not know (a newer replica's) is kept as text.
    pub event_type: String,
    pub lead_id: i64,
    pub activity_id: i64,
    /// `None` for a lead a rep entered by hand.
    pub leadgen_id: Option<String>,
    /// The lead's status the event left it in (for the Conversions API, `Junk` for a junk lead).
    pub stage: String,
    /// When the event happened.
    pub at: DateTime<Utc>,
    pub lead_created_at: DateTime<Utc>,
    /// When the delivery was queued: it expires (dead-letter) a stated time after.
    pub queued_at: DateTime<Utc>,
    /// Claims so far, this one included.
    pub attempts: u32,
}

/// A delivery that will never be sent, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedDelivery {
    pub delivery_id: i64,
    pub lead_id: i64,
    pub activity_id: i64,
    pub stage: String,
    pub reason: String,
    pub failed_at: DateTime<Utc>,
}

/// What the outbox holds for one destination, for `/api/health` and `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryFigures {
    /// Waiting to be sent (including those retried after an error).
    pub queued: u64,
    /// Queued deliveries whose last attempt failed, and the latest reason.
    pub retrying: u64,
    pub retry_reason: Option<String>,
    pub sent_today: u64,
    /// Dead-lettered: will never be sent.
    pub failed: u64,
    /// The newest failures, newest first.
    pub recent_failures: Vec<FailedDelivery>,
    pub last_success_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait Outbox: Send + Sync {
    /// Replaces the routes of every destination but [`CAPI`]: from the next write on, events are
    /// queued for these (destination, event type) pairs. Deliveries already queued stay. On
    /// Supabase these are the routes of an older server (never expiring, under no holder): what
    /// its `outbox_set_routes` writes, replacing only its kind's.
    async fn outbox_routes(&self, routes: &[Route]) -> Result<(), StoreError>;

    /// A running server's routes, held by `holder` (its replica id) for `hold_for` and renewed
    /// while it runs. The routes in force are the union of every holder's unexpired routes (and
    /// an older server's, see [`Outbox::outbox_routes`]), so a server started with another
    /// channels file adds its own without taking away another's: during a rolling deploy, events
    /// are queued for every destination some running server sends to. `first` (the server's
    /// start) also drops the older servers' routes. On SQLite, which one server owns (the data
    /// dir's lock), they simply replace the routes.
    async fn outbox_hold_routes(
        &self,
        holder: &str,
        routes: &[Route],
        hold_for: Duration,
        first: bool,
    ) -> Result<(), StoreError>;

    /// Leases up to `limit` due deliveries of `destination`, oldest first, for `lease`; a
    /// dispatcher that dies leaves them to be claimed again when the lease ends.
    async fn outbox_claim(
        &self,
        destination: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// The receiver took these: never send them again.
    async fn outbox_sent(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// Dead-letters this one with the reason: it is never tried again.
    async fn outbox_failed(&self, id: i64, reason: &str) -> Result<(), StoreError>;

    /// Holds this one, unsent and not failed, until `until`: the claim's attempt is not counted
    /// and its expiry counts from `until` (`queued_at` becomes `until`).
    async fn outbox_hold(&self, id: i64, until: DateTime<Utc>) -> Result<(), StoreError>;

    /// Drops this one on purpose, with the reason: never sent, not a failure.
    async fn outbox_drop(&self, id: i64, reason: &str) -> Result<(), StoreError>;

    /// These stay queued and are due again after `after`.
    async fn outbox_retry(
        &self,
        ids: &[i64],
        after: Duration,
        reason: &str,
    ) -> Result<(), StoreError>;

    /// What became of lead `lead_id`'s events, per channel, newest first, at most `limit`.
    async fn outbox_of_lead(
        &self,
        lead_id: i64,
        limit: u32,
    ) -> Result<Vec<LeadDelivery>, StoreError>;

    /// The figures of every destination that has deliveries; `today_start` begins "sent today".
    async fn outbox_figures(
        &self,
        today_start: DateTime<Utc>,
    ) -> Result<BTreeMap<String, DeliveryFigures>, StoreError>;
}

/// A reason as the outbox keeps it: short, one line.
pub fn short_reason(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_read_back_from_their_one_spelling() {
        for kind in EventType::ALL {
            assert_eq!(EventType::read(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(EventType::read("lead.deleted"), None);
    }
}
