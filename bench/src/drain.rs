//! Drain: how fast the intake worker empties a full inbox.
//!
//! `--leads` events are put in the inbox at once, in signed webhooks of [`CHANGES_PER_WEBHOOK`]
//! leadgen changes each, every lead existing on the Graph API stand-in. The rate is leads
//! stored per second from the first acknowledgement until the store holds the last lead (its
//! count read through the API). Twice: with the stand-in answering every lead fetch at once, and
//! answering after `--graph-delay-ms` (a real Graph API is 100–300 ms away), `--slow-leads`
//! events then. Beside each rate, the most lead fetches the stand-in saw in flight at once: the
//! server must stay within its Graph concurrency. Afterwards (untimed) every lead must be
//! stored exactly once, and with Graph answering at once the same leads are stored and fetched
//! again without the server ([`crate::drain_references`]): the drain is also given as a share
//! of what those two manage together, which does not move with the CPU as the rate does.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use clap::Args;
use leadhook_sim::FakeLead;

use crate::drain_references::References;
use crate::fixture::{self, PHASE_LIMIT, Server, ServerPlacement, post_webhook, signed_batches};
use crate::report::{Figure, Figures, Target};

const BENCHMARK: &str = "drain";

/// Leadgen changes per webhook: Meta batches at most 1,000 changes in one POST.
pub const CHANGES_PER_WEBHOOK: usize = 1_000;

/// The default answer delay of the stand-in's lead fetches where Graph is "far away".
pub const DEFAULT_GRAPH_DELAY_MS: u64 = 150;

/// The benchmark's server runs with the default `LEADHOOK_GRAPH_CONCURRENCY`: Graph calls it may
/// have in flight at once.
const SERVER_GRAPH_CONCURRENCY: u64 = leadhook_server::config::DEFAULT_GRAPH_CONCURRENCY as u64;

/// Drain rate target with Graph answering at once.
const AT_ONCE_TARGET: f64 = 5_000.0;

/// The same target as a share, in percent, of what the store alone and the Graph stand-in alone
/// manage together in the same run (see [`crate::drain_references`]): the drain does both for
/// every lead on the same cores, plus the inbox's durable claims and settles.
const SHARE_OF_REFERENCE_TARGET: f64 = 50.0;

/// Drain rate target with Graph answering after [`DEFAULT_GRAPH_DELAY_MS`] (at most
/// [`SERVER_GRAPH_CONCURRENCY`] / 150 ms = 213 leads/s are possible).
pub const DELAYED_TARGET: f64 = 200.0;

#[derive(Debug, Clone, Args)]
pub struct DrainArgs {
    /// Events in the inbox with Graph answering at once.
    #[arg(long, default_value_t = 20_000)]
    pub leads: usize,
    /// Events in the inbox with Graph answering after `--graph-delay-ms`.
    #[arg(long, default_value_t = 3_000)]
    pub slow_leads: usize,
    /// How long the Graph API stand-in takes to answer each lead fetch in the slow setting.
    #[arg(long, default_value_t = DEFAULT_GRAPH_DELAY_MS)]
    pub graph_delay_ms: u64,
    #[command(flatten)]
    pub server: ServerPlacement,
}

/// Adds `leads` to the server's Graph stand-in, then puts them in its inbox with webhooks of
/// [`CHANGES_PER_WEBHOOK`] changes, one after another; returns when the first was acknowledged.
pub async fn fill_inbox(server: &Server, leads: &[FakeLead]) -> anyhow::Result<Instant> {
    for lead in leads {
        server.graph.add_fake_lead(lead);
    }
    let webhooks = signed_batches(leads, CHANGES_PER_WEBHOOK)?;
    let url = server.url("/webhook");
    let post_all = async {
        let mut first_ack = None;
        for webhook in &webhooks {
            post_webhook(&server.client, &url, webhook).await?;
            first_ack.get_or_insert_with(Instant::now);
        }
        first_ack.context("no leads to put in the inbox")
    };
    tokio::time::timeout(PHASE_LIMIT, post_all)
        .await
        .with_context(|| format!("the webhooks took longer than {PHASE_LIMIT:?}"))?
}

/// What one drain measured.
struct Drained {
    per_second: f64,
    peak_fetches_in_flight: u64,
    fetches_per_lead: f64,
    /// With Graph answering at once: what the store and the Graph stand-in manage alone.
    references: Option<References>,
}

