//! Erasing people's data: on request (`POST /api/leads/{id}/erase`, `leadhook-server erase`) and
//! by age (`LEADHOOK_RETENTION_DAYS`, once a day by one replica). What an erase removes and keeps
//! is described in [`crate::store::erase`]; every erase goes through the [`LeadWriter`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use leadhook_shared::Lead;
use leadhook_shared::team::actor::SYSTEM;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{Config, ConfigError, ServeArgs};
use crate::feed::Feed;
use crate::graph::{GraphClient, GraphError};
use crate::limits::MAX_ERASE_REASON_CHARS;
use crate::store::{self, ErasureTargets, Person, StoreError};
use crate::team::Team;
use crate::writer::LeadWriter;

/// How often a server asks whether today's retention run is still to be taken.
const RETENTION_CHECK_EVERY: Duration = Duration::from_secs(60 * 60);

/// `leadhook-server erase`: whose data to erase (a person's, or leads by id), why, and the
/// server's settings (for its store).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("person").args(["email", "phone", "leadgen_id"]).conflicts_with("ids")))]
#[command(group(clap::ArgGroup::new("ids").args(["lead_id", "ids_from"]).multiple(true)))]
#[command(group(clap::ArgGroup::new("target").required(true).multiple(true)
    .args(["email", "phone", "leadgen_id", "lead_id", "ids_from"])))]
pub struct EraseArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Erase every lead with exactly this email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Erase every lead with exactly this phone number, as stored (like +15555555555).
    #[arg(long)]
    pub phone: Option<String>,
    /// Erase the lead with this Meta lead id.
    #[arg(long = "leadgen-id")]
    pub leadgen_id: Option<String>,
    /// Erase the lead with this id (as the dashboard and the API show it); repeat for more.
    #[arg(long = "lead-id")]
    pub lead_id: Vec<i64>,
    /// Erase the leads whose ids this file lists, one a line (blank lines and lines starting
    /// with # are skipped).
    #[arg(long = "ids-from", value_name = "FILE")]
    pub ids_from: Option<PathBuf>,
    /// Why (like the data-subject request's reference), kept in each lead's history. Plain text,
    /// at most 200 characters, and never the person's data: it stays after the erasure.
    #[arg(long)]
    pub reason: Option<String>,
}

/// Which leads `leadhook-server erase` erases.
#[derive(Debug)]
enum Target {
    Person(Person),
    Ids(Vec<i64>),
}

impl EraseArgs {
    fn target(&self) -> Result<Target, EraseCommandError> {
        if !self.lead_id.is_empty() || self.ids_from.is_some() {
            let mut ids = self.lead_id.clone();
            if let Some(path) = &self.ids_from {
                ids.extend(ids_in_file(path)?);
            }
            return Ok(Target::Ids(ids));
        }
        let given = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        given(&self.email)
            .map(Person::Email)
            .or_else(|| given(&self.phone).map(Person::Phone))
            .or_else(|| given(&self.leadgen_id).map(Person::LeadgenId))
            .map(Target::Person)
            .ok_or(EraseCommandError::NoPerson)
    }
}

