//! The lead store: where leads live once they are complete. Several backends (the embedded
//! SQLite file by default, Supabase through PostgREST in production), each implementing every
//! role below; each part of the server is handed only the roles it uses:
//!
//! | role | methods | held by |
//! |---|---|---|
//! | [`LeadReader`] (with [`QueueReads`], [`PagingReads`]) | leads, history, figures, availability, a rep's paging settings, reachability | the HTTP API, the live feed, `doctor` |
//! | [`LeadWrites`] (with [`QueueWrites`], [`Erasure`], [`FollowUps`], [`People`], [`TriageWrites`], [`PagingWrites`]) | every change to a lead or a rep | [`crate::writer::LeadWriter`] only |
//! | [`EscalationMarks`] | leads due for escalation, marks taken | [`crate::escalation::Escalator`] |
//! | [`ReminderMarks`] | follow-ups due for a reminder, marks taken | [`crate::reminders::Reminders`] |
//! | [`TriageBackfill`] | leads stored before phones, people and junk were read | [`crate::triage`] |
//! | [`ErasureTargets`] | whose leads to erase, the daily retention run | [`crate::erase`] |
//! | [`Leases`] | turns at scheduled jobs among replicas | [`crate::lease::JobLease`] |
//! | [`SweepPositions`] | where the backfill sweep stopped per form | the sweeper, `store copy` |
//! | [`Outbox`] | deliveries of events to every destination: routes, claims, settling, figures | [`crate::outbox::Dispatcher`] (`/api/health` and `/metrics` ask it for the figures) |
//! | [`CapiOutbox`] | the Conversions API's switch, and the outbox in its terms | [`crate::capi::CapiSender`] |
//! | [`RepDirectory`] | reps, their roles and token hashes | [`crate::reps::RepCache`], `leadhook-server reps` |
//! | [`Conversations`], [`ReplyRouting`] | a lead's messages to and from the person, opt-outs, where a reply belongs | the first-message senders, [`crate::replies::Replies`], the HTTP API |
//! | [`copy::CopyEnd`] | bulk reads and writes | `store copy` |
//!
//! [`LeadStore`] is all of them at once: what [`open`] returns and the wiring in
//! [`crate::app`] splits into roles.

pub mod capi;
pub mod conversation;
pub mod copy;
pub mod erase;
pub(crate) mod error;
mod escalation;
mod follow_ups;
pub mod insights;
pub mod outbox;
mod paging;
pub mod people;
pub mod postgrest;
mod queue;
mod reminders;
pub mod replica;
pub mod replies;
pub mod reps;
mod routing;
pub mod sqlite;
mod upsert;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::{Cursor, Lead, LeadPatch, LeadStatus, MetaFields, NewManualLead, Stats};

pub use capi::{CapiFigures, CapiOutbox, FailedStage, QueuedStage};
pub use conversation::{
    ConversationMessage, Conversations, Direction, FirstMessage, FirstStart, MessageChannel,
    MessageStatus, NumberHash, OptOut, OptOutSource, StatusApplied,
};
pub use erase::{ERASE_BATCH, Erasure, ErasureTargets, Person};
pub use error::StoreError;
pub use escalation::{DueEscalation, Escalated, EscalationCheck, EscalationMarks, EscalationQuery};
pub use follow_ups::FollowUps;
pub use insights::{InsightsQuery, InsightsReads, StoreInsights};
pub use outbox::{CAPI, Delivery, DeliveryFigures, EventType, FailedDelivery, Outbox, Route};
pub use paging::{PagingReads, PagingWrites, RepPaging};
pub use people::{People, Relinked, TriageBackfill, TriageWrites, Triaged, Untriaged};
pub use queue::{Claim, Contact, OwnerCounts, QueueFigures, QueueReads, QueueWrites};
pub use reminders::{Reminded, ReminderCheck, ReminderMarks, ReminderQuery};
pub use replica::{LeaseCondition, LeaseRow, LeaseUpdate, Leases, SweepPositions};
pub use replies::ReplyRouting;
pub use reps::{RepDirectory, Rotation, StoredRep};
pub use routing::Routing;
pub use upsert::UPSERT_BATCH;

