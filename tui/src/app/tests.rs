//! The update step, driven without a terminal: keys, ticks and poll results in, state and
//! effects out.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use leadhook_shared::{Lead, LeadPatch, LeadStatus};

use super::*;
use crate::fixtures::{app, lead, now, polled};
use crate::keys;

/// An app that finished its first load with leads 1..=n, lead 1 the newest.
pub(super) fn loaded(n: i64) -> App {
    let leads = (1..=n)
        .map(|id| lead(id, &format!("Lead {id}"), id * 10))
        .collect();
    crate::fixtures::loaded(leads, now())
}

pub(super) fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

pub(super) fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

pub(super) fn selected_id(app: &App) -> Option<i64> {
    app.selected_lead().map(|lead| lead.id)
}

pub(super) fn tick(app: &mut App, after: Duration) -> Option<Effect> {
    let at = app.now + after;
    app.update(Msg::Tick(at))
}

pub(super) fn new_leads(ids: &[i64]) -> Msg {
    let leads: Vec<Lead> = ids
        .iter()
        .map(|&id| lead(id, &format!("New {id}"), 0))
        .collect();
    polled(&leads, false)
}

#[test]
fn navigation_keys_move_and_clamp() {
    let mut app = loaded(30);
    assert_eq!(selected_id(&app), Some(1));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Down);
    assert_eq!(selected_id(&app), Some(3));
    press(&mut app, KeyCode::Up);
    assert_eq!(selected_id(&app), Some(2));
    press(&mut app, KeyCode::Char('G'));
    assert_eq!(selected_id(&app), Some(30));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_id(&app), Some(30));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(selected_id(&app), Some(1));

    app.viewport.set(Viewport {
        offset: 0,
        height: 10,
    });
    press(&mut app, KeyCode::PageDown);
    assert_eq!(selected_id(&app), Some(11));
    press(&mut app, KeyCode::PageUp);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(selected_id(&app), Some(1));
}

#[test]
fn only_key_presses_count() {
    let mut app = loaded(3);
    let mut release = KeyEvent::from(KeyCode::Char('j'));
    release.kind = KeyEventKind::Release;
    app.update(Msg::Key(release));
    assert_eq!(selected_id(&app), Some(1));
    let repeat = KeyEvent {
        code: KeyCode::Char('j'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Repeat,
        state: KeyEventState::NONE,
    };
    app.update(Msg::Key(repeat));
    assert_eq!(selected_id(&app), Some(1));
}

#[test]
fn ctrl_c_quits_from_every_mode_and_q_from_the_list() {
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for mode in [
        Mode::START,
        Mode::Browse(Pane::Detail { scroll: 3 }),
        Mode::Search,
        Mode::Help { under: Pane::List },
        Mode::NewLead(LeadForm::default()),
        Mode::Notes {
            id: 1,
            input: TextInput::default(),
            under: Pane::List,
        },
    ] {
        let mut app = loaded(1);
        app.mode = mode;
        assert_eq!(app.update(Msg::Key(ctrl_c)), Some(Effect::Quit));
    }
    let mut app = loaded(1);
    assert_eq!(press(&mut app, KeyCode::Char('q')), Some(Effect::Quit));
    // In the search box, q is a letter.
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(press(&mut app, KeyCode::Char('q')), None);
}

#[test]
fn esc_closes_details_then_clears_search_then_quits() {
    let mut app = loaded(3);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "lead 2");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 0 }));
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START);
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.leads.visible().len(), 3);
    assert_eq!(press(&mut app, KeyCode::Esc), Some(Effect::Quit));
}

#[test]
fn live_search_filters_as_you_type_and_esc_clears_it() {
    let mut app = loaded(12);
    press(&mut app, KeyCode::Char('/'));
    assert_eq!(app.mode, Mode::Search);
    type_text(&mut app, "lead 1");
    // "Lead 1", "Lead 10", "Lead 11", "Lead 12"
    assert_eq!(app.leads.visible().len(), 4);
    type_text(&mut app, "1");
    assert_eq!(app.leads.visible().len(), 1);
    assert_eq!(selected_id(&app), Some(11));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::START);
    assert_eq!(app.leads.visible().len(), 12);
    // The selection stays on the lead it was on.
    assert_eq!(selected_id(&app), Some(11));
}

