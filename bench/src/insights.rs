//! Insights: the store's answer to `GET /api/insights` (30 days, by campaign and by ad) over the
//! simulator's month of leads with their history (100,000 by default), on a fresh SQLite store
//! and through the real PostgREST 12 on a throwaway PostgreSQL (needs `scripts/test --setup`, as
//! the tests do). The month is written with the store copy's bulk writes before the clock starts.
//! Then the dashboard, holding as many leads, draws the month's figures (`insights_screen`).

use std::time::Instant;

use anyhow::{Context as _, ensure};
use chrono::Utc;
use clap::Args;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::insights::spend::Spend;
use leadhook_server::insights::{Asked, assemble};
use leadhook_server::store::copy::{CopyEnd, write_history};
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{InsightsQuery, LeadStore};
use leadhook_shared::insights::{Grouping, Insights, Period, SpendStatus};
use leadhook_shared::{AnswerColumns, Tz};
use leadhook_sim::{PastMonth, past_month};

use crate::insights_screen;
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "insights";

/// The target: insights over 100,000 leads within 100 ms on both stores.
const TARGET_MS: f64 = 100.0;

const REPS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];

#[derive(Debug, Clone, Args)]
pub struct InsightsArgs {
    /// Leads of the simulator's month in each store.
    #[arg(long, default_value_t = 100_000)]
    pub leads: usize,
    /// Store calls timed per grouping, store and run.
    #[arg(long, default_value_t = 20)]
    pub repetitions: usize,
}

/// Times `repetitions` calls of the store's insights for `query`; checks they count the month.
async fn time_insights(
    store: &dyn LeadStore,
    query: &InsightsQuery,
    repetitions: usize,
    leads: usize,
) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new()?;
    for _ in 0..repetitions {
        let started = Instant::now();
        let figures = store
            .insights(query)
            .await
            .context("the insights call failed")?;
        latencies.record(started.elapsed());
        ensure!(
            figures.total.leads as usize == leads,
            "the insights counted {} leads of {leads}",
            figures.total.leads
        );
    }
    Ok(latencies)
}

async fn measure(
    figures: &mut Figures,
    backend: &str,
    store: &dyn LeadStore,
    month: &PastMonth,
    args: &InsightsArgs,
) -> anyhow::Result<()> {
    let now = Utc::now();
    for by in [Grouping::Campaign, Grouping::Ad] {
        let asked = Asked::new(
            Period::Last30Days,
            by.clone(),
            Tz::UTC,
            now,
            &AnswerColumns::default(),
        )?;
        let query = asked.store_query();
        let in_period = month
            .leads
            .iter()
            .filter(|lead| lead.meta.created_at >= query.start())
            .count();
        let latencies = time_insights(store, &query, args.repetitions, in_period).await?;
        for (label, quantile) in [("p50", 0.5), ("p99", 0.99)] {
            let name = format!(
                "{backend}: 30 days by {}, {} leads, {label}",
                by.as_str(),
                args.leads
            );
            let mut figure = Figure::new(BENCHMARK, name, "ms");
            if label == "p50" {
                figure = figure.target(Target::AtMost(TARGET_MS));
            }
            figures.record(figure, latencies.millis(quantile));
        }
    }
    Ok(())
}

/// The manager's figures of the last 30 days by campaign, as `GET /api/insights` answers them
/// without spend (the bench does not reach Meta).
async fn month_by_campaign(store: &dyn LeadStore) -> anyhow::Result<Insights> {
    let asked = Asked::new(
        Period::Last30Days,
        Grouping::Campaign,
        Tz::UTC,
        Utc::now(),
        &AnswerColumns::default(),
    )?;
    let query = asked.store_query();
    let counted = store
        .insights(&query)
        .await
        .context("the insights call failed")?;
    Ok(assemble(
        &asked,
        &query,
        counted,
        Spend::without(SpendStatus::Off),
    ))
}

async fn write(end: &dyn CopyEnd, month: &PastMonth) -> anyhow::Result<()> {
    write_history(end, month.leads.clone(), month.activity.clone())
        .await
        .context("cannot write the month into the store")
}

pub async fn run(args: &InsightsArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.repetitions > 0, "--repetitions must be at least 1");
    eprintln!("insights: building a month of {} leads...", args.leads);
    let month = past_month(29, Utc::now(), args.leads, &REPS);
    let mut figures = Figures::default();
    for run in 1..=runs {
        let dir = tempfile::tempdir().context("cannot create a data directory")?;
        let sqlite = SqliteStore::open(&dir.path().join("leads.db")).await?;
        eprintln!("insights run {run}/{runs}: writing the month into SQLite...");
        write(&sqlite, &month).await?;
        measure(&mut figures, "sqlite", &sqlite, &month, args).await?;
        eprintln!("insights run {run}/{runs}: drawing the insights screen...");
        insights_screen::measure(&mut figures, args.leads, month_by_campaign(&sqlite).await?)?;

        eprintln!("insights run {run}/{runs}: writing the month into a local Supabase...");
        let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
        let postgrest =
            PostgrestStore::new(&supabase.base_url, supabase.secret_key().to_string().into())
                .context("cannot build the Supabase store")?;
        write(&postgrest, &month).await?;
        measure(&mut figures, "postgrest", &postgrest, &month, args).await?;
    }
    Ok(figures)
}
