use std::process::ExitCode;

use clap::Parser;
use leadhook::config::{Cli, Command, Settings};
use leadhook::{logging, tui, watch};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let _log_guard = logging::init();
    let settings = match Settings::load(&cli) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("leadhook: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::Watch { json }) => watch::run(settings, json).await,
        None => tui::run(settings).await,
    };
    match result {
        Ok(()) => {
            tracing::info!("leadhook exits");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("leadhook: {err}");
            ExitCode::FAILURE
        }
    }
}
