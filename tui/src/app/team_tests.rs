//! The update step of the work-queue keys and of who is told what.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::{Activity, ActivityKind, LeadPatch};

use super::*;
use crate::fixtures::{escalation, fetched, lead, me, now, polled, rep};

/// Alice's dashboard after its first load: leads 1..=3 (1 the newest), lead 2 owned by bob.
fn alices(available: bool) -> App {
    let mut leads: Vec<_> = (1..=3)
        .map(|id| lead(id, &format!("Lead {id}"), id * 10))
        .collect();
    leads[1].owner = Some("bob".into());
    let mut app = crate::fixtures::loaded(leads, now());
    app.update(Msg::Me(Ok(me("alice", available))));
    app
}

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

fn owner(app: &App, id: i64) -> Option<String> {
    app.leads
        .get(id)
        .and_then(|lead| lead.owner.as_deref().map(str::to_string))
}

fn last_toast(app: &App) -> &str {
    app.toasts.last().map_or("", |toast| toast.text.as_str())
}

#[test]
fn the_dashboard_asks_who_it_is_once_it_reached_the_server() {
    let mut app = crate::fixtures::app();
    let synced = Msg::Poll(PollEvent::Synced {
        at: now(),
        push: true,
    });
    assert_eq!(app.update(synced), Some(Effect::LoadMe));
    assert_eq!(app.update(Msg::Tick(now())), None, "asked once");
    let answered = app.update(Msg::Me(Ok(me("alice", true))));
    assert_eq!(answered, Some(Effect::LoadReps));
    assert_eq!(app.update(Msg::Tick(now() + Duration::seconds(29))), None);
    let later = app.update(Msg::Tick(now() + Duration::seconds(30)));
    assert_eq!(later, Some(Effect::LoadReps), "the reps are asked again");
}

#[test]
fn a_failed_who_am_i_is_asked_again_later_not_every_tick() {
    let mut app = crate::fixtures::loaded(vec![lead(1, "Ann", 1)], now());
    app.update(Msg::Me(Err(ClientError::Unexpected("HTTP 502".into()))));
    assert_eq!(app.update(Msg::Tick(now() + Duration::seconds(1))), None);
    let later = app.update(Msg::Tick(now() + Duration::seconds(30)));
    assert_eq!(later, Some(Effect::LoadMe));
}

#[test]
fn c_claims_the_selected_lead_at_once_and_a_lost_race_is_undone_with_the_owner_named() {
    let mut app = alices(true);
    assert_eq!(
        press(&mut app, KeyCode::Char('c')),
        Some(Effect::Claim { id: 1 })
    );
    assert_eq!(owner(&app, 1).as_deref(), Some("alice"));
    app.update(Msg::Saved {
        id: 1,
        result: Err(ClientError::Rejected {
            code: "conflict".into(),
            message: "lead 1 is already claimed by bob".into(),
        }),
    });
    assert_eq!(owner(&app, 1), None);
    assert_eq!(
        last_toast(&app),
        "Could not claim Lead 1: lead 1 is already claimed by bob (conflict)"
    );
}

#[test]
fn c_on_my_own_lead_says_so_and_without_reps_c_explains() {
    let mut app = alices(true);
    press(&mut app, KeyCode::Char('c'));
    assert_eq!(press(&mut app, KeyCode::Char('c')), None);
    assert_eq!(last_toast(&app), "Lead 1 is already yours.");

    let mut old_server = crate::fixtures::loaded(vec![lead(1, "Ann", 1)], now());
    old_server.update(Msg::Me(Err(ClientError::NotFound(
        "no such endpoint".into(),
    ))));
    assert_eq!(press(&mut old_server, KeyCode::Char('c')), None);
    assert!(
        last_toast(&old_server).contains("no reps"),
        "{}",
        last_toast(&old_server)
    );
}

#[test]
fn u_releases_an_owned_lead_and_refuses_an_unowned_one() {
    let mut app = alices(true);
    assert_eq!(press(&mut app, KeyCode::Char('u')), None);
    assert_eq!(last_toast(&app), "Lead 1 has no owner to release.");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(
        press(&mut app, KeyCode::Char('u')),
        Some(Effect::Release { id: 2 })
    );
    assert_eq!(owner(&app, 2), None);
}

