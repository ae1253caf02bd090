//! The update step of follow-ups: the time zone, `F` and `t` (the due view, reminders and the
//! catch-up are in `due_tests`), and the fixtures both use.

use chrono::{Duration, TimeZone};
use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::{Attempted, CallOutcome, LeadStatus, NewAttempt, NextStep, Tz};

use super::*;
use crate::fixtures::{lead, me, now, rep};

pub(super) const BERLIN: Tz = Tz::Europe__Berlin;

pub(super) fn step(at: DateTime<Utc>, what: &str) -> NextStep {
    NextStep {
        at,
        what: what.into(),
    }
}

/// Alice's dashboard in Berlin (16:00 local at the fixed now), with lead 1 "Jane Doe" (hers,
/// overdue by 30 min), 2 "John Roe" (unowned, due in 2 h), 3 "Bob's Lead" (bob's, overdue by
/// 10 min) and 4 "Quiet Lead" (hers, no next step).
pub(super) fn alices() -> App {
    let mut leads = vec![
        lead(1, "Jane Doe", 10),
        lead(2, "John Roe", 20),
        lead(3, "Bobs Lead", 30),
        lead(4, "Quiet Lead", 40),
    ];
    leads[0].owner = Some("alice".into());
    leads[0].next_step = Some(step(now() - Duration::minutes(30), "Call back"));
    leads[0].attempts = 2;
    leads[1].next_step = Some(step(now() + Duration::hours(2), "Send quote"));
    leads[2].owner = Some("bob".into());
    leads[2].next_step = Some(step(now() - Duration::minutes(10), "Call back"));
    leads[3].owner = Some("alice".into());
    let mut app = crate::fixtures::app().with_local_zone(BERLIN, true);
    app.update(crate::fixtures::polled(&leads, true));
    app.update(Msg::Poll(PollEvent::Synced {
        at: now(),
        push: true,
    }));
    app
}

/// [`alices`] once she is known, her zone already on the server, and the catch-up told.
pub(super) fn settled() -> App {
    let mut app = alices();
    let mut alice = me("alice", true);
    alice.time_zone = Some("Europe/Berlin".into());
    app.update(Msg::Me(Ok(alice)));
    app.update(Msg::Reps(Ok(vec![
        rep("alice", true, 2),
        rep("bob", true, 1),
    ])));
    drain(&mut app);
    app.toasts.clear();
    app
}

/// Ticks until the app wants nothing more, returning what it wanted.
pub(super) fn drain(app: &mut App) -> Vec<Effect> {
    let mut effects = Vec::new();
    while let Some(effect) = app.update(Msg::Tick(app.now)) {
        effects.push(effect);
        assert!(effects.len() < 20, "the app keeps asking: {effects:?}");
    }
    effects
}

pub(super) fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        assert_eq!(press(app, KeyCode::Char(c)), None, "typing {c:?}");
    }
}

pub(super) fn last_toast(app: &App) -> &str {
    app.toasts.last().map_or("", |toast| toast.text.as_str())
}

/// Selects lead `id` in the list.
pub(super) fn select(app: &mut App, id: i64) {
    press(app, KeyCode::Char('g'));
    for _ in 0..app.leads.len() {
        if app.selected_lead().map(|lead| lead.id) == Some(id) {
            return;
        }
        press(app, KeyCode::Char('j'));
    }
    panic!("lead {id} is not in the list");
}

pub(super) fn berlin(day: u32, hour: u32) -> DateTime<Utc> {
    BERLIN
        .with_ymd_and_hms(2026, 3, day, hour, 0, 0)
        .single()
        .expect("a Berlin time")
        .to_utc()
}

#[test]
fn the_local_zone_is_sent_once_when_the_server_has_another_or_none() {
    let mut app = alices();
    app.update(Msg::Me(Ok(me("alice", true))));
    let effects = drain(&mut app);
    assert!(
        effects.contains(&Effect::SetTimeZone("Europe/Berlin".into())),
        "{effects:?}"
    );
    assert!(!drain(&mut app).contains(&Effect::SetTimeZone("Europe/Berlin".into())));

    let mut same = alices();
    let mut alice = me("alice", true);
    alice.time_zone = Some("Europe/Berlin".into());
    same.update(Msg::Me(Ok(alice)));
    let effects = drain(&mut same);
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::SetTimeZone(_))),
        "{effects:?}"
    );

    // A UTC fallback is never sent: it would overwrite a zone the rep set elsewhere.
    let mut unknown = crate::fixtures::loaded(vec![lead(1, "Ann", 1)], now());
    unknown.update(Msg::Me(Ok(me("alice", true))));
    assert!(
        !drain(&mut unknown)
            .iter()
            .any(|effect| matches!(effect, Effect::SetTimeZone(_)))
    );
}

