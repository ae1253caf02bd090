//! `POST /<version>/<dataset_id>/events`: the Conversions API for CRM, with Meta's documented
//! checks (at most 1,000 events; one invalid event rejects the whole request) and a log of what
//! was received. Like Meta, a re-sent `event_id` is taken but kept once.

use std::collections::{BTreeSet, HashSet};

use chrono::Utc;
use serde_json::{Map, Value, json};

use super::errors::GraphError;
use super::request::GraphRequest;

/// Meta takes at most this many events per request.
const MAX_EVENTS: usize = 1000;
/// How far back Meta takes CRM events, in seconds.
const MAX_AGE_SECS: i64 = 7 * 86_400;
/// Clock skew allowed for events from the future.
const FUTURE_SKEW_SECS: i64 = 60;

/// What the stand-in received at its dataset.
#[derive(Debug, Default)]
pub(super) struct CapiLog {
    /// Each accepted event once, in arrival order.
    pub(super) events: Vec<Value>,
    seen: HashSet<String>,
    /// Events accepted again under an `event_id` already kept.
    pub(super) repeats: u64,
    /// Requests Meta answered 200.
    pub(super) accepted_requests: u64,
    /// Requests refused for an invalid event.
    pub(super) rejected_requests: u64,
    /// Events sent with a `test_event_code`: Meta shows them in Test events only.
    pub(super) test_events: Vec<Value>,
    /// Lead ids whose events are refused (a test's switch).
    pub(super) refused_leads: BTreeSet<u64>,
}

/// Checks and logs one request; the answer Meta gives.
pub(super) fn receive(log: &mut CapiLog, request: &GraphRequest) -> Result<Value, GraphError> {
    let checked = check(log, request);
    let events = match checked {
        Ok(events) => events,
        Err(error) => {
            log.rejected_requests += 1;
            return Err(error);
        }
    };
    let count = events.len();
    log.accepted_requests += 1;
    if let Some(code) = test_event_code(request) {
        tracing::info!(
            code,
            count,
            "Graph API stand-in: Conversions API test events received"
        );
        log.test_events.extend(events);
        return Ok(received(count));
    }
    for event in events {
        let id = event
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        match id {
            Some(id) if log.seen.contains(&id) => log.repeats += 1,
            Some(id) => {
                tracing::info!(
                    event_name = %event["event_name"],
                    lead_id = %event["user_data"]["lead_id"],
                    event_id = %id,
                    "Graph API stand-in: Conversions API event received"
                );
                log.seen.insert(id);
                log.events.push(event);
            }
            None => log.events.push(event),
        }
    }
    Ok(received(count))
}

fn received(count: usize) -> Value {
    json!({"events_received": count, "messages": [], "fbtrace_id": "AcapiStandin1"})
}

/// The top-level `test_event_code` of the body, if any.
fn test_event_code(request: &GraphRequest) -> Option<String> {
    let body: Value = serde_json::from_slice(&request.body).ok()?;
    body.get("test_event_code")?.as_str().map(str::to_string)
}

fn invalid(message: String) -> GraphError {
    GraphError::invalid_parameter(format!("(#100) Invalid parameter: {message}"))
}

fn check(log: &CapiLog, request: &GraphRequest) -> Result<Vec<Value>, GraphError> {
    let body: Value = serde_json::from_slice(&request.body)
        .map_err(|e| invalid(format!("the body is not JSON ({e})")))?;
    let data = body
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("data must be an array of events".into()))?;
    if data.is_empty() || data.len() > MAX_EVENTS {
        return Err(invalid(format!(
            "data must hold 1 to {MAX_EVENTS} events, got {}",
            data.len()
        )));
    }
    let now = Utc::now().timestamp();
    for (index, event) in data.iter().enumerate() {
        let event = event
            .as_object()
            .ok_or_else(|| invalid(format!("data[{index}] is not an object")))?;
        check_event(log, event, now).map_err(|why| invalid(format!("data[{index}]: {why}")))?;
    }
    Ok(data.clone())
}

fn check_event(log: &CapiLog, event: &Map<String, Value>, now: i64) -> Result<(), String> {
    match event.get("event_name").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => {}
        _ => return Err("event_name must be a non-empty string".into()),
    }
    let time = event
        .get("event_time")
        .and_then(Value::as_i64)
        .ok_or("event_time must be a Unix time in seconds")?;
    if time < now - MAX_AGE_SECS {
        return Err("event_time is more than 7 days in the past".into());
    }
    if time > now + FUTURE_SKEW_SECS {
        return Err("event_time is in the future".into());
    }
    if event.get("action_source").and_then(Value::as_str) != Some("system_generated") {
        return Err("action_source must be system_generated for CRM events".into());
    }
    let lead_id = event
        .get("user_data")
        .and_then(|user| user.get("lead_id"))
        .and_then(Value::as_u64)
        .ok_or("user_data.lead_id must be the lead id as a number")?;
    if !(15..=16).contains(&lead_id.to_string().len()) {
        return Err(format!(
            "user_data.lead_id {lead_id} is not a 15–16 digit lead id"
        ));
    }
    if log.refused_leads.contains(&lead_id) {
        return Err(format!(
            "user_data.lead_id {lead_id} is not a lead of this dataset"
        ));
    }
    let custom = event.get("custom_data").ok_or("custom_data is missing")?;
    if custom.get("event_source").and_then(Value::as_str) != Some("crm") {
        return Err("custom_data.event_source must be crm".into());
    }
    match custom.get("lead_event_source").and_then(Value::as_str) {
        Some(source) if !source.trim().is_empty() => {}
        _ => return Err("custom_data.lead_event_source must name the CRM".into()),
    }
    match event.get("event_id") {
        None | Some(Value::String(_)) => Ok(()),
        Some(_) => Err("event_id must be a string".into()),
    }
}
