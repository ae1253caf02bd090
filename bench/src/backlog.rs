//! Backlog: a new lead's time to the API while older events wait in the inbox.
//!
//! The Graph API stand-in answers each lead fetch after `--graph-delay-ms`. `--backlog` events
//! of older leads are put in the inbox at once, as after an outage or a big batch; while they
//! drain, `--live` new leads are posted one at a time, `--gap-ms` apart, each in its own signed
//! webhook, and each is timed from just before its POST until `GET /api/leads?since=`, asked
//! every [`POLL`], lists it. A live lead must not wait behind the backlog, and the backlog must
//! not starve meanwhile: its drain time runs from its first acknowledgement until its last lead
//! is listed. Afterwards every lead must be stored exactly once, and the server's
//! `GET /api/events` stream, open throughout, must have pushed every one of them.
//!
//! The times come from polling, which lists whatever is stored, and not from the event stream:
//! a lead the stream skips would have no time at all. How many it skipped is a figure of its
//! own (leads stored side by side by the worker can be announced out of order).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use clap::Args;

use crate::drain::{DEFAULT_GRAPH_DELAY_MS, DELAYED_TARGET, fill_inbox};
use crate::fixture::{self, PHASE_LIMIT, Server, ServerPlacement, post_webhook, signed_webhooks};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "backlog";

/// What a live lead may take to reach the API beyond its Graph fetch.
const LIVE_ALLOWANCE_MS: f64 = 1_000.0;

#[derive(Debug, Clone, Args)]
pub struct BacklogArgs {
    /// Older events put in the inbox before the live leads.
    #[arg(long, default_value_t = 3_000)]
    pub backlog: usize,
    /// Live leads timed while the backlog drains.
    #[arg(long, default_value_t = 50)]
    pub live: usize,
    /// Milliseconds between two live webhooks.
    #[arg(long, default_value_t = 200)]
    pub gap_ms: u64,
    /// How long the Graph API stand-in takes to answer each lead fetch.
    #[arg(long, default_value_t = DEFAULT_GRAPH_DELAY_MS)]
    pub graph_delay_ms: u64,
    #[command(flatten)]
    pub server: ServerPlacement,
}

/// How often the leads are looked for with `GET /api/leads?since=`: each live lead's time
/// includes up to this much.
const POLL: Duration = Duration::from_millis(10);

/// Once every lead is listed, how long the event stream may take to push the ones it has not.
const STREAM_GRACE: Duration = Duration::from_secs(2);

/// What one run measured.
struct Measured {
    live: Latencies,
    backlog_drain: Duration,
    /// Leads stored but never pushed by `GET /api/events`.
    unpushed: usize,
}

async fn backlog_then_live(args: &BacklogArgs, seed: u64) -> anyhow::Result<Measured> {
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let server = Server::start_at(data_dir.path(), &args.server).await?;
    server
        .graph
        .set_lead_read_latency(Duration::from_millis(args.graph_delay_ms));
    // One a minute up to now: the backlog's leads are the older ones.
    let leads = fixture::fake_leads(seed, args.backlog + args.live);
    let (backlog, live) = leads.split_at(args.backlog);
    for lead in live {
        server.graph.add_fake_lead(lead);
    }
    let live_webhooks = signed_webhooks(live)?;
    let (mut pushed, stream_reader) = server.lead_arrivals().await?;
    let (mut listed, poller) = server.polled_arrivals(POLL);

    let first_ack = fill_inbox(&server, backlog).await?;
    let url = server.url("/webhook");
    let mut sent = HashMap::with_capacity(live.len());
    let mut gap = tokio::time::interval(Duration::from_millis(args.gap_ms));
    let post_live = async {
        for (lead, webhook) in live.iter().zip(&live_webhooks) {
            gap.tick().await;
            sent.insert(lead.id.as_str(), Instant::now());
            post_webhook(&server.client, &url, webhook).await?;
        }
        anyhow::Ok(())
    };
    tokio::time::timeout(PHASE_LIMIT, post_live)
        .await
        .with_context(|| format!("the live webhooks took longer than {PHASE_LIMIT:?}"))??;

    let mut waiting: HashSet<&str> = backlog.iter().map(|lead| lead.id.as_str()).collect();
    let mut backlog_done = first_ack;
    let mut latencies = Latencies::new()?;
    let deadline = tokio::time::Instant::from_std(first_ack) + PHASE_LIMIT;
    while !sent.is_empty() || !waiting.is_empty() {
        let (leadgen_id, at) = match tokio::time::timeout_at(deadline, listed.recv()).await {
            Ok(Some(arrival)) => arrival,
            Ok(None) => {
                poller.await.context("the lead poller panicked")??;
                bail!("the lead poller stopped");
            }
            Err(_) => bail!(
                "{PHASE_LIMIT:?} after the older events were acknowledged, {} of {} live leads \
                 and {} of {} older leads are not listed; the store holds {} leads",
                sent.len(),
                live.len(),
                waiting.len(),
                backlog.len(),
                server.stored_leads().await?
            ),
        };
        if let Some(posted) = sent.remove(leadgen_id.as_str()) {
            latencies.record(at.duration_since(posted));
        } else if waiting.remove(leadgen_id.as_str()) {
            backlog_done = at;
        }
    }
    poller.abort();

    let mut unpushed: HashSet<&str> = leads.iter().map(|lead| lead.id.as_str()).collect();
    let grace = tokio::time::Instant::now() + STREAM_GRACE;
    while !unpushed.is_empty()
        && let Ok(Some((leadgen_id, _))) = tokio::time::timeout_at(grace, pushed.recv()).await
    {
        unpushed.remove(leadgen_id.as_str());
    }
    stream_reader.abort();
    server.check_stored_once(&leads).await?;
    server.stop().await?;
    Ok(Measured {
        live: latencies,
        backlog_drain: backlog_done.duration_since(first_ack),
        unpushed: unpushed.len(),
    })
}

pub async fn run(args: &BacklogArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(
        args.backlog > 0 && args.live > 0,
        "--backlog and --live must be at least 1"
    );
    let mut figures = Figures::default();
    let setting = format!(
        "{} older events waiting, Graph {} ms",
        args.backlog, args.graph_delay_ms
    );
    for run in 0..runs {
        let measured = backlog_then_live(args, 5_000 + run as u64)
            .await
            .with_context(|| format!("live leads with {setting}"))?;
        for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
            let mut figure = Figure::new(
                BENCHMARK,
                format!("{setting}: live lead to the API, {name} of {}", args.live),
                "ms",
            );
            if name == "p99" {
                let bound = args.graph_delay_ms as f64 + LIVE_ALLOWANCE_MS;
                figure = figure.target(Target::AtMost(bound));
            }
            figures.record(figure, measured.live.millis(quantile));
        }
        let drain = measured.backlog_drain.as_secs_f64();
        figures.record(
            Figure::new(BENCHMARK, format!("{setting}: their drain time"), "s"),
            drain,
        );
        figures.record(
            Figure::new(BENCHMARK, format!("{setting}: their drain rate"), "leads/s")
                .target(Target::AtLeast(DELAYED_TARGET)),
            args.backlog as f64 / drain,
        );
        figures.record(
            Figure::new(
                BENCHMARK,
                format!(
                    "{setting}: leads /api/events never pushed, of {}",
                    args.backlog + args.live
                ),
                "leads",
            )
            .target(Target::AtMost(0.0)),
            measured.unpushed as f64,
        );
        eprintln!("backlog: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