/// Fills a fresh server's inbox with `count` leads, Graph answering after `delay`, and times
/// the worker until the store holds them all.
async fn drain(
    count: usize,
    delay: Duration,
    seed: u64,
    placement: &ServerPlacement,
) -> anyhow::Result<Drained> {
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let server = Server::start_at(data_dir.path(), placement).await?;
    server.graph.set_lead_read_latency(delay);
    let leads = fixture::fake_leads(seed, count);
    let first_ack = fill_inbox(&server, &leads).await?;
    let all_stored = server.wait_until_stored(count as u64, PHASE_LIMIT).await?;
    let mut drained = Drained {
        per_second: count as f64 / all_stored.duration_since(first_ack).as_secs_f64(),
        peak_fetches_in_flight: server.graph.peak_lead_reads_in_flight(),
        fetches_per_lead: server.graph.lead_fetches() as f64 / count as f64,
        references: None,
    };
    server.check_stored_once(&leads).await?;
    if delay.is_zero() {
        let scratch = tempfile::tempdir().context("cannot create a scratch directory")?;
        drained.references =
            Some(References::measure(&leads, &server.graph, scratch.path()).await?);
    }
    server.stop().await?;
    Ok(drained)
}

/// The references of a drain, and the drain as a share of the two together: the target
/// restated so that it does not move with the CPU.
fn record_references(
    figures: &mut Figures,
    graph: &str,
    count: usize,
    drain_per_second: f64,
    references: &References,
) {
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("{graph}: the lead store alone, the same {count} leads in bulk"),
            "leads/s",
        ),
        references.store_alone,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!(
                "{graph}: the Graph stand-in alone, one fetch a lead at the server's concurrency"
            ),
            "fetches/s",
        ),
        references.graph_alone,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!(
                "{graph}: the drain as a share of the two together (a write and a fetch a lead)"
            ),
            "%",
        )
        .target(Target::AtLeast(SHARE_OF_REFERENCE_TARGET)),
        100.0 * drain_per_second / references.combined(),
    );
}

pub async fn run(args: &DrainArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(
        args.leads > 0 && args.slow_leads > 0,
        "--leads and --slow-leads must be at least 1"
    );
    let mut figures = Figures::default();
    let delayed = format!("Graph answering in {} ms", args.graph_delay_ms);
    let settings = [
        ("Graph answering at once", args.leads, 0, AT_ONCE_TARGET),
        (
            delayed.as_str(),
            args.slow_leads,
            args.graph_delay_ms,
            DELAYED_TARGET,
        ),
    ];
    for run in 0..runs {
        for (setting, &(graph, count, delay_ms, target)) in settings.iter().enumerate() {
            let seed = 4_000 + (run * settings.len() + setting) as u64;
            let drained = drain(count, Duration::from_millis(delay_ms), seed, &args.server)
                .await
                .with_context(|| format!("drain of {count} events, {graph}"))?;
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!("{graph}: leads stored/s, {count} events in the inbox"),
                    "leads/s",
                )
                .target(Target::AtLeast(target)),
                drained.per_second,
            );
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!("{graph}: most lead fetches in flight at once"),
                    "fetches",
                )
                .target(Target::AtMost(SERVER_GRAPH_CONCURRENCY as f64)),
                drained.peak_fetches_in_flight as f64,
            );
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!("{graph}: Graph lead fetches per lead"),
                    "fetches",
                ),
                drained.fetches_per_lead,
            );
            if let Some(references) = &drained.references {
                record_references(&mut figures, graph, count, drained.per_second, references);
            }
            if delay_ms > 0 {
                // What the Graph's latency allows: every fetch slot busy all the time.
                let allowed = SERVER_GRAPH_CONCURRENCY as f64 * 1_000.0 / delay_ms as f64;
                figures.record(
                    Figure::new(
                        BENCHMARK,
                        format!("{graph}: the drain as a share of concurrency / latency"),
                        "%",
                    )
                    .target(Target::AtLeast(
                        100.0 * DELAYED_TARGET
                            / (SERVER_GRAPH_CONCURRENCY as f64 * 1_000.0
                                / DEFAULT_GRAPH_DELAY_MS as f64),
                    )),
                    100.0 * drained.per_second / allowed,
                );
            }
        }
        eprintln!("drain: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