/// A server from before time zones refuses the body (422); the dashboard keeps reading times
/// in this computer's zone without an error toast at every start. Other failures are shown.
#[test]
fn a_server_that_keeps_no_zones_is_not_an_error_on_screen() {
    let mut app = alices();
    app.update(Msg::Me(Ok(me("alice", true))));
    drain(&mut app);
    app.toasts.clear();
    app.update(Msg::TimeZoneSet(Err(ClientError::Rejected {
        code: "validation_failed".into(),
        message: "Failed to deserialize the JSON body: missing field `available`".into(),
    })));
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
    assert_eq!(app.zone(), BERLIN);

    app.update(Msg::TimeZoneSet(Err(ClientError::Unexpected(
        "HTTP 500".into(),
    ))));
    assert!(last_toast(&app).starts_with("Could not tell the server your time zone"));
}

#[test]
fn the_reps_zone_on_the_server_wins_over_the_local_one() {
    let mut app = alices();
    assert_eq!(app.zone(), BERLIN);
    let mut alice = me("alice", true);
    alice.time_zone = Some("America/New_York".into());
    app.update(Msg::Me(Ok(alice.clone())));
    assert_eq!(app.zone(), Tz::America__New_York);
    alice.time_zone = Some("Europe/Berlin".into());
    app.update(Msg::TimeZoneSet(Ok(alice)));
    assert_eq!(app.zone(), BERLIN);
}

#[test]
fn f_offers_the_quick_choices_and_enter_saves_the_chosen_one() {
    let mut app = settled();
    select(&mut app, 4);
    assert_eq!(press(&mut app, KeyCode::Char('F')), None);
    let Mode::NextStep { id, form, .. } = &app.mode else {
        panic!("F opens the next-step popup: {:?}", app.mode);
    };
    assert_eq!(*id, 4);
    let labels: Vec<&str> = form.choices.iter().map(|choice| choice.label).collect();
    // 16:00 in Berlin: too late for "this afternoon".
    assert_eq!(labels, ["in 1 hour", "tomorrow 9:00", "next Monday 9:00"]);
    assert_eq!(form.what.value(), DEFAULT_WHAT);

    press(&mut app, KeyCode::Char('2'));
    let saved = press(&mut app, KeyCode::Enter);
    let expected = step(berlin(11, 9), "Call back");
    assert_eq!(
        saved,
        Some(Effect::SetNextStep {
            id: 4,
            step: expected.clone()
        })
    );
    assert_eq!(app.mode, Mode::START);
    let shown = app.leads.get(4).and_then(|lead| lead.next_step.as_deref());
    assert_eq!(shown, Some(&expected), "shown at once");
    assert_eq!(
        last_toast(&app),
        "Next step for Quiet Lead: tomorrow 09:00 — Call back"
    );
}

#[test]
fn a_refused_next_step_is_put_back() {
    let mut app = settled();
    select(&mut app, 4);
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Enter);
    assert!(
        app.leads
            .get(4)
            .is_some_and(|lead| lead.next_step.is_some())
    );
    app.update(Msg::Saved {
        id: 4,
        result: Err(ClientError::Unexpected(
            "HTTP 400: \"at\" is in the past".into(),
        )),
    });
    assert_eq!(
        app.leads.get(4).and_then(|lead| lead.next_step.clone()),
        None
    );
    assert!(
        last_toast(&app).starts_with("Could not set the next step of Quiet Lead: "),
        "{}",
        last_toast(&app)
    );
}

#[test]
fn a_typed_time_and_what_are_read_in_the_reps_zone() {
    let mut app = settled();
    select(&mut app, 4);
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "tomorrow 10:30");
    press(&mut app, KeyCode::Tab);
    for _ in DEFAULT_WHAT.chars() {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "Send the quote");
    let saved = press(&mut app, KeyCode::Enter);
    let at = BERLIN
        .with_ymd_and_hms(2026, 3, 11, 10, 30, 0)
        .single()
        .expect("a Berlin time")
        .to_utc();
    assert_eq!(
        saved,
        Some(Effect::SetNextStep {
            id: 4,
            step: step(at, "Send the quote")
        })
    );
}

#[test]
fn typing_on_the_choices_starts_a_typed_time() {
    let mut app = settled();
    select(&mut app, 4);
    press(&mut app, KeyCode::Char('F'));
    type_text(&mut app, "+2h");
    let saved = press(&mut app, KeyCode::Enter);
    assert_eq!(
        saved,
        Some(Effect::SetNextStep {
            id: 4,
            step: step(now() + Duration::hours(2), "Call back")
        })
    );
}

#[test]
fn a_time_that_does_not_parse_stays_in_the_popup_with_one_line_saying_why() {
    let mut app = settled();
    select(&mut app, 4);
    press(&mut app, KeyCode::Char('F'));
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "25:99");
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    let Mode::NextStep { form, .. } = &app.mode else {
        panic!("the popup stays open: {:?}", app.mode);
    };
    let error = form.error.clone().expect("an error is shown");
    assert!(error.contains("\"25:99\" is not a time"), "{error}");
    assert!(!error.contains('\n'));
    press(&mut app, KeyCode::Backspace);
    let Mode::NextStep { form, .. } = &app.mode else {
        panic!("still open");
    };
    assert_eq!(form.error, None, "editing clears the error");

    // An empty "what" is refused too.
    press(&mut app, KeyCode::Tab);
    for _ in DEFAULT_WHAT.chars() {
        press(&mut app, KeyCode::Backspace);
    }
    press(&mut app, KeyCode::BackTab);
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    let Mode::NextStep { form, .. } = &app.mode else {
        panic!("still open");
    };
    assert_eq!(
        form.error.as_deref(),
        Some("Say what to do next, e.g. Call back.")
    );
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START, "Esc cancels");
}

