//! The team's work queue over HTTP: claims, reassignment, reps and availability, the activity
//! history, the queue figures of `/api/stats`, and escalations on `/api/events`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::clock::Clock;
use leadhook_server::config::StoreConfig;
use leadhook_shared::{
    Activity, ActivityKind, ApiError, ApiOk, Assignment, Escalation, Lead, Me, Rep, Stats,
};
use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, spawn_app, spawn_app_with,
    spawn_graph,
};

const BOB_TOKEN: &str = "bob-token-456";

/// A clock the test moves by hand.
#[derive(Debug)]
struct TestClock(Mutex<DateTime<Utc>>);

impl TestClock {
    fn advance_to(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = at;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

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
        graph_lead("7070", &[("full_name", &["From Facebook"])]),
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

/// Reads `/api/events` until `deadline`: the (event, data) pairs seen.
async fn events_until(
    response: &mut reqwest::Response,
    deadline: Instant,
) -> Vec<(String, String)> {
    let mut text = String::new();
    let mut events = Vec::new();
    while let Ok(chunk) = timeout_at(deadline, response.chunk()).await {
        let Some(chunk) = chunk.expect("event stream readable") else {
            break;
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::to_string)
            };
            if let (Some(event), Some(data)) = (field("event: "), field("data: ")) {
                events.push((event, data));
            }
        }
    }
    events
}

async fn escalations_until(response: &mut reqwest::Response, deadline: Instant) -> Vec<Escalation> {
    events_until(response, deadline)
        .await
        .into_iter()
        .filter(|(event, _)| event == "escalation")
        .map(|(_, data)| serde_json::from_str(&data).expect("an Escalation"))
        .collect()
}

#[tokio::test]
async fn claims_and_releases_reach_every_dashboard_once() {
    let app = spawn_app().await;
    let lead = manual_lead(&app, "Jane Doe").await;
    let mut events = send(&app, reqwest::Method::GET, "/api/events", BOB_TOKEN, None).await;
    assert_eq!(events.status(), 200);
    data::<Lead>(claim(&app, lead.id, REP_TOKEN).await).await;
    data::<Lead>(
        send(
            &app,
            reqwest::Method::POST,
            &format!("/api/leads/{}/release", lead.id),
            REP_TOKEN,
            None,
        )
        .await,
    )
    .await;
    let seen: Vec<(String, Option<String>)> =
        events_until(&mut events, Instant::now() + Duration::from_millis(1500))
            .await
            .into_iter()
            .map(|(event, data)| {
                let changed: Lead = serde_json::from_str(&data).expect("a lead event");
                assert_eq!(changed.id, lead.id);
                (event, changed.owner)
            })
            .collect();
    assert_eq!(
        seen,
        [
            ("lead".to_string(), Some("alice".to_string())),
            ("lead".to_string(), None)
        ]
    );
}

#[tokio::test]
async fn a_waiting_lead_is_escalated_once_per_threshold() {
    let started = Utc::now();
    let clock = Arc::new(TestClock(Mutex::new(started)));
    let app = {
        let clock = Arc::clone(&clock);
        spawn_app_with(
            spawn_graph().await,
            tempfile::tempdir().unwrap(),
            move |config| config.queue.clock = clock,
        )
        .await
    };
    let lead = manual_lead(&app, "Jane Doe").await;
    let mut events = app.api_get("/api/events").await;
    assert_eq!(events.status(), 200);
    // The escalator checks every second: give it a few checks at each clock position.
    let checks = Duration::from_millis(3500);

    let early = escalations_until(&mut events, Instant::now() + checks).await;
    assert!(early.is_empty(), "nothing waits 5 minutes yet: {early:?}");

    clock.advance_to(lead.meta.created_at + chrono::Duration::minutes(6));
    let first = escalations_until(&mut events, Instant::now() + checks).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].lead_id, lead.id);
    assert_eq!(first[0].name, "Jane Doe");
    assert_eq!(first[0].threshold_secs, 300);
    assert_eq!(first[0].waiting_secs, 360);

    clock.advance_to(lead.meta.created_at + chrono::Duration::minutes(31));
    let second = escalations_until(&mut events, Instant::now() + checks).await;
    assert_eq!(
        second
            .iter()
            .map(|e| (e.lead_id, e.threshold_secs))
            .collect::<Vec<_>>(),
        [(lead.id, 1800)]
    );

    clock.advance_to(lead.meta.created_at + chrono::Duration::hours(3));
    let after = escalations_until(&mut events, Instant::now() + checks).await;
    assert!(after.is_empty(), "each threshold once: {after:?}");
}

/// Two replicas on one Supabase store, each with a dashboard listening: both dashboards hear of
/// each threshold once, though only one replica takes each mark.
#[tokio::test]
async fn every_replica_tells_its_dashboards_of_an_escalation_once() {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let clock = Arc::new(TestClock(Mutex::new(Utc::now())));
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let clock = Arc::clone(&clock);
        let (url, key) = (supabase.base_url.clone(), supabase.secret_key().to_string());
        replicas.push(
            spawn_app_with(
                spawn_graph().await,
                tempfile::tempdir().unwrap(),
                move |config| {
                    config.store = StoreConfig::Supabase {
                        url,
                        key: key.into(),
                    };
                    config.queue.clock = clock;
                },
            )
            .await,
        );
    }
    let lead = manual_lead(&replicas[0], "Jane Doe").await;
    let mut streams = Vec::new();
    for replica in &replicas {
        let events = replica.api_get("/api/events").await;
        assert_eq!(events.status(), 200);
        streams.push(events);
    }
    let checks = Duration::from_millis(3500);
    for (minutes, threshold) in [(6, 300), (31, 1800)] {
        clock.advance_to(lead.meta.created_at + chrono::Duration::minutes(minutes));
        let deadline = Instant::now() + checks;
        for stream in &mut streams {
            let heard: Vec<(i64, u64)> = escalations_until(stream, deadline)
                .await
                .iter()
                .map(|e| (e.lead_id, e.threshold_secs))
                .collect();
            assert_eq!(heard, [(lead.id, threshold)], "after {minutes} minutes");
        }
    }
}
