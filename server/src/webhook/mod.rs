//! Meta's webhook endpoint: the subscription handshake and signed leadgen notifications.

mod handler;
pub mod signature;

pub use handler::{receive, verify_subscription};

/// Meta batches up to 1000 changes per POST; accept far more than that needs.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
