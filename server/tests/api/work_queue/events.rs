//! The work queue on `/api/events`: claims and releases reach every dashboard once, and each
//! escalation threshold is announced once, on one server and across replicas.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::StoreConfig;
use leadhook_shared::{Escalation, Lead};
use tokio::time::Instant;

use super::{BOB_TOKEN, claim, data, manual_lead, send};
use crate::helpers::{REP_TOKEN, TestClock, events_until, spawn_app, spawn_app_with, spawn_graph};

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
    let clock = TestClock::at(started);
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
    let clock = TestClock::at(Utc::now());
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
        // Both streams read at once: a stream not read holds its events back.
        let deadline = Instant::now() + checks;
        let heard = futures::future::join_all(
            streams
                .iter_mut()
                .map(|stream| escalations_until(stream, deadline)),
        )
        .await;
        for heard in heard {
            let heard: Vec<(i64, u64)> = heard
                .iter()
                .map(|e| (e.lead_id, e.threshold_secs))
                .collect();
            assert_eq!(heard, [(lead.id, threshold)], "after {minutes} minutes");
        }
    }
}
