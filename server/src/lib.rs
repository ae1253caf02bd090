//! leadhook-server: Facebook Lead Ads webhooks in, leads out to sales reps.

pub mod simulator;
pub mod store;
pub mod webhook;
