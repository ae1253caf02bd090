//! `leadhook-sim`: a simulated Facebook for testing a leadhook server, deployed or local.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leadhook_sim::SimulateArgs;
use leadhook_sim::person::ReplyArgs;
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
    /// Make a simulated person write back: a signed WhatsApp message webhook, or with --sms a
    /// Twilio inbound SMS signed for LEADHOOK_PUBLIC_URL (secrets from FB_APP_SECRET,
    /// TWILIO_AUTH_TOKEN).
    Reply(ReplyArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = leadhook_shared::secret_args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Simulate(args) => simulate(args).await,
        Command::Reply(args) => match leadhook_sim::person::reply(args).await {
            Ok(status) if (200..300).contains(&status) => ExitCode::SUCCESS,
            Ok(status) => {
                eprintln!("error: the server answered {status}");
                ExitCode::FAILURE
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        },
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
