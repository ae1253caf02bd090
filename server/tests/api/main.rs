//! The real server on a random port, a Graph API stand-in on another, talked to over HTTP.

mod bad_requests;
mod crash;
mod data_dir_lock;
mod doctor;
mod faults;
mod helpers;
mod leads_api;
mod replica_sweeps;
mod replicas;
mod supabase;
mod sweep;
mod webhook_flow;
mod write_path;
