//! `x`: the leads on screen, as CSV.
//!
//! The list keeps no form answers, so the leads are fetched whole, newest first as the table
//! shows them, and written as they come: memory stays at one page whatever the number of leads.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use leadhook_shared::Lead;

use crate::client::Client;
use crate::client_error::ClientError;
use crate::sanitize;

const COLUMNS: [&str; 16] = [
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
    "owner",
    "first_contact_at",
    "speed_to_lead_secs",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}; run leadhook from a folder you can write to", path.display())]
    Write { path: PathBuf, source: csv::Error },
    #[error("cannot fetch the leads: {0}")]
    Fetch(#[from] ClientError),
}

/// `leadhook-20260310-150000.csv` in `dir`, named after the local time.
pub fn path_for(dir: &Path, now: DateTime<Utc>, tz: FixedOffset) -> PathBuf {
    let stamp = now.with_timezone(&tz).format("%Y%m%d-%H%M%S");
    dir.join(format!("leadhook-{stamp}.csv"))
}

/// Fetches the leads `ids` whole and writes them to `path`, newest first (the table's order);
/// how many rows were written. A failed export leaves no file behind.
pub async fn export(client: &Client, ids: Vec<i64>, path: &Path) -> Result<usize, ExportError> {
    let written = fetch_and_write(client, ids, path).await;
    if written.is_err() {
        // Best effort: a half-written file would pass for the whole export.
        let _ = std::fs::remove_file(path);
    }
    written
}

async fn fetch_and_write(
    client: &Client,
    ids: Vec<i64>,
    path: &Path,
) -> Result<usize, ExportError> {
    let mut file = CsvFile::create(path)?;
    let mut wanted: HashSet<i64> = ids.into_iter().collect();
    let mut offset = 0;
    while !wanted.is_empty() {
        let page = client.newest_first(offset).await?;
        offset += page.data.len();
        for lead in page.data.iter().filter(|lead| wanted.remove(&lead.id)) {
            file.write(lead)?;
        }
        if page.is_last() {
            break;
        }
    }
    file.finish()
}

/// A CSV file of leads being written.
pub struct CsvFile {
    path: PathBuf,
    writer: csv::Writer<File>,
    written: usize,
}

impl CsvFile {
    /// Creates `path`, readable by its owner only, and writes the header.
    pub fn create(path: &Path) -> Result<CsvFile, ExportError> {
        let file = create_private(path).map_err(|err| write_error(path, err.into()))?;
        let mut writer = csv::Writer::from_writer(file);
        writer
            .write_record(COLUMNS)
            .map_err(|err| write_error(path, err))?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            writer,
            written: 0,
        })
    }

    /// Adds `lead`, unless it is erased (nothing of the person is left to export).
    pub fn write(&mut self, lead: &Lead) -> Result<(), ExportError> {
        if lead.erased_at.is_some() {
            return Ok(());
        }
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        let answers = lead
            .meta
            .fields
            .iter()
            .map(|(question, answer)| format!("{question}: {}", answer.text()))
            .collect::<Vec<_>>()
            .join("; ");
        let cells = [
            lead.id.to_string(),
            lead.meta.created_at.to_rfc3339(),
            lead.received_at.to_rfc3339(),
            text(&lead.meta.name),
            text(&lead.meta.phone),
            text(&lead.meta.email),
            lead.status.to_string(),
            text(&lead.meta.form_name),
            text(&lead.meta.campaign_name),
            text(&lead.meta.ad_name),
            lead.is_manual.to_string(),
            answers,
            text(&lead.notes),
            text(&lead.owner),
            lead.first_contact_at
                .map(|at| at.to_rfc3339())
                .unwrap_or_default(),
            lead.speed_to_lead()
                .map(|speed| speed.num_seconds().to_string())
                .unwrap_or_default(),
        ];
        self.writer
            .write_record(cells.iter().map(|cell| sanitize::spreadsheet_cell(cell)))
            .map_err(|err| write_error(&self.path, err))?;
        self.written += 1;
        Ok(())
    }

    /// Flushes the file; how many rows were written.
    pub fn finish(mut self) -> Result<usize, ExportError> {
        self.writer
            .flush()
            .map_err(|err| write_error(&self.path, err.into()))?;
        Ok(self.written)
    }
}

