//! Everything about one lead: contact, every form answer, ad / campaign / form, times, notes.

use chrono::{DateTime, Utc};
use leadhook_shared::Lead;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::age;
use crate::app::App;
use crate::theme;

const LABEL_WIDTH: usize = 12;

pub fn render(app: &App, lead: &Lead, area: Rect, buf: &mut Buffer) {
    let mut lines = Vec::new();
    let mut field = |label: &str, value: String| {
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<LABEL_WIDTH$}"), theme::LABEL),
            Span::styled(value, theme::VALUE),
        ]));
    };
    let named = |name: &Option<String>, id: &Option<String>| match (name, id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(text), None) | (None, Some(text)) => text.clone(),
        (None, None) => "—".to_string(),
    };
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "—".to_string());
    let when = |at: DateTime<Utc>| {
        format!(
            "{} ({} ago)",
            at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M:%S"),
            age(app.now, at)
        )
    };

    field("Phone", or_dash(&lead.phone));
    field("Email", or_dash(&lead.email));
    field("Form", named(&lead.form_name, &lead.form_id));
    let source = match (&lead.platform, lead.is_organic) {
        (Some(platform), true) => format!(" · {platform}, organic"),
        (Some(platform), false) => format!(" · {platform}, paid"),
        (None, _) => String::new(),
    };
    field("Ad", named(&lead.ad_name, &lead.ad_id) + &source);
    field("Ad set", named(&lead.adset_name, &lead.adset_id));
    field("Campaign", named(&lead.campaign_name, &lead.campaign_id));
    field("Created", when(lead.created_at));
    field("Received", when(lead.received_at));
    field(
        "Manual",
        if lead.is_manual {
            "yes, entered by hand"
        } else {
            "no"
        }
        .to_string(),
    );

    // Notes first: they are what the team writes, and the answers can run long.
    lines.push(Line::from(Span::styled("Notes", theme::TITLE)));
    lines.push(match &lead.notes {
        Some(notes) => Line::from(notes.clone()),
        None => Line::from(Span::styled("none yet: N adds a note", theme::LABEL)),
    });
    lines.push(Line::from(Span::styled("Answers", theme::TITLE)));
    if lead.fields.is_empty() {
        lines.push(Line::from(Span::styled("none", theme::LABEL)));
    }
    for (question, answer) in &lead.fields {
        lines.push(Line::from(vec![
            Span::styled(format!("{question}: "), theme::LABEL),
            Span::styled(answer.text(), theme::VALUE),
        ]));
    }

    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", lead.display_name()), theme::TITLE),
            Span::styled(format!("· {} ", lead.status), theme::status(lead.status)),
        ]))
        .title_bottom(
            Line::from(Span::styled(" J/K scroll · Esc closes ", theme::LABEL)).right_aligned(),
        );
    let last_line = u16::try_from(lines.len().saturating_sub(1)).unwrap_or(u16::MAX);
    Paragraph::new(lines)
        .scroll((app.detail_scroll.min(last_line), 0))
        .block(block)
        .wrap(Wrap { trim: false })
        .render(area, buf);
}
