//! `leadhook-bench`: measures leadhook on this machine and prints the figures with their targets.
//!
//! Everything runs on loopback with servers started in this process; every load is bounded in
//! count and time. Build with `--release`: `cargo run --release -p leadhook-bench -- all`.

mod backlog;
mod channels;
mod cost;
mod dashboard;
mod drain;
mod drain_references;
mod e2e;
mod first_message;
mod fixture;
mod flood;
mod ingest;
mod insights;
mod insights_screen;
mod polls;
mod readback;
mod replicas;
mod replicas_intake;
mod report;
mod store;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::report::{Figures, Machine};

#[derive(Debug, Parser)]
#[command(
    name = "leadhook-bench",
    about = "Benchmarks of leadhook on this machine"
)]
struct Cli {
    /// Print the figures as JSON instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Repeat each measurement this many times; the table shows the median and every run.
    #[arg(long, global = true, default_value_t = 3)]
    runs: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Signed webhooks acknowledged durably: throughput at a concurrency, latency at a fixed rate.
    Ingest(ingest::IngestArgs),
    /// The intake worker's drain rate with a full inbox, Graph answering at once and late, and
    /// the most Graph lead fetches it has in flight at once.
    Drain(drain::DrainArgs),
    /// A new lead's time to the API while a backlog of older events drains (Graph late), and
    /// the backlog's drain time meanwhile.
    Backlog(backlog::BacklogArgs),
    /// The lead store's write path: leads from Meta stored in bulk and one at a time, into
    /// SQLite and through the real PostgREST 12 (needs PostgreSQL and PostgREST, as the tests do).
    Store(store::StoreArgs),
    /// The store's answer to `GET /api/insights` over a month of leads with their history, on
    /// SQLite and through the real PostgREST 12 (needs PostgreSQL and PostgREST, as the tests do).
    Insights(insights::InsightsArgs),
    /// Bytes and time of an idle `since` poll and of a full first page with many leads stored.
    Polls(polls::PollsArgs),
    /// Time from the webhook POST to the lead printed by `leadhook watch --json`, with push
    /// and with polling only.
    E2e(e2e::E2eArgs),
    /// A lead stored to its channel's request at a local receiver (the outbox's latency), with
    /// a webhook channel.
    Channels(channels::ChannelsArgs),
    /// A lead stored to the person's first message request (WhatsApp, to the simulator's stand-in).
    FirstMessage(first_message::FirstMessageArgs),
    /// Frame time and resident memory of the dashboard with many leads loaded.
    Dashboard(dashboard::DashboardArgs),
    /// The release server's memory and webhook answers under 1,100 idle connections and 100
    /// slow 8 MB bodies (needs `cargo build --release -p leadhook-server`).
    Flood(flood::FloodArgs),
    /// What the release server costs a small machine: resident memory idle and under webhooks,
    /// CPU time per stored lead, start-up with many leads, binary sizes (needs
    /// `cargo build --release -p leadhook-server -p leadhook`; not in `all`).
    Cost(cost::CostArgs),
    /// Two servers on one local Supabase: lead to screen across replicas, and what the change
    /// follower costs when idle. Needs PostgreSQL and PostgREST, as the tests do; not in `all`.
    Replicas(replicas::ReplicasArgs),
    /// Every benchmark with its default settings (the dashboard first, while the process is small).
    All,
}

async fn run(cli: &Cli) -> anyhow::Result<Figures> {
    anyhow::ensure!(cli.runs > 0, "--runs must be at least 1");
    match &cli.command {
        Command::Ingest(args) => ingest::run(args, cli.runs).await,
        Command::Drain(args) => drain::run(args, cli.runs).await,
        Command::Backlog(args) => backlog::run(args, cli.runs).await,
        Command::Store(args) => store::run(args, cli.runs).await,
        Command::Polls(args) => polls::run(args, cli.runs).await,
        Command::Insights(args) => insights::run(args, cli.runs).await,
        Command::E2e(args) => e2e::run(args, cli.runs).await,
        Command::Channels(args) => channels::run(args, cli.runs).await,
        Command::FirstMessage(args) => first_message::run(args, cli.runs).await,
        Command::Dashboard(args) => dashboard::run(args, cli.runs),
        Command::Flood(args) => flood::run(args, cli.runs).await,
        Command::Cost(args) => cost::run(args, cli.runs).await,
        Command::Replicas(args) => replicas::run(args, cli.runs).await,
        Command::All => {
            let mut figures = dashboard::run(&default_args(), cli.runs)?;
            figures.extend(ingest::run(&default_args(), cli.runs).await?);
            figures.extend(drain::run(&default_args(), cli.runs).await?);
            figures.extend(backlog::run(&default_args(), cli.runs).await?);
            figures.extend(store::run(&default_args(), cli.runs).await?);
            figures.extend(polls::run(&default_args(), cli.runs).await?);
            figures.extend(insights::run(&default_args(), cli.runs).await?);
            figures.extend(e2e::run(&default_args(), cli.runs).await?);
            figures.extend(channels::run(&default_args(), cli.runs).await?);
            figures.extend(first_message::run(&default_args(), cli.runs).await?);
            Ok(figures)
        }
    }
}

/// A benchmark's arguments as if given no flags.
fn default_args<T: clap::FromArgMatches + clap::Args>() -> T {
    let matches = T::augment_args(clap::Command::new("defaults")).get_matches_from(["defaults"]);
    T::from_arg_matches(&matches).expect("every benchmark flag has a default")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let machine = Machine::describe();
    eprintln!("{}", machine.summary());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let figures = match runtime.block_on(run(&cli)) {
        Ok(figures) => figures,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    if cli.json {
        match figures.json() {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("error: {error:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        println!("{}\n\n{}", machine.summary(), figures.table());
    }
    ExitCode::SUCCESS
}
