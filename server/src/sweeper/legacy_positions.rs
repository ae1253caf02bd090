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
