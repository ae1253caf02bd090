//! The final check of a copy: counts and a checksum of the ids on each side.

use std::fmt;

use sha2::{Digest, Sha256};

use super::CopyEnd;
use crate::store::StoreError;

/// Counts, and sha256 over the sorted lead keys (`id` and `leadgen_id`) and activity ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub leads: usize,
    pub activity: usize,
    pub checksum: String,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} leads, {} activity rows, ids sha256 {}",
            self.leads, self.activity, self.checksum
        )
    }
}

pub async fn fingerprint(side: &dyn CopyEnd) -> Result<Fingerprint, StoreError> {
    let keys = side.lead_keys().await?;
    let activity = side.activity_ids().await?;
    let mut hash = Sha256::new();
    for key in &keys {
        hash.update(format!(
            "lead {} {}\n",
            key.id,
            key.leadgen_id.as_deref().unwrap_or("-")
        ));
    }
    for id in &activity {
        hash.update(format!("activity {id}\n"));
    }
    Ok(Fingerprint {
        leads: keys.len(),
        activity: activity.len(),
        checksum: hex::encode(hash.finalize()),
    })
}
