//! Cost: what the release server takes from a small machine (1 vCPU, 512 MB to 1 GB).
//!
//! The real `leadhook-server` runs as a child process (logging at `info`, as in production), with
//! the Graph API stand-in in this process; `--server-cpus 0` pins it to one core with `taskset`.
//! - resident memory (`VmRSS` of `/proc/<pid>/status`) idle, [`SETTLE`] after start, empty store;
//! - peak resident memory (`VmHWM`) under signed webhooks at `--rate`/s for `--seconds`, every
//!   lead on the stand-in, until the last one is stored;
//! - CPU time per stored lead: the server's `utime + stime` (`/proc/<pid>/stat`) from just before
//!   the first webhook until the store holds the last lead, over the leads;
//! - start-up to ready with `--leads` leads in the store (written with the bench's bulk writer,
//!   [`fixture::filled_store`], once): from spawning the process until `GET /api/health` answers
//!   200, and the resident memory [`SETTLE`] later;
//! - the release binaries' sizes, as built and stripped.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;

use crate::fixture::{self, PHASE_LIMIT, REP_TOKEN, Server, ServerPlacement, signed_webhooks};
use crate::flood::process_memory_mb;
use crate::ingest::open_loop;
use crate::report::{Figure, Figures, Target};

const BENCHMARK: &str = "cost";
const IDLE_RSS_TARGET_MB: f64 = 25.0;
const LOADED_RSS_TARGET_MB: f64 = 80.0;
const READY_TARGET_MS: f64 = 300.0;
/// How long a server is left alone before its idle memory is read.
const SETTLE: Duration = Duration::from_secs(2);
/// How often `/api/health` is asked while the server starts: the resolution of the start-up time.
const READY_POLL: Duration = Duration::from_millis(2);
/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, fixed at 100 by Linux's ABI).
const USER_HZ: f64 = 100.0;

#[derive(Debug, Clone, Args)]
pub struct CostArgs {
    /// Webhooks per second in the loaded phase.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u32,
    /// Length of the loaded phase.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Leads in the store for the start-up time.
    #[arg(long, default_value_t = 100_000)]
    pub leads: usize,
    #[command(flatten)]
    pub server: ServerPlacement,
}

