//! `leadhook-server store copy`: moves every lead, its history, the reps' availability and time zones, the reps
//! with their roles and token hashes, and the sweep positions from one store to the other, as they were (ids, statuses, owners, timestamps).
//!
//! Rows keep their ids in the target, so a lead's key is its id (with its `leadgen_id` checked
//! alongside) and a copy writes with upserts on the id: running it again, or again after it was
//! killed, writes the same rows again and never a second one. Before writing, the copy refuses a
//! target holding leads or activity the source does not have (a store already in use).

mod check;
mod command;
mod history;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use leadhook_shared::{Activity, Lead};
use serde::{Deserialize, Serialize};

pub use check::{Fingerprint, fingerprint};
pub use command::{progress_bar, run};
pub use history::write_history;

use super::{RepDirectory, StoreError, StoredRep, SweepPositions};

/// Leads per bulk write: one PostgREST request or one SQLite transaction each.
pub const PAGE_SIZE: u32 = 500;

/// A lead with everything a store keeps about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadRecord {
    #[serde(flatten)]
    pub lead: Lead,
    pub escalated_level: i16,
    pub escalated_at: Option<DateTime<Utc>>,
    /// When its next step's reminder was taken (absent from stores before reminders).
    #[serde(default)]
    pub reminded_at: Option<DateTime<Utc>>,
    /// How it joined its person (`phone`, `email`, `hand`; see [`super::people::via`]).
    #[serde(default)]
    pub repeat_via: Option<String>,
    /// Whether its phone, e-mail key and junk flag were read (absent from stores before people:
    /// then not, and the target's triage backfill reads it).
    #[serde(default)]
    pub triaged: bool,
}

/// A rep's availability, round-robin turn, time zone and paging settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepRecord {
    pub name: String,
    pub available: bool,
    pub last_assigned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The rep's ntfy topic and quiet hours (minutes after midnight; stores before paging: none).
    #[serde(default)]
    pub ntfy_topic: Option<String>,
    #[serde(default)]
    pub quiet_start: Option<i64>,
    #[serde(default)]
    pub quiet_end: Option<i64>,
}

/// A lead's identity: its id, and Meta's id for Facebook leads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LeadKey {
    pub id: i64,
    pub leadgen_id: Option<String>,
}

/// Leads in id order with every activity row of those leads.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub leads: Vec<LeadRecord>,
    pub activity: Vec<Activity>,
}

/// One side of a copy: a store read and written in bulk.
#[async_trait]
pub trait CopyEnd: SweepPositions + RepDirectory + Send + Sync {
    /// "sqlite" or "supabase", for messages.
    fn name(&self) -> &'static str;
    /// Fails, saying what to fix, when this store cannot take part in a copy.
    async fn check_ready(&self) -> Result<(), StoreError>;
    /// Every lead's key, by id.
    async fn lead_keys(&self) -> Result<Vec<LeadKey>, StoreError>;
    /// Every activity row's id, ascending.
    async fn activity_ids(&self) -> Result<Vec<i64>, StoreError>;
    /// Up to `limit` leads with ids above `after_id`, by id, and their activity.
    async fn read_page(&self, after_id: i64, limit: u32) -> Result<Page, StoreError>;
    /// Writes the page as it is (ids, timestamps), replacing rows with the same ids, without
    /// recording activity or queueing Conversions API stages for it.
    async fn write_page(&self, page: &Page) -> Result<(), StoreError>;
    async fn reps(&self) -> Result<Vec<RepRecord>, StoreError>;
    async fn write_reps(&self, reps: &[RepRecord]) -> Result<(), StoreError>;
    /// Writes the reps of the [`RepDirectory`] as they are (token hashes, times), replacing
    /// those with the same names.
    async fn write_stored_reps(&self, reps: &[StoredRep]) -> Result<(), StoreError>;
    /// Makes ids handed out later continue after the copied ones.
    async fn finish(&self) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{side}: {source}")]
    Store {
        side: &'static str,
        #[source]
        source: StoreError,
    },
    #[error(
        "the {target} store already holds {count} {what} that are not in the {source_name} store \
         (for example id {example}); it is in use, and copying into it would mix two stores.\n\
         fix: copy into a new, empty store (for Supabase: a fresh project with the migrations \
         applied; for SQLite: an empty LEADHOOK_DATA_DIR), or move those {what} out first"
    )]
    TargetInUse {
        target: &'static str,
        source_name: &'static str,
        count: usize,
        what: &'static str,
        example: i64,
    },
    #[error("{0}")]
    DataDir(#[from] crate::data_dir_lock::DataDirLockError),
    #[error(
        "after the copy the stores differ: {source_name} has {source_print}, {target} has \
         {target_print}.\nfix: stop every leadhook server on both stores and run the copy again"
    )]
    Differ {
        source_name: &'static str,
        target: &'static str,
        source_print: Fingerprint,
        target_print: Fingerprint,
    },
}

