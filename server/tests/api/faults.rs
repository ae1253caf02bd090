use std::collections::BTreeSet;
use std::time::Duration;

use leadhook_sim::GraphFault;
use serde_json::Value;

use crate::helpers::*;

/// 30% of Graph calls fail with a mix of 500s, timeouts and rate-limit bodies while 200 webhooks
/// arrive: every lead ends in the store exactly once.
#[tokio::test]
async fn a_flaky_graph_api_loses_nothing() {
    let graph = spawn_graph().await;
    let ids: Vec<String> = (0..200).map(|i| format!("70{i:04}")).collect();
    for id in &ids {
        graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Lead {id}")])]),
        );
    }
    graph.fail_ratio(
        0.3,
        vec![
            GraphFault::server_error(),
            GraphFault::transient(2),
            GraphFault::Delay(Duration::from_secs(2)),
            GraphFault::rate_limited(4, 0),
            GraphFault::rate_limited(80005, 0),
        ],
        7,
    );
    let app = spawn_app_with(graph, tempfile::tempdir().unwrap(), |config| {
        config.graph_timeout = Duration::from_millis(300);
    })
    .await;

    let sends = ids.iter().map(|id| {
        let app = &app;
        async move { app.post_signed(&notification(&[id])).await.status() }
    });
    for status in futures::future::join_all(sends).await {
        assert_eq!(status, 200);
    }
    let leads = app.wait_for_leads(200).await;
    let stored: BTreeSet<_> = leads.iter().filter_map(|l| l.leadgen_id.clone()).collect();
    assert_eq!(leads.len(), 200, "exactly once each");
    assert_eq!(stored, ids.iter().cloned().collect::<BTreeSet<_>>());
    let health = app.wait_for_settled_inbox().await;
    assert_eq!(health["inbox"]["failed"], 0);

    let metrics = app.metrics().await;
    assert!(
        metrics.contains("leadhook_graph_calls_total{outcome=\"ok\"} 200"),
        "{metrics}"
    );
    assert!(
        metrics.contains("leadhook_graph_calls_total{outcome=\"transient\"}"),
        "{metrics}"
    );
}

/// Code 190 on every call: events are kept, health says the token is invalid; after the token is
/// fixed and a retry is asked, every lead arrives.
#[tokio::test]
async fn an_invalid_token_keeps_events_until_a_retry() {
    let app = spawn_app().await;
    let ids = ["8101", "8102", "8103"];
    for id in ids {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &["Patient Lead"])]),
        );
    }
    app.graph.fail_all(GraphFault::invalid_token(Some(463)));
    assert_eq!(app.post_signed(&notification(&ids)).await.status(), 200);

    let health = app.wait_for_health(|h| h["inbox"]["failed"] == 3).await;
    assert_eq!(health["inbox"]["failed"], 3, "{health}");
    assert_eq!(health["graph"]["state"], "token_invalid");
    assert!(
        health["graph"]["message"]
            .as_str()
            .unwrap()
            .contains("FB_PAGE_ACCESS_TOKEN")
    );
    assert!(
        health["inbox"]["recent_failures"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("190")
    );
    assert_eq!(health["ok"], false);
    assert_eq!(app.leads().await.count, 0);

    app.graph.heal();
    let response = app.api_post("/api/inbox/retry").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["retried"], 3);
    assert_eq!(app.wait_for_leads(3).await.len(), 3);
    let health = app
        .wait_for_health(|h| h["inbox"]["failed"] == 0 && h["graph"]["state"] == "ok")
        .await;
    assert_eq!(health["ok"], true, "{health}");
}

/// A lead the app may not read (Leads Access Manager) is kept as failed with the fix, not dropped.
#[tokio::test]
async fn an_unreadable_lead_is_kept_with_its_reason() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("8201", &[("full_name", &["Locked"])]),
    );
    app.graph.fail_all(GraphFault::unreadable());
    app.post_signed(&notification(&["8201"])).await;
    let health = app.wait_for_health(|h| h["inbox"]["failed"] == 1).await;
    let reason = health["inbox"]["recent_failures"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("Leads Access Manager"), "{reason}");
}
