//! The insights screen's frames: the dashboard holding 100,000 leads (loaded as on a first load,
//! see `dashboard`) draws the manager's figures of the month the store counted, with ratatui's
//! `TestBackend`, at the smallest size it is made for and a wide one.

use anyhow::{Context as _, ensure};
use chrono::Utc;
use leadhook::app::{App, Effect, Mode, Msg, Pane};
use leadhook_shared::insights::Insights;
use leadhook_shared::{Assignment, Me, Role, Visibility};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::dashboard::{self, FRAME_BUDGET_MS, TICK};
use crate::report::{Figure, Figures, Target};

const BENCHMARK: &str = "insights";
const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];
const FRAMES: usize = 300;

fn manager() -> Me {
    Me {
        name: "alice".into(),
        available: true,
        assignment: Assignment::Claim,
        role: Role::Manager,
        visibility: Visibility::Team,
        time_zone: None,
        answer_columns: Default::default(),
        ntfy_topic: None,
        quiet_hours: None,
    }
}

/// The dashboard with `leads` leads, showing `insights` on its insights screen.
fn showing(leads: usize, insights: Insights) -> anyhow::Result<App> {
    let (mut app, _) = dashboard::load(leads, Utc::now())?;
    app.update(Msg::Me(Ok(manager())));
    let Some(Effect::LoadInsights(params)) =
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char('I'))))
    else {
        anyhow::bail!("`I` did not ask for the insights");
    };
    app.update(Msg::Insights {
        params,
        result: Ok(insights),
    });
    ensure!(
        app.mode == Mode::Browse(Pane::Insights) && app.insights.loading.is_none(),
        "the dashboard is not showing the insights"
    );
    Ok(app)
}

/// Times the screen's frames with `leads` leads loaded, one clock tick before each.
pub fn measure(figures: &mut Figures, leads: usize, insights: Insights) -> anyhow::Result<()> {
    let sources = insights.sources.len();
    let mut app = showing(leads, insights)?;
    let start = app.now;
    for (width, height) in SIZES {
        let mut terminal =
            Terminal::new(TestBackend::new(width, height)).context("cannot create a terminal")?;
        terminal
            .draw(|f| f.render_widget(&app, f.area()))
            .context("cannot draw a frame")?;
        let latencies = dashboard::time_frames(&mut terminal, &mut app, FRAMES, |app, frame| {
            app.update(Msg::Tick(start + TICK * frame as u32));
            Ok(())
        })?;
        for (label, quantile) in [("p50", 0.5), ("p99", 0.99)] {
            figures.record(
                Figure::new(
                    BENCHMARK,
                    format!(
                        "insights screen {width}x{height}, {leads} leads loaded, {sources} sources: frame {label}"
                    ),
                    "ms",
                )
                .target(Target::AtMost(FRAME_BUDGET_MS)),
                latencies.millis(quantile),
            );
        }
    }
    Ok(())
}
