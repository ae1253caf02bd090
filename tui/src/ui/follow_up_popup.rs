//! The popups of `F` (a lead's next step) and `t` (a call attempt).

use leadhook_shared::{CallOutcome, parse_due, show_due};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::popup::frame;
use super::{cut_to_width, hint_text, input_line};
use crate::app::{App, AttemptForm, NextStepField, NextStepForm};
use crate::{keys, theme};

/// Wide enough for most of `parse_due`'s one-line errors; narrower terminals wrap them.
const WIDTH: u16 = 96;
const LABEL_WIDTH: usize = 7;

fn lead_name(app: &App, id: i64) -> String {
    app.leads
        .get(id)
        .map_or_else(|| format!("lead #{id}"), |lead| lead.display_name())
}

fn label(text: &str, focused: bool) -> Span<'static> {
    let style = if focused {
        theme::EMPHASIS
    } else {
        theme::LABEL
    };
    Span::styled(format!("{text:>6} "), style)
}

/// `F`: the quick choices with their times, the typed time (and what it reads as), and what to do.
pub fn next_step(app: &App, id: i64, form: &NextStepForm, area: Rect, buf: &mut Buffer) {
    let zone = app.zone();
    // Choices, a blank, time, what, a blank, two rows for the message, the hints.
    let rows = form.choices.len() as u16 + 9;
    let inner = frame(
        &format!("Next step for {}", lead_name(app, id)),
        WIDTH,
        rows,
        area,
        buf,
    );
    let room = usize::from(inner.width).saturating_sub(LABEL_WIDTH);
    let on_choices = form.focus == NextStepField::Choices;
    let typed = form.time.value().trim();
    let mut lines: Vec<Line> = form
        .choices
        .iter()
        .enumerate()
        .map(|(index, choice)| {
            let chosen = index == form.chosen && typed.is_empty();
            let mark = if chosen { "› " } else { "  " };
            let line = Line::from(vec![
                Span::raw(format!("{:>LABEL_WIDTH$}", mark)),
                Span::styled(format!("{} ", index + 1), theme::EMPHASIS),
                Span::styled(format!("{:<18}", choice.label), theme::VALUE),
                Span::styled(show_due(choice.at, app.now, zone), theme::LABEL),
            ]);
            if chosen && on_choices {
                line.style(theme::SELECTED)
            } else {
                line
            }
        })
        .collect();
    let focused = |field| form.focus == field;
    let mut time = Line::from(label("Time", focused(NextStepField::Time)));
    time.spans
        .extend(input_line(&form.time, focused(NextStepField::Time), room / 2).spans);
    if !typed.is_empty()
        && let Ok(at) = parse_due(typed, app.now, zone)
    {
        time.spans.push(Span::styled(
            format!(" → {}", show_due(at, app.now, zone)),
            theme::OK,
        ));
    }
    lines.push(Line::default());
    lines.push(time);
    let mut what = Line::from(label("What", focused(NextStepField::What)));
    what.spans
        .extend(input_line(&form.what, focused(NextStepField::What), room).spans);
    lines.push(what);
    let message = match &form.error {
        Some(error) => Line::from(Span::styled(
            cut_to_width(error, usize::from(inner.width) * 2).to_string(),
            theme::ERROR,
        )),
        None => Line::from(Span::styled(
            format!("Times in {}; type 15:30, tue 10:00, +2h…", zone.name()),
            theme::LABEL,
        )),
    };
    let [fields, message_area, hints_area] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    Paragraph::new(lines).render(fields, buf);
    Paragraph::new(message)
        .wrap(Wrap { trim: false })
        .render(message_area, buf);
    let role = app.team.role();
    let hints = if on_choices {
        hint_text(keys::CHOICES.hints(role).chain(keys::NEXT_STEP.hints(role)))
    } else {
        hint_text(keys::NEXT_STEP.hints(role))
    };
    Line::from(Span::styled(hints, theme::LABEL)).render(hints_area, buf);
}

/// `t`: the four outcomes and a note.
pub fn attempt(app: &App, id: i64, form: &AttemptForm, area: Rect, buf: &mut Buffer) {
    let rows = CallOutcome::ALL.len() as u16 + 5;
    let inner = frame(
        &format!("Call to {}", lead_name(app, id)),
        WIDTH,
        rows,
        area,
        buf,
    );
    let mut lines: Vec<Line> = CallOutcome::ALL
        .iter()
        .enumerate()
        .map(|(index, outcome)| {
            let chosen = index == form.outcome;
            let line = Line::from(vec![
                Span::raw(if chosen { "› " } else { "  " }),
                Span::styled(format!("{} ", index + 1), theme::EMPHASIS),
                Span::styled(outcome.label(), theme::VALUE),
            ]);
            if chosen {
                line.style(theme::SELECTED)
            } else {
                line
            }
        })
        .collect();
    let room = usize::from(inner.width).saturating_sub(LABEL_WIDTH);
    let mut note = Line::from(label("Note", form.note_focused));
    note.spans
        .extend(input_line(&form.note, form.note_focused, room).spans);
    lines.push(Line::default());
    lines.push(note);
    let role = app.team.role();
    let hints = if form.note_focused {
        hint_text(keys::ATTEMPT.hints(role))
    } else {
        hint_text(keys::OUTCOMES.hints(role).chain(keys::ATTEMPT.hints(role)))
    };
    lines.push(Line::from(Span::styled(hints, theme::LABEL)));
    Paragraph::new(lines).render(inner, buf);
}
