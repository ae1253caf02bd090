//! The conversation in a lead's details: our first message with its status, the person's
//! replies (a stranger's text, neutralised), a failure with the provider's error, and which kind
//! of answer WhatsApp allows now.

use chrono::Duration;
use crossterm::event::{KeyCode, KeyEvent};
use insta::assert_snapshot;
use leadhook_shared::{AnswerMode, Conversation, ConversationEntry, Lead};

use crate::app::{App, Msg};
use crate::fixtures::{answer_selected, draw, lead, loaded, now};

fn leads() -> Vec<Lead> {
    vec![lead(1, "Jane Doe", 12), lead(2, "John Smith", 30)]
}

fn opened() -> App {
    let mut app = loaded(leads(), now() - Duration::seconds(2));
    app.update(Msg::Key(KeyEvent::from(KeyCode::Enter)));
    answer_selected(&mut app, &leads());
    app
}

fn message(
    id: i64,
    minutes_ago: i64,
    (channel, direction, status): (&str, &str, &str),
    body: Option<&str>,
    template: Option<&str>,
    error: Option<&str>,
) -> ConversationEntry {
    let at = now() - Duration::minutes(minutes_ago);
    ConversationEntry {
        id,
        channel: channel.into(),
        direction: direction.into(),
        status: status.into(),
        body: body.map(str::to_string),
        template: template.map(str::to_string),
        error: error.map(str::to_string),
        created_at: at,
        updated_at: at,
    }
}

fn conversation_of_jane(answer_mode: AnswerMode) -> Msg {
    Msg::Conversation {
        id: 1,
        result: Ok(Conversation {
            messages: vec![
                message(
                    1,
                    11,
                    ("whatsapp", "out", "read"),
                    None,
                    Some("first_contact"),
                    None,
                ),
                message(
                    2,
                    8,
                    ("whatsapp", "in", "received"),
                    Some("Tomorrow at 10 is better\n\u{1b}[2J\u{202E}thanks"),
                    None,
                    None,
                ),
                message(
                    3,
                    6,
                    ("sms", "out", "failed"),
                    Some("Hi Jane"),
                    None,
                    Some("21610 Attempt to send to unsubscribed recipient"),
                ),
                message(4, 5, ("sms", "in", "received"), Some("STOP"), None, None),
            ],
            answer_mode,
        }),
    }
}

#[test]
fn the_conversation_shows_each_message_and_the_answer_allowed_now() {
    let mut app = opened();
    app.update(Msg::Activity {
        id: 1,
        result: Ok(Vec::new()),
    });
    app.update(conversation_of_jane(AnswerMode::FreeText));
    let screen = draw(&app, 130, 40).to_string();
    assert!(!screen.contains('\u{1b}') && !screen.contains('\u{202E}'));
    assert_snapshot!(screen);
}

#[test]
fn outside_the_window_only_a_template_is_allowed() {
    let mut app = opened();
    app.update(conversation_of_jane(AnswerMode::Template));
    let screen = draw(&app, 130, 40).to_string();
    assert!(screen.contains("template only"), "{screen}");
}

#[test]
fn a_lead_without_messages_has_no_conversation_section() {
    let mut app = opened();
    app.update(Msg::Conversation {
        id: 1,
        result: Ok(Conversation {
            messages: Vec::new(),
            answer_mode: AnswerMode::Template,
        }),
    });
    assert!(!draw(&app, 130, 40).to_string().contains("Conversation"));
}
