//! Drawing: `impl Widget for &App`, one module per part of the screen.
//!
//! Rendering reads the clock from `app.now` only, so snapshots are stable.

mod columns;
mod contact;
mod conversation;
mod detail;
mod due;
mod follow_up_popup;
mod header;
mod history;
mod insights;
mod people;
mod person_detail;
mod popup;
mod status_bar;
mod table;
mod toast;

#[cfg(test)]
mod answer_column_snapshots;
#[cfg(test)]
mod contact_snapshots;
#[cfg(test)]
mod conversation_snapshots;
#[cfg(test)]
mod detail_snapshots;
#[cfg(test)]
mod erased_snapshots;
#[cfg(test)]
mod follow_up_snapshots;
#[cfg(test)]
mod insights_snapshots;
#[cfg(test)]
mod paging_snapshots;
#[cfg(test)]
mod people_snapshots;
#[cfg(test)]
mod phone_snapshots;
#[cfg(test)]
mod role_snapshots;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod team_snapshots;

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthChar;

use crate::app::{App, Mode, Pane};
use crate::input::TextInput;
use crate::keys::Hint;
use crate::{sanitize, theme};

/// From this width on, details open beside the table instead of over it.
const SIDE_BY_SIDE_WIDTH: u16 = 110;

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        self.screen_links.borrow_mut().clear();
        // The insights have their own header: the leads' one would only take their rows.
        let header_rows = if self.mode.pane() == Pane::Insights {
            0
        } else {
            3
        };
        let [header, body, status, hints] = Layout::vertical([
            Constraint::Length(header_rows),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        if header_rows > 0 {
            header::render(self, header, buf);
        }
        // Toasts go over the table, inside its border, and never over the details' text.
        let inside = |area: Rect| area.inner(Margin::new(1, 1));
        let toasts = match (self.mode.pane(), self.selected_lead()) {
            (Pane::Detail { scroll }, Some(lead)) if body.width >= SIDE_BY_SIDE_WIDTH => {
                let [list, side] =
                    Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                        .areas(body);
                table::render(self, list, buf);
                detail::render(self, lead, scroll, side, buf);
                inside(list)
            }
            (Pane::Detail { scroll }, Some(lead)) => {
                let rows = toast::height(self, body.width).min(body.height.saturating_sub(3));
                let [details, below] =
                    Layout::vertical([Constraint::Fill(1), Constraint::Length(rows)]).areas(body);
                detail::render(self, lead, scroll, details, buf);
                below
            }
            (Pane::Due { at, whose }, _) => {
                due::render(self, at, whose, body, buf);
                inside(body)
            }
            (Pane::Insights, _) => {
                insights::render(self, body, buf);
                inside(body)
            }
            _ => {
                table::render(self, body, buf);
                inside(body)
            }
        };
        status_bar::render(self, status, buf);
        status_bar::render_hints(self, hints, buf);
        toast::render(self, toasts, buf);
        match &self.mode {
            Mode::Help { .. } => popup::help(self.team.role(), &self.help_scroll, area, buf),
            Mode::NewLead(form) => popup::new_lead(form, area, buf),
            Mode::Paging(form) => popup::paging(self, form, area, buf),
            Mode::Notes { id, input, .. } => popup::notes(self, *id, input, area, buf),
            Mode::Assign { id, at, .. } => popup::assign(self, *id, *at, area, buf),
            Mode::NextStep { id, form, .. } => {
                follow_up_popup::next_step(self, *id, form, area, buf)
            }
            Mode::Attempt { id, form, .. } => follow_up_popup::attempt(self, *id, form, area, buf),
            Mode::ConfirmMerge { id, into, .. } => {
                people::confirm_merge(self, *id, *into, area, buf)
            }
            Mode::Unlink { id, at, .. } => people::unlink(self, *id, *at, area, buf),
            Mode::Browse(_) | Mode::Search => {}
        }
        neutralise(area, buf);
    }
}

