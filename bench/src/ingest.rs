//! Ingest: signed leadgen webhooks acknowledged durably (committed to the inbox before the 200).
//!
//! Two loads, each against the real server and against a no-op axum handler on the same runtime
//! (the ceiling that HTTP on loopback and this load generator allow on this machine):
//! - throughput: `concurrency` requests in flight until `requests` are acknowledged;
//! - latency: an open loop at `rate` requests per second for `seconds`.
//!
//! Every request is a distinct notification (one leadgen change) with its signature, built before
//! the clock starts. What the intake worker does meanwhile is chosen with `--graph` (see
//! [`GraphMode`]); by default every lead exists on the Graph API stand-in, so the worker fetches
//! and stores leads while the webhooks come in, as in production.
//!
//! Nothing acknowledged may be lost: after each phase every acknowledged event must be in the
//! inbox, and (with every lead on the stand-in) once the worker has caught up, untimed, every
//! lead must be stored exactly once.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use clap::Args;
use leadhook_sim::FakeLead;
use tokio::task::JoinSet;

use crate::fixture::{
    self, LoopbackService, PHASE_LIMIT, Server, ServerPlacement, Signed, post_webhook,
    signed_webhooks,
};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "ingest";
/// Durable acks with the worker storing meanwhile, as a share of what a no-op axum answers.
const CEILING_SHARE_TARGET: f64 = 50.0;
/// Ack p99 at the fixed rate.
const ACK_P99_TARGET_MS: f64 = 10.0;
/// Durable acks with the worker storing meanwhile, the server on one core (the small-VPS profile).
const ONE_CORE_ACKS_TARGET: f64 = 2_000.0;

#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Webhooks sent in the throughput phase (after a warm-up of 1,000).
    #[arg(long, default_value_t = 60_000)]
    pub requests: usize,
    /// Requests in flight in the throughput phase.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Webhooks per second in the latency phase.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Length of the latency phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// What the Graph API stand-in does with the worker's lead fetches.
    #[arg(long, value_enum, default_value_t = GraphMode::Leads)]
    pub graph: GraphMode,
    #[command(flatten)]
    pub server: ServerPlacement,
}

/// The intake worker's share of the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphMode {
    /// Every lead exists: the worker fetches and stores each one while webhooks come in.
    Leads,
    /// No lead exists: each fetch fails (100/33) and the event is marked failed.
    Missing,
    /// Fetches hang until the phase ends: the worker is parked after its first claim, so only
    /// the webhook path (verify, parse, group commit) is measured.
    Stalled,
}

const WARM_UP: usize = 1_000;

/// Where webhooks go: the server, or the no-op handler.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Leadhook,
    NoOp,
}

impl Receiver {
    fn label(self) -> &'static str {
        match self {
            Receiver::Leadhook => "leadhook",
            Receiver::NoOp => "no-op axum (ceiling)",
        }
    }
}

/// A loopback axum server whose `POST /webhook` reads the body and answers 200.
async fn no_op_server() -> anyhow::Result<LoopbackService> {
    let router =
        axum::Router::new().route("/webhook", post(|_body: Bytes| async { StatusCode::OK }));
    LoopbackService::start(router, "no-op server").await
}

