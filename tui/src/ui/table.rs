//! The lead list: only the rows on screen are built, whatever the number of leads.

use leadhook_shared::Lead;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Cell, HighlightSpacing, Paragraph, Row, Scrollbar, ScrollbarOrientation, ScrollbarState,
    StatefulWidget, Table, TableState, Widget, Wrap,
};

use super::{age, thousands};
use crate::app::{App, Connection, Viewport};
use crate::client_error::ClientError;
use crate::theme;

const WIDTHS: [Constraint; 7] = [
    Constraint::Length(1),
    Constraint::Length(4),
    Constraint::Fill(3),
    Constraint::Length(15),
    Constraint::Fill(4),
    Constraint::Fill(2),
    Constraint::Length(11),
];
const HEADER: [&str; 7] = ["", "Age", "Name", "Phone", "Email", "Form", "Status"];

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered()
        .border_style(theme::BORDER)
        .title(title(app));
    let inner = block.inner(area);
    block.render(area, buf);

    let visible = app.leads.visible();
    let (Some(selected), Some(height)) = (app.selected_index(), inner.height.checked_sub(1)) else {
        empty(app, inner, buf);
        return;
    };
    let height = usize::from(height).max(1);
    let offset = scroll_offset(app.viewport.get().offset, selected, height, visible.len());
    app.viewport.set(Viewport { offset, height });

    let end = (offset + height).min(visible.len());
    let rows = visible[offset..end]
        .iter()
        .filter_map(|key| app.leads.get(key.id))
        .map(|lead| row(app, lead));
    let table = Table::new(rows, WIDTHS)
        .header(Row::new(HEADER).style(theme::TABLE_HEADER))
        .row_highlight_style(theme::SELECTED)
        .highlight_symbol("›")
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default().with_selected(Some(selected - offset));
    StatefulWidget::render(table, inner, buf, &mut state);

    if visible.len() > height {
        let mut scrollbar = ScrollbarState::new(visible.len().saturating_sub(height))
            .position(offset)
            .viewport_content_length(height);
        StatefulWidget::render(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .style(theme::BORDER),
            // Beside the data rows only: below the top border and the header row.
            Rect {
                y: area.y + 2,
                height: area.height.saturating_sub(3),
                ..area
            },
            buf,
            &mut scrollbar,
        );
    }
}

/// The first row to show: the previous one when the selection is still on screen, and never
/// leaving blank rows below the last lead.
fn scroll_offset(previous: usize, selected: usize, height: usize, len: usize) -> usize {
    let offset = if selected < previous {
        selected
    } else if selected >= previous + height {
        selected + 1 - height
    } else {
        previous
    };
    offset.min(len.saturating_sub(height))
}

fn title(app: &App) -> Line<'static> {
    let filter = app.leads.filter();
    let mut spans = vec![
        Span::styled(" Leads ", theme::TITLE),
        Span::styled(
            if filter.is_active() {
                format!(
                    "{} of {} ",
                    thousands(app.leads.visible().len()),
                    thousands(app.leads.len())
                )
            } else {
                format!("{} ", thousands(app.leads.len()))
            },
            theme::LABEL,
        ),
    ];
    if let Some(status) = filter.status {
        spans.push(Span::styled(format!("· {status} "), theme::status(status)));
    }
    if !filter.query.trim().is_empty() {
        spans.push(Span::styled(
            format!("· “{}” ", filter.query.trim()),
            theme::EMPHASIS,
        ));
    }
    Line::from(spans)
}

fn row<'a>(app: &App, lead: &'a Lead) -> Row<'a> {
    let text = |value: &'a Option<String>| Cell::from(value.as_deref().unwrap_or(""));
    let mark = if app.is_unseen(lead.id) {
        Cell::from(Span::styled("●", theme::UNSEEN))
    } else {
        Cell::from("")
    };
    let form = if lead.is_manual {
        Cell::from(Span::styled("by hand", theme::LABEL))
    } else {
        text(&lead.meta.form_name)
    };
    Row::new([
        mark,
        Cell::from(age(app.now, lead.meta.created_at)),
        Cell::from(lead.display_name()),
        text(&lead.meta.phone),
        text(&lead.meta.email),
        form,
        Cell::from(Span::styled(
            lead.status.as_str(),
            theme::status(lead.status),
        )),
    ])
}

/// What to say when there are no rows: loading, cannot connect, nothing yet or nothing matches.
fn empty(app: &App, area: Rect, buf: &mut Buffer) {
    let retry = |retry_at: chrono::DateTime<chrono::Utc>| (retry_at - app.now).num_seconds().max(0);
    let (headline, advice) = match &app.connection {
        _ if !app.leads.is_empty() => {
            let filter = app.leads.filter();
            let mut headline = "No leads match".to_string();
            if !filter.query.trim().is_empty() {
                headline.push_str(&format!(" “{}”", filter.query.trim()));
            }
            if let Some(status) = filter.status {
                headline.push_str(&format!(" with status {status}"));
            }
            (
                headline,
                "Esc clears the search and filter; f changes the status filter.".to_string(),
            )
        }
        Connection::Down {
            error: ClientError::Unauthorized,
            ..
        } => (
            "The server rejected the token.".to_string(),
            "Set LEADHOOK_TOKEN (or --token) to one of the server's API tokens and restart."
                .to_string(),
        ),
        Connection::Down { retry_at, .. } if !app.loaded => (
            format!("Cannot reach {}.", app.server),
            format!(
                "Is leadhook-server running there? Retrying in {}s; r retries now.",
                retry(*retry_at)
            ),
        ),
        _ if !app.loaded => (
            "Loading leads…".to_string(),
            format!("Connecting to {}.", app.server),
        ),
        _ => (
            "No leads yet.".to_string(),
            "New leads appear here the moment they arrive; n adds one by hand.".to_string(),
        ),
    };
    let text = Text::from(vec![
        Line::default(),
        Line::from(Span::styled(headline, theme::EMPHASIS)),
        Line::from(Span::styled(advice, theme::LABEL)),
    ])
    .centered();
    Paragraph::new(text)
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::scroll_offset;

    #[test]
    fn scrolls_only_when_the_selection_leaves_the_screen() {
        assert_eq!(scroll_offset(0, 5, 10, 100), 0);
        assert_eq!(scroll_offset(0, 10, 10, 100), 1);
        assert_eq!(scroll_offset(20, 15, 10, 100), 15);
        assert_eq!(scroll_offset(90, 99, 20, 100), 80);
    }
}