#[test]
fn a_picks_a_rep_and_assigns_through_patch() {
    let mut app = alices(true);
    assert_eq!(press(&mut app, KeyCode::Char('a')), Some(Effect::LoadReps));
    assert!(matches!(app.mode, Mode::Assign { id: 1, at: 0, .. }));
    app.update(Msg::Reps(Ok(vec![
        rep("alice", true, 0),
        rep("bob", true, 1),
        rep("carol", false, 4),
    ])));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert!(matches!(app.mode, Mode::Assign { at: 2, .. }), "clamped");
    press(&mut app, KeyCode::Up);
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(Effect::Save {
            id: 1,
            patch: LeadPatch {
                owner: Some(Some("bob".into())),
                ..LeadPatch::default()
            }
        })
    );
    assert_eq!(owner(&app, 1).as_deref(), Some("bob"));
    assert_eq!(app.mode, Mode::START);

    press(&mut app, KeyCode::Char('a'));
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START);
}

#[test]
fn m_shows_mine_and_unowned_then_everyone() {
    let mut app = alices(true);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('c'));
    let ids = |app: &App| -> Vec<i64> { app.leads.visible().iter().map(|key| key.id).collect() };
    press(&mut app, KeyCode::Char('m'));
    // Lead 2 is bob's.
    assert_eq!(ids(&app), [1, 3]);
    // Esc clears a search but keeps "mine".
    press(&mut app, KeyCode::Esc);
    assert_eq!(ids(&app), [1, 3]);
    press(&mut app, KeyCode::Char('m'));
    assert_eq!(ids(&app), [1, 2, 3]);
}

#[test]
fn shift_a_toggles_availability_and_a_failure_reads_it_back() {
    let mut app = alices(true);
    let shift_a = KeyEvent::new(KeyCode::Char('A'), crossterm::event::KeyModifiers::SHIFT);
    assert_eq!(
        app.update(Msg::Key(shift_a)),
        Some(Effect::SetAvailable(false))
    );
    assert_eq!(app.team.me.as_ref().map(|me| me.available), Some(false));
    let failed = app.update(Msg::Availability(Err(ClientError::Unexpected(
        "HTTP 500".into(),
    ))));
    assert_eq!(failed, Some(Effect::LoadMe));
    assert!(last_toast(&app).starts_with("Could not change your availability"));
    app.update(Msg::Me(Ok(me("alice", true))));
    assert_eq!(app.team.me.as_ref().map(|me| me.available), Some(true));
}

#[test]
fn y_copies_the_phone_else_the_email_and_says_what() {
    let mut app = alices(true);
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        Some(Effect::Copy("+15550000001".into()))
    );
    assert_eq!(last_toast(&app), "Copied phone +15550000001");

    let mut no_phone = lead(9, "Eve", 0);
    no_phone.meta.phone = Some(" \u{202e} ".into());
    no_phone.meta.email = Some("eve@example.com\n".into());
    let mut app = crate::fixtures::loaded(vec![no_phone], now());
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        Some(Effect::Copy("eve@example.com".into()))
    );
    assert_eq!(last_toast(&app), "Copied email eve@example.com");
}