fn on(side: &dyn CopyEnd) -> impl FnOnce(StoreError) -> CopyError + '_ {
    move |source| CopyError::Store {
        side: side.name(),
        source,
    }
}

/// What a finished copy found on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    pub source: Fingerprint,
    pub target: Fingerprint,
}

/// Copies everything from `source` to `target`, advancing `progress` by one per lead, then
/// compares both sides.
pub async fn copy(
    source: &dyn CopyEnd,
    target: &dyn CopyEnd,
    progress: &ProgressBar,
) -> Result<CopyReport, CopyError> {
    source.check_ready().await.map_err(on(source))?;
    target.check_ready().await.map_err(on(target))?;
    let keys = source.lead_keys().await.map_err(on(source))?;
    refuse_foreign_rows(source, target, &keys).await?;
    progress.set_length(keys.len() as u64);
    let mut after_id = i64::MIN;
    loop {
        let page = source
            .read_page(after_id, PAGE_SIZE)
            .await
            .map_err(on(source))?;
        let Some(last) = page.leads.last() else {
            break;
        };
        after_id = last.lead.id;
        target.write_page(&page).await.map_err(on(target))?;
        progress.inc(page.leads.len() as u64);
    }
    let reps = source.reps().await.map_err(on(source))?;
    target.write_reps(&reps).await.map_err(on(target))?;
    let stored = source.list_reps().await.map_err(on(source))?;
    target
        .write_stored_reps(&stored)
        .await
        .map_err(on(target))?;
    // Where the backfill sweep stopped per form, so the target's first sweep continues there.
    // Leases are not copied: they belong to the servers of each store.
    let positions = source.sweep_positions().await.map_err(on(source))?;
    for (form_id, newest) in positions {
        target
            .save_sweep_position(&form_id, newest)
            .await
            .map_err(on(target))?;
    }
    target.finish().await.map_err(on(target))?;
    let (source_print, target_print) = (
        fingerprint(source).await.map_err(on(source))?,
        fingerprint(target).await.map_err(on(target))?,
    );
    if source_print != target_print {
        return Err(CopyError::Differ {
            source_name: source.name(),
            target: target.name(),
            source_print,
            target_print,
        });
    }
    Ok(CopyReport {
        source: source_print,
        target: target_print,
    })
}

/// Refuses a target with leads the source lacks (or has under another Meta id), or activity
/// rows the source lacks: rows a previous copy wrote are fine, anything else means the target
/// is in use.
async fn refuse_foreign_rows(
    source: &dyn CopyEnd,
    target: &dyn CopyEnd,
    source_keys: &[LeadKey],
) -> Result<(), CopyError> {
    let in_use = |count: usize, what: &'static str, example: i64| CopyError::TargetInUse {
        target: target.name(),
        source_name: source.name(),
        count,
        what,
        example,
    };
    let known: HashMap<i64, &Option<String>> = source_keys
        .iter()
        .map(|key| (key.id, &key.leadgen_id))
        .collect();
    let foreign: Vec<i64> = target
        .lead_keys()
        .await
        .map_err(on(target))?
        .into_iter()
        .filter(|key| known.get(&key.id) != Some(&&key.leadgen_id))
        .map(|key| key.id)
        .collect();
    if let Some(&example) = foreign.first() {
        return Err(in_use(foreign.len(), "leads", example));
    }
    let source_activity = source.activity_ids().await.map_err(on(source))?;
    let foreign: Vec<i64> = target
        .activity_ids()
        .await
        .map_err(on(target))?
        .into_iter()
        .filter(|id| source_activity.binary_search(id).is_err())
        .collect();
    match foreign.first() {
        Some(&example) => Err(in_use(foreign.len(), "activity rows", example)),
        None => Ok(()),
    }
}
