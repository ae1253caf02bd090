//! `leadhook-server backup`: a consistent copy of the embedded lead store and the webhook inbox,
//! taken with SQLite's online backup API while the server keeps running.
//!
//! The copy is a new directory holding `inbox.db` and `leads.db`, readable by this user only.
//! Restoring is copying both files into the data directory of a stopped server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use thiserror::Error;

use crate::private_files::{create_new_private_file, create_private_dir};

/// The databases of a data directory, in the order they are copied: the inbox first. An event
/// the inbox copy still holds is completed again after a restore; one it shows done was already
/// in the lead store, so the later copy of the store holds it. The other order could miss a
/// lead finished between the two copies.
pub const DATABASES: [&str; 2] = ["inbox.db", "leads.db"];

/// How long one copy waits for a database another connection holds locked.
const LOCK_PATIENCE: Duration = Duration::from_secs(30);
const LOCK_RETRY: Duration = Duration::from_millis(50);

#[derive(Debug, Error)]
pub enum BackupError {
    #[error(
        "the leads are in Supabase (SUPABASE_URL is set), which this command cannot copy; use Supabase's own backups (Dashboard > Database > Backups, or `supabase db dump`)"
    )]
    SupabaseStore,
    #[error("{path} does not exist; is LEADHOOK_DATA_DIR the running server's data directory?")]
    MissingDatabase { path: PathBuf },
    #[error("{path} already exists; choose a new backup directory (a backup never overwrites one)")]
    TargetExists { path: PathBuf },
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("copying {path} failed: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path} stayed locked for {LOCK_PATIENCE:?}; try again")]
    Locked { path: PathBuf },
    #[error("the copy {path} fails SQLite's integrity check: {report}")]
    Corrupt { path: PathBuf, report: String },
}

/// One database copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedDatabase {
    pub path: PathBuf,
    pub bytes: u64,
}

/// Copies `inbox.db` and `leads.db` from `data_dir` into the new directory `target`, calling
/// `progress` before each database and with each one copied. Every copy has passed
/// `PRAGMA integrity_check` when this returns.
pub fn back_up(
    data_dir: &Path,
    target: &Path,
    mut progress: impl FnMut(BackupProgress<'_>),
) -> Result<Vec<CopiedDatabase>, BackupError> {
    let sources: Vec<PathBuf> = DATABASES.iter().map(|name| data_dir.join(name)).collect();
    if let Some(missing) = sources.iter().find(|path| !path.is_file()) {
        return Err(BackupError::MissingDatabase {
            path: missing.clone(),
        });
    }
    create_private_dir(target).map_err(|source| BackupError::Create {
        path: target.to_path_buf(),
        source,
    })?;
    let mut copied = Vec::with_capacity(sources.len());
    for (source, name) in sources.iter().zip(DATABASES) {
        let destination = target.join(name);
        progress(BackupProgress::Copying { source });
        copy_database(source, &destination)?;
        let bytes = std::fs::metadata(&destination).map_or(0, |meta| meta.len());
        let database = CopiedDatabase {
            path: destination,
            bytes,
        };
        progress(BackupProgress::Copied(&database));
        copied.push(database);
    }
    Ok(copied)
}

/// What `back_up` is doing, for the command's status lines.
#[derive(Debug)]
pub enum BackupProgress<'a> {
    Copying { source: &'a Path },
    Copied(&'a CopiedDatabase),
}

fn copy_database(source: &Path, destination: &Path) -> Result<(), BackupError> {
    create_new_private_file(destination).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => BackupError::TargetExists {
            path: destination.to_path_buf(),
        },
        _ => BackupError::Create {
            path: destination.to_path_buf(),
            source: error,
        },
    })?;
    let sqlite_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| BackupError::Sqlite { path, source }
    };
    // Read-write without create: the server's WAL index must be shared, and a missing database
    // must not be made.
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(sqlite_error(source))?;
    from.busy_timeout(LOCK_PATIENCE)
        .map_err(sqlite_error(source))?;
    let mut to = Connection::open(destination).map_err(sqlite_error(destination))?;
    {
        let backup = Backup::new(&from, &mut to).map_err(sqlite_error(destination))?;
        copy_in_one_step(&backup, source)?;
    }
    // The copy is one self-contained file, without a -wal beside it; the server switches it back
    // to WAL when it opens it after a restore.
    to.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sqlite_error(destination))?;
    let report: String = to
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(sqlite_error(destination))?;
    if report != "ok" {
        return Err(BackupError::Corrupt {
            path: destination.to_path_buf(),
            report,
        });
    }
    Ok(())
}

/// All pages in one step, inside one read transaction: a write by the server between smaller
/// steps would restart the copy, which under steady webhook traffic might never finish. In WAL
/// mode that read transaction does not block the server's writes.
fn copy_in_one_step(backup: &Backup<'_, '_>, source: &Path) -> Result<(), BackupError> {
    let started = std::time::Instant::now();
    loop {
        match backup.step(-1).map_err(|error| BackupError::Sqlite {
            path: source.to_path_buf(),
            source: error,
        })? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked
                if started.elapsed() < LOCK_PATIENCE =>
            {
                std::thread::sleep(LOCK_RETRY)
            }
            _ => {
                return Err(BackupError::Locked {
                    path: source.to_path_buf(),
                });
            }
        }
    }
}

/// How to put a backup back, printed after one is taken.
pub fn restore_instructions(target: &Path, data_dir: &Path) -> String {
    format!(
        "To restore: stop leadhook-server, then copy the files into its data directory, replacing \
         the ones there and removing their -wal and -shm files:\n  \
         rm -f {data}/leads.db-wal {data}/leads.db-shm {data}/inbox.db-wal {data}/inbox.db-shm\n  \
         cp -p {target}/leads.db {target}/inbox.db {data}/\n\
         then start the server again.",
        target = target.display(),
        data = data_dir.display(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_named_and_nothing_is_created() {
        let data = tempfile::tempdir().unwrap();
        let target = data.path().join("copy");
        let error = back_up(data.path(), &target, |_| {}).unwrap_err();
        assert!(
            matches!(&error, BackupError::MissingDatabase { path } if path.ends_with("inbox.db")),
            "{error}"
        );
        assert!(!target.exists());
    }

    #[test]
    fn an_earlier_backup_is_never_overwritten() {
        let data = tempfile::tempdir().unwrap();
        for name in DATABASES {
            Connection::open(data.path().join(name))
                .unwrap()
                .execute_batch(
                    "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1);",
                )
                .unwrap();
        }
        let target = data.path().join("copy");
        back_up(data.path(), &target, |_| {}).unwrap();
        let error = back_up(data.path(), &target, |_| {}).unwrap_err();
        assert!(matches!(error, BackupError::TargetExists { .. }), "{error}");
        let copy = Connection::open(target.join("leads.db")).unwrap();
        let rows: i64 = copy
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1);
    }
}
