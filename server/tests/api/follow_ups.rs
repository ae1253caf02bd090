//! Follow-ups over HTTP: a lead's next step and call attempts, who may change them, the due list,
//! and what dashboards hear of it.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use leadhook_shared::{ApiError, ApiList, ApiOk, Attempted, Lead, LeadStatus};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::helpers::events_until;
use crate::roles::{Backend, RolesApp, spawn_with};

fn in_minutes(minutes: i64) -> String {
    (Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A server whose cadence plans one call back, a minute after an unanswered call.
async fn app() -> RolesApp {
    spawn_with(Backend::Sqlite, "team", |args| {
        args.cadence = Some("1m".into())
    })
    .await
}

async fn send(
    app: &RolesApp,
    rep: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send_as(rep, method, path, body).await
}

async fn data<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> T {
    assert_eq!(response.status(), 200, "expected 200");
    response.json::<ApiOk<T>>().await.expect("ApiOk body").data
}

async fn refused(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    response
        .json::<ApiError>()
        .await
        .expect("error body")
        .error
        .message
}

#[tokio::test]
async fn follow_ups_bad_input_is_400_and_unknown_leads_404() {
    let app = app().await;
    let lead = app.lead_owned_by(Some("alice")).await;
    let path = format!("/api/leads/{}/next-step", lead.id);
    let put = |body: Value| send(&app, "alice", Method::PUT, &path, Some(body));
    let message = refused(
        put(json!({"at": "tomorrow", "what": "Call back"})).await,
        400,
    )
    .await;
    assert!(message.contains("RFC 3339"), "{message}");
    let message = refused(
        put(json!({"at": in_minutes(-5), "what": "Call back"})).await,
        400,
    )
    .await;
    assert!(message.contains("in the past"), "{message}");
    // Within a minute of now is a clock a little behind, not the past.
    data::<Lead>(put(json!({"at": in_minutes(0), "what": "Call now"})).await).await;
    let long = "x".repeat(201);
    let message = refused(put(json!({"at": in_minutes(60), "what": long})).await, 400).await;
    assert!(message.contains("at most 200 characters"), "{message}");
    refused(put(json!({"at": in_minutes(60), "what": "  "})).await, 400).await;

    let attempts = format!("/api/leads/{}/attempts", lead.id);
    let message = refused(
        send(
            &app,
            "alice",
            Method::POST,
            &attempts,
            Some(json!({"outcome": "busy"})),
        )
        .await,
        400,
    )
    .await;
    assert!(
        message.contains("no_answer, left_voicemail, talked, wrong_number"),
        "{message}"
    );
    let long_note = json!({"outcome": "talked", "note": "x".repeat(5000)});
    refused(
        send(&app, "alice", Method::POST, &attempts, Some(long_note)).await,
        400,
    )
    .await;

    let message = refused(
        send(
            &app,
            "alice",
            Method::GET,
            "/api/leads?due_before=soon",
            None,
        )
        .await,
        400,
    )
    .await;
    assert!(message.contains("due_before"), "{message}");

    for (method, path, body) in [
        (
            Method::PUT,
            "/api/leads/424242/next-step",
            Some(json!({"at": in_minutes(60), "what": "Call"})),
        ),
        (Method::DELETE, "/api/leads/424242/next-step", None),
        (
            Method::POST,
            "/api/leads/424242/attempts",
            Some(json!({"outcome": "talked"})),
        ),
    ] {
        refused(send(&app, "alice", method, path, body).await, 404).await;
    }
}

#[tokio::test]
async fn follow_ups_of_another_reps_lead_need_a_manager() {
    let app = app().await;
    let lead = app.lead_owned_by(Some("alice")).await;
    let unowned = app.lead_owned_by(None).await;
    let step = json!({"at": in_minutes(60), "what": "Call back"});
    let next_step = |id: i64| format!("/api/leads/{id}/next-step");
    let attempts = format!("/api/leads/{}/attempts", lead.id);
    for (method, path, body) in [
        (Method::PUT, next_step(lead.id), Some(step.clone())),
        (Method::DELETE, next_step(lead.id), None),
        (
            Method::POST,
            attempts.clone(),
            Some(json!({"outcome": "talked"})),
        ),
    ] {
        let message = refused(send(&app, "zoe", method, &path, body).await, 403).await;
        assert!(message.contains("manager"), "{message}");
    }
    let unchanged: Lead = data(
        send(
            &app,
            "alice",
            Method::GET,
            &format!("/api/leads/{}", lead.id),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((unchanged.next_step, unchanged.attempts), (None, 0));

    let by_manager: Lead = data(
        send(
            &app,
            "mia",
            Method::PUT,
            &next_step(lead.id),
            Some(step.clone()),
        )
        .await,
    )
    .await;
    assert_eq!(
        by_manager.next_step.map(|step| step.what),
        Some("Call back".into())
    );
    let on_unowned: Lead =
        data(send(&app, "zoe", Method::PUT, &next_step(unowned.id), Some(step)).await).await;
    assert!(on_unowned.next_step.is_some(), "a rep works unowned leads");
}

#[tokio::test]
async fn follow_ups_attempts_schedule_call_backs_and_dashboards_hear_it() {
    let app = app().await;
    let lead = app.lead_owned_by(Some("alice")).await;
    let mut events = send(&app, "mia", Method::GET, "/api/events", None).await;
    assert_eq!(events.status(), 200);
    let attempts = format!("/api/leads/{}/attempts", lead.id);

    let first: Attempted = data(
        send(
            &app,
            "alice",
            Method::POST,
            &attempts,
            Some(json!({"outcome": "no_answer", "note": "rang out"})),
        )
        .await,
    )
    .await;
    assert_eq!(first.lead.attempts, 1);
    assert_eq!(first.suggest, None);
    let planned = first
        .lead
        .next_step
        .clone()
        .expect("a call back is planned");
    assert_eq!(planned.what, "Call back (attempt 2)");
    let wait = planned.at - Utc::now();
    assert!(
        wait > chrono::Duration::seconds(50) && wait <= chrono::Duration::seconds(60),
        "{wait}"
    );

    let due_soon = format!("/api/leads?due_before={}&owner=me", in_minutes(2));
    let mine: ApiList = data_list(send(&app, "alice", Method::GET, &due_soon, None).await).await;
    assert_eq!(
        mine.data.iter().map(|lead| lead.id).collect::<Vec<_>>(),
        [lead.id]
    );
    let zoes: ApiList = data_list(send(&app, "zoe", Method::GET, &due_soon, None).await).await;
    assert!(zoes.data.is_empty(), "{:?}", zoes.data);

    let second: Attempted = data(
        send(
            &app,
            "alice",
            Method::POST,
            &attempts,
            Some(json!({"outcome": "left_voicemail"})),
        )
        .await,
    )
    .await;
    assert_eq!((second.lead.attempts, second.lead.next_step), (2, None));
    assert_eq!(
        second.suggest,
        Some(vec![LeadStatus::Lost, LeadStatus::Unqualified])
    );

    let next_step = format!("/api/leads/{}/next-step", lead.id);
    let quote = json!({"at": in_minutes(90), "what": "Send the quote"});
    data::<Lead>(send(&app, "alice", Method::PUT, &next_step, Some(quote)).await).await;
    let cleared: Lead = data(send(&app, "alice", Method::DELETE, &next_step, None).await).await;
    assert_eq!(cleared.next_step, None);

    let heard: Vec<(u32, LeadStatus, Option<String>)> =
        events_until(&mut events, Instant::now() + Duration::from_millis(1500))
            .await
            .into_iter()
            .filter(|(event, _)| event == "lead")
            .map(|(_, data)| serde_json::from_str::<Lead>(&data).expect("a lead event"))
            .filter(|changed| changed.id == lead.id)
            .map(|changed| {
                let what = changed.next_step.map(|step| step.what);
                (changed.attempts, changed.status, what)
            })
            .collect();
    let call_back = Some("Call back (attempt 2)".to_string());
    let contacted = LeadStatus::Contacted;
    assert_eq!(
        heard,
        [
            (1, LeadStatus::NewLead, call_back.clone()),
            (1, contacted, call_back),
            (2, contacted, None),
            (2, contacted, Some("Send the quote".to_string())),
            (2, contacted, None)
        ]
    );

    let history: Vec<leadhook_shared::Activity> = data(
        send(
            &app,
            "alice",
            Method::GET,
            &format!("/api/leads/{}/activity", lead.id),
            None,
        )
        .await,
    )
    .await;
    let attempts: Vec<_> = history
        .iter()
        .filter(|row| row.kind == leadhook_shared::ActivityKind::Attempt)
        .map(|row| (row.actor.as_str(), row.new.as_deref()))
        .collect();
    assert_eq!(
        attempts,
        [
            ("alice", Some("no_answer: rang out")),
            ("alice", Some("left_voicemail"))
        ]
    );
}

/// Planning or logging a call is working the lead: an unowned one becomes the rep's; a call makes
/// a new one Contacted
/// (the first contact); a lead another rep owns keeps its owner and status.
#[tokio::test]
async fn follow_ups_a_first_call_or_plan_claims_an_unowned_lead_and_a_call_marks_it_contacted() {
    let app = app().await;
    let unowned = app.lead_owned_by(None).await;
    let path = format!("/api/leads/{}/attempts", unowned.id);
    let called: Attempted = data(
        send(
            &app,
            "alice",
            Method::POST,
            &path,
            Some(json!({"outcome": "talked"})),
        )
        .await,
    )
    .await;
    assert_eq!(called.lead.owner.as_deref(), Some("alice"));
    assert_eq!(called.lead.status, LeadStatus::Contacted);
    assert!(called.lead.first_contact_at.is_some());

    let planned = app.lead_owned_by(None).await;
    let path = format!("/api/leads/{}/next-step", planned.id);
    let step = json!({"at": in_minutes(30), "what": "Call back"});
    let zoes: Lead = data(send(&app, "zoe", Method::PUT, &path, Some(step)).await).await;
    assert_eq!(
        zoes.owner.as_deref(),
        Some("zoe"),
        "planning a call is working it"
    );
    assert_eq!(zoes.status, LeadStatus::NewLead, "but no contact yet");

    let theirs = app.lead_owned_by(Some("alice")).await;
    let path = format!("/api/leads/{}/attempts", theirs.id);
    let by_manager: Attempted = data(
        send(
            &app,
            "mia",
            Method::POST,
            &path,
            Some(json!({"outcome": "no_answer"})),
        )
        .await,
    )
    .await;
    assert_eq!(by_manager.lead.owner.as_deref(), Some("alice"));
    assert_eq!(
        by_manager.lead.status,
        LeadStatus::NewLead,
        "alice's to contact"
    );
    assert_eq!(by_manager.lead.attempts, 1);
}

async fn data_list(response: reqwest::Response) -> ApiList {
    assert_eq!(response.status(), 200, "expected 200");
    response.json().await.expect("ApiList body")
}
