//! The backfill sweeper: the fallback for webhooks that never came. It pulls each lead form's
//! recent leads from the Graph API and stores them through the same write service as webhooks
//! (same parsing, same idempotent upsert), remembering a per-form high-water mark in the store.
//!
//! With several servers on one store, one sweeps at a time: each sweep, scheduled or manual, runs
//! under the store's `sweep` lease (see [`crate::lease`]), and the positions in the store let
//! whichever server sweeps next continue where the last one stopped.

mod legacy_positions;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use leadhook_shared::SyncReport;
use leadhook_shared::meta::{parse_graph_lead, parse_meta_time};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::SweepConfig;
use crate::graph::{GraphClient, LeadForm};
use crate::health::GraphStatus;
use crate::lease::{JobLease, replica_id};
use crate::metrics::Metrics;
use crate::store::{Leases, SweepPositions};
use crate::writer::LeadWriter;

/// Leads are fetched from a little before the high-water mark, so clock skew loses nothing.
const OVERLAP_SECONDS: i64 = 300;
/// The store's lease a server holds while it sweeps.
const SWEEP_LEASE: &str = "sweep";
/// How long a sweeping server's claim lasts past its last renewal when sweeps are manual only.
/// With automatic sweeps it is the interval, so a dead sweeper's turn passes on within two.
const MANUAL_SWEEP_LEASE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize)]
pub struct LastSweep {
    pub finished_at: DateTime<Utc>,
    #[serde(flatten)]
    pub report: SyncReport,
}

type RunningSweep = Shared<BoxFuture<'static, SyncReport>>;

/// How a sweep gets the lease.
#[derive(Debug, Clone, Copy)]
enum Turn {
    /// Already taken (a scheduled sweep that was due).
    Taken,
    /// Taken once no other server sweeps (a manual sync).
    WhenFree,
}

#[derive(Clone)]
pub struct Sweeper {
    inner: Arc<Inner>,
}

struct Inner {
    config: SweepConfig,
    graph: GraphClient,
    leads: LeadWriter,
    positions: Arc<dyn SweepPositions>,
    metrics: Arc<Metrics>,
    lease: JobLease,
    /// Where sweep positions were kept before they moved into the store.
    legacy_positions: PathBuf,
    running: tokio::sync::Mutex<Option<RunningSweep>>,
    last: Mutex<Option<LastSweep>>,
}

/// What the sweeper keeps in the store besides leads: its positions, and the lease it sweeps under.
pub struct SweepStore {
    pub positions: Arc<dyn SweepPositions>,
    pub leases: Arc<dyn Leases>,
}

