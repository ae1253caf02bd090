//! Snapshots of whole screens on a `TestBackend`, with the clock fixed by the fixtures.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{Lead, LeadStatus};
use ratatui::backend::TestBackend;

use crate::app::{App, Msg};
use crate::client::{ChannelTrouble, MetaFeedback, OutboundFeedback};
use crate::client_error::ClientError;
use crate::fixtures::{answer_selected, app, draw, fetched, lead, loaded, now, polled};
use crate::poller::PollEvent;

/// `app` after the user pressed `keys`, drawn at `width` × `height`.
fn after(mut app: App, keys: &[KeyCode], width: u16, height: u16) -> TestBackend {
    for code in keys {
        press(&mut app, *code);
    }
    draw(&app, width, height)
}

fn press(app: &mut App, code: KeyCode) {
    app.update(Msg::Key(KeyEvent::from(code)));
}

/// The keys that type `text`.
fn typing(text: &str) -> Vec<KeyCode> {
    text.chars().map(KeyCode::Char).collect()
}

/// The poller failing to connect; the next try in `seconds`.
fn unreachable(seconds: i64) -> Msg {
    Msg::Poll(PollEvent::Failed {
        error: ClientError::Unreachable {
            server: "http://127.0.0.1:8080".into(),
            reason: "Connection refused (os error 111)".into(),
        },
        retry_at: now() + Duration::seconds(seconds),
    })
}

/// A team's morning: a few leads in different states.
fn working_leads() -> Vec<Lead> {
    let people = [
        (2, "Carlos Mendes", 47, LeadStatus::Contacted),
        (3, "Priya Natarajan", 180, LeadStatus::Qualified),
        (4, "Tom O'Brien", 60 * 26, LeadStatus::NewLead),
        (5, "Mei Chen", 60 * 24 * 4, LeadStatus::Won),
        (6, "Ahmed Yusuf", 60 * 24 * 9, LeadStatus::Lost),
        (7, "Olga Petrova", 60 * 24 * 12, LeadStatus::Unqualified),
    ];
    let mut leads: Vec<_> = people
        .iter()
        .map(|&(id, name, minutes, status)| {
            let mut lead = lead(id, name, minutes);
            lead.status = status;
            lead
        })
        .collect();
    leads[1].notes = Some("Wants a quote for 6 kW; call after 5pm".into());
    leads[3].is_manual = true;
    leads[3].meta.form_name = None;
    leads[3].meta.fields.clear();
    leads
}

/// [`working_leads`] synced 2 s ago, one more just arrived.
fn working_app() -> App {
    let mut app = loaded(working_leads(), now() - Duration::seconds(2));
    app.update(polled(&[lead(8, "Jane Doe", 2)], false));
    app
}

#[test]
fn main_view_with_leads() {
    assert_snapshot!(draw(&working_app(), 120, 30));
}

#[test]
fn main_view_80x24() {
    assert_snapshot!(draw(&working_app(), 80, 24));
}

#[test]
fn new_lead_toast() {
    let mut app = working_app();
    app.update(Msg::Tick(now() + crate::app::BATCH_WINDOW));
    assert_snapshot!(draw(&app, 100, 24));
}

/// The working app with the third lead's details open and fetched.
fn third_lead_details() -> App {
    let mut app = working_app();
    for code in [KeyCode::Char('j'), KeyCode::Char('j'), KeyCode::Enter] {
        press(&mut app, code);
    }
    answer_selected(&mut app, &working_leads());
    app
}

#[test]
fn detail_pane_beside_the_table() {
    assert_snapshot!(draw(&third_lead_details(), 130, 30));
}

#[test]
fn detail_pane_80x24() {
    assert_snapshot!(draw(&third_lead_details(), 80, 24));
}

#[test]
fn search() {
    let keys = [vec![KeyCode::Char('/')], typing("an")].concat();
    assert_snapshot!(after(working_app(), &keys, 100, 20));
}

#[test]
fn help_overlay() {
    assert_snapshot!(after(working_app(), &[KeyCode::Char('?')], 80, 24));
}

/// At 80×24 the help is taller than the screen: it scrolls to its last table, and no further.
#[test]
fn help_scrolls_to_its_end_on_a_short_terminal() {
    let mut app = working_app();
    press(&mut app, KeyCode::Char('?'));
    let top = format!("{:?}", draw(&app, 80, 24));
    assert!(top.contains("Keys (j/k scroll)"), "{top}");
    assert!(
        !top.contains("? q close"),
        "the help's own line is below: {top}"
    );
    for _ in 0..40 {
        press(&mut app, KeyCode::Char('j'));
        draw(&app, 80, 24);
    }
    assert_snapshot!(draw(&app, 80, 24));
    let bottom = format!("{:?}", draw(&app, 80, 24));
    assert!(bottom.contains("? q close"), "{bottom}");
    press(&mut app, KeyCode::Char('k'));
    let one_up = format!("{:?}", draw(&app, 80, 24));
    assert_ne!(one_up, bottom, "one k moves back at once");
}

#[test]
fn new_lead_form() {
    let keys = [
        vec![KeyCode::Char('n')],
        typing("Walk In"),
        vec![KeyCode::Enter],
    ]
    .concat();
    assert_snapshot!(after(working_app(), &keys, 80, 24));
}

#[test]
fn notes_editor_over_the_details() {
    assert_snapshot!(after(third_lead_details(), &[KeyCode::Char('N')], 130, 30));
}

