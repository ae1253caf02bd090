//! The real server on a random port, a Graph API stand-in on another, talked to over HTTP.

mod backup;
mod bad_requests;
mod capi;
mod cli_docs;
mod crash;
mod data_dir_lock;
mod doctor;
mod dos;
mod erase;
mod exposure;
mod faults;
mod helpers;
mod input_limits;
mod intake_lanes;
mod json_logs;
mod leads_api;
mod raw_http;
mod replica_sweeps;
mod replicas;
mod secret_flags;
mod supabase;
mod sweep;
mod webhook_flow;
mod work_queue;
mod write_path;
