//! The Conversions API check: the CRM dataset is readable with the token that sends events.

use chrono::Utc;
use serde_json::json;

use crate::capi::event::prepare;
use crate::config::{CapiConfig, Config};
use crate::graph::GraphClient;
use crate::store::{self, LeadQuery, QueuedStage};

use super::Check;

const NAME: &str = "Conversions API dataset";
const TEST_NAME: &str = "Conversions API test event";
/// Leads looked through for the newest Facebook one.
const TEST_LEAD_SEARCH: u32 = 100;

/// Reads `FB_DATASET_ID` with `FB_CAPI_TOKEN` (or the Page token); sends no event.
pub async fn check_dataset(config: &Config, capi: &CapiConfig) -> Check {
    let graph = match GraphClient::for_capi(config, capi) {
        Ok(graph) => graph,
        Err(error) => return Check::from_graph_error(NAME, &error),
    };
    match graph.object_name(&capi.dataset_id).await {
        Ok(name) => Check::pass(
            NAME,
            format!(
                "dataset {} ({}) is readable with the CAPI token; stages are sent to it",
                capi.dataset_id,
                name.as_deref().unwrap_or("no name")
            ),
        ),
        Err(error) => Check::from_setting_read(
            NAME,
            &error,
            "set FB_CAPI_TOKEN to a valid system-user token (or a valid Page token)",
            "check FB_DATASET_ID (Events Manager > your CRM dataset > Settings) and give FB_CAPI_TOKEN's user or app access to that dataset",
        ),
    }
}

/// Sends the current stage of the newest Facebook lead as a test event with `code`: it shows in
/// Events Manager's Test events and never counts for the ads.
pub async fn send_test_event(config: &Config, capi: &CapiConfig, code: &str) -> Check {
    let code = code.trim();
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Check::fail(
            TEST_NAME,
            "the test event code is empty or not letters and digits",
            "copy the code from Events Manager > your CRM dataset > Test events (like TEST12345)",
        );
    }
    let lead = match newest_facebook_lead(config).await {
        Ok(Some(lead)) => lead,
        Ok(None) => {
            return Check::fail(
                TEST_NAME,
                "no Facebook lead is stored yet, and Meta wants a real lead id",
                "submit a test lead (doctor --e2e, or Meta's Lead Ads Testing Tool), then run doctor again",
            );
        }
        Err(problem) => {
            return Check::fail(
                TEST_NAME,
                problem,
                "run doctor again when the store answers",
            );
        }
    };
    let now = Utc::now();
    let stage = QueuedStage {
        id: 0,
        event_id: format!("leadhook-doctor-{}-{}", lead.id, now.timestamp()),
        leadgen_id: lead.leadgen_id.clone().unwrap_or_default(),
        stage: lead.status.as_str().to_string(),
        at: now,
        lead_created_at: lead.meta.created_at,
    };
    let event = match prepare(&stage, capi, now) {
        Ok(event) => event,
        Err(problem) => return Check::fail(TEST_NAME, problem, "run doctor with another lead"),
    };
    let graph = match GraphClient::for_capi(config, capi) {
        Ok(graph) => graph,
        Err(error) => return Check::from_graph_error(TEST_NAME, &error),
    };
    let body = json!({"data": [event.body], "test_event_code": code});
    match graph
        .post_json::<serde_json::Value>(&format!("{}/events", capi.dataset_id), &body)
        .await
    {
        Ok(_) => Check::pass(
            TEST_NAME,
            format!(
                "\"{}\" of lead {} sent with test code {code}: look in Events Manager > Test events",
                capi.event_name(lead.status),
                lead.id
            ),
        ),
        Err(error) => Check::fail(
            TEST_NAME,
            error.to_string(),
            "check FB_CAPI_TOKEN's access to the dataset and the event fields in Meta's answer",
        ),
    }
}

async fn newest_facebook_lead(config: &Config) -> Result<Option<leadhook_shared::Lead>, String> {
    let store = store::open(config).await.map_err(|e| e.to_string())?;
    let page = store
        .list(&LeadQuery {
            limit: TEST_LEAD_SEARCH,
            ..LeadQuery::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(page
        .leads
        .into_iter()
        .find(|lead| lead.leadgen_id.is_some()))
}
