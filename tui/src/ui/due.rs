//! The due view of `D`: follow-ups soonest first (overdue in red, then today, then later), with
//! what to do, the lead and how often it was called.

use leadhook_shared::show_due;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Widget};

use super::cut_to_width;
use crate::app::{App, DueOf, plural};
use crate::theme;

/// The row mark and the longest due time, "› 2026-12-14 09:00".
const WHEN_WIDTH: u16 = 19;
const ATTEMPTS_WIDTH: u16 = 5;
const OWNER_WIDTH: u16 = 10;

pub fn render(app: &App, at: usize, whose: DueOf, area: Rect, buf: &mut Buffer) {
    let rows = app.due_rows(whose);
    let zone = app.zone();
    let counts = {
        let overdue = rows
            .iter()
            .filter(|lead| {
                lead.next_step
                    .as_ref()
                    .is_some_and(|step| step.is_due(app.now))
            })
            .count();
        format!("{}, {overdue} overdue", plural(rows.len(), "follow-up"))
    };
    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(Line::from(vec![
            Span::styled(" Due ", theme::TITLE),
            Span::styled(
                format!("· {} · {counts} ", app.due_whose_label(whose)),
                theme::LABEL,
            ),
        ]))
        .title_bottom(
            Line::from(Span::styled(
                format!(" times in {} ", zone.name()),
                theme::LABEL,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    block.render(area, buf);
    if rows.is_empty() {
        let text = match whose {
            DueOf::Mine => "No follow-ups: F on a lead sets its next step.",
            DueOf::Everyone | DueOf::Rep(_) => "No follow-ups here.",
        };
        Paragraph::new(Span::styled(text, theme::LABEL)).render(inner, buf);
        return;
    }
    let at = at.min(rows.len() - 1);
    let height = usize::from(inner.height.saturating_sub(1)).max(1);
    // Keep the highlighted row on screen; only the rows shown are built.
    let offset = at.saturating_sub(height - 1);
    let show_owner = whose != DueOf::Mine || app.team.me.is_none();
    let what_width = usize::from(inner.width).saturating_sub(
        usize::from(WHEN_WIDTH + ATTEMPTS_WIDTH + 4)
            + if show_owner {
                usize::from(OWNER_WIDTH) + 1
            } else {
                0
            },
    ) / 2;
    let lines = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .filter_map(|(index, lead)| {
            let step = lead.next_step.as_ref()?;
            let when = show_due(step.at, app.now, zone);
            let when_style = if step.is_due(app.now) {
                theme::OVERDUE
            } else if when.starts_with("today") {
                theme::DUE_TODAY
            } else {
                theme::VALUE
            };
            let mark = if index == at { "› " } else { "  " };
            let mut cells = vec![
                Cell::from(Line::from(vec![
                    Span::raw(mark),
                    Span::styled(when, when_style),
                ])),
                Cell::from(cut_to_width(&step.what, what_width).to_string()),
                Cell::from(Span::styled(lead.display_name(), theme::EMPHASIS)),
                Cell::from(Line::from(lead.attempts.to_string()).right_aligned()),
            ];
            if show_owner {
                let owner = lead.owner.as_deref().unwrap_or("unowned");
                cells.push(Cell::from(Span::styled(owner.to_string(), theme::LABEL)));
            }
            let row = Row::new(cells);
            Some(if index == at {
                row.style(theme::SELECTED)
            } else {
                row
            })
        });
    let mut widths = vec![
        Constraint::Length(WHEN_WIDTH),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(ATTEMPTS_WIDTH),
    ];
    let mut header = vec!["  Due", "What", "Lead", "Calls"];
    if show_owner {
        widths.push(Constraint::Length(OWNER_WIDTH));
        header.push("Owner");
    }
    Table::new(lines, widths)
        .header(Row::new(header).style(theme::TABLE_HEADER))
        .render(inner, buf);
}
