//! The triage backfill: leads stored before the server read phones, e-mail keys and junk get them
//! in the background, in batches, while the server already serves, and are linked to their
//! people (owners do not change). It is resumable by construction: it asks the store for leads
//! never triaged, so a restart continues where the last run stopped, and several replicas doing it
//! at once only skip what another wrote first. New leads never need it: `LeadWriter` reads them
//! as it stores them.

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::{Backoff, MetaFields};
use tokio_util::sync::CancellationToken;

use super::Triage;
use crate::store::{StoreError, TriageBackfill, TriageWrites, Triaged, Untriaged};

/// Leads read and written per store round trip.
pub const BACKFILL_BATCH: u32 = 500;

/// Waits between tries while the store fails.
const RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));

/// Triages every lead that never was, until there are none left or `shutdown` fires; a failing
/// store is retried with backoff. Logs its progress.
pub async fn run(
    store: Arc<dyn TriageBackfill>,
    writes: impl TriageWrites,
    triage: Triage,
    shutdown: CancellationToken,
) {
    let mut failures = 0;
    let mut after_id = 0;
    let mut done = 0u64;
    loop {
        let step = tokio::select! {
            () = shutdown.cancelled() => return,
            step = backfill_batch(store.as_ref(), &writes, &triage, after_id) => step,
        };
        match step {
            Ok(None) => {
                if done > 0 {
                    tracing::info!(leads = done, "earlier leads all read: phones, people, junk");
                }
                return;
            }
            Ok(Some((last_id, count))) => {
                failures = 0;
                after_id = last_id;
                done += count;
                tracing::info!(
                    leads = done,
                    up_to_id = last_id,
                    "reading phones, people and junk of earlier leads"
                );
            }
            Err(error) => {
                let wait = RETRY.delay(failures);
                failures = failures.saturating_add(1);
                tracing::warn!(%error, ?wait, "cannot read earlier leads yet");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
}

/// One batch after lead `after_id`: the last id read and how many, or `None` when none is left.
pub async fn backfill_batch(
    store: &dyn TriageBackfill,
    writes: &dyn TriageWrites,
    triage: &Triage,
    after_id: i64,
) -> Result<Option<(i64, u64)>, StoreError> {
    let untriaged = store.untriaged(after_id, BACKFILL_BATCH).await?;
    let Some(last) = untriaged.last().map(|lead| lead.id) else {
        return Ok(None);
    };
    let read: Vec<Triaged> = untriaged
        .into_iter()
        .map(|lead| read(lead, triage))
        .collect();
    writes.store_triage(&read, triage.repeat_window).await?;
    Ok(Some((last, read.len() as u64)))
}

fn read(lead: Untriaged, triage: &Triage) -> Triaged {
    let mut meta = MetaFields {
        name: lead.name,
        email: lead.email,
        phone: lead.phone,
        phone_e164: None,
        phone_invalid: false,
        email_key: None,
        junk_reason: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        page_id: lead.page_id,
        form_id: None,
        form_name: None,
        ad_id: None,
        ad_name: None,
        adset_id: None,
        adset_name: None,
        campaign_id: None,
        campaign_name: None,
        platform: None,
        is_organic: false,
        fields: lead.fields,
    };
    triage.read(&mut meta);
    Triaged {
        id: lead.id,
        junk_reason: meta.junk_reason.filter(|_| !lead.is_manual),
        phone: meta.phone,
        email: meta.email,
        phone_e164: meta.phone_e164,
        phone_invalid: meta.phone_invalid,
        email_key: meta.email_key,
    }
}

/// Runs the backfill to the end (tests and tools): every lead triaged.
pub async fn backfill_all(
    store: &dyn TriageBackfill,
    writes: &dyn TriageWrites,
    triage: &Triage,
) -> Result<u64, StoreError> {
    let (mut after_id, mut done) = (0, 0);
    while let Some((last, count)) = backfill_batch(store, writes, triage, after_id).await? {
        after_id = last;
        done += count;
    }
    Ok(done)
}
