use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};
use leadhook_server::app::Application;
use leadhook_server::backup::{self, BackupProgress};
use leadhook_server::config::{
    BackupArgs, Config, LogArgs, LogFormat, ServeArgs, StoreCopyArgs, load_dotenv,
};
use leadhook_server::doctor::{self, DoctorArgs};
use leadhook_server::erase::{EraseArgs, Progress, erase_command};
use leadhook_server::intake::DEFAULT_RETRY;
use leadhook_server::outbox::cli::{self as channels_cli, ChannelsCommand};
use leadhook_server::reps::cli::{self as reps_cli, RepsCommand};
use leadhook_server::serve::raise_open_file_limit;
use leadhook_server::store::copy as store_copy;
use leadhook_server::store::postgrest::MIGRATIONS;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Real-time Facebook Lead Ads capture: receives Meta's leadgen webhooks, completes each lead
/// from the Graph API, stores it, and serves it to sales reps' dashboards.
#[derive(Debug, Parser)]
#[command(name = "leadhook-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    log: LogArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (webhook endpoint, lead API, intake worker).
    Serve(ServeArgs),
    /// Check a real setup against the Graph API and print a checklist with fixes.
    Doctor(DoctorArgs),
    /// Erase a person's data (name, email, phone, answers, notes) from every lead that holds it.
    Erase(EraseArgs),
    /// Show the SQL that creates the Supabase schema (for the Supabase SQL editor or psql).
    Migrate {
        /// Print the SQL of every migration, in order.
        #[arg(long)]
        print: bool,
    },
    /// Move the leads between the embedded store and Supabase.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Copy the embedded lead store and the inbox into a new directory while the server runs.
    Backup(BackupArgs),
    /// Add, list, rotate, change and remove the reps and their tokens, without a restart.
    #[command(subcommand)]
    Reps(RepsCommand),
    /// Try the channels of the channels file (Slack, Teams, Telegram, e-mail, webhooks).
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// Print a shell completion script, e.g. `leadhook-server completions bash > ~/.local/share/bash-completion/completions/leadhook-server`.
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `leadhook-server man | man -l -`.
    Man,
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Copy every lead, its history and the reps' availability into the other store; safe to
    /// run again or after an interruption.
    Copy(StoreCopyArgs),
}

/// Exit status for configuration mistakes, like clap's own usage errors.
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    if let Err(error) = load_dotenv() {
        eprintln!("error: {error}");
        return ExitCode::from(EXIT_CONFIG);
    }
    let cli: Cli = leadhook_shared::secret_args::parse();
    init_logging(cli.log.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args)),
        Command::Doctor(args) => runtime.block_on(doctor(args)),
        Command::Erase(args) => runtime.block_on(erase(args)),
        Command::Migrate { print } => migrate(print),
        Command::Store(StoreCommand::Copy(args)) => runtime.block_on(store_copy(args)),
        Command::Backup(args) => back_up(&args),
        Command::Reps(command) => runtime.block_on(reps(command)),
        Command::Channels(command) => runtime.block_on(channels(command)),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "leadhook-server",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => print_manual(),
    }
}

fn print_manual() -> ExitCode {
    match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
        // A closed pipe (`| head`) just ends the output.
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the manual page: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error, filtered by `RUST_LOG` (default `info`), coloured only on a terminal
/// (a log file or journal gets no escape codes).
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .init();
}

