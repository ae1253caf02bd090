//! Sweep positions used to be a JSON file in the data dir. The first sweep after an upgrade moves
//! them into the store (keeping the later of two positions for a form) and renames the file, so
//! the backfill window is not read again.

use std::collections::HashMap;
use std::path::Path;

use crate::store::SweepPositions;

/// The file, in the data dir.
pub(super) const FILE_NAME: &str = "sweep-state.json";

#[derive(serde::Deserialize)]
struct LegacyPositions {
    forms: HashMap<String, i64>,
}

/// Moves the positions of the file at `path`, if there is one, into `store`; the error says
/// what went wrong, for the sweep report.
pub(super) async fn import(path: &Path, store: &dyn SweepPositions) -> Result<(), String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let set_aside = |suffix: &str| {
        let target = path.with_extension(suffix);
        std::fs::rename(path, &target)
            .map_err(|error| format!("cannot rename {}: {error}", path.display()))
    };
    let Ok(legacy) = serde_json::from_slice::<LegacyPositions>(&bytes) else {
        tracing::warn!(path = %path.display(), "old sweep position file unreadable; set aside, sweeps start from the backfill window");
        return set_aside("json.unreadable");
    };
    let stored = store
        .sweep_positions()
        .await
        .map_err(|error| format!("cannot read the sweep positions: {error}"))?;
    for (form_id, mark) in legacy.forms {
        if stored.get(&form_id).is_none_or(|&known| known < mark) {
            store
                .save_sweep_position(&form_id, mark)
                .await
                .map_err(|error| {
                    format!("cannot move the sweep positions into the store: {error}")
                })?;
        }
    }
    tracing::info!(path = %path.display(), "sweep positions moved into the lead store");
    set_aside("json.imported")
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::store::StoreError;

    /// Sweep positions in memory.
    #[derive(Default)]
    struct MemoryPositions(Mutex<HashMap<String, i64>>);

    #[async_trait]
    impl SweepPositions for MemoryPositions {
        async fn sweep_positions(&self) -> Result<HashMap<String, i64>, StoreError> {
            Ok(self.0.lock().unwrap().clone())
        }

        async fn save_sweep_position(&self, form_id: &str, newest: i64) -> Result<(), StoreError> {
            self.0.lock().unwrap().insert(form_id.to_string(), newest);
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_later_position_of_each_form_moves_into_the_store_and_the_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(
            &path,
            r#"{"forms": {"ahead": 50, "behind": 300, "new": 70}}"#,
        )
        .unwrap();
        let store = MemoryPositions::default();
        store.save_sweep_position("ahead", 100).await.unwrap();
        store.save_sweep_position("behind", 200).await.unwrap();

        import(&path, &store).await.unwrap();

        let expected = HashMap::from([
            ("ahead".into(), 100),
            ("behind".into(), 300),
            ("new".into(), 70),
        ]);
        assert_eq!(store.sweep_positions().await.unwrap(), expected);
        assert!(!path.exists());
        assert!(path.with_extension("json.imported").exists());
        // Nothing left to import the next time.
        import(&path, &store).await.unwrap();
        assert_eq!(store.sweep_positions().await.unwrap(), expected);
    }

    #[tokio::test]
    async fn an_unreadable_file_is_set_aside_and_the_store_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "not json").unwrap();
        let store = MemoryPositions::default();

        import(&path, &store).await.unwrap();

        assert!(store.sweep_positions().await.unwrap().is_empty());
        assert!(path.with_extension("json.unreadable").exists());
    }
}
