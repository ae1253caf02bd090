//! The update step of the due view, the header's counts, reminders and the catch-up on what fell
//! due while the dashboard was closed.

use chrono::Duration;
use crossterm::event::KeyCode;
use leadhook_shared::{Reminder, Role};

use super::follow_up_tests::{alices, berlin, drain, last_toast, press, settled, step, type_text};
use super::*;
use crate::fixtures::{lead, me, now};
use crate::notify::Notice;

#[test]
fn the_due_view_lists_mine_and_unowned_overdue_first() {
    let mut app = settled();
    assert_eq!(press(&mut app, KeyCode::Char('D')), None);
    let Mode::Browse(Pane::Due { at: 0, whose }) = app.mode else {
        panic!("D opens the due view: {:?}", app.mode);
    };
    assert_eq!(whose, DueOf::Mine);
    let ids: Vec<i64> = app.due_rows(whose).iter().map(|lead| lead.id).collect();
    assert_eq!(ids, [1, 2], "Jane overdue, then John later; not bob's");
    let everyone: Vec<i64> = app
        .due_rows(DueOf::Everyone)
        .iter()
        .map(|lead| lead.id)
        .collect();
    assert_eq!(everyone, [1, 3, 2]);

    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert!(matches!(app.mode, Mode::Browse(Pane::Due { at: 1, .. })));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 0 }));
    assert_eq!(app.selected_lead().map(|lead| lead.id), Some(2));
    press(&mut app, KeyCode::Esc);
    assert!(
        matches!(app.mode, Mode::Browse(Pane::Due { at: 1, .. })),
        "Esc from the details goes back to the due view: {:?}",
        app.mode
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::START);
}

#[test]
fn opening_a_lead_the_filter_hides_clears_the_filter() {
    let mut app = settled();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "Quiet");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('D'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.selected_lead().map(|lead| lead.id), Some(1));
    assert!(!app.leads.filter().is_active());
}

#[test]
fn a_manager_cycles_whose_follow_ups_a_rep_may_not() {
    let mut app = settled();
    press(&mut app, KeyCode::Char('D'));
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('w'));
        let Mode::Browse(Pane::Due { whose, .. }) = app.mode else {
            panic!("still the due view");
        };
        seen.push(whose);
    }
    assert_eq!(
        seen,
        [DueOf::Everyone, DueOf::Rep(0), DueOf::Rep(1), DueOf::Mine]
    );
    let bobs: Vec<i64> = app
        .due_rows(DueOf::Rep(1))
        .iter()
        .map(|lead| lead.id)
        .collect();
    assert_eq!(bobs, [3]);
    assert_eq!(app.due_whose_label(DueOf::Rep(1)), "bob");

    let mut rep_app = settled();
    let mut alice = me("alice", true);
    alice.role = Role::Rep;
    alice.time_zone = Some("Europe/Berlin".into());
    rep_app.update(Msg::Me(Ok(alice)));
    press(&mut rep_app, KeyCode::Char('D'));
    press(&mut rep_app, KeyCode::Char('w'));
    assert!(matches!(
        rep_app.mode,
        Mode::Browse(Pane::Due {
            whose: DueOf::Mine,
            ..
        })
    ));
    assert!(
        last_toast(&rep_app).starts_with("w: your role (rep) may not"),
        "{}",
        last_toast(&rep_app)
    );
}

#[test]
fn f_and_t_in_the_due_view_work_on_its_highlighted_lead() {
    let mut app = settled();
    press(&mut app, KeyCode::Char('D'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('F'));
    assert!(matches!(
        app.mode,
        Mode::NextStep {
            id: 2,
            under: Pane::Due { at: 1, .. },
            ..
        }
    ));
    press(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Browse(Pane::Due { at: 1, .. })));
    press(&mut app, KeyCode::Char('t'));
    assert!(matches!(app.mode, Mode::Attempt { id: 2, .. }));
}

