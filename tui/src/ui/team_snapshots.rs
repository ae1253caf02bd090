//! Snapshots of the work queue on screen: owners, waiting ages, the history, the reps.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Activity, ActivityKind, DeliveryState, Lead, LeadDelivery, LeadStatus};

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, me, now, rep};

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

/// New leads waiting 2, 7 and 45 minutes, some owned, one contacted after 3 min.
fn team_leads() -> Vec<Lead> {
    let people = [
        (1, "Jane Doe", 2, LeadStatus::NewLead, None),
        (2, "Carlos Mendes", 7, LeadStatus::NewLead, Some("bob")),
        (3, "Priya Natarajan", 45, LeadStatus::NewLead, None),
        (4, "Tom O'Brien", 50, LeadStatus::Contacted, Some("alice")),
        (5, "Mei Chen", 90, LeadStatus::Qualified, Some("alice")),
    ];
    people
        .iter()
        .map(|&(id, name, minutes, status, owner)| {
            let mut lead = lead(id, name, minutes);
            lead.status = status;
            lead.owner = owner.map(str::to_string);
            if status != LeadStatus::NewLead {
                lead.first_contact_at = Some(lead.meta.created_at + Duration::minutes(3));
            }
            lead
        })
        .collect()
}

/// Alice's team at work on [`team_leads`].
fn team_app() -> App {
    let mut app = loaded(team_leads(), now() - Duration::seconds(1));
    app.update(Msg::Me(Ok(me("alice", true))));
    app.update(Msg::Reps(Ok(vec![
        rep("alice", true, 2),
        rep("bob", true, 1),
        rep("carol", false, 0),
    ])));
    app
}

#[test]
fn owner_column_and_status_bar_with_the_reps() {
    assert_snapshot!(draw(&team_app(), 120, 14));
}

/// Colours included: the ages of leads still `New Lead` turn amber at 5 min and red at 30, an
/// unowned lead's owner cell stands out, the user's own leads are green.
#[test]
fn waiting_ages_and_owners_in_colour() {
    let screen = draw(&team_app(), 80, 14);
    let buffer = screen.buffer();
    let header_row = 4;
    let column_of = |title: &str| -> u16 {
        let line: String = (0..80).map(|x| buffer[(x, header_row)].symbol()).collect();
        let at = line.find(title).expect("column title");
        u16::try_from(line[..at].chars().count()).expect("narrow screen")
    };
    let (age, name, owner) = (column_of("Age"), column_of("Name"), column_of("Owner"));
    let rows: Vec<String> = (header_row + 1..header_row + 6)
        .map(|y| {
            let text = |from: u16, to: u16| -> String {
                let text: String = (from..to).map(|x| buffer[(x, y)].symbol()).collect();
                text.trim_end().to_string()
            };
            let (age_style, owner_style) = (buffer[(age, y)].style(), buffer[(owner, y)].style());
            format!(
                "{:<16} age {:<4} {:?} {:?} | owner {:<8} {:?} {:?}",
                text(name, owner - 1),
                text(age, name - 1),
                age_style.fg,
                age_style.add_modifier,
                text(owner, owner + 8),
                owner_style.fg,
                owner_style.add_modifier
            )
        })
        .collect();
    assert_snapshot!(format!("{screen}\n{}", rows.join("\n")));
}

#[test]
fn activity_under_the_answers() {
    let mut app = team_app();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &team_leads());
    let at = |minutes| now() - Duration::minutes(minutes);
    let entry = |id, minutes, actor: &str, kind, old: Option<&str>, new: Option<&str>| Activity {
        id,
        lead_id: 4,
        at: at(minutes),
        actor: actor.into(),
        kind,
        old: old.map(str::to_string),
        new: new.map(str::to_string),
    };
    app.update(Msg::Activity {
        id: 4,
        result: Ok(vec![
            entry(1, 50, "facebook", ActivityKind::Stored, None, None),
            entry(2, 49, "bob", ActivityKind::Claim, None, Some("bob")),
            entry(
                3,
                48,
                "bob",
                ActivityKind::Assign,
                Some("bob"),
                Some("alice"),
            ),
            entry(
                4,
                47,
                "alice",
                ActivityKind::Status,
                Some("New Lead"),
                Some("Contacted"),
            ),
        ]),
    });
    assert_snapshot!(draw(&app, 130, 34));

    // Then where its events went: sent, dead-lettered, retrying with the receiver's words; the
    // Conversions API as Meta.
    let delivery =
        |destination: &str, event: &str, state, attempts, reason: Option<&str>| LeadDelivery {
            destination: destination.into(),
            event_type: event.into(),
            state,
            attempts,
            reason: reason.map(str::to_string),
            queued_at: at(47),
            done_at: (state != DeliveryState::Queued).then(|| at(46)),
        };
    app.update(Msg::Deliveries {
        id: 4,
        result: Ok(vec![
            delivery(
                "sales",
                "lead.status_changed",
                DeliveryState::Queued,
                3,
                Some("the receiver answered 500 Internal Server Error: \u{1b}[2Joops"),
            ),
            delivery(
                "crm",
                "lead.created",
                DeliveryState::Failed,
                9,
                Some("gave up after 9 attempts over 1d: timed out"),
            ),
            delivery("pager", "lead.assigned", DeliveryState::Sent, 1, None),
            delivery("capi", "lead.created", DeliveryState::Sent, 1, None),
        ]),
    });
    assert_snapshot!("activity_and_deliveries", draw(&app, 130, 40));
}

#[test]
fn assign_picker_with_availability() {
    let mut app = team_app();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('a'));
    press(&mut app, KeyCode::Char('j'));
    assert_snapshot!(draw(&app, 80, 24));
}

/// At 120 columns with the details open, the name keeps its width (the form column gives way
/// first) and the toasts stay over the table, off the details' text.
#[test]
fn details_at_120_columns_with_toasts() {
    let mut app = team_app();
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &team_leads());
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('u'));
    press(&mut app, KeyCode::Char('y'));
    assert_snapshot!(draw(&app, 120, 30));
}

/// Too narrow for side by side: the details give up rows to the toasts instead.
#[test]
fn details_80x24_with_toasts_below() {
    let mut app = team_app();
    press(&mut app, KeyCode::Enter);
    answer_selected(&mut app, &team_leads());
    press(&mut app, KeyCode::Char('u'));
    press(&mut app, KeyCode::Char('y'));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn the_status_bar_drops_the_other_reps_before_covering_the_connection() {
    let mut app = team_app();
    app.update(Msg::Poll(crate::poller::PollEvent::Failed {
        error: crate::client_error::ClientError::Unreachable {
            server: "http://127.0.0.1:8080".into(),
            reason: "Connection refused (os error 111)".into(),
        },
        retry_at: now() + Duration::seconds(8),
    }));
    let screen = draw(&app, 80, 24);
    let status: String = (0..80).map(|x| screen.buffer()[(x, 22)].symbol()).collect();
    assert!(
        status.starts_with(" server unreachable, retrying in 8s · last synced 1s ago"),
        "{status}"
    );
    assert!(status.ends_with("alice ● available "), "{status}");
    assert!(!status.contains("bob"), "{status}");
}