/// Sends every webhook with `concurrency` in flight; returns acknowledgements per second.
async fn saturate(
    client: &reqwest::Client,
    url: &str,
    webhooks: Arc<Vec<Signed>>,
    concurrency: usize,
) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers: JoinSet<anyhow::Result<()>> = JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, webhooks, next) = (
            client.clone(),
            url.to_string(),
            Arc::clone(&webhooks),
            Arc::clone(&next),
        );
        workers.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(webhook) = webhooks.get(index) else {
                    return Ok(());
                };
                post_webhook(&client, &url, webhook).await?;
            }
        });
    }
    let all_done = async {
        while let Some(result) = workers.join_next().await {
            result.context("a load task panicked")??;
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(PHASE_LIMIT, all_done)
        .await
        .with_context(|| format!("the throughput phase took longer than {PHASE_LIMIT:?}"))??;
    Ok(webhooks.len() as f64 / started.elapsed().as_secs_f64())
}

/// Starts one webhook every `1/rate` s regardless of answers (open loop); returns the latency
/// of each acknowledgement, from just before the request is sent to the whole answer read.
pub async fn open_loop(
    client: &reqwest::Client,
    url: &str,
    webhooks: Arc<Vec<Signed>>,
    rate: u32,
) -> anyhow::Result<(Latencies, f64)> {
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / rate);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = JoinSet::new();
    let started = Instant::now();
    for index in 0..webhooks.len() {
        ticks.tick().await;
        let (client, url, webhooks) = (client.clone(), url.to_string(), Arc::clone(&webhooks));
        requests.spawn(async move {
            let sent = Instant::now();
            post_webhook(&client, &url, &webhooks[index]).await?;
            anyhow::Ok(sent.elapsed())
        });
    }
    let offered = webhooks.len() as f64 / started.elapsed().as_secs_f64();
    let mut latencies = Latencies::new()?;
    let collect = async {
        while let Some(result) = requests.join_next().await {
            latencies.record(result.context("a request task panicked")??);
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(PHASE_LIMIT, collect)
        .await
        .with_context(|| format!("the latency phase took longer than {PHASE_LIMIT:?}"))??;
    Ok((latencies, offered))
}

/// Rows in the inbox file: every acknowledged event must be there.
fn inbox_events(data_dir: &Path) -> anyhow::Result<u64> {
    let path = data_dir.join("inbox.db");
    let conn =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open {}", path.display()))?;
    let count: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0))
        .context("cannot count the inbox events")?;
    Ok(count as u64)
}

/// One load phase against one receiver: a fresh server (and data dir) for leadhook each time,
/// so the runs and phases do not inherit each other's inbox backlog.
async fn phase<T>(
    receiver: Receiver,
    leads: &[FakeLead],
    graph: GraphMode,
    placement: &ServerPlacement,
    load: impl AsyncFnOnce(&reqwest::Client, &str, Arc<Vec<Signed>>) -> anyhow::Result<T>,
) -> anyhow::Result<(T, Option<u64>)> {
    let mut warm_up = signed_webhooks(leads)?;
    let measured = Arc::new(warm_up.split_off(WARM_UP.min(leads.len())));
    let client = fixture::client()?;
    match receiver {
        Receiver::NoOp => {
            let server = no_op_server().await?;
            let url = format!("{}/webhook", server.base_url);
            for webhook in &warm_up {
                post_webhook(&client, &url, webhook).await?;
            }
            let result = load(&client, &url, measured).await;
            server.stop().await?;
            Ok((result?, None))
        }
        Receiver::Leadhook => {
            let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
            let server = Server::start_at(data_dir.path(), placement).await?;
            match graph {
                GraphMode::Leads => {
                    for lead in leads {
                        server.graph.add_fake_lead(lead);
                    }
                }
                GraphMode::Missing => {}
                GraphMode::Stalled => server.graph.stall(),
            }
            let url = server.url("/webhook");
            for webhook in &warm_up {
                post_webhook(&client, &url, webhook).await?;
            }
            let result = load(&client, &url, measured).await;
            let stored = server.stored_leads().await?;
            if result.is_ok() && graph == GraphMode::Leads {
                server
                    .wait_until_stored(leads.len() as u64, PHASE_LIMIT)
                    .await
                    .context("the worker does not store every acknowledged lead")?;
                server.check_stored_once(leads).await?;
            }
            server.stop().await?;
            let result = result?;
            let committed = inbox_events(data_dir.path())?;
            if committed != leads.len() as u64 {
                bail!(
                    "{} webhooks were acknowledged but the inbox holds {committed} events",
                    leads.len()
                );
            }
            Ok((result, Some(stored)))
        }
    }
}