impl Sweeper {
    /// A sweeper storing leads through `leads`, its positions and lease in `store`.
    pub fn new(
        config: SweepConfig,
        graph: GraphClient,
        leads: LeadWriter,
        store: SweepStore,
        metrics: Arc<Metrics>,
        data_dir: &Path,
    ) -> Sweeper {
        let lifetime = config.interval.unwrap_or(MANUAL_SWEEP_LEASE);
        let lease = JobLease::new(store.leases, SWEEP_LEASE, &replica_id(), lifetime);
        Sweeper {
            inner: Arc::new(Inner {
                config,
                graph,
                leads,
                positions: store.positions,
                metrics,
                lease,
                legacy_positions: data_dir.join(legacy_positions::FILE_NAME),
                running: tokio::sync::Mutex::new(None),
                last: Mutex::new(None),
            }),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.inner.config.is_configured()
    }

    pub fn last(&self) -> Option<LastSweep> {
        self.inner
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sweeps now, or joins the sweep already running here, and returns its report. While
    /// another server sweeps, waits for it to finish, then sweeps.
    pub async fn sweep_now(&self) -> SyncReport {
        self.run_or_join(Turn::WhenFree).await
    }

    async fn run_or_join(&self, turn: Turn) -> SyncReport {
        let sweep = {
            let mut running = self.inner.running.lock().await;
            match running.as_ref() {
                Some(sweep) => sweep.clone(),
                None => {
                    let inner = Arc::clone(&self.inner);
                    // Spawned, so a caller that goes away does not stop the sweep.
                    let task = tokio::spawn(async move {
                        let report = inner.sweep_in_turn(turn).await;
                        *inner.running.lock().await = None;
                        report
                    });
                    let sweep = async move {
                        task.await.unwrap_or_else(|e| SyncReport {
                            errors: vec![format!("the sweep stopped abnormally: {e}")],
                            ..SyncReport::default()
                        })
                    }
                    .boxed()
                    .shared();
                    *running = Some(sweep.clone());
                    sweep
                }
            }
        };
        sweep.await
    }

    /// Sweeps whenever a sweep is due and no other server took the turn, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let Some(interval) = self.inner.config.interval.filter(|_| self.is_configured()) else {
            return;
        };
        loop {
            let wait = match self.inner.lease.due_at().await {
                Ok(due) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO),
                Err(error) => {
                    tracing::warn!("cannot read the sweep lease: {error}");
                    interval
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.cancelled() => return,
            }
            match self.inner.lease.take_if_due().await {
                Ok(true) => {}
                // Another server's turn, or not due after all: look again.
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!("cannot take the sweep lease: {error}");
                    continue;
                }
            }
            let report = tokio::select! {
                report = self.run_or_join(Turn::Taken) => report,
                _ = shutdown.cancelled() => return,
            };
            if report.inserted > 0 {
                tracing::info!(
                    inserted = report.inserted,
                    "sweep found leads no webhook announced"
                );
            }
        }
    }
}

impl Inner {
    /// Sweeps under the lease, and frees it for the next sweep one interval later.
    async fn sweep_in_turn(&self, turn: Turn) -> SyncReport {
        let started = Instant::now();
        if let Turn::WhenFree = turn
            && let Err(error) = self.lease.take_when_free().await
        {
            let report = SyncReport {
                errors: vec![format!("cannot take the sweep lease: {error}")],
                ..SyncReport::default()
            };
            return self.finish(report, started);
        }
        let next_due = self.config.interval.unwrap_or(Duration::ZERO);
        let (report, released) = self.lease.hold_while(self.sweep(), next_due).await;
        if let Err(error) = released {
            tracing::warn!("cannot free the sweep lease; it passes on when it expires: {error}");
        }
        report
    }

    async fn sweep(&self) -> SyncReport {
        let started = Instant::now();
        let mut report = SyncReport::default();
        if let GraphStatus::RateLimited { until } = self.leads.status().graph()
            && until > Utc::now()
        {
            report.errors.push(format!(
                "Graph API rate limited until {until}; sweep skipped"
            ));
            return self.finish(report, started);
        }
        let store = self.positions.as_ref();
        if let Err(error) = legacy_positions::import(&self.legacy_positions, store).await {
            report.errors.push(error);
        }
        let marks = match store.sweep_positions().await {
            Ok(marks) => marks,
            Err(error) => {
                report
                    .errors
                    .push(format!("cannot read the sweep positions: {error}"));
                return self.finish(report, started);
            }
        };
        let now = Utc::now();
        let first_since = now.timestamp() - self.config.backfill.as_secs() as i64;
        for (page_id, form) in self.forms(&mut report).await {
            report.forms += 1;
            if form.name.is_some() {
                self.leads
                    .learn_form_name(&form.id, form.name.clone())
                    .await;
            }
            let mark = marks.get(&form.id).copied();
            let since = mark.map_or(first_since, |mark| mark - OVERLAP_SECONDS);
            let leads = match self.graph.form_leads(&form.id, since).await {
                Ok(leads) => {
                    self.leads.status().set_graph(GraphStatus::Ok);
                    leads
                }
                Err(error) => {
                    self.leads.status().graph_failed(&error);
                    report.errors.push(format!("form {}: {error}", form.id));
                    continue;
                }
            };
            report.fetched += leads.len() as u64;
            let mut newest = mark.unwrap_or(since);
            let mut complete = true;
            for graph_lead in leads {
                let created = graph_lead.created_time.as_deref().and_then(parse_meta_time);
                let mut lead = match parse_graph_lead(graph_lead, created.unwrap_or(now)) {
                    Ok(lead) => lead,
                    Err(error) => {
                        report.errors.push(format!("form {}: {error}", form.id));
                        continue;
                    }
                };
                lead.meta.page_id = lead.meta.page_id.or_else(|| page_id.clone());
                lead.meta.form_id = lead.meta.form_id.or_else(|| Some(form.id.clone()));
                lead.meta.form_name = lead.meta.form_name.or_else(|| form.name.clone());
                match self
                    .leads
                    .store_from_meta(lead, leadhook_shared::team::actor::SWEEPER)
                    .await
                {
                    Ok(stored) => {
                        report.inserted += u64::from(stored.inserted);
                        newest = newest.max(created.map_or(newest, |c| c.timestamp()));
                    }
                    Err(error) => {
                        complete = false;
                        report.errors.push(format!("form {}: {error}", form.id));
                        break;
                    }
                }
            }
            if complete
                && mark != Some(newest)
                && let Err(error) = store.save_sweep_position(&form.id, newest).await
            {
                report.errors.push(format!(
                    "form {}: cannot save the sweep position: {error}",
                    form.id
                ));
            }
        }
        self.finish(report, started)
    }

