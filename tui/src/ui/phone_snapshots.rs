//! Phones on screen: a valid number in the international format, one that is not a number as
//! typed and marked `?`, and one the server has not read yet (an older server) as typed, unmarked.
//! `y` copies E.164.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::Lead;

use crate::app::{App, Effect, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, now};

fn leads_with_phones() -> Vec<Lead> {
    let mut valid = lead(2, "Carlos Mendes", 47);
    valid.meta.phone = Some("030 1234567".into());
    valid.meta.phone_e164 = Some("+49301234567".into());
    let mut placeholder = lead(3, "Priya Natarajan", 180);
    placeholder.meta.phone = Some("<test lead: dummy data for phone_number>".into());
    placeholder.meta.phone_invalid = true;
    let unread = lead(4, "Tom O'Brien", 60 * 26);
    vec![valid, placeholder, unread]
}

fn app_with_phones() -> App {
    loaded(leads_with_phones(), now() - chrono::Duration::seconds(2))
}

fn press(app: &mut App, code: KeyCode) -> Option<Effect> {
    app.update(Msg::Key(KeyEvent::from(code)))
}

#[test]
fn the_table_shows_the_international_format_and_marks_what_is_not_a_number() {
    assert_snapshot!(draw(&app_with_phones(), 120, 12));
}

#[test]
fn details_say_a_phone_is_not_a_number() {
    let mut app = app_with_phones();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &leads_with_phones());
    assert_snapshot!(draw(&app, 130, 30));
}

#[test]
fn y_copies_e164_when_there_is_one_else_the_phone_as_typed() {
    let mut app = app_with_phones();
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        Some(Effect::Copy("+49301234567".into()))
    );
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        Some(Effect::Copy("+15550000004".into()))
    );
}
