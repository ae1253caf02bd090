//! The backfill of normalised phones: leads stored before the server read phone numbers get
//! their E.164 (or the invalid mark) in the background, in batches, while the server already
//! serves. It is resumable by construction: it asks the store for leads whose phone was never
//! read, so a restart continues where the last run stopped, and several replicas doing it at
//! once only write the same values twice. New leads never need it: `LeadWriter` reads their phone
//! as it stores them.

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::Backoff;
use leadhook_shared::phone;
use tokio_util::sync::CancellationToken;

use crate::config::PhoneRegions;
use crate::store::{PhoneBackfill, PhoneWrites, ReadPhone, StoreError, UnreadPhone};

/// Leads read and written per store round trip.
pub const BACKFILL_BATCH: u32 = 500;

/// Waits between tries while the store fails.
const RETRY: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));

/// Fills in the normalised phone of every lead that has none, until there are none left or
/// `shutdown` fires; a failing store is retried with backoff. Logs its progress.
pub async fn run(
    store: Arc<dyn PhoneBackfill>,
    writes: impl PhoneWrites,
    regions: PhoneRegions,
    shutdown: CancellationToken,
) {
    let mut failures = 0;
    let mut after_id = 0;
    let mut done = 0u64;
    loop {
        let step = tokio::select! {
            () = shutdown.cancelled() => return,
            step = backfill_batch(store.as_ref(), &writes, &regions, after_id) => step,
        };
        match step {
            Ok(None) => {
                if done > 0 {
                    tracing::info!(leads = done, "phone numbers of earlier leads all read");
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
                    "reading phone numbers of earlier leads"
                );
            }
            Err(error) => {
                let wait = RETRY.delay(failures);
                failures = failures.saturating_add(1);
                tracing::warn!(%error, ?wait, "cannot read phone numbers of earlier leads yet");
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
    store: &dyn PhoneBackfill,
    writes: &dyn PhoneWrites,
    regions: &PhoneRegions,
    after_id: i64,
) -> Result<Option<(i64, u64)>, StoreError> {
    let unread = store.unread_phones(after_id, BACKFILL_BATCH).await?;
    let Some(last) = unread.last().map(|lead| lead.id) else {
        return Ok(None);
    };
    let read: Vec<ReadPhone> = unread.iter().map(|lead| read(lead, regions)).collect();
    writes.store_read_phones(&read).await?;
    Ok(Some((last, read.len() as u64)))
}

fn read(lead: &UnreadPhone, regions: &PhoneRegions) -> ReadPhone {
    let region = regions.for_page(lead.page_id.as_deref());
    let (phone_e164, phone_invalid) = phone::stored(Some(&lead.phone), region);
    ReadPhone {
        id: lead.id,
        phone: lead.phone.clone(),
        phone_e164,
        phone_invalid,
    }
}

/// Runs the backfill to the end (tests and tools): every lead's phone read.
pub async fn backfill_all(
    store: &dyn PhoneBackfill,
    writes: &dyn PhoneWrites,
    regions: &PhoneRegions,
) -> Result<u64, StoreError> {
    let (mut after_id, mut done) = (0, 0);
    while let Some((last, count)) = backfill_batch(store, writes, regions, after_id).await? {
        after_id = last;
        done += count;
    }
    Ok(done)
}