use crate::config::{Config, StoreConfig};

/// Opens the lead store the configuration selects, and says which in the log (never the key).
pub async fn open(config: &Config) -> Result<std::sync::Arc<dyn LeadStore>, StoreError> {
    open_at(&config.data_dir, &config.store).await
}

/// Opens the lead store `store` selects, the embedded one in `data_dir`.
pub async fn open_at(
    data_dir: &std::path::Path,
    store: &StoreConfig,
) -> Result<std::sync::Arc<dyn LeadStore>, StoreError> {
    match store {
        StoreConfig::Sqlite => {
            crate::private_files::create_private_dir(data_dir).map_err(|e| {
                StoreError::Misconfigured {
                    message: format!(
                        "cannot create the data directory {}: {e}",
                        data_dir.display()
                    ),
                    fix: "set LEADHOOK_DATA_DIR to a writable directory".into(),
                }
            })?;
            let path = data_dir.join("leads.db");
            tracing::info!(path = %path.display(), "lead store: embedded SQLite");
            Ok(std::sync::Arc::new(sqlite::SqliteStore::open(&path).await?))
        }
        StoreConfig::Supabase { url, key } => Ok(std::sync::Arc::new(
            postgrest::PostgrestStore::new(url, key.clone())?,
        )),
    }
}

/// Most rows one list request returns.
pub const MAX_PAGE: u32 = 1000;

/// A filtered page of `GET /api/leads`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadQuery {
    pub limit: u32,
    pub offset: u64,
    pub status: Option<LeadStatus>,
    /// Case-insensitive substring of name, email or phone.
    pub search: Option<String>,
    /// Only leads changed after this cursor, oldest change first (for incremental polling).
    /// Without it, leads come newest first by `created_at`.
    pub since: Option<Cursor>,
    /// Only the leads this rep owns and unowned ones (`LEADHOOK_VISIBILITY=own`).
    pub visible_to: Option<String>,
    /// Only leads with a next step due before this time, soonest due first (unless `since`
    /// orders them).
    pub due_before: Option<DateTime<Utc>>,
    /// Only the leads this rep owns.
    pub owner: Option<String>,
}

impl Default for LeadQuery {
    fn default() -> Self {
        LeadQuery {
            limit: 100,
            offset: 0,
            status: None,
            search: None,
            since: None,
            visible_to: None,
            due_before: None,
            owner: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadPage {
    pub leads: Vec<Lead>,
    /// How many leads match the filters, ignoring limit and offset.
    pub count: u64,
    /// Where the next `since` poll continues: after the last change returned when `since` was
    /// given, else after the newest change in the whole store (or `since` itself when nothing changed).
    pub cursor: Cursor,
}

/// Result of storing a lead from Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upserted {
    pub lead: Lead,
    /// `true` when the lead was new, `false` when an existing one was refreshed.
    pub inserted: bool,
    /// `true` when the stored row changed: inserted, or its Meta-side columns refreshed. A
    /// re-delivery or sweep that changed nothing is `false`, and is not announced.
    pub changed: bool,
}

/// The Meta-side fields as both stores keep them: times cut to the microsecond. Compared with what
/// a store holds, a re-delivery of the same lead is then equal and leaves `updated_at` alone.
fn at_store_precision(meta: &MetaFields) -> MetaFields {
    MetaFields {
        created_at: meta.created_at.trunc_subsecs(6),
        ..meta.clone()
    }
}

/// The day boundaries `stats` counts from, chosen by the caller's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsWindow {
    pub today_start: DateTime<Utc>,
    pub week_start: DateTime<Utc>,
    /// The moment the figures are for: next steps before it are overdue.
    pub now: DateTime<Utc>,
}

/// Every role at once: a backend implements each of them, and gets this for free.
pub trait LeadStore:
    LeadReader
    + LeadWrites
    + EscalationMarks
    + ReminderMarks
    + ErasureTargets
    + Leases
    + SweepPositions
    + CapiOutbox
    + RepDirectory
    + TriageBackfill
    + Conversations
    + ReplyRouting
    + 'static
{
}

impl<T> LeadStore for T where
    T: LeadReader
        + LeadWrites
        + EscalationMarks
        + ReminderMarks
        + ErasureTargets
        + Leases
        + SweepPositions
        + CapiOutbox
        + RepDirectory
        + TriageBackfill
        + Conversations
        + ReplyRouting
        + 'static
{
}

/// The read role: what the HTTP API, the live feed and `doctor` ask of the store. It cannot
/// change anything, so a handler holding it cannot write past [`crate::writer::LeadWriter`].
#[async_trait]
pub trait LeadReader: QueueReads + InsightsReads + PagingReads + Send + Sync {
    /// A short name for logs and health: "sqlite", "postgrest".
    fn backend(&self) -> &'static str;

