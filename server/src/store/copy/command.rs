//! `leadhook-server store copy --to ...`: opens both stores from the settings and copies.

use indicatif::{ProgressBar, ProgressStyle};

use super::{CopyEnd, CopyError, CopyReport, copy};
use crate::config::{CopyTarget, StoreCopySettings};
use crate::data_dir_lock::DataDirLock;
use crate::store::StoreError;
use crate::store::postgrest::PostgrestStore;
use crate::store::sqlite::SqliteStore;

const BAR_TEMPLATE: &str =
    "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} leads  {per_sec}  ETA {eta}";

/// A bar on stderr with the leads copied, the rate and the time left (hidden when not a terminal).
pub fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    let style =
        ProgressStyle::with_template(BAR_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Opens the embedded store and the Supabase project and copies in the direction asked. The data
/// dir stays locked meanwhile: no server can run on it during the copy, nor the copy beside one.
pub async fn run(settings: StoreCopySettings, bar: &ProgressBar) -> Result<CopyReport, CopyError> {
    let supabase =
        PostgrestStore::new(&settings.supabase_url, settings.supabase_key).map_err(|source| {
            CopyError::Store {
                side: "supabase",
                source,
            }
        })?;
    let path = settings.data_dir.join("leads.db");
    let sqlite_error = |source| CopyError::Store {
        side: "sqlite",
        source,
    };
    match settings.to {
        CopyTarget::Supabase if !path.exists() => Err(sqlite_error(StoreError::Misconfigured {
            message: format!("there is no embedded store at {}", path.display()),
            fix: "set LEADHOOK_DATA_DIR (or --data-dir) to the directory the server used".into(),
        })),
        CopyTarget::Supabase => {
            let _lock = DataDirLock::acquire(&settings.data_dir)?;
            let sqlite = SqliteStore::open(&path).await.map_err(sqlite_error)?;
            copy(&sqlite, &supabase, bar).await
        }
        CopyTarget::Sqlite => {
            // Creates the data dir too.
            let _lock = DataDirLock::acquire(&settings.data_dir)?;
            let sqlite = SqliteStore::open(&path).await.map_err(sqlite_error)?;
            copy(&supabase, &sqlite as &dyn CopyEnd, bar).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_shows_count_rate_and_time_left() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
        for part in ["{pos}/{len}", "{per_sec}", "{eta}"] {
            assert!(BAR_TEMPLATE.contains(part), "{part}");
        }
    }
}
