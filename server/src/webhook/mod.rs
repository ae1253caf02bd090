//! Meta's webhook endpoint: the subscription handshake and signed leadgen notifications.

mod body;
mod handler;
/// The signature code lives in `leadhook-shared`, beside Meta's payloads: the simulator signs
/// with it what this handler verifies.
pub use leadhook_shared::meta::signature;

pub(crate) use handler::read_bounded;
pub use handler::{receive, verify_subscription};