    /// Whether others (other servers, Supabase Studio, SQL, a CRM) can change the leads behind
    /// this server's back. Then the server follows the store's change cursor to push every change;
    /// otherwise its own writes are all there is.
    fn is_shared(&self) -> bool;

    async fn get(&self, id: i64) -> Result<Option<Lead>, StoreError>;

    async fn list(&self, query: &LeadQuery) -> Result<LeadPage, StoreError>;

    async fn stats(&self, window: StatsWindow) -> Result<Stats, StoreError>;

    /// Cheap reachability check for health reports.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// The write role, held by [`crate::writer::LeadWriter`] alone: every change to a lead goes
/// through it, so that each is announced once.
#[async_trait]
pub trait LeadWrites:
    QueueWrites + Erasure + FollowUps + People + TriageWrites + PagingWrites + Send + Sync
{
    /// Inserts a lead from Meta or refreshes the Meta-sourced columns of the one with the same
    /// `leadgen_id`. Never touches what reps own (`status`, `notes`), leaves `updated_at` alone
    /// when nothing changed, and keeps an erased lead erased. `actor` (`facebook` or `sweeper`) is recorded in the activity.
    /// A new lead stays unowned ([`Routing::UNOWNED`]): the server stores through `upsert_many`.
    async fn upsert(&self, lead: &IncomingLead, actor: &str) -> Result<Upserted, StoreError> {
        self.upsert_many(std::slice::from_ref(lead), actor, Routing::UNOWNED)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Internal("no result for the one lead stored".into()))
    }

    /// Stores several leads from Meta as `upsert` would one by one (same rules: never touches
    /// status/notes/owner, leaves `updated_at` alone when nothing changed, keeps erased leads erased,
    /// records activity with `actor`), all or nothing. Answers one `Upserted` per input, in input
    /// order; a leadgen_id given twice is stored once (the later one wins) and both positions get
    /// its result, with `inserted` and `changed` true for at most one of them.
    ///
    /// Each new lead gets its owner as `routing` decides, in the write that inserts it: no reader
    /// sees it unowned first. A lead that existed already keeps its owner.
    ///
    /// "All or nothing" holds for up to [`UPSERT_BATCH`] leads; longer inputs are stored in pieces
    /// of that size, each all or nothing. On PostgREST a piece that both inserts and refreshes
    /// leads takes two requests: when the second fails, the new leads of the first stay stored
    /// (nothing is lost) and a retry reports them as not inserted.
    async fn upsert_many(
        &self,
        leads: &[IncomingLead],
        actor: &str,
        routing: Routing<'_>,
    ) -> Result<Vec<Upserted>, StoreError>;

    /// Stores a lead `rep` entered by hand (`is_manual`, no `leadgen_id`), with its owner as
    /// `routing` decides, in the same write.
    async fn create_manual(
        &self,
        lead: &NewManualLead,
        rep: &str,
        routing: Routing<'_>,
    ) -> Result<Lead, StoreError>;

    /// Applies `rep`'s change (a new owner is recorded as `assign`); `None` when no lead has that
    /// id. The first move off `New Lead` sets `first_contact_at`, once.
    async fn update(
        &self,
        id: i64,
        patch: &LeadPatch,
        rep: &str,
    ) -> Result<Option<Lead>, StoreError>;
}
