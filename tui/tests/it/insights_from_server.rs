//! The insights against the real server, on a month of the simulator's history written into its
//! store before it starts: the screen as the dashboard draws the answer, the same screen opened
//! with `I` in the real dashboard under tmux, the figures checked against the month itself, and
//! `leadhook report` run as a manager, a rep and without a server.

use std::process::{Command, Output};
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use leadhook::app::{App, Effect, Msg};
use leadhook_shared::insights::SpendStatus;
use leadhook_shared::{
    Assignment, Grouping, Insights, InsightsParams, Lead, LeadStatus, Me, Period, Role, Visibility,
};
use leadhook_sim::harness::poll_until;
use leadhook_sim::{PastMonth, TestServer, past_month};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::e2e_tmux::Tmux;
use crate::real_server::{
    MANAGER_TOKEN, REP_ROLE_TOKEN, manager_client, rep_role_client, server_with_history,
};

const REPS: [&str; 3] = ["alice", "bob", "carol"];

/// The end of November 2026, when the month of history ends.
fn end_of_november() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0)
        .single()
        .expect("a time")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn november() -> Period {
    Period::Range {
        from: day("2026-11-01"),
        to: day("2026-11-30"),
    }
}

fn manager() -> Me {
    Me {
        name: "boss".into(),
        available: true,
        assignment: Assignment::RoundRobin,
        role: Role::Manager,
        visibility: Visibility::Team,
        time_zone: Some("UTC".into()),
        answer_columns: Default::default(),
        ntfy_topic: None,
        quiet_hours: None,
    }
}

/// A manager's dashboard that opened the insights on `period` and got the server's answer.
async fn dashboard(server: &TestServer, period: Period) -> App {
    let utc = FixedOffset::east_opt(0).expect("UTC");
    // The server's address is random; the status line shows a fixed one.
    let mut app = App::new("http://leadhook.test", end_of_november(), utc);
    app.update(Msg::Me(Ok(manager())));
    app.insights.period = period;
    let Some(Effect::LoadInsights(params)) =
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('I'))))
    else {
        panic!("I asks for the insights");
    };
    let result = manager_client(server).insights(&params).await;
    app.update(Msg::Insights { params, result });
    assert_eq!(app.insights.error, None);
    app
}

fn draw(app: &App, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .expect("draw");
    terminal.backend().clone()
}

fn in_period<'a>(month: &'a PastMonth, figures: &Insights) -> Vec<&'a Lead> {
    let (start, end) = (figures.period.start, figures.period.end);
    month
        .leads
        .iter()
        .filter(|lead| lead.meta.created_at >= start && lead.meta.created_at < end)
        .collect()
}

#[tokio::test]
async fn the_screen_of_a_month_from_the_real_server() {
    let month = past_month(29, end_of_november(), 600, &REPS);
    let (_dir, _graph, server) = server_with_history(&month).await;
    let app = dashboard(&server, november()).await;
    let figures = app.insights.figures.as_ref().expect("figures");
    assert_eq!(
        figures.total.funnel.leads,
        in_period(&month, figures).len() as u64
    );
    insta::assert_snapshot!("november_80x24", draw(&app, 80, 24));
    insta::assert_snapshot!("november_160x48", draw(&app, 160, 48));
}

/// `30d` as the server's clock has it: every lead of the period counted once, in its campaign,
/// with the stages the month walked it through and what the stand-in's ads spent.
#[tokio::test]
async fn thirty_days_count_what_the_month_holds() {
    let month = past_month(31, Utc::now(), 400, &REPS);
    let (_dir, _graph, server) = server_with_history(&month).await;
    let params = InsightsParams::new(Period::Last30Days, &Grouping::Campaign, "UTC");
    let figures = manager_client(&server)
        .insights(&params)
        .await
        .expect("the insights");
    let leads = in_period(&month, &figures);
    assert!(leads.len() > 300, "{} leads in the period", leads.len());
    assert_eq!(figures.total.funnel.leads, leads.len() as u64);
    let count =
        |test: &dyn Fn(&Lead) -> bool| leads.iter().filter(|lead| test(lead)).count() as u64;
    assert_eq!(
        figures.total.funnel.contacted,
        count(&|lead| lead.first_contact_at.is_some())
    );
    assert_eq!(
        figures.total.funnel.junk,
        count(&|lead| lead.junk().is_some())
    );
    for source in &figures.sources {
        let campaign = source.key.as_deref();
        let ours = |lead: &Lead| lead.meta.campaign_id.as_deref() == campaign;
        assert_eq!(source.funnel.leads, count(&ours), "{}", source.label);
        assert_eq!(
            source.funnel.won,
            count(&|lead| ours(lead) && lead.status == LeadStatus::Won),
            "{}",
            source.label
        );
        assert_eq!(
            source.cost.is_some(),
            campaign.is_some(),
            "{}",
            source.label
        );
    }
    let rate = |label: &str| {
        let source = figures.sources.iter().find(|source| source.label == label);
        source.and_then(|source| source.funnel.share(source.funnel.won))
    };
    assert!(
        rate("Always-on Quotes") > rate("Summer Giveaway"),
        "{:?}",
        figures.sources
    );
    assert!(
        matches!(figures.spend, SpendStatus::Read { .. }),
        "{:?}",
        figures.spend
    );
    let reps: Vec<&str> = figures
        .per_rep
        .iter()
        .map(|rep| rep.name.as_str())
        .collect();
    for rep in REPS {
        assert!(reps.contains(&rep), "{reps:?}");
    }
}

