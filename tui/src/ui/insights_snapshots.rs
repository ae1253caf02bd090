//! Snapshots of the insights screen: scrolled, empty, loading and refused. The whole screen at
//! 80×24 and 160×48 is snapshotted on the real server's answer (`tests/it/insights_from_server`).

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::Insights;
use leadhook_shared::insights::SpendStatus;

use crate::app::{App, Effect, Msg};
use crate::client_error::ClientError;
use crate::fixtures::insights::{empty, month};
use crate::fixtures::{app, draw, me};

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

/// A manager's dashboard that opened the insights and got `answer`.
fn showing(answer: Result<Insights, ClientError>) -> App {
    let mut app = app();
    app.update(Msg::Me(Ok(me("alice", true))));
    let Some(Effect::LoadInsights(params)) = press(&mut app, KeyCode::Char('I')) else {
        panic!("I asks for the insights");
    };
    app.update(Msg::Insights {
        params,
        result: answer,
    });
    app
}

#[test]
fn a_month_at_80x24_scrolled_to_the_speed_and_reps() {
    let mut app = showing(Ok(month()));
    // Drawing first tells the screen how far it can scroll.
    draw(&app, 80, 24);
    for _ in 0..40 {
        press(&mut app, KeyCode::Char('j'));
    }
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn an_empty_period() {
    assert_snapshot!(draw(&showing(Ok(empty())), 80, 24));
}

#[test]
fn loading_before_the_first_answer() {
    let mut app = app();
    app.update(Msg::Me(Ok(me("alice", true))));
    press(&mut app, KeyCode::Char('I'));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn refused_for_a_rep() {
    let refused = ClientError::Rejected {
        code: "forbidden".into(),
        message: "your role (rep) may not see the insights: that needs the manager role".into(),
    };
    assert_snapshot!(draw(&showing(Err(refused)), 80, 24));
}

#[test]
fn by_form_without_cost() {
    let mut figures = month();
    figures.by = "form".into();
    figures.spend = SpendStatus::NotForGrouping;
    for source in &mut figures.sources {
        source.cost = None;
    }
    let screen = format!("{}", draw(&showing(Ok(figures)), 80, 24));
    assert!(screen.contains("no cost by form"), "{screen}");
    assert!(!screen.contains("Per won"), "{screen}");
    assert!(screen.contains("Form "), "{screen}");
}

/// Campaign names come from Meta, typed by whoever runs the ads: an escape sequence in one
/// never reaches the terminal.
#[test]
fn control_characters_in_a_campaign_name_do_not_reach_the_screen() {
    let mut figures = month();
    figures.sources[0].label = "Summer\u{1b}[2J Giveaway\u{202e}".into();
    figures.per_day.series[0] = "Summer\u{1b}[2J Giveaway\u{202e}".into();
    let backend = draw(&showing(Ok(figures)), 160, 48);
    let screen = format!("{backend}");
    assert!(screen.contains("Summer[2J Giveaway"), "{screen}");
    assert!(
        !screen.contains('\u{1b}') && !screen.contains('\u{202e}'),
        "{screen}"
    );
}

/// Each series of the stacked bars has its colour, and the five-minute line its own.
#[test]
fn series_and_the_five_minute_line_in_colour() {
    let backend = draw(&showing(Ok(month())), 160, 48);
    let buffer = backend.buffer();
    let styled = |symbol: &str, style: ratatui::style::Style| {
        buffer
            .content()
            .iter()
            .any(|cell| cell.symbol() == symbol && cell.fg == style.fg.unwrap_or_default())
    };
    assert!(styled("█", crate::theme::SERIES[0]));
    assert!(styled("▓", crate::theme::SERIES[1]));
    assert!(styled("╌", crate::theme::FIVE_MINUTES));
}

/// Any terminal size draws: a tiny one shows what fits, the widest the two columns, a day's
/// figures one bar.
#[test]
fn every_size_draws_what_fits() {
    let mut today = month();
    today.per_day.days.truncate(1);
    for figures in [month(), empty(), today] {
        let app = showing(Ok(figures));
        for (width, height) in [(12, 6), (40, 12), (80, 24), (119, 30), (120, 30), (250, 70)] {
            let screen = format!("{}", draw(&app, width, height));
            assert!(screen.contains("Insights") || width < 20, "{screen}");
        }
    }
    let screen = format!("{}", draw(&showing(Ok(month())), 250, 70));
    assert!(
        screen.contains("Summer Giveaway") && screen.contains("carol"),
        "{screen}"
    );
}