/// The lead ids listed in `path`, one a line.
fn ids_in_file(path: &Path) -> Result<Vec<i64>, EraseCommandError> {
    let file_error = |reason: String| EraseCommandError::IdsFile {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|error| file_error(error.to_string()))?;
    text.lines()
        .enumerate()
        .map(|(n, line)| (n, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(n, line)| {
            line.parse()
                .map_err(|_| file_error(format!("line {} is not a lead id: {line:?}", n + 1)))
        })
        .collect()
}

/// A reason of an erasure that cannot be kept.
#[derive(Debug, thiserror::Error)]
pub enum ReasonError {
    #[error("reason may be at most {MAX_ERASE_REASON_CHARS} characters; this one is {0}")]
    TooLong(usize),
    #[error("reason must be one line of plain text, without control characters")]
    NotPlainText,
}

/// The reason of an erasure, trimmed (`None` when blank), bounded and one line of plain text: it
/// is shown in the dashboard's history and written to logs.
pub fn erase_reason(text: Option<&str>) -> Result<Option<String>, ReasonError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let length = text.chars().count();
    if length > MAX_ERASE_REASON_CHARS {
        return Err(ReasonError::TooLong(length));
    }
    if text.chars().any(char::is_control) {
        return Err(ReasonError::NotPlainText);
    }
    Ok(Some(text.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum EraseCommandError {
    #[error("give a non-empty --email, --phone or --leadgen-id, or --lead-id / --ids-from")]
    NoPerson,
    #[error("cannot read the lead ids in {path}: {reason}")]
    IdsFile { path: String, reason: String },
    #[error(transparent)]
    Reason(#[from] ReasonError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `leadhook-server erase` did.
#[derive(Debug, Default)]
pub struct EraseReport {
    /// The tombstones of the leads erased.
    pub erased: Vec<Lead>,
    /// Ids given that are no lead.
    pub missing: Vec<i64>,
}

/// One lead erased: the tombstone, how many so far, and of how many when that is known
/// (`--lead-id`, `--ids-from`).
pub struct Progress<'a> {
    pub lead: &'a Lead,
    pub done: usize,
    pub total: Option<usize>,
}

/// Runs `leadhook-server erase` against the configured store, telling `progress` of each lead
/// as it is erased.
pub async fn erase_command(
    args: EraseArgs,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<EraseReport, EraseCommandError> {
    let target = args.target()?;
    let reason = erase_reason(args.reason.as_deref())?;
    let config = Config::from_args(args.serve)?;
    let store = store::open(&config).await?;
    // The writer wants a Graph client for form names; an erase never asks Meta for anything.
    let graph = GraphClient::for_config(&config)?;
    // Nobody listens: the feed only takes the writer's announcements.
    let feed = Feed::for_store(Arc::clone(&store) as _, config.follow_interval, None);
    let leads = LeadWriter::new(
        Arc::clone(&store) as _,
        feed.announcer,
        graph,
        Team::from_config(&config).fixed(),
        config.triage.clone(),
    );
    let reason = reason.as_deref();
    let mut report = EraseReport::default();
    match target {
        Target::Person(person) => {
            report.erased = erase_person(store.as_ref(), &leads, &person, SYSTEM, reason).await?;
            for (n, lead) in report.erased.iter().enumerate() {
                progress(Progress {
                    lead,
                    done: n + 1,
                    total: None,
                });
            }
        }
        Target::Ids(ids) => {
            for &id in &ids {
                match leads.erase(id, SYSTEM, reason).await? {
                    Some(lead) => {
                        progress(Progress {
                            lead: &lead,
                            done: report.erased.len() + 1,
                            total: Some(ids.len()),
                        });
                        report.erased.push(lead);
                    }
                    None => report.missing.push(id),
                }
            }
        }
    }
    Ok(report)
}

/// Erases every lead holding `person`'s email, phone or Meta lead id (found in `targets`), as
/// `actor`; the tombstones.
pub async fn erase_person(
    targets: &dyn ErasureTargets,
    leads: &LeadWriter,
    person: &Person,
    actor: &str,
    reason: Option<&str>,
) -> Result<Vec<Lead>, StoreError> {
    let mut erased = Vec::new();
    // Each batch holds only leads not erased yet, so this ends.
    loop {
        let ids = targets.leads_of(person).await?;
        if ids.is_empty() {
            return Ok(erased);
        }
        erased.extend(erase_each(leads, &ids, actor, reason).await?);
    }
}

async fn erase_each(
    leads: &LeadWriter,
    ids: &[i64],
    actor: &str,
    reason: Option<&str>,
) -> Result<Vec<Lead>, StoreError> {
    let mut erased = Vec::with_capacity(ids.len());
    for &id in ids {
        // A lead deleted in between is simply gone.
        if let Some(lead) = leads.erase(id, actor, reason).await? {
            erased.push(lead);
        }
    }
    Ok(erased)
}

/// The daily erasure of leads submitted more than `days` days ago.
pub struct Retention {
    targets: Arc<dyn ErasureTargets>,
    leads: LeadWriter,
    clock: Arc<dyn Clock>,
    days: u32,
}

impl Retention {
    /// `None` when retention is off.
    pub fn new(
        targets: Arc<dyn ErasureTargets>,
        leads: LeadWriter,
        clock: Arc<dyn Clock>,
        days: Option<u32>,
    ) -> Option<Retention> {
        days.map(|days| Retention {
            targets,
            leads,
            clock,
            days,
        })
    }

    /// Leads submitted before this are past the limit.
    fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - TimeDelta::days(i64::from(self.days))
    }

    /// Takes today's run unless a server took it in the last 24 hours, and erases the leads past
    /// the limit; how many, or `None` when the run was not this server's to take.
    pub async fn run_once(&self) -> Result<Option<usize>, StoreError> {
        let now = self.clock.now();
        if !self.targets.take_retention_run(now).await? {
            return Ok(None);
        }
        let cutoff = self.cutoff(now);
        let reason = format!("retention: submitted over {} days ago", self.days);
        let mut erased = 0;
        loop {
            let ids = self.targets.older_than(cutoff).await?;
            if ids.is_empty() {
                tracing::info!(erased, days = self.days, "retention run done");
                return Ok(Some(erased));
            }
            erased += erase_each(&self.leads, &ids, SYSTEM, Some(&reason))
                .await?
                .len();
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            if let Err(error) = self.run_once().await {
                tracing::warn!("retention run failed, next try within the hour: {error}");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(RETENTION_CHECK_EVERY) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use leadhook_shared::Assignment;
    use leadhook_shared::team::actor::FACEBOOK;

    use super::*;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{LeadReader, LeadWrites, QueueReads};
    use crate::writer::test_lead;

    /// A clock the test moves by hand.
    #[derive(Debug)]
    struct TestClock(Mutex<DateTime<Utc>>);

    impl Clock for TestClock {
        fn now(&self) -> DateTime<Utc> {
            *self.0.lock().unwrap()
        }
    }

    fn writer(store: Arc<SqliteStore>) -> LeadWriter {
        let team = Team {
            assignment: Assignment::Claim,
            reps: vec!["alice".into()],
        };
        LeadWriter::for_tests(store, team).0
    }

    #[tokio::test]
    async fn retention_erases_exactly_the_leads_past_the_limit_once_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::open(&dir.path().join("leads.db"))
                .await
                .unwrap(),
        );
        let now = Utc::now();
        let days = |n: i64| now - TimeDelta::days(n);
        let mut ids = BTreeMap::new();
        for (leadgen_id, created_at) in [
            ("old", days(40)),
            ("just-past", days(30) - TimeDelta::minutes(1)),
            ("just-inside", days(30) + TimeDelta::minutes(1)),
            ("day-29", days(29) - TimeDelta::hours(12)),
            ("fresh", now - TimeDelta::hours(1)),
        ] {
            let lead = store
                .upsert(&test_lead(leadgen_id, created_at), FACEBOOK)
                .await
                .unwrap()
                .lead;
            ids.insert(leadgen_id, lead.id);
        }
        let clock = Arc::new(TestClock(Mutex::new(now)));
        let leads = writer(Arc::clone(&store));
        let retention =
            Retention::new(store.clone(), leads.clone(), clock.clone(), Some(30)).unwrap();
        let erased_ones = || async {
            let mut erased = Vec::new();
            for (leadgen_id, id) in &ids {
                let lead = store.get(*id).await.unwrap().unwrap();
                if lead.erased_at.is_some() {
                    assert_eq!((lead.meta.name, lead.meta.email), (None, None));
                    assert!(lead.meta.fields.is_empty());
                    erased.push(*leadgen_id);
                }
            }
            erased
        };

        assert_eq!(retention.run_once().await.unwrap(), Some(2));
        assert_eq!(erased_ones().await, ["just-past", "old"]);
        let history = store.activity(ids["old"]).await.unwrap().unwrap();
        let erase = history.last().unwrap();
        assert_eq!(
            (erase.actor.as_str(), erase.new.as_deref()),
            (SYSTEM, Some("retention: submitted over 30 days ago"))
        );

        // Another replica at the same time, and this one an hour later: the day's run is taken.
        let replica = Retention::new(store.clone(), leads, clock.clone(), Some(30)).unwrap();
        assert_eq!(replica.run_once().await.unwrap(), None);
        *clock.0.lock().unwrap() = now + TimeDelta::hours(1);
        assert_eq!(retention.run_once().await.unwrap(), None);
        assert_eq!(erased_ones().await, ["just-past", "old"]);

        // A day later the next two have passed the limit.
        *clock.0.lock().unwrap() = now + TimeDelta::days(1) + TimeDelta::hours(1);
        assert_eq!(replica.run_once().await.unwrap(), Some(2));
        assert_eq!(
            erased_ones().await,
            ["day-29", "just-inside", "just-past", "old"]
        );
    }
}
