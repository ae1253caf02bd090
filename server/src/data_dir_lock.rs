//! One server per data dir. The inbox and the SQLite store are files that one process at a time
//! may write, so a second server started on the same `LEADHOOK_DATA_DIR` refuses to start. An
//! advisory lock on a file in the data dir says so; the operating system releases it when the
//! process ends, however it ends, so a crash never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use thiserror::Error;

/// The lock file, in the data dir; it holds the pid of the server holding the lock.
pub const FILE_NAME: &str = "leadhook.lock";

#[derive(Debug, Error)]
pub enum DataDirLockError {
    #[error(
        "another leadhook-server (pid {pid}) is running on the data dir {dir}; stop it, or give this server its own LEADHOOK_DATA_DIR"
    )]
    InUse { dir: String, pid: String },
    #[error("cannot lock the data dir {dir} ({path}): {reason}; check LEADHOOK_DATA_DIR")]
    Io {
        dir: String,
        path: String,
        reason: String,
    },
}

/// Held for as long as the server runs.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Creates `data_dir` (private) if needed and locks it for this process.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, DataDirLockError> {
        let path = data_dir.join(FILE_NAME);
        let io_error = |error: std::io::Error| DataDirLockError::Io {
            dir: data_dir.display().to_string(),
            path: path.display().to_string(),
            reason: error.to_string(),
        };
        crate::private_files::create_private_dir(data_dir).map_err(io_error)?;
        // Not truncated on open: until the lock is ours, the pid in it is the holder's.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(DataDirLockError::InUse {
                    dir: data_dir.display().to_string(),
                    pid: holder_pid(&mut file, &path),
                });
            }
            Err(TryLockError::Error(error)) => return Err(io_error(error)),
        }
        file.set_len(0).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        writeln!(file, "{}", std::process::id()).map_err(io_error)?;
        file.flush().map_err(io_error)?;
        Ok(DataDirLock { _file: file })
    }
}

/// The pid the holder wrote, or a placeholder when it cannot be read (it may be writing it now).
fn holder_pid(file: &mut File, path: &Path) -> String {
    let mut text = String::new();
    match file.read_to_string(&mut text) {
        Ok(_) if !text.trim().is_empty() => text.trim().chars().take(20).collect(),
        Ok(_) => "unknown".into(),
        Err(error) => {
            tracing::debug!(path = %path.display(), "cannot read the lock holder's pid: {error}");
            "unknown".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_dir_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let error = DataDirLock::acquire(dir.path()).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(!message.contains('\n'));
        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again once the holder is gone");
    }
}
