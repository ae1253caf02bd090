//! Follow-ups on screen at a fixed now (Tuesday 16:00 in Berlin): the due view, the header's
//! counts, a lead's next step and attempts in its details and history, and the two popups.

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Activity, ActivityKind, Lead, NextStep, Tz};
use ratatui::style::Color;

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, me, now, polled, rep};
use crate::poller::PollEvent;

fn step(at: DateTime<Utc>, what: &str) -> Option<NextStep> {
    Some(NextStep {
        at,
        what: what.into(),
    })
}

/// Alice's follow-ups: Jane overdue, Priya later today, Carlos (bob's) tomorrow, John (unowned)
/// on Friday; Mei has none.
fn follow_up_leads() -> Vec<Lead> {
    let mut jane = lead(1, "Jane Doe", 30);
    jane.owner = Some("alice".into());
    jane.next_step = step(now() - Duration::minutes(20), "Call back");
    jane.attempts = 2;
    let mut priya = lead(2, "Priya Natarajan", 60);
    priya.owner = Some("alice".into());
    priya.next_step = step(now() + Duration::minutes(90), "Send the quote for 6 kW");
    priya.attempts = 1;
    let mut carlos = lead(3, "Carlos Mendes", 90);
    carlos.owner = Some("bob".into());
    carlos.next_step = step(now() + Duration::hours(18), "Call back");
    let mut john = lead(4, "John Roe", 120);
    john.next_step = step(now() + Duration::days(3), "Call back");
    john.attempts = 4;
    let mut mei = lead(5, "Mei Chen", 150);
    mei.owner = Some("alice".into());
    vec![jane, priya, carlos, john, mei]
}

fn alices() -> App {
    let mut app = crate::fixtures::app().with_local_zone(Tz::Europe__Berlin, true);
    app.update(polled(&follow_up_leads(), true));
    app.update(Msg::Poll(PollEvent::Synced {
        at: now() - Duration::seconds(1),
        push: true,
    }));
    let mut alice = me("alice", true);
    alice.time_zone = Some("Europe/Berlin".into());
    app.update(Msg::Me(Ok(alice)));
    app.update(Msg::Reps(Ok(vec![
        rep("alice", true, 3),
        rep("bob", true, 1),
    ])));
    while app.update(Msg::Tick(now())).is_some() {}
    app.toasts.clear();
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

#[test]
fn due_view_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('D'));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn due_view_of_everyone_120x40() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('D'));
    press(&mut app, KeyCode::Char('w'));
    press(&mut app, KeyCode::Char('j'));
    assert_snapshot!(draw(&app, 120, 40));
}

/// The overdue row's time is red, today's yellow; the header's overdue count is red.
#[test]
fn overdue_is_red_in_the_due_view_and_the_header() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('D'));
    let screen = draw(&app, 120, 40);
    let buffer = screen.buffer();
    let find = |text: &str| {
        (0..buffer.area.height)
            .find_map(|y| {
                let row: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                row.find(text).map(|at| {
                    let x = row[..at].chars().count() as u16;
                    buffer[(x, y)].fg
                })
            })
            .unwrap_or_else(|| panic!("{text:?} not on screen"))
    };
    assert_eq!(find("today 15:40"), Color::Red);
    assert_eq!(find("today 17:30"), Color::Yellow);
    assert_eq!(find("1 overdue"), Color::Red);
}

/// With only overdue steps the header says so, without "0 due".
#[test]
fn the_header_leaves_out_a_zero_count() {
    let mut app = alices();
    let mut priya = lead(2, "Priya Natarajan", 60);
    priya.owner = Some("alice".into());
    app.update(polled(&[priya], false));
    let screen = format!("{:?}", draw(&app, 120, 40));
    assert!(screen.contains("Follow-ups 1 overdue"), "{screen}");
    assert!(!screen.contains("0 due"), "{screen}");
}

#[test]
fn header_counts_80x24() {
    assert_snapshot!(draw(&alices(), 80, 24));
}

