//! leadhook-server: Facebook Lead Ads webhooks in, leads out to sales reps.

pub mod api;
pub mod app;
pub mod config;
pub mod data_dir_lock;
pub mod doctor;
pub mod error;
pub mod follower;
pub mod graph;
pub mod inbox;
pub mod intake;
pub mod lease;
pub mod metrics;
pub mod status;
pub mod store;
pub mod sweeper;
pub mod webhook;
pub mod writer;