#[test]
fn the_header_counts_my_steps_due_today_and_overdue() {
    let mut app = settled();
    assert_eq!(
        app.my_due_counts(),
        DueCounts {
            today: 0,
            overdue: 1
        }
    );
    // Quiet Lead, due at 23:30 Berlin: still today; John's unowned step is not hers.
    let mut quiet = lead(4, "Quiet Lead", 40);
    quiet.owner = Some("alice".into());
    quiet.next_step = Some(step(berlin(10, 23) + Duration::minutes(30), "Call"));
    app.update(crate::fixtures::polled(&[quiet.clone()], false));
    assert_eq!(
        app.my_due_counts(),
        DueCounts {
            today: 1,
            overdue: 1
        }
    );
    // Just after midnight in Berlin is tomorrow, though still the 10th in UTC.
    quiet.next_step = Some(step(berlin(11, 0) + Duration::minutes(30), "Call"));
    app.update(crate::fixtures::polled(&[quiet], false));
    assert_eq!(app.my_due_counts().today, 0);
}

fn reminder(lead_id: i64, owner: Option<&str>) -> Reminder {
    Reminder {
        lead_id,
        name: format!("Lead {lead_id}"),
        form_name: None,
        owner: owner.map(str::to_string),
        at: now(),
        what: "Call back".into(),
    }
}

#[test]
fn a_reminder_for_me_is_a_toast_and_a_notification_once() {
    let mut app = settled();
    let mine = reminder(9, Some("alice"));
    let told = app.update(Msg::Poll(PollEvent::Reminder(mine.clone())));
    assert_eq!(
        told,
        Some(Effect::Notify(Notice {
            summary: "Follow-up due".into(),
            body: "Lead 9 — Call back".into(),
        }))
    );
    assert_eq!(last_toast(&app), "Follow-up due: Lead 9 — Call back");
    assert_eq!(app.update(Msg::Poll(PollEvent::Reminder(mine))), None);
    let bobs = reminder(8, Some("bob"));
    assert_eq!(app.update(Msg::Poll(PollEvent::Reminder(bobs))), None);
    let unowned = reminder(7, None);
    assert!(
        app.update(Msg::Poll(PollEvent::Reminder(unowned)))
            .is_some()
    );
}

#[test]
fn on_start_one_notice_sums_up_what_fell_due_while_away() {
    let mut app = alices();
    let mut alice = me("alice", true);
    alice.time_zone = Some("Europe/Berlin".into());
    app.update(Msg::Me(Ok(alice)));
    let effects = drain(&mut app);
    let notices: Vec<&Notice> = effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Notify(notice) => Some(notice),
            _ => None,
        })
        .collect();
    // Jane is hers and overdue; bob's lead is not hers; John's is not due yet.
    assert_eq!(
        notices,
        [&Notice {
            summary: "1 follow-up due while you were away".into(),
            body: "Jane Doe".into(),
        }]
    );
    assert_eq!(
        last_toast(&app),
        "1 follow-up due while you were away: Jane Doe"
    );

    // The live reminder of the same step is not told again, nor is a reconnect's catch-up.
    let jane = Reminder {
        lead_id: 1,
        at: now() - Duration::minutes(30),
        ..reminder(1, Some("alice"))
    };
    assert_eq!(app.update(Msg::Poll(PollEvent::Reminder(jane))), None);
    app.update(Msg::Poll(PollEvent::Failed {
        error: ClientError::Unexpected("HTTP 502".into()),
        retry_at: now(),
    }));
    // John's step falls due while the dashboard is cut off.
    app.update(Msg::Tick(now() + Duration::hours(3)));
    let mut effects: Vec<Effect> = app
        .update(Msg::Poll(PollEvent::Synced {
            at: app.now,
            push: true,
        }))
        .into_iter()
        .collect();
    effects.extend(drain(&mut app));
    assert!(
        effects.contains(&Effect::Notify(Notice {
            summary: "1 follow-up due while you were away".into(),
            body: "John Roe".into(),
        })),
        "{effects:?}"
    );
    let again = app.update(Msg::Poll(PollEvent::Synced {
        at: app.now,
        push: true,
    }));
    assert!(!matches!(again, Some(Effect::Notify(_))), "{again:?}");
    assert!(
        !drain(&mut app)
            .iter()
            .any(|effect| matches!(effect, Effect::Notify(_)))
    );
}

#[test]
fn several_due_while_away_are_named_soonest_first() {
    let notice = Notice::due_while_away(&[
        "Jane Doe".into(),
        "John Roe".into(),
        "Ann".into(),
        "Bo".into(),
    ])
    .expect("a notice");
    assert_eq!(notice.summary, "4 follow-ups due while you were away");
    assert_eq!(notice.body, "Jane Doe, John Roe, Ann and 1 more");
    assert_eq!(Notice::due_while_away(&[]), None);
}
