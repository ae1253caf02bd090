//! `cargo run -p leadhook-demo`: leadhook end to end with nothing to configure.
//!
//! A Graph API stand-in plays Facebook (realistic leads: accents, several forms, custom
//! questions, organic and ad leads), the real server runs on the embedded store in a temporary
//! data dir (holding a month of past leads and what the team did with them, for the insights),
//! a simulated page submits a lead every few seconds and delivers it as a signed
//! `leadgen` webhook to the real `/webhook`, and the dashboard shows them. Quitting the dashboard
//! stops everything and removes the temporary data.

mod doctor;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use leadhook::config::Settings;
use leadhook_server::config::Config;
use leadhook_server::intake::DEFAULT_RETRY;
use leadhook_server::store::copy::write_history;
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_sim::harness::TestSettings;
use leadhook_sim::{
    AppSubscription, BodyStyle, FakeLead, GraphStandin, LeadFaker, LeadgenChange, TestServer,
    WebhookSender, past_month,
};
use rand::Rng;
use tokio_util::sync::CancellationToken;

const APP_SECRET: &str = "demo-app-secret";
const PAGE_TOKEN: &str = "demo-page-token";
const REP_TOKEN: &str = "demo-rep-token";
/// Leads submitted "earlier", which the sweeper backfills at start so the table is not empty.
const EARLIER_LEADS: u32 = 12;
/// The past month's leads, with what the team did with them, written into the store before
/// the server starts, so the manager's insights (`I`) have a month to show.
const PAST_MONTH_LEADS: usize = 900;
/// The simulated forms' questions the demo names as columns (`LEADHOOK_ANSWER_COLUMNS`).
const DEMO_ANSWER_COLUMNS: &str =
    "budget=budget,timeline=when_would_you_like_to_start?,zip=zip_code";
/// Who worked the past month's leads: the demo's own rep and two colleagues.
const PAST_MONTH_REPS: [&str; 3] = ["demo", "alice", "bob"];

/// Runs the local demo: server, simulated Facebook and dashboard in one terminal.
#[derive(Debug, Parser)]
#[command(name = "leadhook-demo", version, about)]
struct Args {
    /// No dashboard: print each lead as a JSON line (what `leadhook watch --json` prints).
    #[arg(long)]
    headless: bool,
    /// Average seconds between simulated form submissions.
    #[arg(long, default_value_t = 4.0)]
    every: f64,
    /// Stop after this many seconds (default: when the dashboard quits, or Ctrl-C when headless).
    #[arg(long)]
    duration: Option<u64>,
    /// Seed of the simulated people (the same seed gives the same leads).
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Run `leadhook-server doctor --e2e` against the demo instead of the dashboard, and exit
    /// with its verdict.
    #[arg(long)]
    doctor: bool,
}