/// The last word on what reaches the terminal, wherever the text came from: ratatui drops
/// control characters itself but keeps zero-width ones in the cell before them, which lets a
/// lead's bidirectional override reorder the rest of the row.
fn neutralise(area: Rect, buf: &mut Buffer) {
    for position in area.positions() {
        if let Some(cell) = buf.cell_mut(position)
            && cell.symbol().chars().any(sanitize::is_hazard)
        {
            let kept = sanitize::screen(cell.symbol()).into_owned();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

/// "45s", "2m", "3h", "4d": how long ago `then` was.
pub fn age(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    span(now - then)
}

/// "45s", "2m", "3h", "4d": a length of time in its largest whole unit.
pub fn span(length: chrono::Duration) -> String {
    let seconds = length.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m", seconds / 60),
        3_600..86_400 => format!("{}h", seconds / 3_600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|group| std::str::from_utf8(group).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

/// Hints as one line of text: "⏎ save · Esc cancel".
fn hint_text<'a>(hints: impl Iterator<Item = &'a Hint>) -> String {
    hints
        .map(|hint| format!("{} {}", hint.keys, hint.text))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A text field in `width` columns, with its cursor shown as a reversed cell when focused.
/// Text longer than the field scrolls so the cursor stays in view; only what shows is built.
fn input_line(input: &TextInput, focused: bool, width: usize) -> Line<'static> {
    let (before, after) = input.split_at_cursor();
    if !focused {
        let shown = cut_to_width(before, width);
        let mut text = shown.to_string();
        if shown.len() == before.len() {
            text.push_str(cut_to_width(
                after,
                width.saturating_sub(Line::from(shown).width()),
            ));
        }
        return Line::from(Span::styled(text, theme::INPUT));
    }
    let room = width.saturating_sub(1);
    let mut used = 0;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| {
            used += c.width().unwrap_or(0);
            used <= room
        })
        .last()
        .map_or(before.len(), |(at, _)| at);
    let before = &before[start..];
    let mut rest = after.chars();
    let at = rest.next().map_or_else(|| " ".to_string(), String::from);
    let after = cut_to_width(
        rest.as_str(),
        room.saturating_sub(Line::from(before).width()),
    );
    Line::from(vec![
        Span::styled(before.to_string(), theme::INPUT),
        Span::styled(at, theme::INPUT.patch(theme::CURSOR)),
        Span::styled(after.to_string(), theme::INPUT),
    ])
}

/// The start of `text` that fills at most `columns` columns. Zero-width characters count as
/// one, so a run of combining marks cannot make it unbounded either.
fn cut_to_width(text: &str, columns: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.width().unwrap_or(0).max(1);
        if used > columns {
            return &text[..at];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn ages_use_the_largest_whole_unit() {
        let now = crate::fixtures::now();
        let cases = [
            (Duration::seconds(-5), "0s"),
            (Duration::seconds(45), "45s"),
            (Duration::minutes(2), "2m"),
            (Duration::minutes(185), "3h"),
            (Duration::days(4), "4d"),
        ];
        for (ago, expected) in cases {
            assert_eq!(age(now, now - ago), expected);
        }
    }

    /// A field holding a 2 MB note shows the part around the cursor, not all of it.
    #[test]
    fn a_long_field_shows_a_window_that_keeps_the_cursor() {
        let mut input = TextInput::new(&format!("{}end", "x".repeat(2_000_000)));
        let line = input_line(&input, true, 70);
        assert_eq!(line.width(), 70);
        assert!(line.to_string().ends_with("end "), "{line}");
        input.handle(&crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Home,
        ));
        let line = input_line(&input, true, 70);
        assert_eq!(line.to_string(), "x".repeat(70));
        assert_eq!(input_line(&input, false, 5).to_string(), "xxxxx");
        let wide = TextInput::new("日本語のメモ");
        assert_eq!(input_line(&wide, true, 8).to_string(), "のメモ ");
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
