//! The team's work queue over HTTP: claims, reassignment, reps and availability, the activity
//! history and the queue figures of `/api/stats`; what dashboards hear of it in [`events`].

mod events;
mod reminders;

use leadhook_shared::{Activity, ActivityKind, ApiError, ApiOk, Assignment, Lead, Me, Rep, Stats};
use serde_json::{Value, json};

use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, spawn_app, spawn_app_with,
    spawn_graph,
};

const BOB_TOKEN: &str = "bob-token-456";

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("api request")
}

async fn data<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    assert_eq!(response.status(), 200, "expected 200");
    response.json::<ApiOk<T>>().await.expect("ApiOk body").data
}

async fn error_of(response: reqwest::Response, status: u16) -> (String, String) {
    assert_eq!(response.status(), status);
    let error = response.json::<ApiError>().await.expect("error body").error;
    (error.code, error.message)
}

async fn manual_lead(app: &TestApp, name: &str) -> Lead {
    let response = send(
        app,
        reqwest::Method::POST,
        "/api/leads",
        REP_TOKEN,
        Some(json!({"name": name, "phone": "+15550001111"})),
    )
    .await;
    assert_eq!(response.status(), 201);
    response.json::<ApiOk<Lead>>().await.unwrap().data
}

async fn claim(app: &TestApp, id: i64, token: &str) -> reqwest::Response {
    send(
        app,
        reqwest::Method::POST,
        &format!("/api/leads/{id}/claim"),
        token,
        None,
    )
    .await
}

