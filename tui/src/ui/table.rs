//! The lead list: only the rows on screen are built, whatever the number of leads.

use leadhook_shared::Assignment;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Cell, HighlightSpacing, Paragraph, Row, Scrollbar, ScrollbarOrientation, ScrollbarState,
    StatefulWidget, Table, TableState, Widget, Wrap,
};
use unicode_width::UnicodeWidthStr;

use super::columns::{self, Column, KEPT};
use super::{age, cut_to_width, people, thousands};
use crate::app::{App, Connection, Viewport};
use crate::client_error::ClientError;
use crate::leads::LeadRow;
use crate::{sanitize, theme};

const fn column(
    title: &'static str,
    least: u16,
    wanted: u16,
    rank: u8,
    grows: bool,
) -> Column<'static> {
    Column {
        title,
        least,
        wanted,
        rank,
        grows,
    }
}

const NAME: usize = 2;
/// Owner is the column this table leaves out for a server without owners.
const OWNER: usize = 3;
const PHONE: usize = 5;
/// The fixed columns; one per answer column follows ([`answer_column`]).
#[rustfmt::skip]
const COLUMNS: [Column<'static>; 8] = [
    column("", 1, 1, KEPT + 2, false),
    column("Age", 4, 4, KEPT + 1, false),
    column("Name", 16, 22, KEPT, true),
    column("Owner", 7, 10, 6, false),
    column("Status", 9, 11, 5, false),
    column("Phone", 12, 16, 4, false),
    column("Email", 12, 26, 3, true),
    column("Form", 8, 16, 2, false),
];
/// An answer column after Form, titled with its name: ranked below every fixed column, so the
/// answer columns are the first to go on a narrow screen.
fn answer_column(name: &str) -> Column<'_> {
    let title = u16::try_from(name.width()).unwrap_or(u16::MAX);
    Column {
        title: name,
        least: title.clamp(6, 12),
        wanted: title.clamp(12, 20),
        rank: 1,
        grows: false,
    }
}

/// Every column of the table: the fixed ones, then the server's answer columns.
fn candidates(app: &App) -> Vec<Column<'_>> {
    let mut candidates = COLUMNS.to_vec();
    if app.team.assignment() == Some(Assignment::None) {
        candidates[OWNER].least = u16::MAX;
        candidates[OWNER].rank = 0;
    }
    let answers = app.leads.answer_columns().0.iter();
    candidates.extend(answers.map(|column| answer_column(&column.name)));
    candidates
}

/// The gap ratatui leaves between columns.
const SPACING: u16 = 1;
/// The highlight symbol's column in front of every row.
const SELECTION_WIDTH: u16 = 1;

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
    let candidates = candidates(app);
    let widths = columns::widths(
        &candidates,
        inner.width.saturating_sub(SELECTION_WIDTH),
        SPACING,
    );
    let keep = |cells: Vec<Cell<'static>>| -> Vec<Cell<'static>> {
        cells
            .into_iter()
            .zip(&widths)
            .filter_map(|(cell, width)| width.map(|_| cell))
            .collect()
    };
    let rows = visible[offset..end]
        .iter()
        .filter_map(|key| app.leads.get(key.id))
        .map(|lead| {
            let row = Row::new(keep(cells(app, lead, &widths)));
            if lead.junk().is_some() {
                row.style(theme::JUNK)
            } else {
                row
            }
        });
    let header = keep(
        candidates
            .iter()
            .map(|column| Cell::from(sanitize::screen(column.title).into_owned()))
            .collect(),
    );
    let table = Table::new(
        rows,
        widths.iter().flatten().map(|w| Constraint::Length(*w)),
    )
    .column_spacing(SPACING)
    .header(Row::new(header).style(theme::TABLE_HEADER))
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

