//! What can go wrong talking to a lead store, and the one place that says what may be retried.

use thiserror::Error;

/// What can go wrong talking to a lead store, classified for the intake worker and health.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The store cannot be reached, is overloaded, timed out, failed on its side (5xx), or sent an
    /// answer to an idempotent write that cannot be read: retry later.
    #[error("lead store unavailable: {0}")]
    Unavailable(String),
    /// The store answers but refuses us until someone fixes the setup (key, grants, migrations):
    /// a rejected schema or a revoked grant. Health shows the fix; work waits for it.
    #[error("lead store misconfigured: {message}; fix: {fix}")]
    Misconfigured { message: String, fix: String },
    /// The store refused this particular data: sending it again fails again.
    #[error("lead store rejected the data: {0}")]
    Rejected(String),
    /// The lead was erased: its tombstone takes no new data (a rep's patch included).
    #[error("lead {id} was erased: it keeps no personal data and cannot be changed")]
    Erased { id: i64 },
    /// A bug or corruption on our side of the store.
    #[error("lead store failed: {0}")]
    Internal(String),
}

/// What an answer was the answer to, as far as retrying the request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A write keyed on `leadgen_id`: doing it again stores nothing twice.
    IdempotentWrite,
    /// A read, or a write that would store something twice if repeated (a manual lead).
    Other,
}

impl StoreError {
    /// Whether trying the same operation again later can succeed without anyone changing the
    /// data: after an outage, or once the setup is fixed. A refused row and a bug of ours cannot.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Misconfigured { .. } => true,
            StoreError::Rejected(_) | StoreError::Erased { .. } | StoreError::Internal(_) => false,
        }
    }

    /// A successful answer leadhook cannot read (a proxy that altered it, an empty body). The
    /// store did or did not do the work: an idempotent write is safe to do again, so it is retried
    /// like an outage; anything else is a bug to look at.
    pub fn unreadable(answer: Answer, message: String) -> StoreError {
        match answer {
            Answer::IdempotentWrite => StoreError::Unavailable(message),
            Answer::Other => StoreError::Internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried() {
        let retried = |error: StoreError| error.is_retryable();
        assert!(retried(StoreError::Unavailable("timeout".into())));
        assert!(retried(StoreError::Misconfigured {
            message: "permission denied".into(),
            fix: "grant".into()
        }));
        assert!(!retried(StoreError::Rejected("not-null".into())));
        assert!(!retried(StoreError::Internal("bug".into())));
        assert!(retried(StoreError::unreadable(
            Answer::IdempotentWrite,
            "empty body".into()
        )));
        assert!(!retried(StoreError::unreadable(
            Answer::Other,
            "empty body".into()
        )));
    }
}
