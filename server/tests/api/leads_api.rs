use leadhook_shared::{ApiList, ApiOk, Lead, LeadStatus, Stats};
use serde_json::Value;

use crate::helpers::*;

pub(crate) async fn create_manual(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn manual_leads_can_be_created_read_and_updated() {
    let app = spawn_app().await;
    let response = create_manual(
        &app,
        serde_json::json!({"name": "Walk-in", "phone": "+15550100", "notes": "met at the fair"}),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: ApiOk<Lead> = response.json().await.unwrap();
    assert!(created.success);
    let lead = created.data;
    assert!(lead.is_manual);
    assert_eq!(lead.leadgen_id, None);
    assert_eq!(lead.status, LeadStatus::NewLead);

    let fetched: ApiOk<Lead> = app
        .api_get(&format!("/api/leads/{}", lead.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched.data, lead);

    let response = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth("bob-token-456")
        .json(&serde_json::json!({"status": "Won"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let updated: ApiOk<Lead> = response.json().await.unwrap();
    assert_eq!(updated.data.status, LeadStatus::Won);
    assert_eq!(updated.data.notes.as_deref(), Some("met at the fair"));

    let missing = app.api_get("/api/leads/999999").await;
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn list_filters_searches_and_polls_incrementally() {
    let app = spawn_app().await;
    for (name, phone) in [
        ("Maria Silva", "+351911"),
        ("John Smith", "+1212"),
        ("Marta Kowalska", "+4860"),
    ] {
        assert_eq!(
            create_manual(&app, serde_json::json!({"name": name, "phone": phone}))
                .await
                .status(),
            201
        );
    }
    let first = app.leads().await;
    assert_eq!(first.count, 3);
    assert_eq!(
        first.data[0].meta.name.as_deref(),
        Some("Marta Kowalska"),
        "newest first"
    );

    let search: ApiList = app.api_get("/api/leads?q=mar").await.json().await.unwrap();
    assert_eq!(search.count, 2);
    let by_phone: ApiList = app
        .api_get("/api/leads?q=%2B1212")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_phone.data[0].meta.name.as_deref(), Some("John Smith"));

    let idle: ApiList = app
        .api_get(&format!("/api/leads?since={}", first.cursor))
        .await
        .json()
        .await
        .unwrap();
    assert!(idle.data.is_empty());
    assert_eq!(idle.cursor, first.cursor);

    let john = first
        .data
        .iter()
        .find(|l| l.meta.name.as_deref() == Some("John Smith"))
        .unwrap();
    app.client
        .patch(app.url(&format!("/api/leads/{}", john.id)))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"status": "Contacted"}))
        .send()
        .await
        .unwrap();
    let changed: ApiList = app
        .api_get(&format!("/api/leads?since={}", first.cursor))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed.data.len(), 1);
    assert_eq!(changed.data[0].status, LeadStatus::Contacted);

    let contacted: ApiList = app
        .api_get("/api/leads?status=Contacted")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(contacted.count, 1);
    let page: ApiList = app
        .api_get("/api/leads?limit=1&offset=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((page.data.len(), page.count), (1, 3));
}

/// The dashboard's list asks for the leads without their answers; the default and the single
/// lead keep them.
#[tokio::test]
async fn omit_fields_leaves_the_answers_out_of_the_list_only() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "555000111",
            &[
                ("full_name", &["Ana Lima"]),
                ("products", &["Solar", "Battery"]),
            ],
        ),
    );
    let stored = app.deliver_first("555000111").await;
    assert_eq!(stored.meta.fields.len(), 2);

    for query in ["", "&omit_fields=false"] {
        let full: ApiList = app
            .api_get(&format!("/api/leads?since=0.0{query}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(full.data, std::slice::from_ref(&stored), "{query:?}");
    }
    let light = app.api_get("/api/leads?since=0.0&omit_fields=true").await;
    assert_eq!(light.status(), 200);
    let light: ApiList = light.json().await.unwrap();
    let mut expected = stored.clone();
    expected.meta.fields.clear();
    assert_eq!(light.data, [expected]);
    let newest: ApiList = app
        .api_get("/api/leads?omit_fields=true")
        .await
        .json()
        .await
        .unwrap();
    assert!(newest.data[0].meta.fields.is_empty());

    let one: ApiOk<Lead> = app
        .api_get(&format!("/api/leads/{}", stored.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one.data, stored);
    let bad = app.api_get("/api/leads?omit_fields=yes").await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn stats_count_leads_by_status_and_form() {
    let app = spawn_app().await;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("8001", &[("full_name", &["From Facebook"])]),
    );
    app.post_signed(&notification(&["8001"])).await;
    app.wait_for_leads(1).await;
    create_manual(
        &app,
        serde_json::json!({"name": "By Phone", "phone": "+1", "status": "Qualified"}),
    )
    .await;

    let stats: ApiOk<Stats> = app.api_get("/api/stats").await.json().await.unwrap();
    assert_eq!(stats.data.total, 2);
    assert_eq!(stats.data.by_status.get(&LeadStatus::NewLead), Some(&1));
    assert_eq!(stats.data.by_status.get(&LeadStatus::Qualified), Some(&1));
    assert!(
        stats
            .data
            .by_form
            .iter()
            .any(|f| f.form_id.as_deref() == Some(FORM_ID) && f.count == 1)
    );
    let bad = app.api_get("/api/stats?tz_offset_minutes=5000").await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn healthz_needs_no_token_and_carries_no_lead_data() {
    let app = spawn_app().await;
    create_manual(
        &app,
        serde_json::json!({"name": "Private Person", "phone": "+1999"}),
    )
    .await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains("Private Person") && !text.contains("+1999"));
    let health: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(health["store"]["backend"], "sqlite");
    assert_eq!(health["store"]["state"], "ok");
    assert_eq!(health["inbox"]["pending"], 0);
    assert_eq!(health["inbox"]["failed"], 0);
}

#[tokio::test]
async fn an_unchanged_poll_is_a_304_without_a_body() {
    let app = spawn_app().await;
    create_manual(&app, serde_json::json!({"name": "Someone", "phone": "+1"})).await;
    let first = app.api_get("/api/leads").await;
    let cursor = first.json::<ApiList>().await.unwrap().cursor;
    let idle_path = format!("/api/leads?since={cursor}");
    let idle = app.api_get(&idle_path).await;
    assert_eq!(idle.status(), 200);
    let etag = idle.headers()["etag"].to_str().unwrap().to_string();
    let body = idle.bytes().await.unwrap();
    assert!(
        body.len() < 200,
        "an idle poll is tiny: {} bytes",
        body.len()
    );

    let again = app
        .client
        .get(app.url(&idle_path))
        .bearer_auth(REP_TOKEN)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    create_manual(
        &app,
        serde_json::json!({"name": "Someone Else", "phone": "+2"}),
    )
    .await;
    let changed = app
        .client
        .get(app.url(&idle_path))
        .bearer_auth(REP_TOKEN)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "a change gives a new answer");
}

#[tokio::test]
async fn lead_changes_are_pushed_as_server_sent_events() {
    let app = spawn_app().await;
    let early: ApiOk<Lead> = create_manual(
        &app,
        serde_json::json!({"name": "Before Listening", "phone": "+1"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let response = app
        .client
        .get(app.url("/api/events?since=0.0"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut response = response;
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("4040", &[("full_name", &["Pushed Lead"])]),
    );
    app.post_signed(&notification(&["4040"])).await;

    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !text.contains("Pushed Lead") {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("event in time")
            .unwrap()
            .expect("stream open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: lead"), "{text}");
    assert!(
        text.contains("Before Listening"),
        "replayed from the cursor: {text}"
    );
    assert!(text.contains(&format!(
        "id: {}",
        leadhook_shared::Cursor::new(early.data.updated_at, early.data.id)
    )));

    let unauthenticated = app.client.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
}
