//! Reminders on `/api/events`: a follow-up is announced when it falls due (within a second of
//! the server's clock reaching it), once, on one server and across replicas; never after it was
//! cleared. Reps keep their time zone; `/api/stats` counts attempts and overdue steps.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::StoreConfig;
use leadhook_shared::{Me, Reminder, Stats};
use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

use super::{BOB_TOKEN, claim, data, error_of, manual_lead, patch, send};
use crate::helpers::{REP_TOKEN, TestApp, TestClock, events_until, spawn_app_with, spawn_graph};

/// The reminders heard on `events` until `deadline`, as (lead, what).
async fn reminders_until(events: &mut reqwest::Response, deadline: Instant) -> Vec<(i64, String)> {
    events_until(events, deadline)
        .await
        .into_iter()
        .filter(|(event, _)| event == "reminder")
        .map(|(_, data)| {
            let reminder: Reminder = serde_json::from_str(&data).expect("a Reminder");
            (reminder.lead_id, reminder.what)
        })
        .collect()
}

async fn app_on(clock: &Arc<TestClock>, store: Option<(String, String)>) -> TestApp {
    let clock = Arc::clone(clock);
    spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        move |config| {
            config.queue.clock = clock;
            if let Some((url, key)) = store {
                config.store = StoreConfig::Supabase {
                    url,
                    key: key.into(),
                };
            }
        },
    )
    .await
}

async fn set_step(app: &TestApp, id: i64, at: DateTime<Utc>, what: &str) {
    let body = json!({"at": at.to_rfc3339_opts(SecondsFormat::Secs, true), "what": what});
    let path = format!("/api/leads/{id}/next-step");
    let response = send(app, Method::PUT, &path, REP_TOKEN, Some(body)).await;
    assert_eq!(response.status(), 200);
}

/// How long after the clock reaches a step its reminder may come: a check a second, plus slack.
const ON_TIME: Duration = Duration::from_millis(1300);
/// How long to listen for something that must not come: a few checks.
const A_FEW_CHECKS: Duration = Duration::from_millis(2500);

#[tokio::test]
async fn a_follow_up_is_announced_once_when_it_falls_due() {
    let now = Utc::now();
    let clock = TestClock::at(now);
    let app = app_on(&clock, None).await;
    let lead = manual_lead(&app, "Jane Doe").await;
    let cleared = manual_lead(&app, "Cleo Cleared").await;
    claim(&app, lead.id, REP_TOKEN).await;
    let at = now + chrono::Duration::minutes(10);
    set_step(&app, lead.id, at, "Call back").await;
    set_step(&app, cleared.id, at, "Send the quote").await;
    let path = format!("/api/leads/{}/next-step", cleared.id);
    let response = send(&app, Method::DELETE, &path, REP_TOKEN, None).await;
    assert_eq!(response.status(), 200);
    let won = manual_lead(&app, "Willa Won").await;
    set_step(&app, won.id, at, "Send the contract").await;
    let response = patch(&app, won.id, REP_TOKEN, json!({"status": "Won"})).await;
    assert_eq!(response.status(), 200);
    let mut events = app.api_get("/api/events").await;
    assert_eq!(events.status(), 200);

    clock.advance_to(at - chrono::Duration::seconds(1));
    let early = reminders_until(&mut events, Instant::now() + A_FEW_CHECKS).await;
    assert!(early.is_empty(), "not before its time: {early:?}");

    clock.advance_to(at);
    let due = reminders_until(&mut events, Instant::now() + ON_TIME).await;
    assert_eq!(
        due,
        [(lead.id, "Call back".to_string())],
        "not the cleared one"
    );

    clock.advance_to(at + chrono::Duration::minutes(5));
    let after = reminders_until(&mut events, Instant::now() + A_FEW_CHECKS).await;
    assert!(after.is_empty(), "once: {after:?}");
}

