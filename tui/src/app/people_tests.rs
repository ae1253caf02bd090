//! People on the dashboard: a person's submissions as one row, junk hidden and cleared, merges
//! and undone links sent to the server, and who hears of a repeat or of junk.

use crossterm::event::KeyCode;
use leadhook_shared::{Lead, Role};

use super::tests::{press, selected_id, tick};
use super::*;
use crate::fixtures::{lead, me, now, polled};

/// Jane (#12, 60 min ago) who submitted again as #19 (5 min ago), Bob (#13, 30 min ago), and
/// a Meta test lead (#14, 20 min ago) flagged junk.
fn people() -> Vec<Lead> {
    let jane = lead(12, "Jane Doe", 60);
    let mut again = lead(19, "Jane Doe", 5);
    again.repeat_of = Some(12);
    again.meta.form_name = Some("Summer Promo".into());
    let bob = lead(13, "Bob Stone", 30);
    let mut test = lead(14, "<test lead: dummy data for full_name>", 20);
    test.meta.junk_reason = Some("Meta test lead".into());
    vec![jane, again, bob, test]
}

fn alice(leads: Vec<Lead>) -> App {
    let mut app = crate::fixtures::loaded(leads, now());
    let mut alice = me("alice", true);
    alice.role = Role::Rep;
    app.update(Msg::Me(Ok(alice)));
    while app.update(Msg::Tick(now())).is_some() {}
    app.toasts.clear();
    app
}

fn rows(app: &App) -> Vec<i64> {
    app.leads.visible().iter().map(|key| key.id).collect()
}

fn last_toast(app: &App) -> &str {
    app.toasts.last().map_or("", |toast| toast.text.as_str())
}

#[test]
fn a_person_is_one_row_as_their_newest_submission_and_junk_is_hidden() {
    let app = alice(people());
    assert_eq!(
        rows(&app),
        [19, 13],
        "Jane once, as #19; the test lead hidden"
    );
    let ids = |id| -> Vec<i64> { app.leads.submissions(id).iter().map(|l| l.id).collect() };
    assert_eq!(ids(19), [19, 12]);
    assert_eq!(ids(12), [19, 12], "from either submission");
    assert_eq!(ids(13), [13]);
    assert_eq!(app.leads.people(), 2);
    assert_eq!(app.leads.junk(), 1);
    assert_eq!(
        app.leads.len(),
        4,
        "every submission still counts as a lead"
    );
    // Junk waits for nobody.
    assert_eq!(app.leads.team().waiting().0, 3);
}

#[test]
fn a_person_matches_when_any_submission_does() {
    let mut app = alice(people());
    let mut jane = lead(12, "Jane Doe", 60);
    jane.meta.phone = Some("+1 555 777 0000".into());
    app.update(polled(&[jane], false));
    press(&mut app, KeyCode::Char('/'));
    for c in "777".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    assert_eq!(
        rows(&app),
        [19],
        "the older submission's phone finds the person's row"
    );
    press(&mut app, KeyCode::Esc);
    // The status filter too: only #12 is Contacted.
    let mut contacted = lead(12, "Jane Doe", 60);
    contacted.status = leadhook_shared::LeadStatus::Contacted;
    app.update(polled(&[contacted], false));
    press(&mut app, KeyCode::Char('f'));
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(
        app.leads.filter().status,
        Some(leadhook_shared::LeadStatus::Contacted)
    );
    assert_eq!(rows(&app), [19]);
}

#[test]
fn a_repeat_arriving_moves_the_persons_row_and_keeps_it_selected() {
    let mut app = alice(people());
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_id(&app), Some(13));
    let mut third = lead(30, "Bob Stone", 1);
    third.repeat_of = Some(13);
    third.owner = Some("alice".into());
    app.update(polled(&[third], false));
    assert_eq!(
        rows(&app),
        [30, 19],
        "Bob's row is now his newest submission"
    );
    assert_eq!(selected_id(&app), Some(30), "the selection stays on Bob");
    // Undone on the server: #30 is its own person again.
    let mut own = lead(30, "Bob Stone", 1);
    own.owner = Some("alice".into());
    app.update(polled(&[own], false));
    assert_eq!(rows(&app), [30, 19, 13]);
}

