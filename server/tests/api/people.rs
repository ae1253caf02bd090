//! One person, one lead, over HTTP: Meta's test leads are stored as junk and wake nobody, a
//! person's repeat goes to their earlier owner (and dashboards hear it), reps merge, unlink and
//! clear junk through the API, and the operator's junk rules are read from their file.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use leadhook_shared::{
    Activity, ActivityKind, ApiError, ApiOk, Assignment, Escalation, Lead, Stats,
};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::helpers::*;

const BOB_TOKEN: &str = "bob-token-456";

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(REP_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("api request")
}

async fn lead_of(response: reqwest::Response) -> Lead {
    lead_of_status(response, 200).await
}

async fn lead_of_status(response: reqwest::Response, status: u16) -> Lead {
    assert_eq!(response.status(), status);
    response.json::<ApiOk<Lead>>().await.expect("a lead").data
}

async fn error_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    response
        .json::<ApiError>()
        .await
        .expect("an error body")
        .error
        .message
}

async fn activity(app: &TestApp, id: i64) -> Vec<Activity> {
    let response = app.api_get(&format!("/api/leads/{id}/activity")).await;
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<Vec<Activity>>>().await.unwrap().data
}

/// Puts a lead with these answers on the Graph stand-in, announces it, and waits until stored.
async fn deliver(app: &TestApp, leadgen_id: &str, answers: &[(&str, &[&str])]) -> Lead {
    app.graph
        .add_lead(PAGE_ID, FORM_ID, graph_lead(leadgen_id, answers));
    stored(app, leadgen_id).await
}

/// Announces `leadgen_id` (already on the stand-in) and waits until the store holds it.
async fn stored(app: &TestApp, leadgen_id: &str) -> Lead {
    assert_eq!(
        app.post_signed(&notification(&[leadgen_id])).await.status(),
        200
    );
    poll_until(
        Duration::from_secs(10),
        || app.leads(),
        |page| {
            page.data
                .iter()
                .any(|lead| lead.leadgen_id.as_deref() == Some(leadgen_id))
        },
    )
    .await
    .data
    .into_iter()
    .find(|lead| lead.leadgen_id.as_deref() == Some(leadgen_id))
    .expect("stored")
}

async fn round_robin_app(clock: Option<Arc<TestClock>>) -> TestApp {
    spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        move |config| {
            config.queue.assignment = Assignment::RoundRobin;
            if let Some(clock) = clock {
                config.queue.clock = clock;
            }
        },
    )
    .await
}

