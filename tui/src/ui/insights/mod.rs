//! The insights screen of `I`: a header (period, zone, grouping, whether there is cost), leads
//! per day stacked by source, each source's funnel and cost, the speed-to-lead histogram and the
//! reps. Narrow, the parts stack and scroll (`j`/`k`); from [`SIDE_BY_SIDE_WIDTH`] columns the
//! speed and the reps go beside the bars, which grow to the height left, above the sources.
//!
//! Everything is drawn onto a canvas as tall as the parts need, and the rows that fit are copied
//! to the screen, so scrolling moves whole parts without each knowing about it.

mod per_day;
mod speed;
mod tables;

use leadhook_shared::{Grouping, Insights};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use self::per_day::StackedBars;
use crate::app::{App, HelpScroll, InsightsView};
use crate::figures::{failure, grouping_of, percent, speed as speed_text, spend_note};
use crate::ui::thousands;
use crate::{sanitize, theme};

/// From this width on, the speed and the reps sit beside the bars and the sources.
pub const SIDE_BY_SIDE_WIDTH: u16 = 120;
/// Rows of bars: fewer when narrow, where everything else is below them.
const BARS_NARROW: u16 = 6;
const BARS_WIDE: u16 = 10;
/// Taller bars say no more; the rest of a tall screen stays empty.
const BARS_MOST: u16 = 20;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let view = &app.insights;
    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(title(view));
    let inner = block.inner(area);
    block.render(area, buf);
    let mut notes = Vec::new();
    if let Some(error) = &view.error {
        notes.push(Line::styled(failure(error), theme::ERROR));
    }
    let Some(figures) = &view.figures else {
        if view.loading.is_some() {
            notes.push(Line::styled(
                format!("Loading the insights of the {}…", view.period.label()),
                theme::WARN,
            ));
        }
        Paragraph::new(notes)
            .wrap(Wrap { trim: true })
            .render(inner, buf);
        return;
    };
    let canvas = draw(figures, &notes, inner);
    let height = canvas.area.height;
    let max = height.saturating_sub(inner.height);
    let at = view.scroll.get().at.min(max);
    view.scroll.set(HelpScroll { at, max });
    for y in 0..inner.height.min(height - at) {
        for x in 0..inner.width {
            if let (Some(from), Some(to)) = (
                canvas.cell((x, y + at)),
                buf.cell_mut((inner.x + x, inner.y + y)),
            ) {
                *to = from.clone();
            }
        }
    }
}

/// " Insights · last 30 days · by campaign · loading… "
fn title(view: &InsightsView) -> Line<'static> {
    let mut spans = vec![
        Span::styled(" Insights ", theme::TITLE),
        Span::styled(
            format!(
                "· {} · by {} ",
                view.period.label(),
                view.grouping.heading().to_lowercase()
            ),
            theme::LABEL,
        ),
    ];
    if view.loading.is_some() {
        spans.push(Span::styled("· loading… ", theme::WARN));
    }
    Line::from(spans)
}