#[test]
fn h_shows_junk_and_c_clears_its_flag_through_the_server() {
    let mut app = alice(people());
    press(&mut app, KeyCode::Char('H'));
    assert_eq!(rows(&app), [19, 14, 13]);
    assert_eq!(app.leads.people(), 3);
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(selected_id(&app), Some(14));
    let effect = press(&mut app, KeyCode::Char('C'));
    assert_eq!(
        effect,
        Some(Effect::Person {
            id: 14,
            change: PersonChange::ClearJunk
        })
    );
    assert_eq!(app.leads.junk(), 0, "shown cleared at once");
    let mut cleared = people().remove(3);
    cleared.junk_cleared_at = Some(now());
    let change = PersonChange::ClearJunk;
    app.update(Msg::Person {
        id: 14,
        change,
        result: Ok(cleared),
    });
    assert_eq!(
        last_toast(&app),
        "<test lead: dummy data for full_name> is no longer junk"
    );
    press(&mut app, KeyCode::Char('H'));
    assert_eq!(rows(&app), [19, 14, 13], "a real lead now");
    // On a lead that is no junk, C only says so.
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(press(&mut app, KeyCode::Char('C')), None);
    assert_eq!(last_toast(&app), "Jane Doe is not flagged as junk.");
}

#[test]
fn a_refused_change_is_put_back_with_the_servers_reason() {
    let mut app = alice(people());
    press(&mut app, KeyCode::Char('H'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('C'));
    let refused = Err(crate::client_error::ClientError::Rejected {
        code: "forbidden".into(),
        message: "bob owns this lead".into(),
    });
    let change = PersonChange::ClearJunk;
    app.update(Msg::Person {
        id: 14,
        change,
        result: refused,
    });
    assert_eq!(app.leads.junk(), 1, "junk again");
    assert!(
        last_toast(&app).starts_with("Could not clear the junk flag of <test lead"),
        "{}",
        last_toast(&app)
    );
    assert!(last_toast(&app).contains("bob owns this lead"));
}

#[test]
fn m_marks_then_merges_the_later_person_into_the_earlier_after_a_yes() {
    let mut app = alice(people());
    // Bob (#13, 30 min ago) marked, then Jane's row: Jane came first (#12, 60 min ago).
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(press(&mut app, KeyCode::Char('M')), None);
    assert!(app.is_marked(app.leads.get(13).unwrap()));
    press(&mut app, KeyCode::Char('k'));
    assert_eq!(press(&mut app, KeyCode::Char('M')), None);
    assert_eq!(
        app.mode,
        Mode::ConfirmMerge {
            id: 13,
            into: 12,
            under: Pane::List
        }
    );
    // No: nothing sent, the mark kept.
    assert_eq!(press(&mut app, KeyCode::Char('n')), None);
    assert_eq!(app.mode, Mode::START);
    press(&mut app, KeyCode::Char('M'));
    let effect = press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        effect,
        Some(Effect::Person {
            id: 13,
            change: PersonChange::Merge { same_as: 12 }
        })
    );
    assert_eq!(rows(&app), [19], "shown as one person at once");
    assert!(!app.is_marked(app.leads.get(13).unwrap()));
    let mut merged = lead(13, "Bob Stone", 30);
    merged.repeat_of = Some(12);
    let change = PersonChange::Merge { same_as: 12 };
    app.update(Msg::Person {
        id: 13,
        change,
        result: Ok(merged),
    });
    assert_eq!(
        last_toast(&app),
        "Merged: Bob Stone is the same person as Jane Doe"
    );
}

#[test]
fn m_twice_on_one_person_unmarks_it() {
    let mut app = alice(people());
    press(&mut app, KeyCode::Char('M'));
    press(&mut app, KeyCode::Char('M'));
    assert_eq!(app.mode, Mode::START);
    assert!(!app.is_marked(app.leads.get(19).unwrap()));
    assert_eq!(last_toast(&app), "Unmarked Jane Doe.");
}