fn write_error(path: &Path, source: csv::Error) -> ExportError {
    ExportError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates (or truncates) `path` readable and writable by its owner only: exports hold
/// customers' contact details.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // An older file of the same name keeps its mode through `open`; tighten it too.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{lead, now};

    fn write_csv(path: &Path, leads: &[Lead]) -> Result<usize, ExportError> {
        let mut file = CsvFile::create(path)?;
        for lead in leads {
            file.write(lead)?;
        }
        file.finish()
    }

    #[test]
    fn writes_a_header_and_one_quoted_row_per_lead() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(dir.path(), now(), FixedOffset::east_opt(0).unwrap());
        assert!(path.ends_with("leadhook-20260310-150000.csv"));
        let mut jane = lead(7, "Jane Doe", 0);
        jane.notes = Some("called, \"call back\" Friday\nafter 5".into());
        jane.owner = Some("alice".into());
        jane.first_contact_at = Some(jane.meta.created_at + chrono::Duration::seconds(95));
        assert_eq!(write_csv(&path, &[jane, lead(8, "Bob", 1)]).unwrap(), 2);

        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap(), COLUMNS.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][3], "Jane Doe");
        assert_eq!(&rows[0][12], "called, \"call back\" Friday\nafter 5");
        assert!(rows[0][11].contains("interested_in: Solar panels, Battery"));
        assert_eq!(&rows[0][13], "alice");
        assert_eq!(&rows[0][14], "2026-03-10T15:01:35+00:00");
        assert_eq!(&rows[0][15], "95");
        // Bob is unowned and not contacted yet.
        assert_eq!([&rows[1][13], &rows[1][14], &rows[1][15]], ["", "", ""]);
    }

    #[test]
    fn erased_leads_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let mut erased = lead(9, "Gone Person", 2);
        erased.erased_at = Some(now());
        assert_eq!(
            write_csv(&path, &[lead(7, "Jane Doe", 0), erased, lead(8, "Bob", 1)]).unwrap(),
            2
        );
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let ids: Vec<String> = reader
            .records()
            .map(|row| row.unwrap()[0].to_string())
            .collect();
        assert_eq!(ids, ["7", "8"]);
    }

    #[test]
    fn formulas_are_neutralised_and_a_phone_stays_readable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let mut eve = lead(9, "=HYPERLINK(\"http://evil.test\",\"click\")", 0);
        eve.meta.phone = Some("+15551234567".into());
        eve.meta.email = Some("@SUM(1+1)*cmd|' /C calc'!A0".into());
        eve.notes = Some("-2+3+cmd|' /C calc'!A0".into());
        eve.meta.campaign_name = Some("\t=1+1".into());
        eve.meta.ad_name = Some("\r=1+1".into());
        eve.meta.form_name = Some("Spring \u{202e}Promo".into());
        eve.meta.fields = [(
            "=cmd".to_string(),
            leadhook_shared::Answer::One("-1".into()),
        )]
        .into();
        write_csv(&path, &[eve]).unwrap();

        let mut reader = csv::Reader::from_path(&path).unwrap();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[3], "'=HYPERLINK(\"http://evil.test\",\"click\")");
        assert_eq!(&row[4], "'+15551234567");
        assert_eq!(&row[5], "'@SUM(1+1)*cmd|' /C calc'!A0");
        assert_eq!(&row[12], "'-2+3+cmd|' /C calc'!A0");
        assert_eq!(&row[8], "'\t=1+1");
        assert_eq!(&row[9], "'\r=1+1");
        assert_eq!(&row[7], "Spring Promo");
        assert_eq!(&row[11], "'=cmd: -1");
    }

    #[cfg(unix)]
    #[test]
    fn exports_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        write_csv(&path, &[lead(1, "Ann", 0)]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn unwritable_folder_says_what_to_do() {
        let err = write_csv(Path::new("/nonexistent/dir/x.csv"), &[]).unwrap_err();
        assert!(err.to_string().contains("folder you can write to"), "{err}");
    }
}
