//! People on screen: a person's row (how many submissions, junk and why), the question before a
//! merge, and the choice of the submission whose link to undo.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::popup::frame;
use super::{cut_to_width, hint_text};
use crate::app::App;
use crate::leads::LeadRow;
use crate::{keys, theme};

/// The name cell of a person's row in `width` columns: the name, then how many submissions
/// ("· 2 submissions" when it fits, else "×2"); a junk lead's reason first, then its name.
pub(super) fn name(app: &App, lead: &LeadRow, width: usize) -> Line<'static> {
    let name = lead.display_name();
    if lead.erased_at.is_some() {
        return Line::from(Span::styled(name, theme::LABEL));
    }
    let mut spans = Vec::new();
    if let Some(reason) = lead.junk() {
        spans.push(Span::styled(reason.to_string(), theme::JUNK_REASON));
        if reason.width() + 3 >= width {
            return Line::from(spans);
        }
        spans.push(Span::styled(" · ", theme::JUNK_REASON));
    }
    let count = app.leads.submissions(lead.id).len();
    let suffix = match count {
        0 | 1 => String::new(),
        _ => {
            let rich = format!(" · {count} submissions");
            let used = spans.iter().map(Span::width).sum::<usize>() + name.width();
            if used + rich.width() <= width {
                rich
            } else {
                format!(" ×{count}")
            }
        }
    };
    // The count is never cut off: the name gives way to it.
    let room = width.saturating_sub(spans.iter().map(Span::width).sum::<usize>() + suffix.width());
    spans.push(Span::raw(cut_to_width(&name, room).to_string()));
    if !suffix.is_empty() {
        spans.push(Span::styled(suffix, theme::PERSON));
    }
    Line::from(spans)
}

/// Lead `id` and what the popups call it: "Jane Doe (#19, Spring Promo)".
fn described(app: &App, id: i64) -> String {
    match app.leads.get(id) {
        Some(lead) => {
            let form = if lead.is_manual {
                "by hand"
            } else {
                lead.form_name.as_deref().unwrap_or("no form")
            };
            format!("{} (#{id}, {form})", lead.display_name())
        }
        None => format!("lead #{id}"),
    }
}

/// "Same person?": lead `id` and its submissions are about to join `into`'s person.
pub fn confirm_merge(app: &App, id: i64, into: i64, area: Rect, buf: &mut Buffer) {
    let inner = frame("Same person?", 66, 6, area, buf);
    let lines = vec![
        Line::from(vec![
            Span::styled("Merge ", theme::LABEL),
            Span::styled(described(app, id), theme::EMPHASIS),
        ]),
        Line::from(vec![
            Span::styled("into  ", theme::LABEL),
            Span::styled(described(app, into), theme::EMPHASIS),
        ]),
        Line::from(Span::styled(
            "One person, one row: U undoes it.",
            theme::LABEL,
        )),
        Line::from(Span::styled(
            hint_text(keys::CONFIRM.hints(app.team.role())),
            theme::LABEL,
        )),
    ];
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

/// `U`: the person's linked submissions, newest first, the one whose link to undo highlighted.
pub fn unlink(app: &App, id: i64, at: usize, area: Rect, buf: &mut Buffer) {
    let linked = app.linked(id);
    let rows = u16::try_from(linked.len().max(1)).unwrap_or(u16::MAX);
    let inner = frame(
        "Undo a link: which is someone else?",
        66,
        rows + 4,
        area,
        buf,
    );
    let at = at.min(linked.len().saturating_sub(1));
    let mut lines: Vec<Line> = linked
        .iter()
        .enumerate()
        .map(|(index, lead)| {
            let when = lead.created_at.with_timezone(&app.tz).format("%m-%d %H:%M");
            let line = Line::from(vec![
                Span::raw(if index == at { "› " } else { "  " }),
                Span::styled(format!("{when}  "), theme::LABEL),
                Span::raw(described(app, lead.id)),
            ]);
            if index == at {
                line.style(theme::SELECTED)
            } else {
                line
            }
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        hint_text(keys::UNLINK.hints(app.team.role())),
        theme::LABEL,
    )));
    Paragraph::new(lines).render(inner, buf);
}
