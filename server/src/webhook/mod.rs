//! Meta's webhook endpoint: the subscription handshake and signed leadgen notifications.

mod body;
mod handler;
pub mod signature;

pub use handler::{receive, verify_subscription};