#[test]
fn u_undoes_the_link_of_the_chosen_submission() {
    let mut app = alice(people());
    assert_eq!(press(&mut app, KeyCode::Char('U')), None);
    assert_eq!(
        app.mode,
        Mode::Unlink {
            id: 19,
            at: 0,
            under: Pane::List
        }
    );
    let linked: Vec<i64> = app.linked(19).iter().map(|lead| lead.id).collect();
    assert_eq!(
        linked,
        [19],
        "only #19 is linked: #12 is the person's first lead"
    );
    assert_eq!(press(&mut app, KeyCode::Esc), None);
    assert_eq!(app.mode, Mode::START);
    press(&mut app, KeyCode::Char('U'));
    let effect = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effect,
        Some(Effect::Person {
            id: 19,
            change: PersonChange::Unlink
        })
    );
    assert_eq!(rows(&app), [19, 13, 12], "two people at once");
    let change = PersonChange::Unlink;
    let mut own = lead(19, "Jane Doe", 5);
    own.meta.form_name = Some("Summer Promo".into());
    app.update(Msg::Person {
        id: 19,
        change,
        result: Ok(own),
    });
    assert_eq!(
        last_toast(&app),
        "Undone: Jane Doe is a person of its own again"
    );
    // Bob has nothing linked: U says so.
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(press(&mut app, KeyCode::Char('U')), None);
    assert_eq!(app.mode, Mode::START);
    assert_eq!(
        last_toast(&app),
        "Bob Stone has no other submission linked to it."
    );
}

#[test]
fn the_details_of_a_person_fetch_each_submission_whole() {
    let mut app = alice(people());
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        Some(Effect::LoadDetail(19))
    );
    let leads = people();
    let next = app.update(Msg::Tick(now()));
    assert_eq!(next, Some(Effect::LoadActivity(19)), "one lead at a time");
    let next = app.update(crate::fixtures::fetched(&leads[1]));
    assert_eq!(next, Some(Effect::LoadDetail(12)), "then the earlier one");
    let next = app.update(crate::fixtures::fetched(&leads[0]));
    assert_eq!(next, None);
    assert_eq!(app.update(Msg::Tick(now())), None, "both kept");
    let version = leads[0].updated_at;
    assert!(matches!(app.details.of(12, version), Detail::Loaded(_)));
}

#[test]
fn a_repeat_for_this_rep_says_the_person_submitted_again() {
    let mut app = alice(people());
    let mut again = lead(40, "Bob Stone", 0);
    again.repeat_of = Some(13);
    again.owner = Some("alice".into());
    app.update(polled(&[again], false));
    let effect = tick(&mut app, BATCH_WINDOW);
    let Some(Effect::Notify(notice)) = effect else {
        panic!("expected a notification, got {effect:?}");
    };
    assert_eq!(notice.line(), "Bob Stone submitted again (Spring Promo)");
    assert_eq!(last_toast(&app), "Bob Stone submitted again (Spring Promo)");
    // Another rep's repeat is theirs to hear of.
    let mut bobs = lead(41, "Jane Doe", 0);
    bobs.repeat_of = Some(12);
    bobs.owner = Some("bob".into());
    app.update(polled(&[bobs], false));
    assert_eq!(tick(&mut app, BATCH_WINDOW), None);
}

#[test]
fn junk_notifies_nobody_whoever_it_is_for() {
    let mut app = alice(people());
    let mut test = lead(50, "<test lead: dummy data for full_name>", 0);
    test.meta.junk_reason = Some("Meta test lead".into());
    let mut owned = lead(51, "Nobody", 0);
    owned.meta.junk_reason = Some("no way to reach the person".into());
    owned.owner = Some("alice".into());
    app.update(polled(&[test, owned], false));
    assert_eq!(tick(&mut app, BATCH_WINDOW), None);
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
    assert!(!app.is_unseen(50) && !app.is_unseen(51));
    // A real lead in the same burst is still news, told alone.
    let mut more = lead(52, "<test lead>", 0);
    more.meta.junk_reason = Some("Meta test lead".into());
    app.update(polled(&[more, lead(53, "Ann Real", 0)], false));
    let Some(Effect::Notify(notice)) = tick(&mut app, BATCH_WINDOW) else {
        panic!("the real lead is news");
    };
    assert_eq!(notice.line(), "New lead: Ann Real — Spring Promo form");
}

#[test]
fn an_export_takes_every_submission_of_the_people_shown() {
    let mut app = alice(people());
    app.update(Msg::Me(Ok(me("alice", true))));
    let Some(Effect::Export(ids)) = press(&mut app, KeyCode::Char('x')) else {
        panic!("expected an export");
    };
    assert_eq!(ids, [19, 12, 13], "Jane's two submissions, Bob; no junk");
}

#[test]
fn junk_given_to_this_rep_is_no_news_either() {
    let mut app = alice(people());
    let mut test = people().remove(3);
    test.owner = Some("alice".into());
    app.update(polled(&[test], false));
    assert!(app.toasts.is_empty(), "{:?}", app.toasts);
    assert_eq!(tick(&mut app, BATCH_WINDOW), None);
}
