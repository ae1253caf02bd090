//! Meta's webhook endpoint: the subscription handshake and signed leadgen notifications.

mod handler;
/// The signature code lives in `leadhook-shared`, beside Meta's payloads: the simulator signs
/// with it what this handler verifies.
pub use leadhook_shared::meta::signature;

pub use handler::{receive, verify_subscription};

/// Meta batches up to 1000 changes per POST; accept far more than that needs.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
