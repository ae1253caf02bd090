//! Dashboard: the `leadhook` app with many leads loaded, drawn with ratatui's `TestBackend`.
//!
//! Leads reach the app the way the poller hands them over on a first load: pages of 1,000 as the
//! server answers the dashboard's `GET /api/leads?since=…&omit_fields=true` (`ApiList`, each
//! lead's answers left out), read into rows by the client's own decoder, as `PollEvent::Leads`,
//! then `Synced`. The first load is timed from the page's bytes to the merged list. Resident
//! memory is this process's `VmRSS` before and after loading; run `dashboard` on its own (or
//! first, as `all` does) so nothing else has grown the process. The detail pane's fetch of the
//! selected lead is answered with that lead, whole, untimed.

use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use chrono::{DateTime, FixedOffset, Utc};
use clap::Args;
use leadhook::app::{App, Detail, Effect, Msg, Pane};
use leadhook::client::{self, Page};
use leadhook::leads::LeadRow;
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
const PAGE: usize = client::PAGE_SIZE;
/// Each page's leads come from their own faker, so one page can be made again for the details.
const SEED: u64 = 3;
/// The dashboard's clock tick.
pub(crate) const TICK: Duration = Duration::from_millis(250);
/// The longest a frame may take: a redraw on every tick and key leaves the terminal responsive.
pub(crate) const FRAME_BUDGET_MS: f64 = 5.0;

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

/// Page `page` of `total` leads, whole: ids `page * PAGE + 1..`, created a minute apart
/// before `now`.
fn page_leads(page: usize, total: usize, now: DateTime<Utc>) -> anyhow::Result<Vec<Lead>> {
    let mut faker = LeadFaker::new(SEED + page as u64);
    let first_id = (page * PAGE) as i64 + 1;
    let count = PAGE.min(total - page * PAGE);
    (0..count)
        .map(|i| {
            let id = first_id + i as i64;
            let created = now - chrono::Duration::minutes(id);
            let fake = faker.next_lead(created);
            let incoming = fixture::incoming(&fake, created)?;
            let received = created + chrono::Duration::seconds(2);
            Ok(Lead {
                status: LeadStatus::ALL[id as usize % LeadStatus::ALL.len()],
                ..Lead::arrived(id, Some(incoming.leadgen_id), incoming.meta, received)
            })
        })
        .collect()
}

/// A page as the server answers `omit_fields=true`: every lead's answers sent as `{}`.
fn page_json(mut leads: Vec<Lead>) -> anyhow::Result<Vec<u8>> {
    for lead in &mut leads {
        lead.meta.fields.clear();
    }
    let list = ApiList {
        success: true,
        count: leads.len() as u64,
        cursor: Cursor::START,
        data: leads,
    };
    serde_json::to_vec(&list).context("cannot encode a page of leads")
}

/// How long the first load took: reading the pages and merging them, and the merging alone.
pub(crate) struct LoadTime {
    total: Duration,
    updating: Duration,
}

/// Loads `count` leads page by page, created before `now`.
pub(crate) fn load(count: usize, now: DateTime<Utc>) -> anyhow::Result<(App, LoadTime)> {
    let mut app = App::new(
        "http://127.0.0.1:8080",
        now,
        FixedOffset::east_opt(0).context("UTC offset")?,
    );
    let mut time = LoadTime {
        total: Duration::ZERO,
        updating: Duration::ZERO,
    };
    for page in 0..count.div_ceil(PAGE) {
        let json = page_json(page_leads(page, count, now)?)?;
        let started = Instant::now();
        let rows: Page<LeadRow> = client::decode(&json).context("cannot decode a page of leads")?;
        let decoded = Instant::now();
        app.update(Msg::Poll(PollEvent::Leads {
            leads: rows.data,
            first_load: true,
        }));
        time.updating += decoded.elapsed();
        time.total += started.elapsed();
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
    Ok((app, time))
}

/// The server answering the detail pane's `GET /api/leads/{id}` with the lead, whole.
fn answer_detail(
    app: &mut App,
    effect: Option<Effect>,
    total: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let Some(Effect::LoadDetail(id)) = effect else {
        return Ok(());
    };
    let page = usize::try_from(id - 1).context("lead ids start at 1")? / PAGE;
    let lead = page_leads(page, total, now)?
        .into_iter()
        .find(|lead| lead.id == id)
        .with_context(|| format!("lead {id} is not on page {page}"))?;
    let version = lead.updated_at;
    app.update(Msg::Detail {
        id,
        result: Ok(lead),
    });
    ensure!(
        matches!(app.details.of(id, version), Detail::Loaded(_)),
        "the details of lead {id} did not take the answer"
    );
    Ok(())
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

    /// Brings the app to this view before a frame; returns what the app asks for.
    fn prepare(self, app: &mut App) -> Option<Effect> {
        match self {
            View::Table => None,
            View::Scrolling => app.update(key(KeyCode::Char('j'))),
            View::Detail if !matches!(app.mode.pane(), Pane::Detail { .. }) => {
                app.update(key(KeyCode::Enter))
            }
            View::Detail => None,
        }
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::from(code))
}

/// Times `frames` draws; `between` changes the app before each one, untimed.
pub(crate) fn time_frames(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    frames: usize,
    mut between: impl FnMut(&mut App, usize) -> anyhow::Result<()>,
) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new()?;
    for frame in 0..frames {
        between(app, frame)?;
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
    let now = Utc::now();
    let before = resident_bytes()?;
    let (mut app, load_time) = load(args.leads, now)?;
    let after = resident_bytes()?;
    let mut figures = Figures::default();
    let leads = args.leads;
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("resident memory with {leads} leads loaded"),
            "MB",
        )
        .target(Target::AtMost(120.0)),
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
            format!("first load of {leads} leads (pages read and merged)"),
            "ms",
        )
        .target(Target::AtMost(300.0)),
        load_time.total.as_secs_f64() * 1000.0,
    );
    figures.record(
        Figure::new(
            BENCHMARK,
            format!("first load of {leads} leads, merging alone (App::update)"),
            "ms",
        ),
        load_time.updating.as_secs_f64() * 1000.0,
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
                let effect = view.prepare(app);
                answer_detail(app, effect, leads, now)
            })?;
            for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
                figures.record(
                    Figure::new(
                        BENCHMARK,
                        format!("frame {size}, {}: {name}", view.label()),
                        "ms",
                    )
                    .target(Target::AtMost(FRAME_BUDGET_MS)),
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
