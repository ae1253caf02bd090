//! Overlays drawn over a cleared, centred area: help, the new-lead form, the phone settings,
//! the notes editor.

use std::cell::Cell;

use leadhook_shared::{Action, Role};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use super::{hint_text, input_line};
use crate::app::{App, HelpScroll, LeadForm, PagingForm};
use crate::input::TextInput;
use crate::{keys, theme};

pub(super) fn frame(title: &str, width: u16, height: u16, area: Rect, buf: &mut Buffer) -> Rect {
    let rect = area.centered(
        Constraint::Length(width.min(area.width)),
        Constraint::Length(height.min(area.height)),
    );
    Clear.render(rect, buf);
    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(Span::styled(format!(" {title} "), theme::TITLE));
    let inner = block.inner(rect);
    block.render(rect, buf);
    inner
}

/// Every key table, with the keys `role` may use: the list's in two columns, then one line per
/// other mode, the most used first. A terminal too short for all of it scrolls (`j`/`k`), and the
/// title says how.
pub fn help(role: Role, scroll: &Cell<HelpScroll>, area: Rect, buf: &mut Buffer) {
    let lines = help_lines(role);
    let width = HELP_TEXT_WIDTH as u16 + 2;
    let wanted = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let visible = wanted.min(area.height).saturating_sub(2);
    let max = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(visible);
    let at = scroll.get().at.min(max);
    scroll.set(HelpScroll { at, max });
    let title = if max > 0 { "Keys (j/k scroll)" } else { "Keys" };
    let inner = frame(title, width, wanted, area, buf);
    Paragraph::new(lines).scroll((at, 0)).render(inner, buf);
}

/// The help's text width inside its border.
const HELP_TEXT_WIDTH: usize = 76;

fn help_lines(role: Role) -> Vec<Line<'static>> {
    let list: Vec<_> = keys::LIST.entries(role).collect();
    let rows = list.len().div_ceil(2);
    let entry = |(label, description): (&'static str, &'static str)| {
        vec![
            Span::styled(format!(" {label:<7}"), theme::EMPHASIS),
            Span::styled(format!("{description:<30}"), theme::VALUE),
        ]
    };
    let mut lines: Vec<Line> = (0..rows)
        .map(|row| {
            let mut spans = entry(list[row]);
            if let Some(right) = list.get(row + rows) {
                spans.extend(entry(*right));
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::default());
    let mut others = vec![
        (
            keys::DETAIL.title,
            keys::DETAIL.entries(role).collect::<Vec<_>>(),
        ),
        (keys::SEARCH.title, keys::SEARCH.entries(role).collect()),
        (keys::DUE.title, keys::DUE.entries(role).collect()),
        (
            keys::NEXT_STEP.title,
            keys::CHOICES
                .entries(role)
                .chain(keys::NEXT_STEP.entries(role))
                .collect(),
        ),
        (
            keys::ATTEMPT.title,
            keys::OUTCOMES
                .entries(role)
                .chain(keys::ATTEMPT.entries(role))
                .collect(),
        ),
        (keys::UNLINK.title, keys::UNLINK.entries(role).collect()),
        (keys::CONFIRM.title, keys::CONFIRM.entries(role).collect()),
        (keys::FORM.title, keys::FORM.entries(role).collect()),
        (keys::PAGING.title, keys::PAGING.entries(role).collect()),
        (keys::NOTES.title, keys::NOTES.entries(role).collect()),
    ];
    // The rep picker opens only for those who may assign.
    if role.may(Action::Assign) {
        others.push((keys::PICKER.title, keys::PICKER.entries(role).collect()));
    }
    if role.may(Action::SeeInsights) {
        others.push((keys::INSIGHTS.title, keys::INSIGHTS.entries(role).collect()));
    }
    others.push((keys::HELP.title, keys::HELP.entries(role).collect()));
    for (title, entries) in &others {
        // A table's keys go on as many lines as they need, continued under the first.
        let mut line = vec![Span::styled(format!(" {title:<10}"), theme::TITLE)];
        for (at, (label, description)) in entries.iter().enumerate() {
            let entry = [
                Span::styled(format!("{label} "), theme::EMPHASIS),
                Span::styled(*description, theme::VALUE),
            ];
            let width: usize = line.iter().chain(&entry).map(Span::width).sum::<usize>() + 3;
            if at > 0 && width > HELP_TEXT_WIDTH {
                lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(" ".repeat(11)));
            } else if at > 0 {
                line.push(Span::styled(" · ", theme::LABEL));
            }
            line.extend(entry);
        }
        lines.push(Line::from(line));
    }
    lines
}

/// One line per field: its label right-aligned in `label_width` (emphasised when focused), then
/// its input.
fn field_lines(
    labels: &[&str],
    label_width: usize,
    inputs: &[TextInput],
    focus: usize,
    inner: Rect,
) -> Vec<Line<'static>> {
    labels
        .iter()
        .zip(inputs)
        .enumerate()
        .map(|(index, (label, input))| {
            let focused = index == focus;
            let label_style = if focused {
                theme::EMPHASIS
            } else {
                theme::LABEL
            };
            let mut line = Line::from(Span::styled(format!("{label:>label_width$} "), label_style));
            let room = usize::from(inner.width).saturating_sub(label_width + 1);
            line.spans.extend(input_line(input, focused, room).spans);
            line
        })
        .collect()
}

