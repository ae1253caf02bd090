use std::process::ExitCode;

use clap::CommandFactory as _;
use leadhook::config::{Cli, Command, Settings, cleartext_token_warning};
use leadhook::{logging, report, tui, watch};

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = leadhook_shared::secret_args::parse();
    // Completions and the manual need neither settings nor a log.
    let run = match cli.command.clone() {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "leadhook",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        Some(Command::Man) => return print_manual(),
        Some(Command::Watch { json }) => Run::Watch { json },
        Some(Command::Report(args)) => Run::Report(args),
        None => Run::Dashboard,
    };
    let _log_guard = logging::init(cli.log_format);
    let settings = match Settings::load(&cli) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("leadhook: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Before the screen is taken over, so it stays on the terminal when the dashboard ends.
    if let Some(warning) = cleartext_token_warning(&settings.server, settings.token.is_some()) {
        tracing::warn!("{warning}");
        eprintln!("leadhook: {warning}");
    }
    let result = match run {
        Run::Watch { json } => watch::run(settings, json).await,
        Run::Report(args) => report::run(settings, args).await.map_err(Into::into),
        Run::Dashboard => tui::run(settings).await,
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

/// What this run is, once the commands that need no settings are done.
enum Run {
    Dashboard,
    Watch { json: bool },
    Report(report::ReportArgs),
}

fn print_manual() -> ExitCode {
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        // A closed pipe (`| head`) just ends the output.
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("leadhook: cannot write the manual page: {err}");
            ExitCode::FAILURE
        }
    }
}
