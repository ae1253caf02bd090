//! The detail pane while the whole lead is on its way, once it is here, and when it could not be
//! fetched: the row's contact, owner and notes show at once, the answers and the ad follow.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;

use crate::app::{App, Effect, Msg};
use crate::client_error::ClientError;
use crate::fixtures::{draw, fetched, lead, loaded, now};

/// Two leads, the details just opened on the newest.
fn opened() -> App {
    let mut priya = lead(3, "Priya Natarajan", 180);
    priya.notes = Some("Wants a quote for 6 kW; call after 5pm".into());
    let mut app = loaded(vec![priya, lead(4, "Tom O'Brien", 240)], now());
    let effect = app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    assert_eq!(effect, Some(Effect::LoadDetail(3)));
    app
}

#[test]
fn details_loading() {
    assert_snapshot!(draw(&opened(), 80, 24));
}

#[test]
fn details_loaded() {
    let mut app = opened();
    let mut priya = lead(3, "Priya Natarajan", 180);
    priya.notes = Some("Wants a quote for 6 kW; call after 5pm".into());
    app.update(fetched(&priya));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn details_not_loaded() {
    let mut app = opened();
    app.update(Msg::Detail {
        id: 3,
        result: Err(ClientError::Unreachable {
            server: "http://127.0.0.1:8080".into(),
            reason: "Connection refused (os error 111)".into(),
        }),
    });
    assert_snapshot!(draw(&app, 80, 24));
}
