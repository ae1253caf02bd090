//! `--format csv`: a header, then one row per source, numbers as plain numbers (seconds for
//! speeds, two decimals for amounts). Cells are made safe for a spreadsheet as the export's are:
//! control characters go, and a cell a spreadsheet would run as a formula starts with `'`.

use std::io::Write;

use leadhook_shared::Insights;
use leadhook_shared::insights::SourceFigures;

use crate::sanitize;

const COLUMNS: [&str; 14] = [
    "key",
    "leads",
    "people",
    "junk",
    "contacted",
    "qualified",
    "won",
    "lost",
    "median_speed_secs",
    "p90_speed_secs",
    "spend",
    "cost_per_lead",
    "cost_per_contacted",
    "cost_per_won",
];

pub fn write(insights: &Insights, out: impl Write) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(out);
    // The first column is named for the grouping: campaign, adset, form...
    writer.write_record(std::iter::once(insights.by.as_str()).chain(COLUMNS))?;
    for source in &insights.sources {
        writer.write_record(cells(source).iter().map(|cell| cell_text(cell)))?;
    }
    writer.flush()?;
    Ok(())
}

fn cell_text(text: &str) -> String {
    sanitize::spreadsheet_cell(&sanitize::screen(text))
}

fn cells(source: &SourceFigures) -> Vec<String> {
    let funnel = &source.funnel;
    let number = |value: Option<u64>| value.map(|n| n.to_string()).unwrap_or_default();
    let amount = |value: Option<f64>| value.map(|n| format!("{n:.2}")).unwrap_or_default();
    let cost = source.cost.as_ref();
    vec![
        source.label.clone(),
        source.key.clone().unwrap_or_default(),
        funnel.leads.to_string(),
        funnel.people.to_string(),
        funnel.junk.to_string(),
        funnel.contacted.to_string(),
        funnel.qualified.to_string(),
        funnel.won.to_string(),
        funnel.lost.to_string(),
        number(funnel.median_speed_secs),
        number(funnel.p90_speed_secs),
        amount(cost.map(|cost| cost.spend)),
        amount(cost.and_then(|cost| cost.per_lead)),
        amount(cost.and_then(|cost| cost.per_contacted)),
        amount(cost.and_then(|cost| cost.per_won)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::insights::month;

    fn csv(insights: &Insights) -> String {
        let mut out = Vec::new();
        write(insights, &mut out).expect("written");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn a_header_then_a_row_per_source() {
        let text = csv(&month());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1 + month().sources.len(), "{text}");
        assert_eq!(
            lines[0],
            "campaign,key,leads,people,junk,contacted,qualified,won,lost,median_speed_secs,\
             p90_speed_secs,spend,cost_per_lead,cost_per_contacted,cost_per_won"
        );
        assert_eq!(
            lines[1],
            "Summer Giveaway,120210000000000400,232,220,9,160,19,4,6,410,20500,348.00,1.50,2.17,87.00"
        );
        assert!(lines[3].starts_with("(no campaign),,76,"), "{}", lines[3]);
    }

    #[test]
    fn formulas_and_control_characters_are_neutralised() {
        let mut insights = month();
        insights.sources[0].label = "=HYPERLINK(\"http://x\")".into();
        insights.sources[1].label = "Spring\u{1b}[31m\nSale".into();
        let text = csv(&insights);
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{text}");
        assert!(text.contains("Spring[31m Sale,"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
