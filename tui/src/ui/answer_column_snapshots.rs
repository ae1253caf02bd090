//! The server's answer columns on screen (`LEADHOOK_ANSWER_COLUMNS`): one table column each
//! after Form (the first to go when the table is narrow), a Columns section in the details, and
//! a `budget:5000` search in the table's title.

use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::answer_columns::AnswerColumns;
use leadhook_shared::{Answer, Lead};

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, me, now};

/// Four leads, three with answers to the columns' questions: one with several values, one with
/// control characters and a bidirectional override in its answer.
fn leads_with_answers() -> Vec<Lead> {
    let answer = |text: &str| Answer::One(text.into());
    let mut carlos = lead(2, "Carlos Mendes", 47);
    carlos.meta.fields.extend([
        ("what_is_your_budget?".into(), answer("5000")),
        (
            "when_to_start?".into(),
            Answer::Many(vec!["This month".into(), "Spring".into()]),
        ),
    ]);
    let mut priya = lead(3, "Priya Natarajan", 180);
    priya.meta.fields.extend([
        ("what_is_your_budget?".into(), answer("\u{202e}0051\x1b[2J")),
        ("when_to_start?".into(), answer("ASAP\nplease")),
    ]);
    let mut tom = lead(4, "Tom O'Brien", 60 * 26);
    tom.meta
        .fields
        .insert("what_is_your_budget?".into(), answer("15000+"));
    vec![carlos, priya, tom, lead(5, "Mei Chen", 60 * 30)]
}

/// The leads loaded, then the server naming its columns.
fn app_with_columns() -> App {
    let mut app = loaded(leads_with_answers(), now() - chrono::Duration::seconds(2));
    let mut manager = me("alice", true);
    manager.answer_columns =
        AnswerColumns::parse("budget=what_is_your_budget?,timeline=when_to_start?").expect("valid");
    app.update(Msg::Me(Ok(manager)));
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

#[test]
fn answer_columns_at_120x30() {
    assert_snapshot!(draw(&app_with_columns(), 120, 30));
}

/// At 80 columns the answer columns are the first to give way.
#[test]
fn answer_columns_at_80x24() {
    assert_snapshot!(draw(&app_with_columns(), 80, 24));
}

#[test]
fn details_show_the_answer_columns_before_the_answers() {
    let mut app = app_with_columns();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &leads_with_answers());
    assert_snapshot!(draw(&app, 100, 40));
}

#[test]
fn a_budget_search_shows_in_the_title() {
    let mut app = app_with_columns();
    press(&mut app, KeyCode::Char('/'));
    for c in "budget:500".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    assert_snapshot!(draw(&app, 120, 12));
}
