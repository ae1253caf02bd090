//! Leads written as they were, with their history, into an empty store through the copy's
//! bulk writes: how the demo and the benchmarks get a month of past leads.

use leadhook_shared::{Activity, Lead};

use super::{CopyEnd, LeadRecord, PAGE_SIZE, Page};
use crate::store::StoreError;

impl LeadRecord {
    /// `lead` as a store keeps a lead that was triaged as it arrived and never escalated
    /// (its escalation window long past); a repeat is taken as linked by phone.
    pub fn settled(lead: Lead) -> LeadRecord {
        LeadRecord {
            repeat_via: lead.repeat_of.map(|_| "phone".to_string()),
            lead,
            escalated_level: 2,
            escalated_at: None,
            reminded_at: None,
            triaged: true,
        }
    }
}

/// Writes `leads` (ids ascending) and their `activity` (any order) into `end`, a page at a time, and moves
/// its id counters past them.
pub async fn write_history(
    end: &dyn CopyEnd,
    leads: Vec<Lead>,
    mut activity: Vec<Activity>,
) -> Result<(), StoreError> {
    activity.sort_by_key(|row| (row.lead_id, row.id));
    let mut activity = activity.into_iter().peekable();
    for chunk in leads.chunks(PAGE_SIZE as usize) {
        let last_id = chunk.last().map_or(i64::MIN, |lead| lead.id);
        let mut rows = Vec::new();
        while let Some(row) = activity.next_if(|row| row.lead_id <= last_id) {
            rows.push(row);
        }
        end.write_page(&Page {
            leads: chunk.iter().cloned().map(LeadRecord::settled).collect(),
            activity: rows,
        })
        .await?;
    }
    end.finish().await
}