    /// The forms to sweep, with the page each belongs to when known.
    async fn forms(&self, report: &mut SyncReport) -> Vec<(Option<String>, LeadForm)> {
        let single_page =
            (self.config.page_ids.len() == 1).then(|| self.config.page_ids[0].clone());
        if !self.config.form_ids.is_empty() {
            return self
                .config
                .form_ids
                .iter()
                .map(|id| {
                    let form = LeadForm {
                        id: id.clone(),
                        name: None,
                        status: None,
                    };
                    (single_page.clone(), form)
                })
                .collect();
        }
        let mut forms = Vec::new();
        for page_id in &self.config.page_ids {
            match self.graph.leadgen_forms(page_id).await {
                Ok(found) => {
                    forms.extend(found.into_iter().map(|form| (Some(page_id.clone()), form)))
                }
                Err(error) => {
                    self.leads.status().graph_failed(&error);
                    report
                        .errors
                        .push(format!("page {page_id}: cannot list lead forms: {error}"));
                }
            }
        }
        forms
    }

    fn finish(&self, mut report: SyncReport, started: Instant) -> SyncReport {
        report.duration_ms = started.elapsed().as_millis() as u64;
        self.metrics
            .sweep(report.errors.is_empty(), report.inserted);
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let previous = last.as_ref().map_or(&[][..], |l| &l.report.errors[..]);
        log_changed_errors(previous, &report.errors);
        *last = Some(LastSweep {
            finished_at: Utc::now(),
            report: report.clone(),
        });
        report
    }
}

/// Logs a sweep's errors when they differ from the previous sweep's, so a lasting problem is
/// logged when it starts and when it ends, not once per sweep.
fn log_changed_errors(previous: &[String], current: &[String]) {
    for error in changed_errors(previous, current) {
        tracing::warn!("sweep: {error}");
    }
    if current.is_empty() && !previous.is_empty() {
        tracing::info!("sweeps succeed again");
    }
}

/// The errors of this sweep the previous sweep did not have.
fn changed_errors<'a>(previous: &[String], current: &'a [String]) -> Vec<&'a str> {
    current
        .iter()
        .filter(|error| !previous.contains(error))
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(list: &[&str]) -> Vec<String> {
        list.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn only_errors_new_since_the_previous_sweep_are_logged() {
        let first = errors(&["form 1: timeout"]);
        assert_eq!(changed_errors(&[], &first), ["form 1: timeout"]);
        assert!(
            changed_errors(&first, &first).is_empty(),
            "the same error again is not logged again"
        );
        let second = errors(&["form 1: timeout", "form 2: code 100"]);
        assert_eq!(changed_errors(&first, &second), ["form 2: code 100"]);
        assert!(changed_errors(&second, &[]).is_empty());
    }
}
