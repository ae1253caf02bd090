//! Leads per day as bars stacked by source: ratatui's `BarChart` has no stacking, so this draws
//! them cell by cell, each series in its colour and glyph, with a day axis and a legend.

use leadhook_shared::insights::PerDay;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use unicode_width::UnicodeWidthStr;

use super::super::cut_to_width;
use crate::{sanitize, theme};

/// A glyph per series, in the order of [`theme::SERIES`].
const GLYPHS: [&str; 5] = ["█", "▓", "▒", "░", "▞"];
/// The top of a bar that fills less than half its cell.
const SLIVER: &str = "▁";

/// The bars of `per_day`, with `height` rows of bars above the day axis and the legend.
pub struct StackedBars<'a> {
    pub per_day: &'a PerDay,
}

impl StackedBars<'_> {
    /// Rows beside the bars: the day axis and the legend.
    pub const EXTRA_ROWS: u16 = 2;

    fn style(series: usize) -> (ratatui::style::Style, &'static str) {
        let at = series.min(GLYPHS.len() - 1);
        (theme::SERIES[at], GLYPHS[at])
    }
}

impl Widget for StackedBars<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.height <= Self::EXTRA_ROWS || area.width < 8 {
            return;
        }
        let days = &self.per_day.days;
        let max = days
            .iter()
            .map(|day| day.leads.iter().sum::<u64>())
            .max()
            .unwrap_or(0);
        let bars_height = area.height - Self::EXTRA_ROWS;
        let scale_width = max.to_string().len() as u16 + 1;
        let plot = Rect {
            x: area.x + scale_width,
            y: area.y,
            width: area.width.saturating_sub(scale_width),
            height: bars_height,
        };
        // The newest days when there are more than columns.
        let shown = &days[days.len().saturating_sub(usize::from(plot.width))..];
        let slot = plot.width / (shown.len().max(1) as u16);
        let bar = if slot >= 2 { slot - 1 } else { slot };
        let scale = usize::from(scale_width) - 1;
        buf.set_string(area.x, area.y, format!("{max:>scale$}"), theme::LABEL);
        let zero = plot.bottom() - 1;
        buf.set_string(area.x, zero, format!("{:>scale$}", 0), theme::LABEL);
        if max > 0 {
            let unit = max as f64 / f64::from(bars_height);
            for (index, day) in shown.iter().enumerate() {
                let x = plot.x + index as u16 * slot;
                for row in 0..bars_height {
                    let Some((series, glyph)) = cell(&day.leads, unit, row) else {
                        break;
                    };
                    let (style, full) = Self::style(series);
                    let symbol = if glyph { full } else { SLIVER };
                    for dx in 0..bar {
                        if let Some(cell) = buf.cell_mut((x + dx, plot.bottom() - 1 - row)) {
                            cell.set_symbol(symbol).set_style(style);
                        }
                    }
                }
            }
        }
        axis(shown, plot, slot, buf);
        legend(
            self.per_day,
            Rect {
                y: area.bottom() - 1,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

/// What the cell `row` rows above the axis shows of a day's stack: the series at its middle and
/// whether the stack reaches the middle (a full glyph) or only enters the cell (a sliver). A day
/// with leads always shows at least a sliver.
fn cell(leads: &[u64], unit: f64, row: u16) -> Option<(usize, bool)> {
    let total: u64 = leads.iter().sum();
    let bottom = f64::from(row) * unit;
    if total == 0 || (row > 0 && total as f64 <= bottom) {
        return None;
    }
    let middle = bottom + unit / 2.0;
    let mut below = 0;
    for (series, count) in leads.iter().enumerate() {
        below += count;
        if below as f64 >= middle {
            return Some((series, true));
        }
    }
    let top = leads.iter().rposition(|count| *count > 0).unwrap_or(0);
    Some((top, false))
}

/// The first and last day under the bars ("Nov 8", "Dec 7"), and the middle one when it fits.
fn axis(days: &[leadhook_shared::insights::DayLeads], plot: Rect, slot: u16, buf: &mut Buffer) {
    let y = plot.bottom();
    let label = |at: usize| days[at].day.format("%b %-d").to_string();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return;
    };
    if first.day == last.day {
        buf.set_string(plot.x, y, label(0), theme::LABEL);
        return;
    }
    let last_label = label(days.len() - 1);
    let last_x = (plot.x + (days.len() as u16 - 1) * slot + slot.max(1))
        .saturating_sub(last_label.width() as u16)
        .max(plot.x);
    buf.set_string(plot.x, y, label(0), theme::LABEL);
    let middle = days.len() / 2;
    let middle_label = label(middle);
    let middle_x = plot.x + middle as u16 * slot;
    if middle_x > plot.x + 8 && middle_x + (middle_label.width() as u16) + 2 < last_x {
        buf.set_string(middle_x, y, middle_label, theme::LABEL);
    }
    buf.set_string(last_x, y, last_label, theme::LABEL);
}

/// "█ Summer Giveaway  ▓ Spring Sale 2025 …"; when the whole labels do not fit, each is cut to
/// an equal share of the row.
fn legend(per_day: &PerDay, area: Rect, buf: &mut Buffer) {
    let labels: Vec<String> = per_day
        .series
        .iter()
        .map(|label| sanitize::screen(label).into_owned())
        .collect();
    let whole: usize = labels.iter().map(|label| label.width() + 4).sum();
    let room = if whole <= usize::from(area.width) {
        usize::MAX
    } else {
        usize::from(area.width) / labels.len().max(1)
    };
    let spans: Vec<Span> = labels
        .iter()
        .enumerate()
        .flat_map(|(series, label)| {
            let (style, glyph) = StackedBars::style(series);
            let label = cut_to_width(label, room.saturating_sub(4));
            [
                Span::styled(format!("{glyph} "), style),
                Span::styled(format!("{label}  "), theme::VALUE),
            ]
        })
        .collect();
    Line::from(spans).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_shows_the_series_at_its_middle() {
        // 4 + 2 leads, one lead a row: rows 0-3 are the first series, 4-5 the second.
        assert_eq!(cell(&[4, 2], 1.0, 0), Some((0, true)));
        assert_eq!(cell(&[4, 2], 1.0, 3), Some((0, true)));
        assert_eq!(cell(&[4, 2], 1.0, 4), Some((1, true)));
        assert_eq!(cell(&[4, 2], 1.0, 6), None);
        // A lone lead when a row is ten still shows, as a sliver of its series.
        assert_eq!(cell(&[0, 1], 10.0, 0), Some((1, false)));
        assert_eq!(cell(&[0, 0], 10.0, 0), None);
    }
}
