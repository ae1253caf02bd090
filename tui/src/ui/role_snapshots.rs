//! Snapshots of what a rep's role changes on screen: the keys offered, and the refusals.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Lead, LeadStatus, Me, Role};

use crate::app::{App, Msg};
use crate::client_error::ClientError;
use crate::fixtures::{draw, lead, loaded, me, now};

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

fn with_role(name: &str, role: Role) -> Me {
    Me {
        role,
        ..me(name, true)
    }
}

/// Alice, a rep, before two leads: hers and bob's.
fn rep_app() -> App {
    let mut leads: Vec<Lead> = vec![lead(1, "Jane Doe", 2), lead(2, "Carlos Mendes", 7)];
    leads[0].owner = Some("alice".into());
    leads[1].owner = Some("bob".into());
    let mut app = loaded(leads, now());
    app.update(Msg::Me(Ok(with_role("alice", Role::Rep))));
    app
}

#[test]
fn a_reps_help_has_no_manager_or_admin_keys() {
    let mut app = rep_app();
    press(&mut app, KeyCode::Char('?'));
    let screen = draw(&app, 100, 30);
    let text = format!("{screen:?}");
    for missing in [
        "assign to a rep",
        "sync from Facebook",
        "export shown leads",
    ] {
        assert!(!text.contains(missing), "a rep is offered {missing:?}");
    }
    assert!(text.contains("claim: make the lead mine"));
    assert_snapshot!(screen);
}

#[test]
fn a_manager_key_pressed_by_a_rep_says_which_role_it_needs() {
    let mut app = rep_app();
    press(&mut app, KeyCode::Char('a'));
    assert_snapshot!(draw(&app, 100, 12));
}

/// The server refuses a change (403): its message is shown and the lead is put back.
#[test]
fn the_servers_refusal_is_shown() {
    let mut app = rep_app();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('2'));
    app.update(Msg::Saved {
        id: 2,
        result: Err(ClientError::Rejected {
            code: "forbidden".into(),
            message: "your role (rep) may not change a lead another rep owns: that needs the manager role; ask an admin (leadhook-server reps set-role)".into(),
        }),
    });
    let screen = draw(&app, 100, 12);
    assert_eq!(
        app.leads.get(2).map(|lead| lead.status),
        Some(LeadStatus::NewLead),
        "the refused change is undone on screen"
    );
    assert_snapshot!(screen);
}
