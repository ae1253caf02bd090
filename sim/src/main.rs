//! `leadhook-sim`: a simulated Facebook for testing a leadhook server, deployed or local.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leadhook_sim::SimulateArgs;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "leadhook-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send signed test leads to any leadhook server, like Meta's Lead Ads Testing Tool but offline.
    Simulate(SimulateArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Simulate(args) => simulate(args).await,
    }
}

async fn simulate(args: SimulateArgs) -> ExitCode {
    match leadhook_sim::cli::run(args).await {
        Ok(summary) if summary.rejected == 0 && summary.failed == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
