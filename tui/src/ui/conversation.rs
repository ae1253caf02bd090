//! A lead's conversation with the person under its details: each message with its time,
//! channel, direction, status and text (the person's text neutralised), and how an answer would
//! go out now (WhatsApp's 24-hour window).

use leadhook_shared::{AnswerMode, ConversationEntry};
use ratatui::style::Style;
use ratatui::text::Span;

use super::detail::Page;
use crate::app::App;
use crate::sanitize;
use crate::theme;

/// The conversation, when the server has one for the lead (none: no section).
pub(super) fn conversation(app: &App, lead: i64, page: &mut Page) {
    let Some(conversation) = app
        .team
        .activity
        .as_ref()
        .filter(|a| a.lead == lead)
        .and_then(|a| a.conversation.as_ref())
        .filter(|c| !c.messages.is_empty())
    else {
        return;
    };
    page.heading("Conversation");
    for message in &conversation.messages {
        let when = message
            .created_at
            .with_timezone(&app.tz)
            .format("%m-%d %H:%M ");
        let arrow = if message.is_from_person() {
            "←"
        } else {
            "→"
        };
        let prefix = Span::styled(
            format!(
                "{when}{arrow} {:<8} {:<9} ",
                sanitize::screen(&message.channel),
                sanitize::screen(&message.status)
            ),
            theme::LABEL,
        );
        let (text, style) = shown(message);
        page.text(prefix, &text, style);
    }
    let mode = match conversation.answer_mode {
        AnswerMode::FreeText => "answer on WhatsApp: free text (within 24 h of their last message)",
        AnswerMode::Template => "answer on WhatsApp: template only (24-hour window closed)",
    };
    page.text(Span::raw(""), mode, theme::LABEL);
}

/// The text of a message on one line: the person's words, ours, the template's name, the error.
fn shown(message: &ConversationEntry) -> (String, Style) {
    let text = match (&message.body, &message.template) {
        (Some(body), _) => sanitize::screen(body).into_owned(),
        (None, Some(template)) => format!("template {}", sanitize::screen(template)),
        (None, None) => String::new(),
    };
    match &message.error {
        Some(error) => (
            format!("{text} ({})", sanitize::screen(error)),
            if message.status == "failed" {
                theme::ERROR
            } else {
                theme::WARN
            },
        ),
        None if message.is_from_person() => (text, theme::EMPHASIS),
        None => (text, theme::VALUE),
    }
}