#[test]
fn d_in_the_popup_clears_the_next_step() {
    let mut app = settled();
    select(&mut app, 1);
    press(&mut app, KeyCode::Char('F'));
    let Mode::NextStep { form, .. } = &app.mode else {
        panic!("open");
    };
    assert_eq!(form.what.value(), "Call back", "the current step's text");
    assert_eq!(
        press(&mut app, KeyCode::Char('d')),
        Some(Effect::ClearNextStep { id: 1 })
    );
    assert_eq!(
        app.leads.get(1).and_then(|lead| lead.next_step.clone()),
        None
    );

    select(&mut app, 4);
    press(&mut app, KeyCode::Char('F'));
    assert_eq!(press(&mut app, KeyCode::Delete), None);
    assert_eq!(last_toast(&app), "Quiet Lead has no next step to clear.");
}

#[test]
fn t_records_an_outcome_and_a_note_and_digits_in_the_note_are_text() {
    let mut app = settled();
    select(&mut app, 1);
    assert_eq!(press(&mut app, KeyCode::Char('t')), None);
    assert!(matches!(app.mode, Mode::Attempt { id: 1, .. }));
    press(&mut app, KeyCode::Char('3'));
    type_text(&mut app, "call 2 went well");
    let sent = press(&mut app, KeyCode::Enter);
    assert_eq!(
        sent,
        Some(Effect::Attempt {
            id: 1,
            attempt: NewAttempt {
                outcome: CallOutcome::Talked,
                note: Some("call 2 went well".into()),
            }
        })
    );
    assert_eq!(app.mode, Mode::START);

    press(&mut app, KeyCode::Char('t'));
    press(&mut app, KeyCode::Down);
    let sent = press(&mut app, KeyCode::Enter);
    assert_eq!(
        sent,
        Some(Effect::Attempt {
            id: 1,
            attempt: NewAttempt {
                outcome: CallOutcome::LeftVoicemail,
                note: None,
            }
        })
    );
    press(&mut app, KeyCode::Char('t'));
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START);
}

/// The server gives an unowned lead to whoever logs a call on it: that claim, coming back on
/// the feed before the answer, is this rep's own doing, not news.
#[test]
fn a_call_logged_on_an_unowned_lead_is_not_assigned_to_me_news() {
    let mut app = settled();
    select(&mut app, 2);
    press(&mut app, KeyCode::Char('t'));
    press(&mut app, KeyCode::Char('3'));
    assert!(matches!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::Attempt { id: 2, .. })
    ));
    let mut claimed = lead(2, "John Roe", 20);
    claimed.owner = Some("alice".into());
    let effect = app.update(crate::fixtures::polled(&[claimed.clone()], false));
    assert_eq!(effect, None);
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);

    claimed.attempts = 1;
    app.update(Msg::Attempted {
        id: 2,
        outcome: CallOutcome::Talked,
        result: Ok(Attempted {
            lead: claimed,
            suggest: None,
        }),
    });
    assert_eq!(last_toast(&app), "attempt 1: talked");
    assert_eq!(drain(&mut app), []);
}

#[test]
fn the_answer_to_an_attempt_is_a_toast_with_the_next_call() {
    let mut app = settled();
    let mut jane = lead(1, "Jane Doe", 10);
    jane.owner = Some("alice".into());
    jane.attempts = 3;
    jane.next_step = Some(step(berlin(11, 9), "Call back"));
    app.update(Msg::Attempted {
        id: 1,
        outcome: CallOutcome::NoAnswer,
        result: Ok(Attempted {
            lead: jane.clone(),
            suggest: None,
        }),
    });
    assert_eq!(
        last_toast(&app),
        "attempt 3: no answer — next call tomorrow 09:00"
    );
    assert_eq!(app.leads.get(1).map(|lead| lead.attempts), Some(3));

    jane.attempts = 5;
    jane.next_step = None;
    app.update(Msg::Attempted {
        id: 1,
        outcome: CallOutcome::LeftVoicemail,
        result: Ok(Attempted {
            lead: jane,
            suggest: Some(vec![LeadStatus::Lost, LeadStatus::Unqualified]),
        }),
    });
    assert_eq!(
        last_toast(&app),
        "attempt 5: left voicemail — the call cadence ran out: mark it Lost (6) or Unqualified (4)"
    );

    app.update(Msg::Attempted {
        id: 1,
        outcome: CallOutcome::Talked,
        result: Err(ClientError::Unexpected("HTTP 403".into())),
    });
    assert!(
        last_toast(&app).starts_with("Could not record the call on Jane Doe: "),
        "{}",
        last_toast(&app)
    );
}
