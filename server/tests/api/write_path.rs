//! Every write reaches the live feed exactly once, and the inbox keeps retry backoffs over a restart.

use std::path::Path;
use std::time::Duration;

use leadhook_server::intake::RetryPolicy;
use leadhook_shared::meta::signature::sign;
use leadhook_shared::{ApiList, ApiOk, Lead, LeadStatus, SyncReport};
use leadhook_sim::{GraphFault, GraphStandin, TestServer};
use serde_json::Value;
use tokio::time::{Instant, timeout_at};

use crate::helpers::*;

/// A form only the sweeper reads: no webhook announces its leads.
const SWEPT_FORM_ID: &str = "99887766";

fn recent_lead(leadgen_id: &str, name: &str) -> Value {
    let mut lead = graph_lead(leadgen_id, &[("full_name", &[name])]);
    lead["created_time"] = Value::String(
        (chrono::Utc::now() - chrono::Duration::minutes(5))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string(),
    );
    lead
}

/// Reads `GET /api/events` until `wanted` leads came, then a little longer to catch duplicates.
async fn read_events(mut response: reqwest::Response, wanted: usize) -> Vec<Lead> {
    let mut text = String::new();
    let mut leads = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut settle_until = None;
    loop {
        let until = settle_until.unwrap_or(deadline);
        let Ok(chunk) = timeout_at(until, response.chunk()).await else {
            break;
        };
        let Some(chunk) = chunk.expect("event stream readable") else {
            break;
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if let Some(data) = block.lines().find_map(|line| line.strip_prefix("data: ")) {
                leads.push(serde_json::from_str::<Lead>(data).expect("a lead event"));
            }
        }
        if leads.len() >= wanted && settle_until.is_none() {
            settle_until = Some(Instant::now() + Duration::from_millis(750));
        }
    }
    leads
}

#[tokio::test]
async fn webhook_sweep_patch_and_manual_leads_each_reach_the_event_stream_once() {
    let graph = spawn_graph().await;
    graph.add_form(PAGE_ID, SWEPT_FORM_ID, "Swept Form");
    let app = spawn_app_with(graph, tempfile::tempdir().unwrap(), |config| {
        config.sweep.form_ids = vec![SWEPT_FORM_ID.to_string()];
        config.sweep.interval = None;
    })
    .await;
    let events = app
        .client
        .get(app.url("/api/events"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("8001", &[("full_name", &["Webhook Lead"])]),
    );
    let webhook_lead = app.deliver_first("8001").await;
    assert_eq!(webhook_lead.meta.name.as_deref(), Some("Webhook Lead"));

    app.graph
        .add_lead(PAGE_ID, SWEPT_FORM_ID, recent_lead("8002", "Swept Lead"));
    let sync = app.api_post("/api/leads/sync").await;
    assert_eq!(sync.status(), 200);
    let report = sync.json::<ApiOk<SyncReport>>().await.unwrap().data;
    assert_eq!(report.inserted, 1, "{report:?}");

    let manual = app
        .client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"name": "Manual Lead", "phone": "+15550001"}))
        .send()
        .await
        .unwrap();
    assert_eq!(manual.status(), 201);

    let patched = app
        .client
        .patch(app.url(&format!("/api/leads/{}", webhook_lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"status": "Contacted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);

    let seen: Vec<(String, LeadStatus)> = read_events(events, 4)
        .await
        .into_iter()
        .map(|lead| (lead.meta.name.unwrap_or_default(), lead.status))
        .collect();
    let expected = [
        ("Webhook Lead", LeadStatus::NewLead),
        ("Swept Lead", LeadStatus::NewLead),
        ("Manual Lead", LeadStatus::NewLead),
        ("Webhook Lead", LeadStatus::Contacted),
    ]
    .map(|(name, status)| (name.to_string(), status));
    assert_eq!(seen, expected);
}

/// Many writes at once (reps' edits while the worker stores a batch): the stream still carries
/// every one. Announced out of cursor order, the stream skipped the older ones.
#[tokio::test]
async fn concurrent_writes_all_reach_the_event_stream() {
    const LEADS: usize = 60;
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..LEADS {
        let created = app
            .client
            .post(app.url("/api/leads"))
            .bearer_auth(REP_TOKEN)
            .json(&serde_json::json!({"name": format!("Walk-in {i}"), "phone": format!("+1555010{i:04}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        ids.push(created.json::<ApiOk<Lead>>().await.unwrap().data.id);
    }
    let events = app
        .client
        .get(app.url(&format!("/api/events?since={}", app.leads().await.cursor)))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    let edits = ids.iter().map(|id| {
        let app = &app;
        async move {
            app.client
                .patch(app.url(&format!("/api/leads/{id}")))
                .bearer_auth(REP_TOKEN)
                .json(&serde_json::json!({"notes": "called back"}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    for status in futures::future::join_all(edits).await {
        assert_eq!(status, 200);
    }
    let mut seen: Vec<i64> = read_events(events, LEADS)
        .await
        .into_iter()
        .filter(|lead| lead.notes.as_deref() == Some("called back"))
        .map(|lead| lead.id)
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, ids, "every edit on the stream, once");
}

/// A server on `data_dir` with its own retry policy.
async fn start_server(graph: &GraphStandin, data_dir: &Path, retry: RetryPolicy) -> TestServer {
    let config = settings()
        .config(graph, data_dir)
        .expect("valid test config");
    TestServer::start(config, retry)
        .await
        .expect("server starts")
}

async fn lead_count(server: &TestServer) -> u64 {
    let response = reqwest::Client::new()
        .get(format!("{}/api/leads", server.base_url()))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .expect("api request");
    response.json::<ApiList>().await.expect("lead list").count
}

#[tokio::test]
async fn events_backing_off_are_not_retried_before_their_backoff_ends_after_a_restart() {
    let graph = spawn_graph().await;
    for (id, name) in [("9001", "Patient One"), ("9002", "Patient Two")] {
        graph.add_lead(PAGE_ID, FORM_ID, graph_lead(id, &[("full_name", &[name])]));
    }
    graph.fail_all(GraphFault::transient(2));
    // The first retry comes 3 to 6 seconds after the first failure.
    let slow = RetryPolicy {
        base: Duration::from_secs(6),
        cap: Duration::from_secs(6),
    };
    let data_dir = tempfile::tempdir().unwrap();

    let first = start_server(&graph, data_dir.path(), slow).await;
    let body = notification(&["9001", "9002"]);
    let webhook = reqwest::Client::new()
        .post(format!("{}/webhook", first.base_url()))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(webhook.status(), 200);
    let fetches = poll_until(
        Duration::from_secs(10),
        || async { graph.lead_fetches() },
        |&fetches| fetches >= 2,
    )
    .await;
    assert_eq!(fetches, 2, "each event tried once and failed");
    let failed_at = Instant::now();
    // Stops accepting, lets lead fetches in flight record their outcome, and waits for the end.
    first.stop().await.expect("server stops cleanly");

    graph.heal();
    let second = start_server(&graph, data_dir.path(), slow).await;
    tokio::time::sleep_until(failed_at + Duration::from_millis(2_500)).await;
    assert_eq!(
        graph.lead_fetches(),
        2,
        "no Graph call for an event before its backoff ends, restart or not"
    );
    assert_eq!(lead_count(&second).await, 0);

    let stored = poll_until(
        Duration::from_secs(20),
        || lead_count(&second),
        |&count| count >= 2,
    )
    .await;
    assert_eq!(stored, 2, "retried once the backoff ended");
    assert_eq!(graph.lead_fetches(), 4);
    second.stop().await.expect("server stops cleanly");
}
