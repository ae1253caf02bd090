//! People on screen: a person who submitted twice as one row and in the details, junk hidden
//! (with how many) and shown (dimmed, with its reason), the header's people, and the popups of
//! a merge and an undone link.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Answer, Lead, LeadStatus, NextStep, PeopleStats, Stats};
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use crate::app::{App, Msg};
use crate::fixtures::{draw, fetched, lead, me, now, polled};
use crate::poller::PollEvent;

/// Jane Doe (#12, Spring Promo, yesterday, Contacted by alice, a call planned) who submitted
/// again today (#19,
/// Summer Promo, 5 minutes ago, New Lead, alice's: a repeat keeps its owner); Carlos; and a Meta
/// test lead flagged junk.
fn people() -> Vec<Lead> {
    let mut jane = lead(12, "Jane Doe", 60 * 26);
    jane.owner = Some("alice".into());
    jane.status = LeadStatus::Contacted;
    jane.next_step = Some(NextStep {
        at: now() + Duration::hours(2),
        what: "Call back about the quote".into(),
    });
    let mut again = lead(19, "Jane Doe", 5);
    again.repeat_of = Some(12);
    again.owner = Some("alice".into());
    again.meta.form_name = Some("Summer Promo".into());
    again
        .meta
        .fields
        .insert("best_time_to_call".into(), Answer::One("after 6pm".into()));
    let carlos = lead(13, "Carlos Mendes", 30);
    let mut test = lead(14, "<test lead: dummy data for full_name>", 20);
    test.meta.junk_reason = Some("Meta test lead".into());
    test.meta.phone = Some("<test lead: dummy data for phone_number>".into());
    test.meta.phone_invalid = true;
    vec![jane, again, carlos, test]
}

fn alices() -> App {
    let mut app = crate::fixtures::loaded(people(), now() - Duration::seconds(1));
    app.update(Msg::Me(Ok(me("alice", true))));
    app.update(Msg::Stats(Ok(Stats {
        total: 4,
        today: 3,
        last_7_days: 4,
        people: PeopleStats {
            total: 2,
            today: 2,
            last_7_days: 2,
            junk: 1,
        },
        ..Stats::default()
    })));
    while app.update(Msg::Tick(now())).is_some() {}
    app.toasts.clear();
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

/// Jane's details open, both her submissions fetched.
fn janes_details() -> App {
    let mut app = alices();
    press(&mut app, KeyCode::Enter);
    let leads = people();
    app.update(fetched(&leads[1]));
    app.update(fetched(&leads[0]));
    app.update(Msg::Activity {
        id: 19,
        result: Ok(Vec::new()),
    });
    app
}

#[test]
fn a_person_with_two_submissions_is_one_row_80x24() {
    assert_snapshot!(draw(&alices(), 80, 24));
}

#[test]
fn a_person_with_two_submissions_is_one_row_120x40() {
    assert_snapshot!(draw(&alices(), 120, 40));
}

#[test]
fn a_persons_details_show_every_submission_80x24() {
    let mut app = janes_details();
    // The second submission's answers are below the first screen.
    for _ in 0..12 {
        press(&mut app, KeyCode::Char('J'));
    }
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn a_persons_details_show_every_submission_120x40() {
    assert_snapshot!(draw(&janes_details(), 120, 40));
}

#[test]
fn junk_shown_is_dimmed_with_its_reason_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('H'));
    press(&mut app, KeyCode::Char('j'));
    let screen = draw(&app, 80, 24);
    let row = 6;
    let cell = &screen.buffer()[(10, row)];
    assert_eq!(cell.fg, Color::DarkGray, "the junk row is dimmed: {screen}");
    assert_snapshot!(screen);
}

#[test]
fn junk_shown_with_its_details_120x40() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('H'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    app.update(fetched(&people()[3]));
    assert_snapshot!(draw(&app, 120, 40));
}

/// Junk hidden: the title counts it, and a search that finds only junk says where it is.
#[test]
fn junk_hidden_says_how_many_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('/'));
    for c in "test lead".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let screen = draw(&app, 80, 24);
    assert!(screen.to_string().contains("1 junk hidden (H)"), "{screen}");
    assert_snapshot!(screen);
    press(&mut app, KeyCode::Char('H'));
    let shown = draw(&app, 80, 24).to_string();
    assert!(shown.contains("Meta test lead"), "{shown}");
}

#[test]
fn the_merge_question_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('M'));
    press(&mut app, KeyCode::Char('k'));
    press(&mut app, KeyCode::Char('M'));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn the_submission_whose_link_to_undo_80x24() {
    let mut app = alices();
    press(&mut app, KeyCode::Char('U'));
    assert_snapshot!(draw(&app, 80, 24));
}

/// A stranger's text in a second submission, its form and its answers never reaches the
/// terminal as control characters, in the row or in the details.
#[test]
fn hostile_text_of_a_repeat_is_neutralised() {
    let mut app = alices();
    let mut eve = lead(30, "Eve \u{202e}nimda\u{202c} Doe\x1b]0;pwned\x07", 1);
    eve.repeat_of = Some(13);
    eve.meta.form_name = Some("Promo\u{200f}\u{061c}".into());
    eve.meta.fields.insert(
        "\u{202e}question".into(),
        Answer::One("answer\u{202b}\x1b[2J".into()),
    );
    app.update(Msg::Poll(PollEvent::Leads {
        leads: vec![crate::leads::LeadRow::from(&eve)],
        first_load: false,
    }));
    let hazards = |screen: &TestBackend| -> Vec<String> {
        screen
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol().to_string())
            .filter(|symbol| symbol.chars().any(crate::sanitize::is_hazard))
            .collect()
    };
    let list = draw(&app, 120, 40);
    assert_eq!(hazards(&list), Vec::<String>::new(), "{list}");
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    app.update(fetched(&eve));
    app.update(polled(&[], false));
    let details = draw(&app, 120, 40);
    assert!(details.to_string().contains("Submissions (2)"), "{details}");
    assert_eq!(hazards(&details), Vec::<String>::new(), "{details}");
}
