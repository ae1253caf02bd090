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

/// Claim mode with a duplicate window of `days` (the server's default is 30): every new lead is
/// matched against its person's earlier leads, as the server stores them; 0 links nothing.
fn linking(days: i64) -> Routing<'static> {
    Routing {
        assignment: Assignment::Claim,
        reps: &[],
        repeat_window: Duration::days(days),
    }
}
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
    /// Days apart two submissions with the same phone or e-mail are one person's, as
    /// `LEADHOOK_DUPLICATE_WINDOW`; 0 measures the store without linking people.
    #[arg(long, default_value_t = 30)]
    pub duplicate_window_days: i64,
    /// Percent of the leads that keep the simulator's e-mail; the others get one of their own.
    /// The simulator's small name pools make about 84 % of 100,000 leads repeats of an earlier
    /// person (100, the default); a real page sees far fewer.
    #[arg(long, default_value_t = 100)]
    pub repeat_share: u8,
}

/// How the leads are handed to the store.
#[derive(Clone, Copy)]
enum Way {
    Bulk,
    OneByOne,
}

/// Seconds to store `leads` into `store` the given way, after which the store holds exactly
/// those leads.
/// Returns the seconds and how many people the leads turned out to be.
async fn store_all(
    store: &dyn LeadStore,
    leads: &[IncomingLead],
    way: Way,
    routing: Routing<'_>,
) -> anyhow::Result<(f64, u64)> {
    let started = Instant::now();
    match way {
        Way::Bulk => {
            for piece in leads.chunks(UPSERT_BATCH) {
                let stored = store.upsert_many(piece, FACEBOOK, routing).await?;
                ensure!(
                    stored.iter().all(|upserted| upserted.inserted),
                    "a lead of a fresh store was not inserted"
                );
            }
        }
        Way::OneByOne => {
            for lead in leads {
                let mut stored = store
                    .upsert_many(std::slice::from_ref(lead), FACEBOOK, routing)
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
    let stats = store
        .stats(StatsWindow {
            today_start: now,
            week_start: now,
            now,
        })
        .await
        .context("cannot count the stored leads")?;
    ensure!(
        stats.total == leads.len() as u64,
        "the store holds {} leads after storing {}",
        stats.total,
        leads.len()
    );
    Ok((seconds, stats.people.total))
}

/// `count` distinct leads as the intake would store them.
fn leads(seed: u64, count: usize, repeat_share: u8) -> anyhow::Result<Vec<IncomingLead>> {
    let now = Utc::now() - Duration::seconds(1);
    fixture::fake_leads(seed, count)
        .iter()
        .enumerate()
        .map(|(n, lead)| {
            let mut lead = fixture::incoming(lead, now)?;
            // Spread over the run, not the first leads only.
            if (n * 37 % 100) >= usize::from(repeat_share)
                && let Some((local, domain)) =
                    lead.meta.email.as_deref().and_then(|e| e.split_once('@'))
            {
                lead.meta.email = Some(format!("{local}+{n}@{domain}"));
                leadhook_server::triage::Triage::default().read(&mut lead.meta);
            }
            Ok(lead)
        })
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

    /// Seconds to store `count` fresh leads the given way into a fresh store of this kind, and
    /// the people they made.
    async fn time(
        self,
        (count, seed, repeat_share): (usize, u64, u8),
        way: Way,
        routing: Routing<'_>,
    ) -> anyhow::Result<(f64, u64)> {
        let leads = leads(seed, count, repeat_share)?;
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let path = dir.path().join("leads.db");
                let store = SqliteStore::open(&path)
                    .await
                    .with_context(|| format!("cannot open the lead store at {}", path.display()))?;
                store_all(&store, &leads, way, routing).await
            }
            Backend::Postgrest => {
                let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
                let store = PostgrestStore::new(
                    &supabase.base_url,
                    supabase.secret_key().to_string().into(),
                )
                .context("cannot build the Supabase store")?;
                store_all(&store, &leads, way, routing).await
            }
        }
    }
}

/// The figures of one measurement: a rate for each, and the targets where it set one.
fn record(
    figures: &mut Figures,
    (backend, way, count): (Backend, Way, usize),
    (seconds, people): (f64, u64),
) {
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
                    format!("{label}: share of the {count} leads linked to an earlier person"),
                    "%",
                ),
                100.0 * (count as f64 - people as f64) / count as f64,
            );
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
    ensure!(
        (0..=365).contains(&args.duplicate_window_days) && args.repeat_share <= 100,
        "--duplicate-window-days must be 0 to 365, --repeat-share 0 to 100"
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
            let routing = linking(args.duplicate_window_days);
            let leads = (count, seed, args.repeat_share);
            let measured = backend.time(leads, way, routing).await.with_context(|| {
                let how = match way {
                    Way::Bulk => "in bulk",
                    Way::OneByOne => "one at a time",
                };
                format!("{}, {how}", backend.label())
            })?;
            record(&mut figures, (backend, way, count), measured);
        }
        eprintln!("store: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
