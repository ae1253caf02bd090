//! `leadhook report`: the insights screen's figures printed for a period, as aligned text, CSV
//! for a spreadsheet, or the server's JSON. Campaign, ad and form names come from Meta: text is
//! made safe for a terminal, CSV cells for a spreadsheet, JSON has its hazards escaped.

mod args;
mod csv_rows;
mod text;

use std::io::Write;

use leadhook_shared::insights::InsightsParamError;
use leadhook_shared::{Insights, InsightsParams};

pub use self::args::{ReportArgs, ReportFormat, ReportPeriod};
use crate::client::Client;
use crate::client_error::ClientError;
use crate::config::Settings;
use crate::{figures, sanitize, zone};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Period(#[from] InsightsParamError),
    #[error("{}", figures::failure(.0))]
    Fetch(ClientError),
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Asks the server for the figures of `args`' period in this computer's zone, and prints them.
pub async fn run(settings: Settings, args: ReportArgs) -> Result<(), ReportError> {
    let (zone, _) = zone::local_zone();
    let params = InsightsParams::new(args.period(), &args.by, zone.name());
    params.read()?;
    let insights = Client::new(&settings)
        .insights(&params)
        .await
        .map_err(ReportError::Fetch)?;
    match write(&insights, args.format, &mut std::io::stdout().lock()) {
        // A closed pipe (`| head`) just ends the output.
        Err(ReportError::Write(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// `insights` in `format` to `out`.
pub fn write(
    insights: &Insights,
    format: ReportFormat,
    out: &mut impl Write,
) -> Result<(), ReportError> {
    match format {
        ReportFormat::Text => out.write_all(text::report(insights).as_bytes())?,
        ReportFormat::Csv => csv_rows::write(insights, &mut *out)?,
        ReportFormat::Json => {
            let line = serde_json::to_string(insights).map_err(std::io::Error::other)?;
            writeln!(out, "{}", sanitize::json(line))?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::insights::month;

    #[test]
    fn json_is_the_answer_on_one_line_with_hazards_escaped() {
        let mut insights = month();
        insights.sources[0].label = "Giveaway\u{202e}".into();
        let mut out = Vec::new();
        write(&insights, ReportFormat::Json, &mut out).expect("written");
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("Giveaway\\u202e"), "{text}");
        let read: Insights = serde_json::from_str(&text).expect("the answer reads back");
        assert_eq!(read, insights);
    }
}