/// How long the disk under the data directories takes to make a 4 KiB overwrite durable
/// (`fdatasync`, as SQLite's commit does): one group commit cannot be faster.
fn disk_sync_latency() -> anyhow::Result<Latencies> {
    use std::io::{Seek as _, SeekFrom, Write as _};
    let mut file = tempfile::tempfile().context("cannot create a file to time fdatasync")?;
    let block = [0x5a_u8; 4096];
    for _ in 0..16 {
        file.write_all(&block)?;
    }
    file.sync_all().context("fsync failed")?;
    let mut latencies = Latencies::new()?;
    for i in 0..200_u64 {
        file.seek(SeekFrom::Start((i % 16) * 4096))?;
        file.write_all(&block)?;
        let started = Instant::now();
        file.sync_data().context("fdatasync failed")?;
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}

pub async fn run(args: &IngestArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.rate > 0, "--rate must be at least 1");
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let mut figures = Figures::default();
    let latency_requests = args.rate as usize * args.seconds as usize;
    for run in 0..runs {
        let sync = disk_sync_latency()?;
        figures.record(
            Figure::new(BENCHMARK, "disk: fdatasync of a 4 KiB overwrite, p50", "ms"),
            sync.millis(0.5),
        );
        figures.record(
            Figure::new(
                BENCHMARK,
                format!(
                    "bound: {} in flight / fdatasync p50 (at most one commit per sync)",
                    args.concurrency
                ),
                "req/s",
            ),
            args.concurrency as f64 / (sync.millis(0.5) / 1000.0),
        );
        let seed = 1_000 + run as u64;
        let mut ceiling = None;
        for receiver in [Receiver::NoOp, Receiver::Leadhook] {
            let label = receiver.label();
            let leads = fixture::fake_leads(seed, WARM_UP + args.requests);
            let concurrency = args.concurrency;
            let (per_second, stored) = phase(
                receiver,
                &leads,
                args.graph,
                &args.server,
                async |client, url, webhooks| saturate(client, url, webhooks, concurrency).await,
            )
            .await
            .with_context(|| format!("throughput phase against {label}"))?;
            let mut acks = Figure::new(
                BENCHMARK,
                format!("{label}: acks/s at concurrency {}", args.concurrency),
                "req/s",
            );
            if receiver == Receiver::Leadhook && args.server.server_cpus.is_some() {
                acks = acks.target(Target::AtLeast(ONE_CORE_ACKS_TARGET));
            }
            figures.record(acks, per_second);
            match ceiling {
                None => ceiling = Some(per_second),
                Some(ceiling) => figures.record(
                    Figure::new(
                        BENCHMARK,
                        "leadhook: acks/s as a share of the no-op ceiling in this run",
                        "%",
                    )
                    .target(Target::AtLeast(CEILING_SHARE_TARGET)),
                    100.0 * per_second / ceiling,
                ),
            }
            if let Some(stored) = stored {
                figures.record(
                    Figure::new(
                        BENCHMARK,
                        "leadhook: leads stored by the worker meanwhile",
                        "leads",
                    ),
                    stored as f64,
                );
            }

            let leads = fixture::fake_leads(seed + 500, WARM_UP + latency_requests);
            let rate = args.rate;
            let ((latencies, offered), _) = phase(
                receiver,
                &leads,
                args.graph,
                &args.server,
                async |client, url, webhooks| open_loop(client, url, webhooks, rate).await,
            )
            .await
            .with_context(|| format!("latency phase against {label}"))?;
            let at = format!("at {}/s", args.rate);
            figures.record(
                Figure::new(BENCHMARK, format!("{label}: offered rate {at}"), "req/s"),
                offered,
            );
            figures.record(
                Figure::new(BENCHMARK, format!("{label}: ack p50 {at}"), "ms"),
                latencies.millis(0.5),
            );
            let mut p99 = Figure::new(BENCHMARK, format!("{label}: ack p99 {at}"), "ms");
            if receiver == Receiver::Leadhook {
                p99 = p99.target(Target::AtMost(ACK_P99_TARGET_MS));
            }
            figures.record(p99, latencies.millis(0.99));
        }
        eprintln!("ingest: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
