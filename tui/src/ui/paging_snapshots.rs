//! `P`: the rep's own phone settings, as set, as refused before sending, and as the server
//! answered them.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::Me;

use crate::app::{App, Effect, Mode, Msg};
use crate::fixtures::{draw, lead, loaded, me, now};

/// Alice, in Berlin, with a topic and quiet hours already set.
fn alices() -> Me {
    Me {
        time_zone: Some("Europe/Berlin".into()),
        ntfy_topic: Some("alice-phone-7f3a9c2e41".into()),
        quiet_hours: Some("22:00-07:00".parse().expect("quiet hours")),
        ..me("alice", true)
    }
}

fn app() -> App {
    let mut app = loaded(vec![lead(1, "Jane Doe", 2)], now());
    app.update(Msg::Me(Ok(alices())));
    app
}

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

#[test]
fn the_phone_settings_open_with_the_reps_own_80x24() {
    let mut app = app();
    press(&mut app, KeyCode::Char('P'));
    assert!(matches!(app.mode, Mode::Paging(_)));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn a_short_topic_is_refused_before_sending_and_a_good_one_is_sent() {
    let mut app = app();
    press(&mut app, KeyCode::Char('P'));
    // Ctrl-U clears the field.
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    )));
    type_text(&mut app, "alice");
    assert_eq!(press(&mut app, KeyCode::Enter), None, "not sent");
    assert_snapshot!(draw(&app, 80, 24));

    type_text(&mut app, "-phone-0123456789");
    press(&mut app, KeyCode::Tab);
    app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('u'),
        crossterm::event::KeyModifiers::CONTROL,
    )));
    let Some(Effect::SetPaging(update)) = press(&mut app, KeyCode::Enter) else {
        panic!("sent: {:?}", app.mode)
    };
    assert_eq!(update.ntfy_topic.as_deref(), Some("alice-phone-0123456789"));
    assert_eq!(update.quiet_hours.as_deref(), Some(""), "emptied: cleared");
    assert_eq!(update.available, None, "availability is `A`'s");

    let answered = Me {
        ntfy_topic: Some("alice-phone-0123456789".into()),
        quiet_hours: None,
        ..alices()
    };
    app.update(Msg::PagingSaved(Ok(answered)));
    assert_eq!(app.mode, Mode::START);
    let me = app.team.me.as_ref().expect("me");
    assert_eq!(me.ntfy_topic.as_deref(), Some("alice-phone-0123456789"));
    assert_eq!(me.quiet_hours, None);
}

#[test]
fn the_servers_refusal_stays_in_the_popup() {
    let mut app = app();
    press(&mut app, KeyCode::Char('P'));
    assert!(matches!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::SetPaging(_))
    ));
    app.update(Msg::PagingSaved(Err(
        crate::client_error::ClientError::Unexpected("the server is restarting".into()),
    )));
    let Mode::Paging(form) = &app.mode else {
        panic!("still open: {:?}", app.mode)
    };
    assert!(!form.saving);
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("the server is restarting")),
        "{form:?}"
    );
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START);
}
