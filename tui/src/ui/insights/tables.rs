//! The funnel of each source (leads → contacted → qualified → won, as shares, with the cost of
//! each where Meta said) and the reps' table. A narrow screen drops the least telling columns.

use leadhook_shared::insights::{Cost, RepInsights, SourceFigures};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, Widget};

use crate::figures::{money, percent, speed};
use crate::ui::thousands;
use crate::{sanitize, theme};

/// The source column never gets narrower than this while other columns go.
const SOURCE_MIN: u16 = 14;

/// A column of the sources' table; the lower `keep`, the longer it stays on a narrow screen.
struct Column {
    heading: &'static str,
    width: u16,
    keep: u8,
    costs: bool,
    value: fn(&SourceFigures) -> String,
}

fn cost(source: &SourceFigures, of: fn(&Cost) -> Option<f64>) -> String {
    money(source.cost.as_ref().and_then(of))
}

#[rustfmt::skip]
const COLUMNS: [Column; 12] = [
    Column { heading: "Leads", width: 6, keep: 0, costs: false, value: |s| thousands(s.funnel.leads as usize) },
    Column { heading: "People", width: 6, keep: 7, costs: false, value: |s| thousands(s.funnel.people as usize) },
    Column { heading: "Junk", width: 5, keep: 10, costs: false, value: |s| thousands(s.funnel.junk as usize) },
    Column { heading: "Contact", width: 7, keep: 2, costs: false, value: |s| percent(&s.funnel, s.funnel.contacted) },
    Column { heading: "Qualif", width: 6, keep: 3, costs: false, value: |s| percent(&s.funnel, s.funnel.qualified) },
    Column { heading: "Won", width: 9, keep: 1, costs: false, value: |s| format!("{} {:>4}", s.funnel.won, percent(&s.funnel, s.funnel.won)) },
    Column { heading: "Lost", width: 5, keep: 8, costs: false, value: |s| percent(&s.funnel, s.funnel.lost) },
    Column { heading: "Median", width: 6, keep: 4, costs: false, value: |s| speed(s.funnel.median_speed_secs) },
    Column { heading: "p90", width: 6, keep: 9, costs: false, value: |s| speed(s.funnel.p90_speed_secs) },
    Column { heading: "Spend", width: 10, keep: 11, costs: true, value: |s| cost(s, |c| Some(c.spend)) },
    Column { heading: "Per lead", width: 9, keep: 6, costs: true, value: |s| cost(s, |c| c.per_lead) },
    Column { heading: "Per won", width: 9, keep: 5, costs: true, value: |s| cost(s, |c| c.per_won) },
];

/// The columns that fit `width` beside the source's, in table order.
fn columns(width: u16, with_costs: bool) -> Vec<&'static Column> {
    let mut by_keep: Vec<&Column> = COLUMNS
        .iter()
        .filter(|column| with_costs || !column.costs)
        .collect();
    by_keep.sort_by_key(|column| column.keep);
    let mut room = width.saturating_sub(SOURCE_MIN);
    let mut kept = Vec::new();
    for column in by_keep {
        if column.width < room {
            room -= column.width + 1;
            kept.push(column.heading);
        }
    }
    COLUMNS
        .iter()
        .filter(|column| kept.contains(&column.heading))
        .collect()
}

fn right(text: String) -> Cell<'static> {
    Cell::from(Line::from(text).right_aligned())
}

/// Rows the sources' table takes: its header, a row a source and the total.
pub fn sources_height(sources: &[SourceFigures]) -> u16 {
    sources.len() as u16 + 2
}

/// `heading` names the grouping ("Campaign"); the last row is every lead of the period.
pub fn sources(
    heading: &str,
    sources: &[SourceFigures],
    total: &SourceFigures,
    area: Rect,
    buf: &mut Buffer,
) {
    let with_costs = sources.iter().any(|source| source.cost.is_some());
    let columns = columns(area.width, with_costs);
    let header = Row::new(
        std::iter::once(Cell::from(heading.to_string())).chain(
            columns
                .iter()
                .map(|column| right(column.heading.to_string())),
        ),
    )
    .style(theme::TABLE_HEADER);
    let row = |source: &SourceFigures, label: String| {
        Row::new(
            std::iter::once(Cell::from(label))
                .chain(columns.iter().map(|column| right((column.value)(source)))),
        )
    };
    let rows = sources
        .iter()
        .map(|source| row(source, sanitize::screen(&source.label).into_owned()))
        .chain(std::iter::once(
            row(total, "All".to_string()).style(theme::EMPHASIS),
        ));
    let widths = std::iter::once(Constraint::Fill(1)).chain(
        columns
            .iter()
            .map(|column| Constraint::Length(column.width)),
    );
    Widget::render(Table::new(rows, widths).header(header), area, buf);
}

/// Rows the reps' table takes: a title, its header and a row a rep.
pub fn reps_height(reps: &[RepInsights]) -> u16 {
    reps.len() as u16 + 2
}

pub fn reps(reps: &[RepInsights], area: Rect, buf: &mut Buffer) {
    Line::styled("Reps", theme::TITLE).render(area, buf);
    let area = Rect {
        y: area.y + 1,
        height: area.height.saturating_sub(1),
        ..area
    };
    let header = Row::new([
        Cell::from("Rep"),
        right("Leads".into()),
        right("Contacted".into()),
        right("Median".into()),
        right("Won".into()),
    ])
    .style(theme::TABLE_HEADER);
    let rows = reps.iter().map(|rep| {
        let contacted = match rep.leads {
            0 => "–".to_string(),
            leads => format!(
                "{} {:>3.0}%",
                rep.contacted,
                rep.contacted as f64 * 100.0 / leads as f64
            ),
        };
        Row::new([
            Cell::from(sanitize::screen(&rep.name).into_owned()),
            right(thousands(rep.leads as usize)),
            right(contacted),
            right(speed(rep.median_speed_secs)),
            right(thousands(rep.won as usize)),
        ])
    });
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(7),
        Constraint::Length(5),
    ];
    Widget::render(Table::new(rows, widths).header(header), area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headings(width: u16, costs: bool) -> Vec<&'static str> {
        columns(width, costs)
            .iter()
            .map(|column| column.heading)
            .collect()
    }

    #[test]
    fn a_narrow_table_keeps_the_funnel_and_drops_the_rest() {
        assert_eq!(
            headings(78, true),
            [
                "Leads", "Contact", "Qualif", "Won", "Median", "Per lead", "Per won"
            ]
        );
        assert_eq!(headings(40, false), ["Leads", "Contact", "Won"]);
        assert_eq!(headings(200, true).len(), COLUMNS.len());
        assert!(!headings(200, false).contains(&"Spend"));
    }
}