/// Two replicas on one Supabase store, each with a dashboard listening: both dashboards hear of
/// each follow-up once, though only one replica takes its mark.
#[tokio::test]
async fn every_replica_tells_its_dashboards_of_a_reminder_once() {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let now = Utc::now();
    let clock = TestClock::at(now);
    let store = (supabase.base_url.clone(), supabase.secret_key().to_string());
    let replicas = [
        app_on(&clock, Some(store.clone())).await,
        app_on(&clock, Some(store)).await,
    ];
    let first = manual_lead(&replicas[0], "Jane Doe").await;
    let second = manual_lead(&replicas[1], "John Roe").await;
    let at = now + chrono::Duration::minutes(10);
    set_step(&replicas[0], first.id, at, "Call back").await;
    set_step(
        &replicas[1],
        second.id,
        at + chrono::Duration::minutes(1),
        "Call again",
    )
    .await;
    let mut streams = Vec::new();
    for replica in &replicas {
        let events = replica.api_get("/api/events").await;
        assert_eq!(events.status(), 200);
        streams.push(events);
    }
    for (minutes, lead, what) in [(10, first.id, "Call back"), (11, second.id, "Call again")] {
        clock.advance_to(now + chrono::Duration::minutes(minutes));
        // Both streams read at once: a stream not read holds its events back.
        let deadline = Instant::now() + A_FEW_CHECKS;
        let heard = futures::future::join_all(
            streams
                .iter_mut()
                .map(|stream| reminders_until(stream, deadline)),
        )
        .await;
        for heard in heard {
            assert_eq!(heard, [(lead, what.to_string())], "at minute {minutes}");
        }
    }
}

#[tokio::test]
async fn a_rep_keeps_a_time_zone_and_bad_ones_are_refused() {
    let clock = TestClock::at(Utc::now());
    let app = app_on(&clock, None).await;
    let me: Me = data(app.api_get("/api/reps/me").await).await;
    assert_eq!(me.time_zone, None);
    let set = send(
        &app,
        Method::PUT,
        "/api/reps/me",
        REP_TOKEN,
        Some(json!({"time_zone": "America/Los_Angeles"})),
    )
    .await;
    let me: Me = data(set).await;
    assert_eq!(me.time_zone.as_deref(), Some("America/Los_Angeles"));
    assert!(me.available, "the zone alone leaves availability as it was");
    for (body, status, says) in [
        (json!({"time_zone": "Mars/Olympus"}), 400, "Mars/Olympus"),
        (json!({"time_zone": "europe/berlin"}), 400, "Europe/Berlin"),
        (json!({}), 400, "time_zone"),
        (
            json!({"time_zone": "Europe/Berlin", "colour": "red"}),
            422,
            "colour",
        ),
    ] {
        let refused = send(&app, Method::PUT, "/api/reps/me", REP_TOKEN, Some(body)).await;
        let (_, message) = error_of(refused, status).await;
        assert!(message.contains(says), "{message}");
    }
    let me: Me = data(app.api_get("/api/reps/me").await).await;
    assert_eq!(
        me.time_zone.as_deref(),
        Some("America/Los_Angeles"),
        "unchanged"
    );
}

#[tokio::test]
async fn stats_count_attempts_contacts_and_overdue_follow_ups_per_rep() {
    let now = Utc::now();
    let clock = TestClock::at(now);
    let app = app_on(&clock, None).await;
    let reached = manual_lead(&app, "Jane Doe").await;
    let waiting = manual_lead(&app, "John Roe").await;
    claim(&app, reached.id, REP_TOKEN).await;
    claim(&app, waiting.id, BOB_TOKEN).await;
    for (id, outcome) in [
        (reached.id, "no_answer"),
        (reached.id, "talked"),
        (waiting.id, "no_answer"),
    ] {
        let path = format!("/api/leads/{id}/attempts");
        let body = json!({"outcome": outcome});
        let response = send(&app, Method::POST, &path, REP_TOKEN, Some(body)).await;
        assert_eq!(response.status(), 200);
    }
    set_step(
        &app,
        reached.id,
        now + chrono::Duration::hours(1),
        "Send the quote",
    )
    .await;
    clock.advance_to(now + chrono::Duration::hours(3));
    let stats: Stats = data(app.api_get("/api/stats").await).await;
    assert_eq!(
        (
            stats.follow_ups.attempts,
            stats.follow_ups.leads_attempted,
            stats.follow_ups.leads_talked
        ),
        (3, 2, 1)
    );
    assert_eq!(stats.follow_ups.attempts_per_lead_tenths(), Some(15));
    assert_eq!(stats.follow_ups.contact_rate_percent(), Some(50));
    let overdue: Vec<(&str, u64)> = stats
        .per_rep
        .iter()
        .map(|rep| (rep.name.as_str(), rep.overdue))
        .collect();
    // bob's lead got the cadence's step (default 15m) after its unanswered call: overdue too.
    assert_eq!(overdue, [("alice", 1), ("bob", 1)]);
    assert_eq!(stats.follow_ups.overdue, 2);
}
