//! `x`: the leads on screen, as CSV.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use leadhook_shared::Lead;

const COLUMNS: [&str; 13] = [
    "id",
    "created_at",
    "received_at",
    "name",
    "phone",
    "email",
    "status",
    "form",
    "campaign",
    "ad",
    "manual",
    "answers",
    "notes",
];

#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}; run leadhook from a folder you can write to", path.display())]
pub struct ExportError {
    path: PathBuf,
    source: csv::Error,
}

/// `leadhook-20260310-150000.csv` in `dir`, named after the local time.
pub fn path_for(dir: &Path, now: DateTime<Utc>, tz: FixedOffset) -> PathBuf {
    let stamp = now.with_timezone(&tz).format("%Y%m%d-%H%M%S");
    dir.join(format!("leadhook-{stamp}.csv"))
}

pub fn write_csv(path: &Path, leads: &[Lead]) -> Result<(), ExportError> {
    let error = |source| ExportError {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(error)?;
    writer.write_record(COLUMNS).map_err(error)?;
    for lead in leads {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let answers = lead
            .fields
            .iter()
            .map(|(question, answer)| format!("{question}: {}", answer.text()))
            .collect::<Vec<_>>()
            .join("; ");
        writer
            .write_record([
                lead.id.to_string(),
                lead.created_at.to_rfc3339(),
                lead.received_at.to_rfc3339(),
                text(&lead.name),
                text(&lead.phone),
                text(&lead.email),
                lead.status.to_string(),
                text(&lead.form_name),
                text(&lead.campaign_name),
                text(&lead.ad_name),
                lead.is_manual.to_string(),
                answers,
                text(&lead.notes),
            ])
            .map_err(error)?;
    }
    writer.flush().map_err(|err| error(err.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{lead, now};

    #[test]
    fn writes_a_header_and_one_quoted_row_per_lead() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), now(), FixedOffset::east_opt(0).unwrap());
        assert!(path.ends_with("leadhook-20260310-150000.csv"));
        let mut jane = lead(7, "Jane Doe", 0);
        jane.notes = Some("called, \"call back\" Friday\nafter 5".into());
        write_csv(&path, &[jane, lead(8, "Bob", 1)]).unwrap();

        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap(), COLUMNS.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][3], "Jane Doe");
        assert_eq!(&rows[0][12], "called, \"call back\" Friday\nafter 5");
        assert!(rows[0][11].contains("interested_in: Solar panels, Battery"));
    }

    #[test]
    fn unwritable_folder_says_what_to_do() {
        let err = write_csv(Path::new("/nonexistent/dir/x.csv"), &[]).unwrap_err();
        assert!(err.to_string().contains("folder you can write to"), "{err}");
    }
}