#[test]
fn f_cycles_the_status_filter_through_every_status_and_back() {
    let mut app = loaded(2);
    let mut seen = Vec::new();
    for _ in 0..=LeadStatus::ALL.len() {
        press(&mut app, KeyCode::Char('f'));
        seen.push(app.leads.filter().status);
    }
    let mut expected: Vec<_> = LeadStatus::ALL.into_iter().map(Some).collect();
    expected.push(None);
    assert_eq!(seen, expected);
}

#[test]
fn digit_sets_status_at_once_and_saves_through_patch() {
    let mut app = loaded(3);
    let effect = press(&mut app, KeyCode::Char('2'));
    assert_eq!(
        effect,
        Some(Effect::Save {
            id: 1,
            patch: LeadPatch {
                status: Some(LeadStatus::Contacted),
                ..LeadPatch::default()
            }
        })
    );
    assert_eq!(app.selected_lead().unwrap().status, LeadStatus::Contacted);
    assert_eq!(app.leads.count_with_status(LeadStatus::Contacted), 1);

    // Same status again: nothing to save.
    assert_eq!(press(&mut app, KeyCode::Char('2')), None);

    let mut saved = lead(1, "Lead 1", 10);
    saved.status = LeadStatus::Contacted;
    app.update(Msg::Saved {
        id: 1,
        result: Ok(saved),
    });
    assert_eq!(app.leads.get(1).unwrap().status, LeadStatus::Contacted);
}

#[test]
fn a_failed_save_is_undone_and_explained() {
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('5'));
    assert_eq!(app.leads.get(1).unwrap().status, LeadStatus::Won);
    app.update(Msg::Saved {
        id: 1,
        result: Err(ClientError::Rejected {
            code: "invalid_status".into(),
            message: "status must be one of ...".into(),
        }),
    });
    assert_eq!(app.leads.get(1).unwrap().status, LeadStatus::NewLead);
    assert!(app.toasts[0].text.starts_with("Could not save Lead 1:"));
    assert_eq!(app.toasts[0].level, Level::Error);
}

#[test]
fn notes_are_edited_in_place_and_saved() {
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('N'));
    type_text(&mut app, "call back friday");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(Effect::Save {
            id: 1,
            patch: LeadPatch {
                notes: Some("call back friday".into()),
                ..LeadPatch::default()
            }
        })
    );
    assert_eq!(app.mode, Mode::START);
    assert_eq!(
        app.leads.get(1).unwrap().notes.as_deref(),
        Some("call back friday")
    );
}

#[test]
fn new_lead_form_validates_then_creates_and_selects() {
    let mut app = loaded(2);
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "Walk In");
    assert_eq!(press(&mut app, KeyCode::Enter), None);
    let Mode::NewLead(form) = &app.mode else {
        panic!("form closed");
    };
    assert_eq!(
        form.error.as_deref(),
        Some("Enter a phone number or an email address.")
    );
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "walk@in.test");
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(Effect::Create(NewManualLead {
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            name: "Walk In".into(),
            email: Some("walk@in.test".into()),
            ..NewManualLead::default()
        }))
    );

    let mut created = lead(99, "Walk In", 0);
    created.is_manual = true;
    app.update(Msg::Created(Ok(created)));
    assert_eq!(app.mode, Mode::START);
    assert_eq!(selected_id(&app), Some(99));
    // A lead the user typed in is not announced as new.
    assert_eq!(tick(&mut app, Duration::seconds(1)), None);
}

#[test]
fn poll_results_drive_the_connection_state() {
    let mut app = app();
    assert_eq!(app.connection, Connection::Connecting);
    let retry_at = now() + Duration::seconds(8);
    app.update(Msg::Poll(PollEvent::Failed {
        error: ClientError::Unauthorized,
        retry_at,
    }));
    assert_eq!(
        app.connection,
        Connection::Down {
            error: ClientError::Unauthorized,
            retry_at
        }
    );
    assert!(!app.loaded);
    app.update(Msg::Poll(PollEvent::Synced {
        at: now(),
        push: true,
    }));
    assert_eq!(app.connection, Connection::Online { push: true });
    assert_eq!(app.last_ok, Some(now()));
    assert!(app.loaded);
}

