use thiserror::Error;

/// What can go wrong talking to a lead store, classified for the intake worker and health.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The store cannot be reached or is overloaded right now: retry later.
    #[error("lead store unavailable: {0}")]
    Unavailable(String),
    /// The store answers but refuses us until someone fixes the setup (key, grants, migrations).
    #[error("lead store misconfigured: {message}; fix: {fix}")]
    Misconfigured { message: String, fix: String },
    /// The store refused this particular data.
    #[error("lead store rejected the data: {0}")]
    Rejected(String),
    /// A bug or corruption on our side of the store.
    #[error("lead store failed: {0}")]
    Internal(String),
}

impl StoreError {
    /// Whether trying the same operation again later can succeed without anyone changing the data.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::Misconfigured { .. }
        )
    }
}