#[test]
fn empty_state() {
    let mut app = app();
    app.update(Msg::Poll(PollEvent::Synced {
        at: now(),
        push: true,
    }));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn disconnected_state() {
    let mut app = app();
    app.update(unreachable(8));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn disconnected_after_syncing() {
    let mut app = working_app();
    app.update(unreachable(8));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn token_rejected() {
    let mut app = app();
    app.update(Msg::Poll(PollEvent::Failed {
        error: ClientError::Unauthorized,
        retry_at: now() + Duration::seconds(30),
    }));
    assert_snapshot!(draw(&app, 80, 24));
}

#[test]
fn scrolled_list_keeps_the_selection_on_screen() {
    let leads = (1..=200)
        .map(|id| lead(id, &format!("Person {id}"), id * 7))
        .collect();
    let app = loaded(leads, now());
    draw(&app, 80, 24);
    assert_snapshot!(after(app, &[KeyCode::Char('j'); 30], 80, 24));
}

#[test]
fn long_error_toast_wraps_80x24() {
    let mut app = working_app();
    press(&mut app, KeyCode::Char('s'));
    app.update(Msg::Synced(Err(ClientError::Rejected {
        code: "bad_request".into(),
        message: "no pages to sweep: set FB_PAGE_ID (and optionally FB_FORM_IDS)".into(),
    })));
    assert_snapshot!(draw(&app, 80, 24));
}

/// Lead text with bidirectional overrides and escape sequences, on every screen that shows it.
#[test]
fn hostile_lead_text_is_neutralised_everywhere_on_screen() {
    let mut app = working_app();
    let mut eve = lead(9, "Eve \u{202e}nimda\u{202c} Doe\x1b]0;pwned\x07", 0);
    eve.meta.phone = Some("+1555\u{2066}0100\u{2069}".into());
    eve.meta.email = Some("\u{9b}2Jeve@example.com".into());
    eve.meta.form_name = Some("Promo\u{200f}\u{061c}".into());
    eve.notes = Some("call\u{202d} back\tFriday\u{2028}".into());
    eve.meta.fields.insert(
        "\u{202e}question".into(),
        leadhook_shared::Answer::One("answer\u{202b}\x1b[2J".into()),
    );
    app.update(polled(&[eve.clone()], false));
    app.update(Msg::Tick(now() + crate::app::BATCH_WINDOW));
    press(&mut app, KeyCode::Char('g'));
    let hazards = |screen: &TestBackend| -> Vec<String> {
        screen
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol().to_string())
            .filter(|symbol| symbol.chars().any(crate::sanitize::is_hazard))
            .collect()
    };
    let list = draw(&app, 130, 30);
    assert_eq!(hazards(&list), Vec::<String>::new(), "{list}");
    press(&mut app, KeyCode::Enter);
    app.update(fetched(&eve));
    let details = draw(&app, 130, 30);
    assert_eq!(hazards(&details), Vec::<String>::new(), "{details}");
    press(&mut app, KeyCode::Char('N'));
    let notes = draw(&app, 130, 30);
    assert_eq!(hazards(&notes), Vec::<String>::new(), "{notes}");
}

/// What the server said of Meta alone, as the dashboard gets it.
fn meta_only(meta: MetaFeedback) -> Msg {
    Msg::OutboundFeedback(Ok(OutboundFeedback {
        meta: Some(meta),
        troubled: Vec::new(),
    }))
}

#[test]
fn meta_feedback_in_the_status_bar() {
    let mut app = working_app();
    app.update(meta_only(MetaFeedback {
        enabled: true,
        sent_today: 12,
        ..MetaFeedback::default()
    }));
    assert_snapshot!("meta_sent", draw(&app, 80, 24));
    app.update(meta_only(MetaFeedback {
        enabled: true,
        sent_today: 12,
        retrying: 3,
        retry_reason: Some(
            "token lacks permission (code 200): (#200) Permissions error; give FB_CAPI_TOKEN access".into(),
        ),
        failed: 0,
    }));
    assert_snapshot!("meta_failing", draw(&app, 120, 30));
    app.update(meta_only(MetaFeedback::default()));
    assert_eq!(
        app.meta_feedback, None,
        "a server with CAPI off shows nothing"
    );
}

#[test]
fn channels_not_delivering_in_the_status_bar() {
    let mut app = working_app();
    let troubled = |troubled| {
        Msg::OutboundFeedback(Ok(OutboundFeedback {
            meta: None,
            troubled,
        }))
    };
    app.update(troubled(vec![
        ChannelTrouble {
            destination: "crm".into(),
            failed: 3,
            ..ChannelTrouble::default()
        },
        ChannelTrouble {
            destination: "sales-slack".into(),
            retrying: 2,
            retry_reason: Some("the receiver answered 500 Internal Server Error: oops".into()),
            failed: 0,
        },
    ]));
    assert_snapshot!("channel_retrying", draw(&app, 120, 30));
    app.update(troubled(vec![ChannelTrouble {
        destination: "crm".into(),
        failed: 3,
        ..ChannelTrouble::default()
    }]));
    assert_snapshot!("channel_dead_letters", draw(&app, 120, 30));
    app.update(troubled(Vec::new()));
    assert!(
        app.troubled_channels.is_empty(),
        "all delivering shows nothing"
    );
}
