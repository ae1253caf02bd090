//! Who may take server resources right now: bytes of webhook bodies being received (a fixed
//! budget shared by all webhook requests) and event streams per API token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;
use crate::limits::{
    MAX_EVENT_STREAMS_PER_TOKEN, MAX_WEBHOOK_BODY_BYTES, SMALL_WEBHOOK_BODY_BYTES,
    WEBHOOK_BUFFER_BUDGET_BYTES,
};

#[derive(Debug)]
pub struct Admission {
    webhook_bytes: Arc<Semaphore>,
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            webhook_bytes: Arc::new(Semaphore::new(WEBHOOK_BUFFER_BUDGET_BYTES)),
            streams: Arc::default(),
        }
    }
}

/// Bytes reserved for one webhook body (none for a small one); given back when dropped.
#[derive(Debug)]
pub struct WebhookReservation {
    _permit: Option<OwnedSemaphorePermit>,
}

/// One open event stream of a token; closes its slot when dropped.
#[derive(Debug)]
pub struct StreamSlot {
    token_name: String,
    streams: Arc<Mutex<HashMap<String, usize>>>,
}

impl Admission {
    /// Reserves room for a webhook body of `announced` bytes (the largest allowed when the
    /// length is not announced), or refuses at once when the budget is spent. Small bodies need
    /// no reservation.
    pub fn reserve_webhook(
        &self,
        announced: Option<usize>,
    ) -> Result<WebhookReservation, AppError> {
        if announced.is_some_and(|bytes| bytes <= SMALL_WEBHOOK_BODY_BYTES) {
            return Ok(WebhookReservation { _permit: None });
        }
        let bytes = announced
            .unwrap_or(MAX_WEBHOOK_BODY_BYTES)
            .min(MAX_WEBHOOK_BODY_BYTES);
        let permits = u32::try_from(bytes).map_err(|_| AppError::PayloadTooLarge)?;
        Arc::clone(&self.webhook_bytes)
            .try_acquire_many_owned(permits)
            .map(|permit| WebhookReservation {
                _permit: Some(permit),
            })
            .map_err(|_| AppError::Overloaded)
    }

    /// Opens an event stream for the token named `token_name`, unless it holds the most already.
    pub fn open_stream(&self, token_name: &str) -> Result<StreamSlot, AppError> {
        let mut streams = lock(&self.streams);
        let open = streams.entry(token_name.to_string()).or_default();
        if *open >= MAX_EVENT_STREAMS_PER_TOKEN {
            return Err(AppError::TooManyStreams {
                limit: MAX_EVENT_STREAMS_PER_TOKEN,
            });
        }
        *open += 1;
        Ok(StreamSlot {
            token_name: token_name.to_string(),
            streams: Arc::clone(&self.streams),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = lock(&self.streams);
        if let Some(open) = streams.get_mut(&self.token_name) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                streams.remove(&self.token_name);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webhook_budget_is_shared_and_given_back() {
        let admission = Admission::default();
        let whole = WEBHOOK_BUFFER_BUDGET_BYTES / MAX_WEBHOOK_BODY_BYTES;
        let held: Vec<_> = (0..whole)
            .map(|_| admission.reserve_webhook(None).unwrap())
            .collect();
        assert!(matches!(
            admission.reserve_webhook(Some(SMALL_WEBHOOK_BODY_BYTES + 1)),
            Err(AppError::Overloaded)
        ));
        assert!(matches!(
            admission.reserve_webhook(None),
            Err(AppError::Overloaded)
        ));
        // Meta's usual small deliveries still get through.
        assert!(
            admission
                .reserve_webhook(Some(SMALL_WEBHOOK_BODY_BYTES))
                .is_ok()
        );
        drop(held);
        assert!(admission.reserve_webhook(None).is_ok());
    }

    #[test]
    fn stream_slots_are_per_token_and_freed_on_drop() {
        let admission = Admission::default();
        let alice: Vec<_> = (0..MAX_EVENT_STREAMS_PER_TOKEN)
            .map(|_| admission.open_stream("alice").unwrap())
            .collect();
        assert!(admission.open_stream("alice").is_err());
        assert!(admission.open_stream("bob").is_ok());
        drop(alice);
        assert!(admission.open_stream("alice").is_ok());
    }
}
