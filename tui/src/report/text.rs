//! `--format text`: the period and its totals, the sources' table (leads, people, contacted,
//! speeds, stages, costs where Meta said), then the reps'; columns aligned, names made safe for
//! a terminal.

use leadhook_shared::Insights;
use leadhook_shared::insights::SourceFigures;
use unicode_width::UnicodeWidthStr;

use crate::figures::{grouping_of, money, percent, speed, spend_note};
use crate::sanitize;
use crate::ui::thousands;

pub fn report(insights: &Insights) -> String {
    let period = &insights.period;
    let grouping = grouping_of(insights);
    let heading = grouping
        .as_ref()
        .map_or("Source", |grouping| grouping.heading());
    let days = if period.first_day == period.last_day {
        period.first_day.to_string()
    } else {
        format!("{} – {}", period.first_day, period.last_day)
    };
    let total = &insights.total.funnel;
    let mut text = format!(
        "Insights · {} ({days}, {}) · by {} · {}\n",
        sanitize::screen(&period.label),
        sanitize::screen(&period.time_zone),
        heading.to_lowercase(),
        spend_note(&insights.spend, grouping.as_ref()),
    );
    text.push_str(&format!(
        "{} leads · {} people · {} contacted · {} qualified · {} won · {} lost · median speed {}, p90 {}\n\n",
        thousands(total.leads as usize),
        thousands(total.people as usize),
        percent(total, total.contacted),
        percent(total, total.qualified),
        percent(total, total.won),
        percent(total, total.lost),
        speed(total.median_speed_secs),
        speed(total.p90_speed_secs),
    ));
    if insights.sources.is_empty() {
        text.push_str("No leads in this period.\n");
        return text;
    }
    let costs = insights.sources.iter().any(|source| source.cost.is_some());
    let mut header = vec![
        heading,
        "Leads",
        "People",
        "Contacted",
        "Median",
        "p90",
        "Qualified",
        "Won",
        "Lost",
    ];
    if costs {
        header.extend(["Per lead", "Per contacted", "Per won"]);
    }
    let rows = insights
        .sources
        .iter()
        .map(|source| source_row(source, &source.label, costs))
        .chain(std::iter::once(source_row(&insights.total, "All", costs)))
        .collect();
    text.push_str(&table(&header, rows));
    if !insights.per_rep.is_empty() {
        text.push('\n');
        let rows = insights
            .per_rep
            .iter()
            .map(|rep| {
                let contacted = match rep.leads {
                    0 => "–".to_string(),
                    leads => format!("{:.0}%", rep.contacted as f64 * 100.0 / leads as f64),
                };
                vec![
                    sanitize::screen(&rep.name).into_owned(),
                    thousands(rep.leads as usize),
                    contacted,
                    speed(rep.median_speed_secs),
                    thousands(rep.won as usize),
                ]
            })
            .collect();
        text.push_str(&table(
            &["Rep", "Leads", "Contacted", "Median", "Won"],
            rows,
        ));
    }
    text
}

fn source_row(source: &SourceFigures, label: &str, costs: bool) -> Vec<String> {
    let funnel = &source.funnel;
    let mut row = vec![
        sanitize::screen(label).into_owned(),
        thousands(funnel.leads as usize),
        thousands(funnel.people as usize),
        percent(funnel, funnel.contacted),
        speed(funnel.median_speed_secs),
        speed(funnel.p90_speed_secs),
        percent(funnel, funnel.qualified),
        percent(funnel, funnel.won),
        percent(funnel, funnel.lost),
    ];
    if costs {
        let cost = source.cost.as_ref();
        row.extend([
            money(cost.and_then(|cost| cost.per_lead)),
            money(cost.and_then(|cost| cost.per_contacted)),
            money(cost.and_then(|cost| cost.per_won)),
        ]);
    }
    row
}

/// The first column left-aligned, the others right-aligned, two spaces apart.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.width()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut line = String::new();
        for (at, (cell, width)) in cells.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(width - cell.width());
            if at == 0 {
                line.push_str(&format!("{cell}{pad}"));
            } else {
                line.push_str(&format!("  {pad}{cell}"));
            }
        }
        format!("{}\n", line.trim_end())
    };
    let mut text = line(header.to_vec());
    for row in &rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

#[cfg(test)]
mod tests {
    use leadhook_shared::insights::SpendStatus;

    use super::*;
    use crate::fixtures::insights::{empty, month};

    #[test]
    fn a_month_by_campaign_with_costs() {
        insta::assert_snapshot!(report(&month()));
    }

    #[test]
    fn without_cost_the_cost_columns_go_and_the_reason_stays() {
        let mut insights = month();
        insights.by = "platform".into();
        insights.spend = SpendStatus::NotForGrouping;
        for source in &mut insights.sources {
            source.cost = None;
        }
        let text = report(&insights);
        assert!(
            text.contains("· by platform · no cost by platform"),
            "{text}"
        );
        assert!(text.contains("\nPlatform "), "{text}");
        assert!(!text.contains("Per won"), "{text}");
    }

    #[test]
    fn an_empty_period_says_so() {
        let text = report(&empty());
        assert!(text.ends_with("No leads in this period.\n"), "{text}");
        assert!(text.contains("0 leads"), "{text}");
    }

    #[test]
    fn names_with_control_characters_stay_one_aligned_line() {
        let mut insights = month();
        insights.sources[0].label = "Giveaway\n\u{1b}[2J日本".into();
        let text = report(&insights);
        assert!(!text.contains('\u{1b}'), "{text}");
        let table: Vec<&str> = text.lines().skip(3).take(3).collect();
        assert!(table[1].starts_with("Giveaway [2J日本"), "{table:?}");
        let widths: Vec<usize> = table.iter().map(|line| line.width()).collect();
        assert!(widths.iter().all(|width| *width == widths[0]), "{table:#?}");
    }
}
