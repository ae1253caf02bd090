//! The lead store's write path alone, no HTTP in front of it: leads from Meta stored through
//! `LeadWrites::upsert_many` in pieces of [`UPSERT_BATCH`] (what the intake does with fetched
//! leads), and one lead per call (what it did before, and still does when a store refuses a
//! batch), each new lead matched against its person's earlier leads (the 30-day duplicate
//! window), into
//!
//! - a fresh SQLite store (the default) in a temporary directory;
//! - a fresh local Supabase: the real PostgREST 12 on a throwaway PostgreSQL, behind the
//!   Supabase-like gateway of the tests (needs `scripts/test --setup`, as the tests do).
//!
//! The leads are built before the clock starts. After each run the store must hold every lead
//! exactly once, or the run fails.

use std::time::Instant;

use anyhow::{Context as _, ensure};
use chrono::{Duration, Utc};
use clap::Args;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{LeadStore, Routing, StatsWindow, UPSERT_BATCH};
use leadhook_shared::Assignment;
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;

use crate::fixture;
use crate::report::{Figure, Figures, Target};

const BENCHMARK: &str = "store";

/// Claim mode with the default duplicate window: every new lead is matched against its person's
/// earlier leads, as the server stores them.
const LINKING: Routing<'static> = Routing {
    assignment: Assignment::Claim,
    reps: &[],
    repeat_window: Duration::days(30),
};
/// The targets: 100,000 leads into SQLite within 5 s; PostgREST in bulk at 2,000/s.
const SQLITE_SECONDS_TARGET: f64 = 5.0;
const POSTGREST_RATE_TARGET: f64 = 2_000.0;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Leads stored in bulk into a fresh SQLite store per run.
    #[arg(long, default_value_t = 100_000)]
    pub sqlite_leads: usize,
    /// Leads stored in bulk into a fresh local Supabase per run.
    #[arg(long, default_value_t = 20_000)]
    pub postgrest_leads: usize,
    /// Leads stored one per call at a time per store and run, for comparison.
    #[arg(long, default_value_t = 2_000)]
    pub one_by_one_leads: usize,
}

/// How the leads are handed to the store.
#[derive(Clone, Copy)]
enum Way {
    Bulk,
    OneByOne,
}

/// Seconds to store `leads` into `store` the given way, after which the store holds exactly
/// those leads.
async fn store_all(store: &dyn LeadStore, leads: &[IncomingLead], way: Way) -> anyhow::Result<f64> {
    let started = Instant::now();
    match way {
        Way::Bulk => {
            for piece in leads.chunks(UPSERT_BATCH) {
                let stored = store.upsert_many(piece, FACEBOOK, LINKING).await?;
                ensure!(
                    stored.iter().all(|upserted| upserted.inserted),
                    "a lead of a fresh store was not inserted"
                );
            }
        }
        Way::OneByOne => {
            for lead in leads {
                let mut stored = store
                    .upsert_many(std::slice::from_ref(lead), FACEBOOK, LINKING)
                    .await?;
                ensure!(
                    stored.pop().is_some_and(|upserted| upserted.inserted),
                    "lead {} of a fresh store was not inserted",
                    lead.leadgen_id
                );
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let now = Utc::now();
    let total = store
        .stats(StatsWindow {
            today_start: now,
            week_start: now,
            now,
        })
        .await
        .context("cannot count the stored leads")?
        .total;
    ensure!(
        total == leads.len() as u64,
        "the store holds {total} leads after storing {}",
        leads.len()
    );
    Ok(seconds)
}

/// `count` distinct leads as the intake would store them.
fn leads(seed: u64, count: usize) -> anyhow::Result<Vec<IncomingLead>> {
    let now = Utc::now() - Duration::seconds(1);
    fixture::fake_leads(seed, count)
        .iter()
        .map(|lead| fixture::incoming(lead, now))
        .collect()
}

/// Where the leads go: a fresh store of each kind per measurement.
#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgrest,
}

impl Backend {
    fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgrest => "PostgREST 12",
        }
    }

    /// Seconds to store `count` fresh leads the given way into a fresh store of this kind.
    async fn time(self, count: usize, seed: u64, way: Way) -> anyhow::Result<f64> {
        let leads = leads(seed, count)?;
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("leads.db");
                let store = SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open the lead store at {}", path.display()))?;
                store_all(&store, &leads, way).await
            }
            Backend::Postgrest => {
                let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
                let store = PostgrestStore::new(
                    &supabase.base_url,
                    supabase.secret_key().to_string().into(),
                )
                .context("cannot build the Supabase store")?;
                store_all(&store, &leads, way).await
            }
        }
    }
}

/// The figures of one measurement: a rate for each, and the targets where it set one.
fn record(figures: &mut Figures, backend: Backend, way: Way, count: usize, seconds: f64) {
    let label = backend.label();
    let rate = count as f64 / seconds;
    match (backend, way) {
        (_, Way::OneByOne) => figures.record(
            Figure::new(
                BENCHMARK,
                format!("{label}: leads stored/s one at a time"),
                "leads/s",
            ),
            rate,
        ),
        (Backend::Sqlite, Way::Bulk) => {
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!("{label}: {count} leads stored in pieces of {UPSERT_BATCH}"),
                    "s",
                )
                .target(Target::AtMost(
                    SQLITE_SECONDS_TARGET * count as f64 / 100_000.0,
                )),
                seconds,
            );
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!("{label}: leads stored/s in bulk"),
                    "leads/s",
                ),
                rate,
            );
        }
        (Backend::Postgrest, Way::Bulk) => figures.record(
            Figure::new(
                BENCHMARK,
                format!("{label}: leads stored/s in pieces of {UPSERT_BATCH}, {count} leads"),
                "leads/s",
            )
            .target(Target::AtLeast(POSTGREST_RATE_TARGET)),
            rate,
        ),
    }
}

pub async fn run(args: &StoreArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(
        args.sqlite_leads > 0 && args.postgrest_leads > 0 && args.one_by_one_leads > 0,
        "--sqlite-leads, --postgrest-leads and --one-by-one-leads must be at least 1"
    );
    let measurements = [
        (Backend::Sqlite, Way::Bulk, args.sqlite_leads),
        (Backend::Sqlite, Way::OneByOne, args.one_by_one_leads),
        (Backend::Postgrest, Way::Bulk, args.postgrest_leads),
        (Backend::Postgrest, Way::OneByOne, args.one_by_one_leads),
    ];
    let mut figures = Figures::default();
    for run in 0..runs {
        for (step, (backend, way, count)) in measurements.into_iter().enumerate() {
            let seed = 5_000 + (run * measurements.len() + step) as u64;
            let seconds = backend.time(count, seed, way).await.with_context(|| {
                let how = match way {
                    Way::Bulk => "in bulk",
                    Way::OneByOne => "one at a time",
                };
                format!("{}, {how}", backend.label())
            })?;
            record(&mut figures, backend, way, count, seconds);
        }
        eprintln!("store: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