/// `leadhook report` with `token`, on the server at `server` (a manager's unless said).
fn report(server: &str, token: &str, args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("home");
    Command::new(env!("CARGO_BIN_EXE_leadhook"))
        .arg("report")
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env("XDG_CACHE_HOME", home.path())
        .env("LEADHOOK_SERVER", server)
        .env("LEADHOOK_TOKEN", token)
        .output()
        .expect("leadhook runs")
}

async fn report_async(
    server: String,
    token: &'static str,
    args: &'static [&'static str],
) -> Output {
    tokio::task::spawn_blocking(move || report(&server, token, args))
        .await
        .expect("the report ran")
}

const NOVEMBER: [&str; 4] = ["--from", "2026-11-01", "--to", "2026-11-30"];

#[tokio::test]
async fn report_prints_the_figures_as_text_csv_and_json() {
    let month = past_month(29, end_of_november(), 600, &REPS);
    let (_dir, _graph, server) = server_with_history(&month).await;
    let url = server.base_url();

    let json = report_async(
        url.clone(),
        MANAGER_TOKEN,
        &[
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "json",
        ],
    )
    .await;
    assert!(json.status.success(), "{json:?}");
    let printed: Insights = serde_json::from_slice(&json.stdout).expect("the report's JSON");
    assert_eq!(printed.period.first_day, day("2026-11-01"));
    assert_eq!(
        printed.total.funnel.leads,
        in_period(&month, &printed).len() as u64
    );

    let csv = report_async(
        url.clone(),
        MANAGER_TOKEN,
        &[
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(csv.status.success(), "{csv:?}");
    let csv = String::from_utf8(csv.stdout).expect("UTF-8");
    let rows: Vec<Vec<&str>> = csv.lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(rows[0][..3], ["campaign", "key", "leads"]);
    assert_eq!(rows.len(), 1 + printed.sources.len(), "{csv}");
    let leads: u64 = rows[1..]
        .iter()
        .map(|row| row[2].parse::<u64>().expect("a count"))
        .sum();
    assert_eq!(leads, printed.total.funnel.leads, "{csv}");

    let text = report_async(url, MANAGER_TOKEN, &NOVEMBER).await;
    assert!(text.status.success(), "{text:?}");
    let text = String::from_utf8(text.stdout).expect("UTF-8");
    assert!(
        text.starts_with("Insights · 2026-11-01 to 2026-11-30"),
        "{text}"
    );
    for part in [
        "Summer Giveaway",
        "Always-on Quotes",
        "(no campaign)",
        "Per won",
        "\nRep ",
    ] {
        assert!(text.contains(part), "no {part:?} in\n{text}");
    }
}

#[tokio::test]
async fn report_tells_a_rep_a_bad_token_and_a_missing_server_what_to_do() {
    let month = past_month(3, end_of_november(), 20, &REPS);
    let (_dir, _graph, server) = server_with_history(&month).await;
    let refused = rep_role_client(&server)
        .insights(&InsightsParams::new(november(), &Grouping::Campaign, "UTC"))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let cases = [
        (server.base_url(), REP_ROLE_TOKEN, "for managers and admins"),
        (
            server.base_url(),
            "not-a-token",
            "token rejected: set LEADHOOK_TOKEN",
        ),
        (
            "http://127.0.0.1:9".to_string(),
            MANAGER_TOKEN,
            "is leadhook-server running there?",
        ),
    ];
    for (url, token, advice) in cases {
        let output = report_async(url, token, &NOVEMBER).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(advice), "{advice:?} not in {stderr}");
        assert!(output.stdout.is_empty(), "{output:?}");
    }
}

/// The real dashboard in a terminal: `I` opens the insights through its event loop, `g` asks
/// for them by ad set, Esc goes back to the leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i_in_the_real_dashboard_shows_the_month() {
    let month = past_month(29, Utc::now(), 300, &REPS);
    let (dir, _graph, server) = server_with_history(&month).await;
    let binary = env!("CARGO_BIN_EXE_leadhook");
    let url = server.base_url();
    let tmux = Tmux::start(
        dir.path(),
        MANAGER_TOKEN,
        &[binary, "--server", &url, "--no-notify"],
    );
    // The dashboard knows its manager once the status line names them.
    tmux.wait_for_text("boss ● available").await;
    tmux.send_keys(&["I"]);
    tmux.wait_for_text("Leads per day").await;
    let screen = tmux.wait_for_text("Summer Giveaway").await;
    assert!(screen.contains("last 30 days · by campaign"), "{screen}");
    tmux.send_keys(&["g"]);
    tmux.wait_for_text("by ad set").await;
    tmux.wait_for_text("Broad – ages 18-65").await;
    tmux.send_keys(&["Escape"]);
    let screen = poll_until(
        Duration::from_secs(20),
        || async { tmux.capture() },
        |screen| !screen.contains("Leads per day"),
    )
    .await;
    assert!(!screen.contains("Leads per day"), "{screen}");
    assert!(screen.contains("Owner"), "the leads' table: {screen}");
}
