//! leadhook-server: Facebook Lead Ads webhooks in, leads out to sales reps.

pub mod admission;
pub mod api;
pub mod app;
pub mod capi;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod erase;
pub mod error;
pub mod escalation;
pub mod graph;
pub mod inbox;
pub mod intake;
pub mod limits;
pub mod metrics;
pub mod private_files;
pub mod serve;
pub mod status;
pub mod store;
pub mod sweeper;
pub mod team;
pub mod webhook;
pub mod writer;