fn back_up(args: &BackupArgs) -> ExitCode {
    if args
        .supabase_url
        .as_deref()
        .is_some_and(|url| !url.trim().is_empty())
    {
        eprintln!("error: {}", backup::BackupError::SupabaseStore);
        return ExitCode::from(EXIT_CONFIG);
    }
    let report = |step: BackupProgress<'_>| match step {
        BackupProgress::Copying { source } => eprintln!("copying {} ...", source.display()),
        BackupProgress::Copied(copy) => eprintln!(
            "  wrote {} ({} bytes, integrity check ok)",
            copy.path.display(),
            copy.bytes
        ),
    };
    match backup::back_up(&args.data_dir, &args.target, report) {
        Ok(_) => {
            println!(
                "backup complete: {}\n{}",
                args.target.display(),
                backup::restore_instructions(&args.target, &args.data_dir)
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let config = match Config::from_args(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match raise_open_file_limit() {
        Ok(limit) => tracing::debug!(limit, "open-file limit raised to its hard limit"),
        Err(error) => tracing::warn!("cannot raise the open-file limit: {error}"),
    }
    let (graph_url, graph_version, data_dir) = (
        config.graph_url.clone(),
        config.graph_version.clone(),
        config.data_dir.clone(),
    );
    let app = match Application::build(config, DEFAULT_RETRY).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    // Before the ready line: a SIGTERM sent as soon as it appears must stop the server gracefully.
    match stop_on_signal(shutdown.clone()) {
        Ok(stop) => {
            tokio::spawn(stop);
        }
        Err(error) => {
            eprintln!("error: cannot listen for Ctrl-C and SIGTERM: {error}");
            return ExitCode::FAILURE;
        }
    }
    tracing::info!(
        listen = %app.local_addr(),
        metrics = %app
            .metrics_addr()
            .map_or_else(|| "off".to_string(), |addr| addr.to_string()),
        data_dir = %data_dir.display(),
        graph = %format!("{graph_url}/{graph_version}"),
        api_tokens = app.tokens(),
        "leadhook-server ready: webhook at /webhook, API at /api, health at /healthz"
    );
    match app.run_until(shutdown).await {
        Ok(()) => {
            tracing::info!("stopped; unfinished events stay in the inbox for the next start");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: the server stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn doctor(args: DoctorArgs) -> ExitCode {
    println!("leadhook doctor: checking this setup against the Graph API\n");
    let mut checks = doctor::run(&args).await;
    checks
        .iter()
        .for_each(|check| print!("{}", doctor::render_check(check)));
    if args.e2e.e2e {
        println!("\nend to end: a test lead from Meta through the webhook into the store\n");
        let check = doctor::end_to_end_with_spinner(&args).await;
        print!("{}", doctor::render_check(&check));
        checks.push(check);
    }
    print!("{}", doctor::summary(&checks));
    if checks.iter().all(doctor::Check::passed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn store_copy(args: StoreCopyArgs) -> ExitCode {
    let settings = match args.resolve() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let bar = store_copy::progress_bar();
    let result = store_copy::run(settings, &bar).await;
    bar.finish_and_clear();
    match result {
        Ok(report) => {
            println!("copied and checked: both stores hold {}", report.target);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!(
                "error: {error}\nNothing is lost: run the same command again once that is fixed; \
                 rows copied already are written again, never twice."
            );
            ExitCode::FAILURE
        }
    }
}

async fn reps(command: RepsCommand) -> ExitCode {
    match reps_cli::run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            if error.is_config() {
                ExitCode::from(EXIT_CONFIG)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

async fn channels(command: ChannelsCommand) -> ExitCode {
    match channels_cli::run(command, &mut std::io::stdout()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        // Every error is the file or the name given.
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn erase(args: EraseArgs) -> ExitCode {
    let mut progress = |step: Progress<'_>| {
        let lead = step.lead;
        let count = match step.total {
            Some(total) => format!("[{}/{total}] ", step.done),
            None => String::new(),
        };
        println!(
            "{count}erased lead {} (Meta lead id {}, submitted {})",
            lead.id,
            lead.leadgen_id
                .as_deref()
                .unwrap_or("none: entered by hand"),
            lead.meta.created_at.to_rfc3339()
        );
    };
    match erase_command(args, &mut progress).await {
        Ok(report) if report.erased.is_empty() && report.missing.is_empty() => {
            println!("no lead holds that person's data (or it was erased already)");
            ExitCode::SUCCESS
        }
        Ok(report) => {
            println!("{} lead(s) erased", report.erased.len());
            if report.missing.is_empty() {
                return ExitCode::SUCCESS;
            }
            let missing: Vec<String> = report.missing.iter().map(i64::to_string).collect();
            eprintln!(
                "error: no lead has the id(s) {}; check them (the others were erased)",
                missing.join(", ")
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn migrate(print: bool) -> ExitCode {
    if !print {
        eprintln!(
            "leadhook-server talks to Supabase through its REST API, which cannot change the schema.\n\
             Apply the migrations in migrations/ with one of:\n  \
             supabase db push                                  (Supabase CLI, from this repository)\n  \
             leadhook-server migrate --print | psql \"$DATABASE_URL\"\n  \
             leadhook-server migrate --print, pasted into the Supabase SQL editor"
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    let mut out = std::io::stdout().lock();
    for (name, sql) in MIGRATIONS {
        // A closed pipe (`| head`) just ends the output.
        if writeln!(out, "-- migration {name}\n{sql}").is_err() {
            break;
        }
    }
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM starts a graceful shutdown. The handlers are in place when this returns;
/// the future waits for the signal.
fn stop_on_signal(shutdown: CancellationToken) -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing requests in flight");
        shutdown.cancel();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every secret (an argument with hidden env values) of `command` and its subcommands, with
    /// whether it is hidden and has a `-file` form beside it.
    fn secrets(command: &clap::Command, found: &mut Vec<(String, bool)>) {
        for arg in command
            .get_arguments()
            .filter(|arg| arg.is_hide_env_values_set())
        {
            let long = arg.get_long().unwrap_or_default();
            let file_form = format!("{long}-file");
            let has_file_form = command
                .get_arguments()
                .any(|other| other.get_long() == Some(file_form.as_str()));
            found.push((
                format!("{} --{long}", command.get_name()),
                arg.is_hide_set() && has_file_form,
            ));
        }
        command
            .get_subcommands()
            .for_each(|sub| secrets(sub, found));
    }

    #[test]
    fn every_secret_flag_is_hidden_and_has_a_file_form() {
        let mut found = Vec::new();
        secrets(&Cli::command(), &mut found);
        assert!(found.len() >= 8, "{found:?}");
        let lacking: Vec<_> = found.iter().filter(|(_, ok)| !ok).collect();
        assert!(lacking.is_empty(), "{lacking:?}");
    }
}
