//! Dashboard: the `leadhook` app with many leads loaded, drawn with ratatui's `TestBackend`.
//!
//! Leads reach the app the way the poller hands them over on a first load: pages of 1,000,
//! decoded from the JSON the server sends (`ApiList`), as `PollEvent::Leads`, then `Synced`.
//! Resident memory is this process's `VmRSS` before and after loading; run `dashboard` on its
//! own (or first, as `all` does) so nothing else has grown the process.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::{FixedOffset, Utc};
use clap::Args;
use leadhook::app::{App, Msg, Pane};
use leadhook::poller::PollEvent;
use leadhook_shared::{ApiList, Cursor, Lead, LeadStatus};
use leadhook_sim::LeadFaker;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::fixture;
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "dashboard";
/// Leads per `GET /api/leads` page of the dashboard's poller.
const PAGE: usize = 1_000;
/// The dashboard's clock tick.
const TICK: Duration = Duration::from_millis(250);

#[derive(Debug, Clone, Args)]
pub struct DashboardArgs {
    /// Leads loaded into the app.
    #[arg(long, default_value_t = 100_000)]
    pub leads: usize,
    /// Frames timed per view and run.
    #[arg(long, default_value_t = 500)]
    pub frames: usize,
    #[arg(long, default_value_t = 200)]
    pub width: u16,
    #[arg(long, default_value_t = 60)]
    pub height: u16,
}

/// This process's resident memory in bytes, from `/proc/self/status`.
fn resident_bytes() -> anyhow::Result<u64> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("cannot read /proc/self/status")?;
    let kilobytes = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .context("/proc/self/status has no VmRSS line")?;
    Ok(kilobytes * 1024)
}

const MB: f64 = 1024.0 * 1024.0;

/// One page of leads as the server would list them, ids `first_id..`.
fn page_json(faker: &mut LeadFaker, first_id: i64, count: usize) -> anyhow::Result<Vec<u8>> {
    let now = Utc::now();
    let data = (0..count)
        .map(|i| {
            let id = first_id + i as i64;
            let created = now - chrono::Duration::minutes(id);
            let fake = faker.next_lead(created);
            let incoming = fixture::incoming(&fake, created)?;
            let received = created + chrono::Duration::seconds(2);
            Ok(Lead {
                id,
                leadgen_id: Some(incoming.leadgen_id),
                meta: incoming.meta,
                status: LeadStatus::ALL[id as usize % LeadStatus::ALL.len()],
                is_manual: false,
                received_at: received,
                updated_at: received,
                notes: None,
                owner: None,
                owned_at: None,
                first_contact_at: None,
                erased_at: None,
            })
        })
        .collect::<anyhow::Result<Vec<Lead>>>()?;
    let list = ApiList {
        success: true,
        count: count as u64,
        cursor: Cursor::START,
        data,
    };
    serde_json::to_vec(&list).context("cannot encode a page of leads")
}

/// Loads `count` leads page by page; returns the app and the time spent in `App::update`.
fn load(count: usize) -> anyhow::Result<(App, Duration)> {
    let mut app = App::new(
        "http://127.0.0.1:8080",
        Utc::now(),
        FixedOffset::east_opt(0).context("UTC offset")?,
    );
    let mut faker = LeadFaker::new(3);
    let mut updating = Duration::ZERO;
    for first in (0..count).step_by(PAGE) {
        let json = page_json(&mut faker, first as i64 + 1, PAGE.min(count - first))?;
        let list: ApiList =
            serde_json::from_slice(&json).context("cannot decode a page of leads")?;
        let started = Instant::now();
        app.update(Msg::Poll(PollEvent::Leads {
            leads: list.data,
            first_load: true,
        }));
        updating += started.elapsed();
    }
    app.update(Msg::Poll(PollEvent::Synced {
        at: Utc::now(),
        push: true,
    }));
    ensure!(
        app.leads.len() == count,
        "the app holds {} leads, not {count}",
        app.leads.len()
    );
    Ok((app, updating))
}

/// What the screen shows while frames are timed.
#[derive(Debug, Clone, Copy)]
enum View {
    Table,
    /// `j` before every frame: the selection moves and the table scrolls.
    Scrolling,
    /// `Enter`: the selected lead's details beside the table.
    Detail,
}

impl View {
    const ALL: [View; 3] = [View::Table, View::Scrolling, View::Detail];

    fn label(self) -> &'static str {
        match self {
            View::Table => "table",
            View::Scrolling => "table, moving down a row each frame",
            View::Detail => "table and detail pane",
        }
    }

    /// Brings the app to this view before a frame.
    fn prepare(self, app: &mut App) {
        match self {
            View::Table => {}
            View::Scrolling => {
                app.update(key(KeyCode::Char('j')));
            }
            View::Detail => {
                if !matches!(app.mode.pane(), Pane::Detail { .. }) {
                    app.update(key(KeyCode::Enter));
                }
            }
        }
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(code))
}

/// Times `frames` draws; `between` changes the app before each one, untimed.
fn time_frames(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    frames: usize,
    mut between: impl FnMut(&mut App, usize),
) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new()?;
    for frame in 0..frames {
        between(app, frame);
        let started = Instant::now();
        terminal
            .draw(|f| f.render_widget(&*app, f.area()))
            .context("cannot draw a frame")?;
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}

pub fn run(args: &DashboardArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.frames > 0, "--frames must be at least 1");
    let before = resident_bytes()?;
    let (mut app, load_time) = load(args.leads)?;
    let after = resident_bytes()?;
    let mut figures = Figures::default();
    let leads = args.leads;
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("resident memory with {leads} leads loaded"),
            "MB",
        )
        .target(Target::AtMost(150.0)),
        after as f64 / MB,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("resident memory added by loading {leads} leads"),
            "MB",
        ),
        after.saturating_sub(before) as f64 / MB,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("first load of {leads} leads into the app (App::update)"),
            "ms",
        ),
        load_time.as_secs_f64() * 1000.0,
    );

    let mut terminal = Terminal::new(TestBackend::new(args.width, args.height))
        .context("cannot create a terminal")?;
    // The first draw fills an empty screen; every later one is a diff against the last.
    terminal
        .draw(|f| f.render_widget(&app, f.area()))
        .context("cannot draw a frame")?;
    let size = format!("{}x{}", args.width, args.height);
    let start = app.now;
    for run in 0..runs {
        for view in View::ALL {
            let latencies = time_frames(&mut terminal, &mut app, args.frames, |app, frame| {
                app.update(Msg::Tick(start + TICK * frame as u32));
                view.prepare(app);
            })?;
            for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
                figures.record(
                    Figure::new(
                        BENCHMARK,
                        format!("frame {size}, {}: {name}", view.label()),
                        "ms",
                    )
                    .target(Target::AtMost(5.0)),
                    latencies.millis(quantile),
                );
            }
        }
        // Back to the table and the newest lead for the next run.
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Char('g')));
        eprintln!("dashboard: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
