//! `GET /api/leads/export`: managers and admins only, paged as `GET /api/leads`, and each lead
//! exported is in its history with who exported it, without counting as a change.

use leadhook_shared::{Activity, ActivityKind, ApiList, ApiOk};
use serde_json::Value;

use crate::helpers::*;

const MANAGER_TOKEN: &str = "carol-token-789";

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("api request")
}

#[tokio::test]
async fn a_manager_exports_whole_leads_and_each_history_says_so() {
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("temp dir"),
        |args| {
            args.api_tokens =
                Some(format!("alice:rep:{REP_TOKEN},carol:manager:{MANAGER_TOKEN}").into());
        },
        |_| {},
    )
    .await;
    for leadgen_id in ["9101", "9102", "9103"] {
        app.graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(leadgen_id, &[("full_name", &["Exported Person"])]),
        );
    }
    app.post_signed(&notification(&["9101", "9102", "9103"]))
        .await;
    app.wait_for_leads(3).await;
    let listed = app.leads().await;

    let refused = get(&app, "/api/leads/export", REP_TOKEN).await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("error body");
    assert_eq!(body["error"]["code"], "forbidden", "{body}");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("manager"), "{message}");

    let first: ApiList = get(&app, "/api/leads/export?limit=2", MANAGER_TOKEN)
        .await
        .json()
        .await
        .expect("first export page");
    let rest: ApiList = get(&app, "/api/leads/export?limit=2&offset=2", MANAGER_TOKEN)
        .await
        .json()
        .await
        .expect("second export page");
    assert_eq!((first.count, rest.count), (3, 3));
    let exported: Vec<_> = first.data.iter().chain(&rest.data).cloned().collect();
    assert_eq!(exported, listed.data, "the list's leads, newest first");
    assert!(exported.iter().all(|lead| !lead.meta.fields.is_empty()));
    let too_big = get(&app, "/api/leads/export?limit=1001", MANAGER_TOKEN).await;
    assert_eq!(too_big.status(), 400);

    for lead in &exported {
        let history: ApiOk<Vec<Activity>> = app
            .api_get(&format!("/api/leads/{}/activity", lead.id))
            .await
            .json()
            .await
            .expect("history");
        let exports: Vec<&str> = history
            .data
            .iter()
            .filter(|row| row.kind == ActivityKind::Exported)
            .map(|row| row.actor.as_str())
            .collect();
        assert_eq!(exports, ["carol"], "lead {}: {:?}", lead.id, history.data);
    }

    let since: ApiList = app
        .api_get(&format!("/api/leads?since={}", listed.cursor))
        .await
        .json()
        .await
        .expect("changes");
    assert!(
        since.data.is_empty(),
        "an export is no change: {:?}",
        since.data
    );
    assert_eq!(since.cursor, listed.cursor);
}