/// " Leads 6 · 2 junk hidden (H) ": the rows (one per person), the filters, and the junk the
/// table leaves out or shows.
fn title(app: &App) -> Line<'static> {
    let filter = app.leads.filter();
    let mut spans = vec![
        Span::styled(" Leads ", theme::TITLE),
        Span::styled(
            if filter.status.is_some() || !filter.query.trim().is_empty() {
                format!(
                    "{} of {} ",
                    thousands(app.leads.visible().len()),
                    thousands(app.leads.people())
                )
            } else {
                format!("{} ", thousands(app.leads.people()))
            },
            theme::LABEL,
        ),
    ];
    match app.leads.junk() {
        0 => {}
        junk if filter.junk => spans.push(Span::styled(
            format!("· {} junk shown (H hides) ", thousands(junk)),
            theme::WARN,
        )),
        junk => spans.push(Span::styled(
            format!("· {} junk hidden (H) ", thousands(junk)),
            theme::LABEL,
        )),
    }
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

/// One person's cells, in [`candidates`] order, in the columns' `widths`. A junk lead is dimmed
/// by its row, so its cells keep no colour of their own.
fn cells(app: &App, lead: &LeadRow, widths: &[Option<u16>]) -> Vec<Cell<'static>> {
    let text = |value: Option<&str>| Cell::from(value.unwrap_or_default().to_string());
    let width = |column: usize| usize::from(widths[column].unwrap_or(0));
    let junk = lead.junk().is_some();
    let mark = if app.is_marked(lead) {
        Cell::from(Span::styled("*", theme::MARKED))
    } else if app.is_unseen(lead.id) {
        Cell::from(Span::styled("●", theme::UNSEEN))
    } else {
        Cell::from("")
    };
    let form = if lead.is_manual {
        Cell::from(Span::styled("by hand", theme::LABEL))
    } else {
        text(lead.form_name.as_deref())
    };
    let owner = match &lead.owner {
        None if junk => Span::raw("unowned"),
        None => Span::styled("unowned", theme::UNOWNED),
        Some(owner) if app.team.is_me(owner) => Span::styled(owner.to_string(), theme::MINE),
        Some(owner) => Span::raw(owner.to_string()),
    };
    // Cut to the column before it is cleaned: an answer can be long, and only its start shows.
    let answers = app.leads.answer_columns().0.iter().enumerate();
    let answers = answers.map(|(nth, column)| {
        let answer = lead.answer(column).unwrap_or_default();
        let shown = cut_to_width(answer, width(COLUMNS.len() + nth));
        Cell::from(sanitize::screen(shown).into_owned())
    });
    [
        mark,
        Cell::from(Span::styled(
            age(app.now, lead.created_at),
            if junk {
                theme::JUNK
            } else {
                theme::age(lead.status, app.now - lead.created_at)
            },
        )),
        Cell::from(people::name(app, lead, width(NAME))),
        Cell::from(owner),
        if junk {
            Cell::from("junk")
        } else {
            Cell::from(Span::styled(
                lead.status.as_str(),
                theme::status(lead.status),
            ))
        },
        match lead.phone_shown(width(PHONE)) {
            // Not a number by libphonenumber's rules: kept as typed, marked first (a long value
            // is cut at the column's end).
            Some((phone, true)) => Cell::from(Line::from(vec![
                Span::styled("? ", theme::WARN),
                Span::raw(phone),
            ])),
            Some((phone, false)) => Cell::from(phone),
            None => Cell::from(""),
        },
        text(lead.email.as_deref()),
        form,
    ]
    .into_iter()
    .chain(answers)
    .collect()
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
            let mut advice =
                "Esc clears the search and filter; f changes the status filter.".to_string();
            if !filter.junk && app.leads.junk() > 0 {
                advice.push_str(&format!(
                    " H shows the junk ({}).",
                    thousands(app.leads.junk())
                ));
            }
            (headline, advice)
        }
        Connection::Down {
            error: ClientError::Unauthorized,
            ..
        } => (
            "The server rejected the token.".to_string(),
            "Set LEADHOOK_TOKEN (or --token-file) to one of the server's API tokens and restart."
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