pub async fn run(args: &CostArgs, runs: usize) -> anyhow::Result<Figures> {
    anyhow::ensure!(
        args.rate > 0 && args.seconds > 0,
        "--rate and --seconds must be at least 1"
    );
    let binary = fixture::server_binary(args.server.server.as_deref())?;
    let cpus = args.server.server_cpus.as_deref();
    let mut figures = Figures::default();
    binary_sizes(&binary, &mut figures)?;

    let filled = tempfile::tempdir().context("cannot create a data directory")?;
    let (store, took) = fixture::filled_store(filled.path(), args.leads).await?;
    drop(store);
    eprintln!(
        "cost: {} leads written in {:.1} s for the start-up time",
        args.leads,
        took.as_secs_f64()
    );
    for run in 0..runs {
        idle_and_loaded(args, &binary, cpus, run as u64, &mut figures).await?;
        start_up(args, &binary, cpus, filled.path(), &mut figures).await?;
        eprintln!("cost: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}

/// Idle memory with an empty store, then memory and CPU under `--rate` webhooks a second.
async fn idle_and_loaded(
    args: &CostArgs,
    binary: &Path,
    cpus: Option<&str>,
    run: u64,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let server = Server::start_process(data_dir.path(), binary, cpus).await?;
    let pid = server.pid().context("the server has stopped")?;
    tokio::time::sleep(SETTLE).await;
    figures.record(
        Figure::new(BENCHMARK, "server RSS idle, empty store", "MB")
            .target(Target::AtMost(IDLE_RSS_TARGET_MB)),
        process_memory_mb(pid, "VmRSS:")?,
    );

    let count = args.rate as usize * args.seconds as usize;
    let leads = fixture::fake_leads(9_000 + run, count);
    for lead in &leads {
        server.graph.add_fake_lead(lead);
    }
    let webhooks = Arc::new(signed_webhooks(&leads)?);
    let cpu_before = cpu_seconds(pid)?;
    let (latencies, offered) =
        open_loop(&server.client, &server.url("/webhook"), webhooks, args.rate).await?;
    server.wait_until_stored(count as u64, PHASE_LIMIT).await?;
    let cpu = cpu_seconds(pid)? - cpu_before;
    let at = format!("at {}/s for {} s", args.rate, args.seconds);
    figures.record(
        Figure::new(BENCHMARK, format!("offered rate {at}"), "req/s"),
        offered,
    );
    figures.record(
        Figure::new(BENCHMARK, format!("ack p99 {at}"), "ms"),
        latencies.millis(0.99),
    );
    figures.record(
        Figure::new(BENCHMARK, format!("server peak RSS (VmHWM) {at}"), "MB")
            .target(Target::AtMost(LOADED_RSS_TARGET_MB)),
        process_memory_mb(pid, "VmHWM:")?,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("server CPU time per stored lead (ack, fetch, store) {at}"),
            "ms",
        ),
        cpu * 1000.0 / count as f64,
    );
    server.check_stored_once(&leads).await?;
    server.stop().await
}

/// From spawning the server on the filled `data_dir` until `/api/health` answers 200.
async fn start_up(
    args: &CostArgs,
    binary: &Path,
    cpus: Option<&str>,
    data_dir: &Path,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let server = Server::start_process(data_dir, binary, cpus).await?;
    let health = server.url("/api/health");
    loop {
        let answer = server
            .client
            .get(&health)
            .bearer_auth(REP_TOKEN)
            .send()
            .await;
        if answer.is_ok_and(|answer| answer.status().is_success()) {
            break;
        }
        if started.elapsed() > PHASE_LIMIT {
            bail!("/api/health did not answer 200 within {PHASE_LIMIT:?}");
        }
        tokio::time::sleep(READY_POLL).await;
    }
    let ready = started.elapsed();
    let pid = server.pid().context("the server has stopped")?;
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("start-up to /api/health 200 with {} leads", args.leads),
            "ms",
        )
        .target(Target::AtMost(READY_TARGET_MS)),
        ready.as_secs_f64() * 1000.0,
    );
    tokio::time::sleep(SETTLE).await;
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("server RSS idle with {} leads", args.leads),
            "MB",
        ),
        process_memory_mb(pid, "VmRSS:")?,
    );
    server.stop().await
}

/// The server's CPU time so far, user and system, all threads (`/proc/<pid>/stat`).
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("cannot read the server's /proc stat (Linux only)")?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Fields 14 and 15 of proc(5), counted from the state (field 3) here.
    let ticks = |index: usize| -> anyhow::Result<f64> {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .with_context(|| format!("/proc/{pid}/stat has no field {}", index + 3))
    };
    Ok((ticks(11)? + ticks(12)?) / USER_HZ)
}

/// The release binaries' sizes on disk, as built (with line tables) and stripped.
fn binary_sizes(server: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let dashboard = server.with_file_name("leadhook");
    for (name, path) in [
        ("leadhook-server", server),
        ("leadhook", dashboard.as_path()),
    ] {
        let Ok(metadata) = std::fs::metadata(path) else {
            eprintln!(
                "cost: {} not found, its size is not measured",
                path.display()
            );
            continue;
        };
        figures.record(
            Figure::new(BENCHMARK, format!("{name} binary, as built"), "MB"),
            metadata.len() as f64 / 1_000_000.0,
        );
        let stripped = tempfile::NamedTempFile::new()?;
        let strip = std::process::Command::new("strip")
            .arg("-o")
            .arg(stripped.path())
            .arg(path)
            .status();
        match strip {
            Ok(status) if status.success() => figures.record(
                Figure::new(BENCHMARK, format!("{name} binary, stripped"), "MB"),
                std::fs::metadata(stripped.path())?.len() as f64 / 1_000_000.0,
            ),
            _ => eprintln!("cost: `strip` failed or is missing; stripped sizes not measured"),
        }
    }
    Ok(())
}