#[tokio::test]
async fn metas_test_lead_is_stored_as_junk_given_to_nobody_and_never_escalated() {
    let clock = TestClock::at(Utc::now());
    let app = round_robin_app(Some(Arc::clone(&clock))).await;
    // The simulator makes the test lead as Meta's Lead Ads Testing Tool does.
    app.graph.add_form(PAGE_ID, FORM_ID, "Spring Promo");
    let created: Value = app
        .client
        .post(format!(
            "{}/v25.0/{FORM_ID}/test_leads",
            app.graph.base_url()
        ))
        .bearer_auth(PAGE_TOKEN)
        .query(&[(
            "appsecret_proof",
            leadhook_shared::meta::signature::appsecret_proof(
                APP_SECRET.as_bytes(),
                PAGE_TOKEN.as_bytes(),
            ),
        )])
        .send()
        .await
        .expect("the stand-in answers")
        .json()
        .await
        .expect("json");
    let test_lead_id = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a test lead id in {created}"))
        .to_string();
    let junk = stored(&app, &test_lead_id).await;
    assert_eq!(
        junk.meta.name.as_deref(),
        Some("<test lead: dummy data for full_name>")
    );
    assert_eq!(junk.junk(), Some("Meta test lead"));
    assert_eq!(junk.owner, None, "junk takes nobody's turn");
    assert!(
        junk.meta.phone_invalid,
        "the placeholder phone is kept and marked"
    );

    let mut events = app.api_get("/api/events").await;
    // A real lead of the same moment (taken by phone) is the witness that escalations run.
    let real = lead_of_status(
        send(
            &app,
            reqwest::Method::POST,
            "/api/leads",
            Some(json!({"name": "Jane Doe", "phone": "+1 202 555 0143"})),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        real.owner.as_deref(),
        Some("alice"),
        "the real lead takes the first turn"
    );
    clock.advance_to(Utc::now() + chrono::Duration::minutes(40));
    let escalated: Vec<i64> =
        events_until(&mut events, Instant::now() + Duration::from_millis(3500))
            .await
            .into_iter()
            .filter(|(event, _)| event == "escalation")
            .map(|(_, data)| {
                serde_json::from_str::<Escalation>(&data)
                    .expect("an escalation")
                    .lead_id
            })
            .collect();
    assert!(
        escalated.contains(&real.id),
        "the real lead is escalated: {escalated:?}"
    );
    assert!(
        !escalated.contains(&junk.id),
        "junk wakes nobody: {escalated:?}"
    );

    let stats: Stats = app
        .api_get("/api/stats")
        .await
        .json::<ApiOk<Stats>>()
        .await
        .unwrap()
        .data;
    assert_eq!(
        (stats.total, stats.people.total, stats.people.junk),
        (2, 1, 1)
    );
    assert_eq!(stats.waiting.count, 1, "junk does not wait for anyone");
}

#[tokio::test]
async fn a_repeat_goes_to_the_earlier_owner_and_dashboards_hear_whose_it_is() {
    let app = round_robin_app(None).await;
    let first = deliver(
        &app,
        "555000911",
        &[
            ("full_name", &["Jane Doe"]),
            ("email", &["jane@example.com"]),
        ],
    )
    .await;
    assert_eq!(first.owner.as_deref(), Some("alice"));
    let mut events = app.api_get("/api/events").await;
    let again = deliver(
        &app,
        "555000912",
        &[
            ("full_name", &["Jane Doe"]),
            ("email", &[" Jane@Example.com"]),
            ("budget", &["high"]),
        ],
    )
    .await;
    assert_eq!(
        (again.repeat_of, again.owner.as_deref()),
        (Some(first.id), Some("alice"))
    );
    let other = deliver(
        &app,
        "555000913",
        &[
            ("full_name", &["Max"]),
            ("phone_number", &["+1 202 555 0143"]),
        ],
    )
    .await;
    assert_eq!(
        (other.repeat_of, other.owner.as_deref()),
        (None, Some("bob"))
    );

    let heard: Vec<Lead> = events_until(&mut events, Instant::now() + Duration::from_millis(1500))
        .await
        .into_iter()
        .filter(|(event, _)| event == "lead")
        .map(|(_, data)| serde_json::from_str(&data).expect("a lead"))
        .collect();
    let repeat = heard
        .iter()
        .find(|lead| lead.id == again.id)
        .expect("the repeat is announced");
    assert_eq!(repeat.repeat_of, Some(first.id));
    assert!(
        activity(&app, first.id)
            .await
            .iter()
            .any(|row| row.kind == ActivityKind::SubmittedAgain
                && row
                    .new
                    .as_deref()
                    .is_some_and(|new| new.starts_with(&format!("#{}", again.id)))),
        "the earlier lead's history says so"
    );
    let stats: Stats = app
        .api_get("/api/stats")
        .await
        .json::<ApiOk<Stats>>()
        .await
        .unwrap()
        .data;
    assert_eq!((stats.total, stats.people.total), (3, 2));
}

#[tokio::test]
async fn reps_merge_unlink_and_clear_junk_through_the_api() {
    let app = spawn_app().await;
    let a = deliver(
        &app,
        "555000921",
        &[("full_name", &["Ann"]), ("email", &["ann@example.com"])],
    )
    .await;
    let b = deliver(
        &app,
        "555000922",
        &[
            ("full_name", &["Ann B"]),
            ("email", &["ann.b@work.example"]),
        ],
    )
    .await;
    assert_eq!(b.repeat_of, None);

    let merged = lead_of(
        send(
            &app,
            reqwest::Method::PUT,
            &format!("/api/leads/{}/person", b.id),
            Some(json!({"same_as": a.id})),
        )
        .await,
    )
    .await;
    assert_eq!(merged.repeat_of, Some(a.id));
    assert_eq!(
        activity(&app, b.id)
            .await
            .last()
            .map(|row| (row.kind, row.actor.clone(), row.new.clone())),
        Some((
            ActivityKind::Linked,
            "alice".to_string(),
            Some(format!("#{} (merged by hand)", a.id))
        ))
    );
    let unlinked = lead_of(
        send(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/leads/{}/person", b.id),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(unlinked.repeat_of, None);

    // Bad requests change nothing and say what is wrong.
    let itself = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/leads/{}/person", a.id),
        Some(json!({"same_as": a.id})),
    )
    .await;
    assert!(error_of(itself, 400).await.contains("itself"));
    let unknown = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/leads/{}/person", a.id),
        Some(json!({"same_as": 999999})),
    )
    .await;
    assert!(error_of(unknown, 404).await.contains("999999"));
    let shapeless = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/leads/{}/person", a.id),
        Some(json!({"same": 1})),
    )
    .await;
    assert!(
        shapeless.status().is_client_error(),
        "{}",
        shapeless.status()
    );
    let missing = send(
        &app,
        reqwest::Method::DELETE,
        "/api/leads/999999/person",
        None,
    )
    .await;
    error_of(missing, 404).await;
    assert_eq!(
        lead_of(
            send(
                &app,
                reqwest::Method::GET,
                &format!("/api/leads/{}", a.id),
                None
            )
            .await
        )
        .await
        .repeat_of,
        None
    );

    // No way to reach the person: junk, until a rep says otherwise.
    let nameless = deliver(
        &app,
        "555000923",
        &[("full_name", &["Nobody"]), ("email", &["nobody@"])],
    )
    .await;
    assert_eq!(
        nameless.junk(),
        Some("no way to reach the person (no valid phone, no plausible e-mail)")
    );
    let cleared = lead_of(
        send(
            &app,
            reqwest::Method::DELETE,
            &format!("/api/leads/{}/junk", nameless.id),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(cleared.junk(), None);
    assert!(
        activity(&app, nameless.id)
            .await
            .iter()
            .any(|row| row.kind == ActivityKind::JunkCleared)
    );

    // A lead erased meanwhile cannot be merged.
    let erase = app
        .client
        .post(app.url(&format!("/api/leads/{}/erase", b.id)))
        .bearer_auth(REP_TOKEN)
        .json(&json!({"reason": "request 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(erase.status(), 200, "{:?}", erase.text().await);
    let erased = send(
        &app,
        reqwest::Method::PUT,
        &format!("/api/leads/{}/person", a.id),
        Some(json!({"same_as": b.id})),
    )
    .await;
    error_of(erased, 409).await;
    // Bob, a manager, may work alice's leads too; the answer names the lead.
    let by_bob = app
        .client
        .delete(app.url(&format!("/api/leads/{}/person", a.id)))
        .bearer_auth(BOB_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(lead_of(by_bob).await.id, a.id);
}

#[tokio::test]
async fn the_operators_junk_rules_come_from_their_file() {
    let rules_dir = tempfile::tempdir().unwrap();
    let rules = rules_dir.path().join("junk-rules.txt");
    std::fs::write(
        &rules,
        "# throwaway addresses\ndomain mailinator.com\nname mickey mouse\n",
    )
    .unwrap();
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |args| args.junk_rules = Some(rules.clone()),
        |_| {},
    )
    .await;
    let throwaway = deliver(
        &app,
        "555000931",
        &[
            ("full_name", &["Jane"]),
            ("email", &["jane@mailinator.com"]),
        ],
    )
    .await;
    assert_eq!(
        throwaway.junk(),
        Some("matches the rule \"domain mailinator.com\"")
    );
    let mickey = deliver(
        &app,
        "555000932",
        &[
            ("full_name", &["Mickey Mouse"]),
            ("phone_number", &["+1 202 555 0143"]),
        ],
    )
    .await;
    assert_eq!(
        mickey.junk(),
        Some("matches the rule \"name mickey mouse\"")
    );
    let real = deliver(
        &app,
        "555000933",
        &[("full_name", &["Jane"]), ("email", &["jane@example.com"])],
    )
    .await;
    assert_eq!(real.junk(), None);

    std::fs::write(&rules, "domain mailinator.com\nzip 12345\n").unwrap();
    let mut args = serve_args(&app.graph.base_url(), tempfile::tempdir().unwrap().path());
    args.junk_rules = Some(rules.clone());
    let error = leadhook_server::config::Config::from_args(args)
        .expect_err("a bad rules file stops the start");
    let message = error.to_string();
    assert!(
        message.contains("LEADHOOK_JUNK_RULES")
            && message.contains("line 2")
            && message.contains("zip"),
        "{message}"
    );
}
