//! The real server on a random port, a Graph API stand-in on another, talked to over HTTP.

mod bad_requests;
mod capi;
mod crash;
mod doctor;
mod dos;
mod erase;
mod exposure;
mod faults;
mod helpers;
mod input_limits;
mod leads_api;
mod raw_http;
mod supabase;
mod sweep;
mod webhook_flow;
mod work_queue;
mod write_path;