#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error("cannot create a temporary data directory: {0}")]
    TempDir(std::io::Error),
    #[error("cannot start the simulated Graph API: {0}")]
    Graph(#[from] leadhook_sim::StandinError),
    #[error("invalid demo configuration: {0}")]
    Config(#[from] leadhook_server::config::ConfigError),
    #[error("cannot start the server: {0}")]
    Server(#[from] leadhook_server::app::StartupError),
    #[error("cannot write the past month into the store: {0}")]
    PastMonth(#[from] leadhook_server::store::StoreError),
    #[error("cannot set up the webhook sender: {0}")]
    Sender(#[from] leadhook_sim::DeliveryError),
    #[error("{0}")]
    Dashboard(#[from] leadhook::Error),
    #[error("--every must be a positive number of seconds")]
    Every,
    #[error("doctor --e2e found a problem (see above)")]
    Doctor,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("leadhook-demo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), DemoError> {
    if !(args.every.is_finite() && args.every > 0.0) {
        return Err(DemoError::Every);
    }
    let data_dir = tempfile::Builder::new()
        .prefix("leadhook-demo-")
        .tempdir()
        .map_err(DemoError::TempDir)?;
    let log_path = data_dir.path().join("server.log");
    init_logging(&log_path);

    let demo = TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: "demo-verify-token".into(),
        page_token: PAGE_TOKEN.into(),
        api_tokens: format!("demo:admin:{REP_TOKEN}"),
    };
    let graph = demo.spawn_graph().await?;
    let page_id = graph.config().page_id.clone();
    let mut faker = LeadFaker::new(args.seed).on_page(page_id.clone());
    let now = chrono::Utc::now();
    for i in 0..EARLIER_LEADS {
        let submitted = now - chrono::Duration::minutes(i64::from(i) * 97 + 3);
        graph.add_fake_lead(&faker.next_lead(submitted));
    }

    let month = past_month(args.seed, now, PAST_MONTH_LEADS, &PAST_MONTH_REPS);
    let store = SqliteStore::open(&data_dir.path().join("leads.db")).await?;
    write_history(&store, month.leads, month.activity).await?;
    drop(store);

    let mut serve = demo.serve_args(&graph.base_url(), data_dir.path());
    // The sweeper finds the earlier leads on this page.
    serve.fb_page_id = Some(page_id);
    // Lead stages go to the stand-in's CRM dataset: a rep's status change shows up in the log.
    serve.fb_dataset_id = Some(graph.config().dataset_id.clone());
    // The insights show what each campaign cost, as the stand-in's ad account says.
    serve.fb_ad_account_id = Some(graph.config().ad_account_id.clone());
    // The Free Quote form's answers read as columns in the table, the details and the insights.
    serve.answer_columns = Some(DEMO_ANSWER_COLUMNS.into());
    let server = TestServer::start(Config::from_args(serve.clone())?, DEFAULT_RETRY).await?;
    let server_url = server.base_url();
    // Like a Meta app whose webhook is set up: test leads are announced to this server.
    graph.set_app_subscription(Some(AppSubscription::leadgen(format!(
        "{server_url}/webhook"
    ))));
    let doctor_args = doctor::args(
        &graph,
        &serve,
        &server_url,
        REP_TOKEN,
        data_dir.path().join("doctor"),
    );
    if args.doctor {
        let passed = doctor::run(&doctor_args).await;
        if let Err(error) = server.stop().await {
            tracing::warn!("the server did not stop cleanly: {error}");
        }
        return if passed {
            Ok(())
        } else {
            Err(DemoError::Doctor)
        };
    }
    let shutdown = CancellationToken::new();

    let sender = WebhookSender::new(
        format!("{server_url}/webhook"),
        APP_SECRET.to_string().into(),
    )?;
    let facebook = tokio::spawn(simulate_page(
        graph,
        faker,
        sender,
        args.every,
        shutdown.clone(),
    ));

    eprintln!(
        "leadhook demo: server at {server_url}, data in {} (server log: {})",
        data_dir.path().display(),
        log_path.display()
    );
    eprintln!(
        "a simulated Facebook page submits a lead about every {}s; quit the dashboard with q",
        args.every
    );
    eprintln!(
        "to prove the whole path, from another terminal while the demo runs:\n{}",
        doctor::command_line(&doctor_args)
    );
    let settings = Settings {
        server: server_url,
        token: Some(REP_TOKEN.into()),
        interval: Duration::from_secs(3),
        notify: !args.headless,
        hyperlinks: Default::default(),
        open: Default::default(),
    };
    let dashboard = async {
        if args.headless {
            leadhook::watch::run(settings, true).await
        } else {
            leadhook::tui::run(settings).await
        }
    };
    let result = match args.duration {
        Some(seconds) => tokio::select! {
            result = dashboard => result,
            _ = tokio::time::sleep(Duration::from_secs(seconds)) => Ok(()),
        },
        None => dashboard.await,
    };

    shutdown.cancel();
    let _ = facebook.await;
    if let Err(error) = server.stop().await {
        tracing::warn!("the server did not stop cleanly: {error}");
    }
    eprintln!("leadhook demo stopped; temporary data removed");
    Ok(result?)
}

/// How many earlier leads a returning person is picked from.
const RETURNING_FROM: usize = 20;

/// Every few seconds a person fills in a lead form: the lead appears in the Graph API and Meta
/// delivers a signed webhook for it. As on a real page, about one in six is someone who submitted
/// before (a repeat, linked to their person), and the fourth is Meta's test lead (junk).
async fn simulate_page(
    graph: GraphStandin,
    mut faker: LeadFaker,
    sender: WebhookSender,
    every: f64,
    shutdown: CancellationToken,
) {
    let mut earlier: Vec<FakeLead> = Vec::new();
    for n in 1.. {
        let pause = Duration::from_secs_f64(every * rand::rng().random_range(0.5..1.5));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.cancelled() => return,
        }
        let mut lead = faker.next_lead(chrono::Utc::now());
        if n == 4 {
            lead = lead.into_meta_test_lead();
        } else if let Some(before) = earlier
            .get(rand::rng().random_range(0..earlier.len().max(1)))
            .filter(|_| rand::rng().random_ratio(1, 6))
        {
            lead.submitted_again_by(before);
        } else {
            if earlier.len() == RETURNING_FROM {
                earlier.remove(0);
            }
            earlier.push(lead.clone());
        }
        graph.add_fake_lead(&lead);
        if let Err(error) = sender
            .send_leads(&[LeadgenChange::from(&lead)], &BodyStyle::default())
            .await
        {
            tracing::warn!("simulated webhook not delivered: {error}");
        }
    }
}

/// The dashboard owns the terminal, so the server logs to a file in the demo's data dir.
fn init_logging(path: &std::path::Path) {
    if let Ok(file) = std::fs::File::create(path) {
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .init();
    }
}