async fn patch(app: &TestApp, id: i64, token: &str, body: Value) -> reqwest::Response {
    send(
        app,
        reqwest::Method::PATCH,
        &format!("/api/leads/{id}"),
        token,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_lost_claim_is_409_naming_the_owner() {
    let app = spawn_app().await;
    let lead = manual_lead(&app, "Jane Doe").await;
    assert_eq!(lead.owner, None, "claim mode: new leads arrive unowned");

    let claimed: Lead = data(claim(&app, lead.id, REP_TOKEN).await).await;
    assert_eq!(claimed.owner.as_deref(), Some("alice"));
    assert!(claimed.owned_at.is_some());

    let (code, message) = error_of(claim(&app, lead.id, BOB_TOKEN).await, 409).await;
    assert_eq!(code, "already_claimed");
    assert_eq!(
        message,
        format!("lead {} is already claimed by alice", lead.id)
    );
    // Claiming one's own lead again is fine.
    let again: Lead = data(claim(&app, lead.id, REP_TOKEN).await).await;
    assert_eq!(again.owner.as_deref(), Some("alice"));

    let released: Lead = data(
        send(
            &app,
            reqwest::Method::POST,
            &format!("/api/leads/{}/release", lead.id),
            BOB_TOKEN,
            None,
        )
        .await,
    )
    .await;
    assert_eq!(released.owner, None);
    let bobs: Lead = data(claim(&app, lead.id, BOB_TOKEN).await).await;
    assert_eq!(bobs.owner.as_deref(), Some("bob"));

    let (code, _) = error_of(claim(&app, 424242, REP_TOKEN).await, 404).await;
    assert_eq!(code, "not_found");
}

#[tokio::test]
async fn patch_reassigns_and_the_activity_tells_who_did_what() {
    let app = spawn_app().await;
    let lead = manual_lead(&app, "Jane Doe").await;
    let given: Lead = data(patch(&app, lead.id, BOB_TOKEN, json!({"owner": "alice"})).await).await;
    assert_eq!(given.owner.as_deref(), Some("alice"));

    let (code, message) = error_of(
        patch(&app, lead.id, BOB_TOKEN, json!({"owner": "mallory"})).await,
        422,
    )
    .await;
    assert_eq!(code, "validation_failed");
    assert!(
        message.contains("\"mallory\" is not a rep") && message.contains("alice, bob"),
        "{message}"
    );

    let contacted: Lead = data(
        patch(
            &app,
            lead.id,
            REP_TOKEN,
            json!({"status": "Contacted", "owner": null}),
        )
        .await,
    )
    .await;
    assert_eq!(contacted.owner, None);
    assert!(contacted.first_contact_at.is_some());

    let history: Vec<Activity> = data(
        send(
            &app,
            reqwest::Method::GET,
            &format!("/api/leads/{}/activity", lead.id),
            BOB_TOKEN,
            None,
        )
        .await,
    )
    .await;
    let rows: Vec<(&str, ActivityKind, Option<&str>, Option<&str>)> = history
        .iter()
        .map(|row| {
            (
                row.actor.as_str(),
                row.kind,
                row.old.as_deref(),
                row.new.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("alice", ActivityKind::Stored, None, None),
            ("bob", ActivityKind::Assign, None, Some("alice")),
            (
                "alice",
                ActivityKind::Status,
                Some("New Lead"),
                Some("Contacted")
            ),
            ("alice", ActivityKind::Assign, Some("alice"), None),
        ]
    );
    let (code, _) = error_of(
        send(
            &app,
            reqwest::Method::GET,
            "/api/leads/424242/activity",
            REP_TOKEN,
            None,
        )
        .await,
        404,
    )
    .await;
    assert_eq!(code, "not_found");
}

#[tokio::test]
async fn without_assignment_there_is_nothing_to_claim() {
    let app = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| config.queue.assignment = Assignment::None,
    )
    .await;
    let lead = manual_lead(&app, "Jane Doe").await;
    let (code, message) = error_of(claim(&app, lead.id, REP_TOKEN).await, 409).await;
    assert_eq!(code, "assignment_off");
    assert!(message.contains("assignment is off"), "{message}");
    let (code, _) = error_of(
        patch(&app, lead.id, REP_TOKEN, json!({"owner": "bob"})).await,
        409,
    )
    .await;
    assert_eq!(code, "assignment_off");
    let me: Me =
        data(send(&app, reqwest::Method::GET, "/api/reps/me", REP_TOKEN, None).await).await;
    assert_eq!(me.assignment, Assignment::None);
}

#[tokio::test]
async fn reps_list_availability_and_round_robin_skips_the_away() {
    let app = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| config.queue.assignment = Assignment::RoundRobin,
    )
    .await;
    let me: Me =
        data(send(&app, reqwest::Method::GET, "/api/reps/me", BOB_TOKEN, None).await).await;
    assert_eq!(
        (me.name.as_str(), me.available, me.assignment),
        ("bob", true, Assignment::RoundRobin)
    );
    let away: Me = data(
        send(
            &app,
            reqwest::Method::PUT,
            "/api/reps/me",
            BOB_TOKEN,
            Some(json!({"available": false})),
        )
        .await,
    )
    .await;
    assert!(!away.available);
    let (code, _) = error_of(
        send(
            &app,
            reqwest::Method::PUT,
            "/api/reps/me",
            BOB_TOKEN,
            Some(json!({"available": "maybe"})),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(code, "validation_failed");

    for name in ["First", "Second"] {
        let lead = manual_lead(&app, name).await;
        assert_eq!(lead.owner.as_deref(), Some("alice"), "bob is away");
    }
    // A lead from Facebook is stored by `facebook`, then given out in turn by `system`.
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            "7070",
            &[
                ("full_name", &["From Facebook"]),
                ("email", &["from.facebook@example.com"]),
            ],
        ),
    );
    assert_eq!(
        app.post_signed(&notification(&["7070"])).await.status(),
        200
    );
    let from_facebook = app
        .wait_for_leads(3)
        .await
        .into_iter()
        .find(|lead| lead.leadgen_id.as_deref() == Some("7070"))
        .expect("the webhook's lead");
    assert_eq!(from_facebook.owner.as_deref(), Some("alice"));
    let history: Vec<Activity> = data(
        app.api_get(&format!("/api/leads/{}/activity", from_facebook.id))
            .await,
    )
    .await;
    let rows: Vec<(&str, ActivityKind, Option<&str>)> = history
        .iter()
        .map(|row| (row.actor.as_str(), row.kind, row.new.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("facebook", ActivityKind::Stored, None),
            ("system", ActivityKind::Assign, Some("alice")),
        ]
    );

    let reps: Vec<Rep> = data(
        send(
            &app,
            reqwest::Method::GET,
            "/api/reps?tz_offset_minutes=-300",
            REP_TOKEN,
            None,
        )
        .await,
    )
    .await;
    let summary: Vec<(&str, bool, u64)> = reps
        .iter()
        .map(|rep| (rep.name.as_str(), rep.available, rep.open_leads))
        .collect();
    assert_eq!(summary, [("alice", true, 3), ("bob", false, 0)]);
    let (code, _) = error_of(
        send(
            &app,
            reqwest::Method::GET,
            "/api/reps?tz_offset_minutes=5000",
            REP_TOKEN,
            None,
        )
        .await,
        400,
    )
    .await;
    assert_eq!(code, "bad_request");
}

#[tokio::test]
async fn stats_count_the_waiting_the_speed_and_each_rep() {
    let app = spawn_app().await;
    let waiting = manual_lead(&app, "Still Waiting").await;
    let called = manual_lead(&app, "Called Back").await;
    data::<Lead>(claim(&app, called.id, REP_TOKEN).await).await;
    data::<Lead>(patch(&app, called.id, REP_TOKEN, json!({"status": "Won"})).await).await;

    let stats: Stats = data(app.api_get("/api/stats?tz_offset_minutes=60").await).await;
    assert_eq!(stats.waiting.count, 1);
    assert_eq!(
        stats.waiting.oldest_created_at,
        Some(waiting.meta.created_at)
    );
    assert_eq!(stats.speed_to_lead.today.count, 1);
    assert_eq!(stats.speed_to_lead.last_7_days.count, 1);
    assert!(stats.speed_to_lead.today.median_secs.is_some());
    let per_rep: Vec<(&str, u64, u64, u64)> = stats
        .per_rep
        .iter()
        .map(|rep| (rep.name.as_str(), rep.owned, rep.contacted, rep.won))
        .collect();
    assert_eq!(per_rep, [("alice", 1, 1, 1), ("bob", 0, 0, 0)]);
}
