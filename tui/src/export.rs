//! `x`: the leads on screen, as CSV.
//!
//! The list keeps no form answers, so the leads are fetched whole from the server's export
//! (`GET /api/leads/export`, which records the export in each lead's history and is for managers
//! and admins), newest first as the table shows them, and written as they come: memory stays at
//! one page whatever the number of leads. The server's answer columns (`LEADHOOK_ANSWER_COLUMNS`)
//! follow the fixed columns, one CSV column each, headed by the column's name.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use leadhook_shared::Lead;
use leadhook_shared::answer_columns::AnswerColumns;

use crate::client::Client;
use crate::client_error::ClientError;
use crate::sanitize;

const COLUMNS: [&str; 22] = [
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
    "phone_e164",
    "attempts",
    "next_step_at",
    "next_step",
    "person",
    "junk",
];

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {}: {source}; run leadhook from a folder you can write to", path.display())]
    Write { path: PathBuf, source: csv::Error },
    #[error("cannot fetch the leads: {0}")]
    Fetch(ClientError),
    /// The server's reason, which names the role an export needs.
    #[error("{0}")]
    Refused(String),
    #[error(
        "{} and the next {FREE_NAME_TRIES} names after it are taken; move or delete old exports and export again",
        path.display()
    )]
    NoFreeName { path: PathBuf },
}

impl From<ClientError> for ExportError {
    fn from(err: ClientError) -> ExportError {
        match err {
            ClientError::Rejected { code, message } if code == "forbidden" => {
                ExportError::Refused(message)
            }
            other => ExportError::Fetch(other),
        }
    }
}

/// Names tried after the first one (`-1` to `-99`) before an export gives up.
const FREE_NAME_TRIES: u32 = 99;

/// `leadhook-20260310-150000.csv` in `dir`, named after the local time.
pub fn path_for(dir: &Path, now: DateTime<Utc>, tz: FixedOffset) -> PathBuf {
    let stamp = now.with_timezone(&tz).format("%Y%m%d-%H%M%S");
    dir.join(format!("leadhook-{stamp}.csv"))
}

/// Fetches the leads `ids` whole and writes them to a new file at `path` (or the next free name
/// after it), newest first (the table's order), with one column per answer column; the file's
/// path and how many rows were written. A failed export leaves no file behind.
pub async fn export(
    client: &Client,
    ids: Vec<i64>,
    path: &Path,
    columns: AnswerColumns,
) -> Result<(PathBuf, usize), ExportError> {
    let file = CsvFile::create(path, columns)?;
    let path = file.path().to_path_buf();
    let written = fetch_and_write(client, ids, file).await;
    if written.is_err() {
        // Best effort: a half-written file would pass for the whole export. It is the file this
        // export created, never one that was there before.
        let _ = std::fs::remove_file(&path);
    }
    written.map(|written| (path, written))
}

async fn fetch_and_write(
    client: &Client,
    ids: Vec<i64>,
    mut file: CsvFile,
) -> Result<usize, ExportError> {
    let mut wanted: HashSet<i64> = ids.into_iter().collect();
    let mut offset = 0;
    while !wanted.is_empty() {
        let page = client.export_page(offset).await?;
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
    /// The answer columns, after the fixed ones.
    columns: AnswerColumns,
    written: usize,
}

impl CsvFile {
    /// Creates a new file at `path`, or at the first free name after it (`x-1.csv`, `x-2.csv`,
    /// ...), readable by its owner only, and writes the header: the fixed columns, then the
    /// answer `columns` by name.
    pub fn create(path: &Path, columns: AnswerColumns) -> Result<CsvFile, ExportError> {
        let (file, path) = create_free(path)?;
        let mut writer = csv::Writer::from_writer(file);
        let names = columns.0.iter().map(|column| column.name.as_str());
        writer
            .write_record(
                COLUMNS
                    .into_iter()
                    .chain(names)
                    .map(sanitize::spreadsheet_cell),
            )
            .map_err(|err| write_error(&path, err))?;
        Ok(CsvFile {
            path,
            writer,
            columns,
            written: 0,
        })
    }

    /// Where the rows go.
    pub fn path(&self) -> &Path {
        &self.path
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
        let step = lead.next_step.as_ref();
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
            text(&lead.meta.phone_e164),
            lead.attempts.to_string(),
            step.map(|step| step.at.to_rfc3339()).unwrap_or_default(),
            step.map(|step| step.what.clone()).unwrap_or_default(),
            lead.person_id().to_string(),
            lead.junk().unwrap_or_default().to_string(),
        ];
        let answers = self
            .columns
            .values(lead)
            .into_iter()
            .map(Option::unwrap_or_default);
        self.writer
            .write_record(
                cells
                    .into_iter()
                    .chain(answers)
                    .map(|cell| sanitize::spreadsheet_cell(&cell)),
            )
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

/// The new file at `path` or at the first of the next [`FREE_NAME_TRIES`] names not taken.
fn create_free(path: &Path) -> Result<(File, PathBuf), ExportError> {
    for n in 0..=FREE_NAME_TRIES {
        let candidate = numbered(path, n);
        match create_new_private(&candidate) {
            Ok(file) => return Ok((file, candidate)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(write_error(&candidate, err.into())),
        }
    }
    Err(ExportError::NoFreeName {
        path: path.to_path_buf(),
    })
}

/// `x.csv` for 0, `x-1.csv` for 1.
fn numbered(path: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(extension) => format!("{stem}-{n}.{}", extension.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Creates `path`, readable and writable by its owner only (exports hold customers' contact
/// details), failing with `AlreadyExists` when anything is there: `create_new` is `O_EXCL`, which
/// never follows a symbolic link, even one pointing nowhere; `O_NOFOLLOW` says so twice.
fn create_new_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(test)]
mod tests;