pub fn new_lead(form: &LeadForm, area: Rect, buf: &mut Buffer) {
    let inner = frame("New lead", 60, 9, area, buf);
    let mut lines = field_lines(&LeadForm::LABELS, 6, &form.inputs, form.focus, inner);
    lines.push(Line::default());
    lines.push(match (&form.error, form.saving) {
        (_, true) => Line::from(Span::styled("Saving…", theme::WARN)),
        (Some(error), false) => Line::from(Span::styled(error.clone(), theme::ERROR)),
        (None, false) => Line::from(Span::styled("Name, and a phone or an email.", theme::LABEL)),
    });
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

/// `P`: the rep's phone settings, with the zone the quiet hours are read in.
pub fn paging(app: &App, form: &PagingForm, area: Rect, buf: &mut Buffer) {
    let inner = frame("My phone (ntfy)", 66, 12, area, buf);
    let mut lines = field_lines(&PagingForm::LABELS, 11, &form.inputs, form.focus, inner);
    let zone = app
        .team
        .me
        .as_ref()
        .and_then(|me| me.time_zone.clone())
        .unwrap_or_else(|| "UTC".to_string());
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        format!("Quiet hours like 22:00-07:00, in {zone}; escalations still ring."),
        theme::LABEL,
    )));
    lines.push(Line::from(Span::styled(
        "Anyone who knows the topic reads your pages: make it random.",
        theme::LABEL,
    )));
    lines.push(match (&form.error, form.saving) {
        (_, true) => Line::from(Span::styled("Saving…", theme::WARN)),
        (Some(error), false) => Line::from(Span::styled(error.clone(), theme::ERROR)),
        (None, false) => Line::from(Span::styled(
            hint_text(keys::PAGING.hints(app.team.role())),
            theme::LABEL,
        )),
    });
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

pub fn notes(app: &App, id: i64, input: &TextInput, area: Rect, buf: &mut Buffer) {
    let name = app
        .leads
        .get(id)
        .map_or_else(|| format!("Lead #{id}"), |lead| lead.display_name());
    let inner = frame(&format!("Notes on {name}"), 72, 4, area, buf);
    Paragraph::new(vec![
        input_line(input, true, usize::from(inner.width)),
        Line::from(Span::styled(
            hint_text(keys::NOTES.hints(app.team.role())),
            theme::LABEL,
        )),
    ])
    .wrap(Wrap { trim: false })
    .render(inner, buf);
}

/// The rep's overdue follow-ups, as `/api/stats` last counted them.
fn overdue(app: &App, rep: &str) -> Option<u64> {
    let stats = app.follow_ups.stats.as_ref()?;
    let figures = stats.per_rep.iter().find(|figures| figures.name == rep)?;
    Some(figures.overdue)
}

/// `a`: the reps, who is available, how many open leads and overdue follow-ups each has; the
/// lead's owner marked.
pub fn assign(app: &App, id: i64, at: usize, area: Rect, buf: &mut Buffer) {
    let lead = app.leads.get(id);
    let name = lead.map_or_else(|| format!("lead #{id}"), |lead| lead.display_name());
    let owner = lead.and_then(|lead| lead.owner.as_deref());
    let reps = &app.team.reps;
    let rows = u16::try_from(reps.len().max(1)).unwrap_or(u16::MAX);
    let inner = frame(
        &format!("Assign {name}"),
        66,
        rows.saturating_add(4),
        area,
        buf,
    );
    let mut lines: Vec<Line> = reps
        .iter()
        .enumerate()
        .map(|(index, rep)| {
            let (mark, style) = if rep.available {
                ("● available", theme::OK)
            } else {
                ("○ away     ", theme::WARN)
            };
            let mut line = Line::from(vec![
                Span::raw(if index == at { "› " } else { "  " }),
                Span::styled(format!("{:<16}", rep.name), theme::EMPHASIS),
                Span::styled(format!("{mark}  "), style),
                Span::styled(format!("{} open", rep.open_leads), theme::LABEL),
            ]);
            if let Some(overdue) = overdue(app, &rep.name).filter(|overdue| *overdue > 0) {
                line.spans.push(Span::styled(
                    format!(" · {overdue} overdue"),
                    theme::OVERDUE,
                ));
            }
            if owner == Some(rep.name.as_str()) {
                line.spans.push(Span::styled(" · owner", theme::LABEL));
            }
            if index == at {
                line = line.style(theme::SELECTED);
            }
            line
        })
        .collect();
    if reps.is_empty() {
        lines.push(Line::from(Span::styled("Loading the reps…", theme::LABEL)));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        hint_text(keys::PICKER.hints(app.team.role())),
        theme::LABEL,
    )));
    Paragraph::new(lines).render(inner, buf);
}
