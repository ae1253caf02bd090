//! Meta's webhook endpoint: the subscription handshake and signed leadgen notifications.

pub mod signature;