/// With the team's figures from `/api/stats`: calls per lead and how many were reached.
#[test]
fn header_with_call_figures_120x40() {
    let mut app = alices();
    let mut stats = leadhook_shared::Stats::default();
    stats.follow_ups.attempts = 7;
    stats.follow_ups.leads_attempted = 3;
    stats.follow_ups.leads_talked = 2;
    app.update(Msg::Stats(Ok(stats)));
    assert_snapshot!(draw(&app, 120, 40));
}

/// Jane's details: her overdue next step, her attempts, and the history in words.
fn janes_details() -> App {
    let mut app = alices();
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &follow_up_leads());
    let entry = |id, minutes_ago: i64, kind, new: &str| Activity {
        id,
        lead_id: 1,
        at: now() - Duration::minutes(minutes_ago),
        actor: "alice".into(),
        kind,
        old: None,
        new: Some(new.into()),
    };
    app.update(Msg::Activity {
        id: 1,
        result: Ok(vec![
            entry(1, 25, ActivityKind::Attempt, "no_answer: busy"),
            entry(
                2,
                24,
                ActivityKind::NextStep,
                "2026-03-10T14:40:00Z Call back",
            ),
            entry(3, 5, ActivityKind::Attempt, "left_voicemail"),
        ]),
    });
    app
}

#[test]
fn details_with_next_step_and_attempts_80x24() {
    let mut app = janes_details();
    // Past the form answers, to the history.
    for _ in 0..10 {
        press(&mut app, KeyCode::Char('J'));
    }
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn details_with_next_step_and_attempts_120x40() {
    assert_snapshot!(draw(&janes_details(), 120, 40));
}

#[test]
fn next_step_popup_with_a_typed_time_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('F'));
    for c in "tue 10:00".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn next_step_popup_with_an_error_120x40() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('F'));
    for c in "yesterday".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_snapshot!(draw(&app, 120, 40));
}

#[test]
fn attempt_popup_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('t'));
    press(&mut app, KeyCode::Char('2'));
    for c in "asked to call after 5pm".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_snapshot!(draw(&app, 80, 24));
}

/// The reps in the assign picker with their overdue follow-ups from `/api/stats`.
#[test]
fn assign_picker_with_overdue_per_rep_80x24() {
    let mut app = alices();
    let figures = |name: &str, overdue| leadhook_shared::RepStats {
        name: name.into(),
        owned: 3,
        contacted: 1,
        won: 0,
        median_speed_to_lead_secs: None,
        overdue,
    };
    let stats = leadhook_shared::Stats {
        per_rep: vec![figures("alice", 1), figures("bob", 0)],
        ..leadhook_shared::Stats::default()
    };
    app.update(Msg::Stats(Ok(stats)));
    press(&mut app, KeyCode::Char('a'));
    assert_snapshot!(draw(&app, 80, 24));
}

/// A stranger's name and a rep's "what" with bidirectional overrides and escapes reach neither
/// the due view, the popups nor a reminder's toast as they are.
#[test]
fn hostile_text_is_neutralised_in_the_due_view_popups_and_toasts() {
    let mut app = alices();
    let mut eve = lead(9, "Eve\u{202e}gnp.exe\x1b[2J", 5);
    eve.owner = Some("alice".into());
    eve.next_step = step(now() + Duration::minutes(5), "Call\u{2066} back\x07");
    app.update(polled(&[eve], false));
    app.update(Msg::Poll(PollEvent::Reminder(leadhook_shared::Reminder {
        lead_id: 9,
        name: "Eve\u{202e}gnp.exe".into(),
        form_name: None,
        owner: Some("alice".into()),
        at: now(),
        what: "Call\u{2066} back".into(),
    })));
    let hazards = |app: &App| -> Vec<String> {
        draw(app, 120, 40)
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol().to_string())
            .filter(|symbol| symbol.chars().any(crate::sanitize::is_hazard))
            .collect()
    };
    assert!(!app.toasts.is_empty(), "the reminder is a toast");
    press(&mut app, KeyCode::Char('D'));
    assert_eq!(hazards(&app), Vec::<String>::new());
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(hazards(&app), Vec::<String>::new());
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('t'));
    assert_eq!(hazards(&app), Vec::<String>::new());
}