/// The whole screen's parts on a canvas as wide as `area` and as tall as they need (at least
/// `area`'s height when wide, the bars taking what is left).
fn draw(figures: &Insights, notes: &[Line<'static>], area: Rect) -> Buffer {
    let width = area.width;
    let wide = width >= SIDE_BY_SIDE_WIDTH;
    let empty = figures.total.funnel.leads == 0;
    let grouping = grouping_of(figures);
    let heading = grouping.as_ref().map_or("Source", Grouping::heading);
    let sources = tables::sources_height(&figures.sources) + 1;
    let side = speed::HEIGHT + 1 + tables::reps_height(&figures.per_rep);
    let top = notes.len() as u16 + 2;
    let chart = |rows: u16| rows + StackedBars::EXTRA_ROWS + 1;
    // Wide, the bars beside the speed and the reps, all above the sources.
    let bars = if wide {
        let left = area.height.saturating_sub(top + sources);
        chart(BARS_WIDE).max(side).max(left.min(chart(BARS_MOST)))
    } else {
        chart(BARS_NARROW)
    };
    let body = match (empty, wide) {
        (true, _) => 2,
        (false, true) => bars + sources,
        (false, false) => bars + sources + side,
    };
    let mut canvas = Buffer::empty(Rect::new(0, 0, width, top + body));
    let mut y = 0;
    for note in notes {
        note.clone().render(Rect::new(0, y, width, 1), &mut canvas);
        y += 1;
    }
    header(figures, Rect::new(0, y, width, 2), &mut canvas);
    y += 2;
    if empty {
        let text = "No leads in this period: p shows another one.";
        Line::styled(text, theme::LABEL).render(Rect::new(0, y + 1, width, 1), &mut canvas);
        return canvas;
    }
    // The bars' column, the speed and reps' column, and the sources' row.
    let (left, right, below) = if wide {
        let left = width * 3 / 5;
        (
            Rect::new(0, y, left - 1, bars),
            Rect::new(left + 1, y, width - left - 1, side),
            Rect::new(0, y + bars, width, sources),
        )
    } else {
        (
            Rect::new(0, y, width, bars),
            Rect::new(0, y + bars + sources, width, side),
            Rect::new(0, y + bars, width, sources),
        )
    };
    let bars_area = Rect::new(left.x, left.y + 1, left.width, bars - 1);
    Line::styled("Leads per day", theme::TITLE).render(Rect { height: 1, ..left }, &mut canvas);
    StackedBars {
        per_day: &figures.per_day,
    }
    .render(bars_area, &mut canvas);
    let sources_area = Rect {
        height: sources - 1,
        ..below
    };
    tables::sources(
        heading,
        &figures.sources,
        &figures.total,
        sources_area,
        &mut canvas,
    );
    let speed_area = Rect {
        height: speed::HEIGHT,
        ..right
    };
    speed::render(&figures.speed_histogram, speed_area, &mut canvas);
    let reps_area = Rect::new(
        right.x,
        right.y + speed::HEIGHT + 1,
        right.width,
        tables::reps_height(&figures.per_rep),
    );
    tables::reps(&figures.per_rep, reps_area, &mut canvas);
    canvas
}

/// "2026-11-08 – 2026-12-07 · Europe/Berlin · cost in EUR", then the period's totals.
fn header(figures: &Insights, area: Rect, buf: &mut Buffer) {
    let period = &figures.period;
    let days = if period.first_day == period.last_day {
        period.first_day.to_string()
    } else {
        format!("{} – {}", period.first_day, period.last_day)
    };
    let spend = spend_note(&figures.spend, grouping_of(figures).as_ref());
    Line::from(vec![
        Span::styled(days, theme::VALUE),
        Span::styled(
            format!(" · {} · {spend}", sanitize::screen(&period.time_zone)),
            theme::LABEL,
        ),
    ])
    .render(Rect { height: 1, ..area }, buf);
    let total = &figures.total.funnel;
    let part = |value: String, what: &str| {
        [
            Span::styled(value, theme::EMPHASIS),
            Span::styled(format!(" {what} · "), theme::LABEL),
        ]
    };
    let mut spans: Vec<Span> = [
        part(thousands(total.leads as usize), "leads"),
        part(thousands(total.people as usize), "people"),
        part(percent(total, total.contacted), "contacted"),
        part(percent(total, total.qualified), "qualified"),
        part(percent(total, total.won), "won"),
    ]
    .into_iter()
    .flatten()
    .collect();
    spans.push(Span::styled("median speed ", theme::LABEL));
    // Narrow, "median speed" gives way to its value.
    if Line::from(spans.clone()).width() + 6 > usize::from(area.width) {
        spans.pop();
        spans.push(Span::styled("median ", theme::LABEL));
    }
    spans.push(Span::styled(
        speed_text(total.median_speed_secs),
        theme::EMPHASIS,
    ));
    Line::from(spans).render(
        Rect {
            y: area.y + 1,
            height: 1,
            ..area
        },
        buf,
    );
}