#[test]
fn details_ask_for_the_history_once_per_lead_and_change() {
    let mut app = alices(true);
    app.team.reps_asked_at = Some(now());
    // The whole lead first; its history once that is answered.
    assert_eq!(press(&mut app, KeyCode::Enter), Some(Effect::LoadDetail(1)));
    assert_eq!(
        app.update(fetched(&lead(1, "Lead 1", 10))),
        Some(Effect::LoadActivity(1))
    );
    assert_eq!(app.update(Msg::Tick(now())), None, "asked already");
    let history = vec![Activity {
        id: 1,
        lead_id: 1,
        at: now(),
        actor: "facebook".into(),
        kind: ActivityKind::Stored,
        old: None,
        new: None,
    }];
    app.update(Msg::Activity {
        id: 1,
        result: Ok(history.clone()),
    });
    assert_eq!(app.update(Msg::Tick(now())), None, "cached");
    assert_eq!(
        press(&mut app, KeyCode::Char('j')),
        Some(Effect::LoadDetail(2))
    );
    assert_eq!(
        app.update(fetched(&lead(2, "Lead 2", 20))),
        Some(Effect::LoadActivity(2))
    );
    app.update(Msg::Activity {
        id: 2,
        result: Ok(Vec::new()),
    });
    // Someone changed lead 2 while its details are open: it and its history are asked again.
    let mut changed = lead(2, "Lead 2", 20);
    changed.updated_at = now();
    assert_eq!(
        app.update(polled(&[changed.clone()], false)),
        Some(Effect::LoadDetail(2))
    );
    assert_eq!(app.update(fetched(&changed)), Some(Effect::LoadActivity(2)));
    let cached = app.team.activity.as_ref().expect("cached");
    assert_eq!((cached.lead, cached.loading), (2, true));
}

fn unowned_new_lead(app: &mut App) -> Option<Effect> {
    app.update(polled(&[lead(20, "Jane Doe", 0)], false));
    app.update(Msg::Tick(app.now + BATCH_WINDOW))
}

#[test]
fn an_unowned_new_lead_notifies_only_an_available_rep() {
    let mut available = alices(true);
    assert!(matches!(
        unowned_new_lead(&mut available),
        Some(Effect::Notify(_))
    ));
    let mut away = alices(false);
    assert_eq!(unowned_new_lead(&mut away), None);
    assert!(away.toasts.is_empty(), "{:?}", away.toasts);
    assert!(away.is_unseen(20), "still marked in the table");
}

#[test]
fn a_new_lead_assigned_to_someone_else_is_not_my_news_but_a_reassignment_to_me_is() {
    let mut app = alices(true);
    let mut bobs = lead(21, "Bob's", 0);
    bobs.owner = Some("bob".into());
    app.update(polled(&[bobs.clone()], false));
    assert_eq!(app.update(Msg::Tick(app.now + BATCH_WINDOW)), None);

    bobs.owner = Some("alice".into());
    let effect = app.update(polled(&[bobs], false));
    let Some(Effect::Notify(notice)) = effect else {
        panic!("expected a notification, got {effect:?}");
    };
    assert_eq!(notice.line(), "Assigned to you: Bob's — Spring Promo form");
}

#[test]
fn my_own_claim_coming_back_is_no_news() {
    let mut app = alices(true);
    press(&mut app, KeyCode::Char('u'));
    press(&mut app, KeyCode::Char('c'));
    let mut claimed = lead(1, "Lead 1", 10);
    claimed.owner = Some("alice".into());
    let effect = app.update(polled(&[claimed], false));
    assert!(!matches!(effect, Some(Effect::Notify(_))), "{effect:?}");
}

#[test]
fn escalations_notify_available_reps_only() {
    let escalation = escalation();
    let mut app = alices(true);
    let effect = app.update(Msg::Poll(PollEvent::Escalation(escalation.clone())));
    let Some(Effect::Notify(notice)) = effect else {
        panic!("expected a notification, got {effect:?}");
    };
    assert_eq!(notice, Notice::escalation(&escalation));
    assert_eq!(last_toast(&app), "Waiting 5 min: Lead 3 (Spring Promo)");

    let mut away = alices(false);
    let effect = away.update(Msg::Poll(PollEvent::Escalation(escalation)));
    assert!(!matches!(effect, Some(Effect::Notify(_))), "{effect:?}");
}

#[test]
fn at_most_two_toasts() {
    let mut app = alices(true);
    for _ in 0..3 {
        press(&mut app, KeyCode::Char('y'));
    }
    press(&mut app, KeyCode::Char('u'));
    assert_eq!(app.toasts.len(), 2);
    assert_eq!(last_toast(&app), "Lead 1 has no owner to release.");
}