#[test]
fn sync_shows_progress_then_the_result_and_refreshes() {
    let mut app = loaded(1);
    assert_eq!(press(&mut app, KeyCode::Char('s')), Some(Effect::Sync));
    assert_eq!(app.sync_started, Some(now()));
    assert_eq!(press(&mut app, KeyCode::Char('s')), None);
    let report = SyncReport {
        forms: 2,
        fetched: 9,
        inserted: 2,
        duration_ms: 1200,
        errors: vec![],
    };
    assert_eq!(app.update(Msg::Synced(Ok(report))), Some(Effect::Refresh));
    assert_eq!(app.sync_started, None);
    assert_eq!(app.toasts.last().unwrap().text, "Sync: 2 new leads");

    press(&mut app, KeyCode::Char('s'));
    app.update(Msg::Synced(Err(ClientError::NotFound(
        "no such endpoint".into(),
    ))));
    assert!(
        app.toasts
            .last()
            .unwrap()
            .text
            .starts_with("Sync not supported by this server")
    );
}

#[test]
fn export_takes_exactly_the_visible_leads() {
    let mut app = loaded(5);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "lead 3");
    press(&mut app, KeyCode::Enter);
    let Some(Effect::Export(ids)) = press(&mut app, KeyCode::Char('x')) else {
        panic!("expected an export");
    };
    assert_eq!(ids, [3]);
    app.update(Msg::Exported(Ok(("/tmp/x.csv".into(), 1))));
    assert_eq!(
        app.toasts.last().unwrap().text,
        "Exported 1 lead to /tmp/x.csv"
    );
}

#[test]
fn toasts_expire_with_the_clock() {
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('x'));
    assert_eq!(
        app.toasts.len(),
        0,
        "export of a non-empty list is silent until done"
    );
    app.update(Msg::Exported(Err("disk full".into())));
    assert_eq!(app.toasts.len(), 1);
    tick(&mut app, Duration::seconds(60));
    assert!(app.toasts.is_empty());
}

#[test]
fn help_opens_and_closes() {
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('?'));
    assert_eq!(app.mode, Mode::Help { under: Pane::List });
    // Keys of the list do nothing under the help.
    assert_eq!(press(&mut app, KeyCode::Char('s')), None);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::START);
}

/// Every key the help table names for closing closes the help, and nothing else does.
#[test]
fn help_closes_on_exactly_the_keys_of_its_table() {
    let closing = keys::HELP
        .bindings
        .iter()
        .filter(|binding| binding.action == keys::HelpAction::Close);
    for binding in closing {
        for code in binding.keys {
            let mut app = loaded(1);
            press(&mut app, KeyCode::Enter);
            press(&mut app, KeyCode::Char('?'));
            assert_eq!(press(&mut app, *code), None, "{code:?}");
            assert_eq!(
                app.mode,
                Mode::Browse(Pane::Detail { scroll: 0 }),
                "{code:?}"
            );
        }
    }
    let mut app = loaded(1);
    press(&mut app, KeyCode::Char('?'));
    press(&mut app, KeyCode::Char('j'));
    assert!(matches!(app.mode, Mode::Help { .. }));
}

#[test]
fn notes_opened_from_the_details_go_back_to_them() {
    let mut app = loaded(2);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('J'));
    press(&mut app, KeyCode::Char('N'));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 1 }));
    press(&mut app, KeyCode::Char('N'));
    type_text(&mut app, "x");
    assert!(matches!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::Save { .. })
    ));
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 1 }));
}

#[test]
fn details_scroll_and_start_at_the_top_for_each_lead() {
    let mut app = loaded(3);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('J'));
    press(&mut app, KeyCode::Char('J'));
    press(&mut app, KeyCode::Char('K'));
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 1 }));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 0 }));
    press(&mut app, KeyCode::Char('K'));
    assert_eq!(app.mode, Mode::Browse(Pane::Detail { scroll: 0 }));
}
