//! New leads on the dashboard: which ones are news, one notification per burst, and the marks
//! that stay until the user has looked.

use chrono::Duration;
use crossterm::event::KeyCode;
use leadhook_shared::LeadStatus;

use super::tests::{loaded, new_leads, press, selected_id, tick, type_text};
use super::*;
use crate::fixtures::{app, lead, polled};

#[test]
fn the_users_own_new_lead_arriving_by_push_first_is_no_news() {
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "Hal Jordan");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "+1 555 0100");
    assert!(matches!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::Create(_))
    ));

    let mut own = lead(50, "Hal Jordan", 0);
    own.is_manual = true;
    own.meta.phone = Some("+1 555 0100".into());
    own.meta.email = None;
    app.update(polled(&[own.clone()], false));
    app.update(Msg::Created(Ok(own)));
    assert_eq!(tick(&mut app, BATCH_WINDOW), None);
    assert!(!app.is_unseen(50));
    assert_eq!(selected_id(&app), Some(50));
}

#[test]
fn first_load_notifies_nothing() {
    let mut app = app();
    app.update(polled(&[lead(1, "A", 1), lead(2, "B", 2)], true));
    assert_eq!(tick(&mut app, Duration::seconds(5)), None);
    assert!(!app.is_unseen(1) && !app.is_unseen(2));
}

#[test]
fn a_burst_of_new_leads_becomes_one_notification() {
    let mut app = loaded(3);
    app.update(new_leads(&[10, 11]));
    app.update(new_leads(&[12, 13, 14]));
    assert_eq!(tick(&mut app, Duration::milliseconds(100)), None);
    let effect = tick(&mut app, BATCH_WINDOW);
    let Some(Effect::Notify(notice)) = effect else {
        panic!("expected one notification, got {effect:?}");
    };
    assert_eq!(notice.summary, "5 new leads");
    assert_eq!(app.toasts.last().unwrap().text, "5 new leads");
    assert_eq!(tick(&mut app, BATCH_WINDOW), None);
}

#[test]
fn one_new_lead_is_named_with_its_form() {
    let mut app = loaded(1);
    app.update(new_leads(&[7]));
    let effect = tick(&mut app, BATCH_WINDOW);
    let Some(Effect::Notify(notice)) = effect else {
        panic!("expected a notification, got {effect:?}");
    };
    assert_eq!(notice.line(), "New lead: New 7 — Spring Promo form");
}

#[test]
fn new_leads_are_detected_by_id_not_count() {
    let mut app = loaded(2);
    // Lead 2 changed and lead 3 is new: the same count of changes as two new leads.
    let mut changed = lead(2, "Lead 2", 20);
    changed.status = LeadStatus::Won;
    app.update(polled(&[changed, lead(3, "Jane", 0)], false));
    let Some(Effect::Notify(notice)) = tick(&mut app, BATCH_WINDOW) else {
        panic!("expected a notification");
    };
    assert_eq!(notice.summary, "New lead");
    assert!(app.is_unseen(3) && !app.is_unseen(2));
}

#[test]
fn new_leads_stay_marked_until_selected() {
    let mut app = loaded(2);
    app.update(new_leads(&[10]));
    // The selection stays on the lead the user was looking at.
    assert_eq!(selected_id(&app), Some(1));
    assert!(app.is_unseen(10));
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(selected_id(&app), Some(10));
    assert!(!app.is_unseen(10));
}
