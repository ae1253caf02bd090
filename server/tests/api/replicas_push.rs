//! Push from PostgreSQL (`DATABASE_URL`): two replicas on one local Supabase (the real PostgREST
//! 12 on a throwaway PostgreSQL) listen for the store's change notifications. The replica that
//! must receive the changes polls only once a minute, so only a push gets them there in time.

use std::time::Duration;

use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::DatabaseConfig;
use leadhook_shared::Lead;
use tokio::time::Instant;

use crate::helpers::*;
use crate::replicas::{EventReader, Replica};

/// So slow that a change on time came by push.
const SLOW_POLL: Duration = Duration::from_secs(60);
/// Generous for one lead across replicas by push; the bench measures the real figure.
const PUSH_BOUND: Duration = Duration::from_secs(1);
const LEADS: usize = 50;
/// How long a replica may take to connect, drop or reconnect its listening session.
const SESSION_WAIT: Duration = Duration::from_secs(20);

async fn listening_replica(
    graph: &leadhook_sim::GraphStandin,
    supabase: &LocalSupabase,
) -> Replica {
    let database = DatabaseConfig::from_url(&supabase.database.url).expect("test database URL");
    Replica::start(graph, supabase, |config| {
        config.database = Some(database);
        config.follow_interval = SLOW_POLL;
    })
    .await
}

/// `push` of `/api/health` once `mode` holds, or the last one seen.
async fn push_when(replica: &Replica, mode: &str) -> serde_json::Value {
    poll_until(
        SESSION_WAIT,
        || async { replica.health().await["push"].clone() },
        |push| push["mode"] == mode,
    )
    .await
}

/// Stores a manual lead through `replica`'s API, with a phone of its own (no person links).
async fn create(replica: &Replica, name: &str, n: usize) -> Lead {
    let response = replica
        .client
        .post(replica.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({ "name": name, "phone": format!("+1415555{n:04}") }))
        .send()
        .await
        .expect("create request");
    assert_eq!(response.status(), 201);
    let body: serde_json::Value = response.json().await.expect("created lead");
    serde_json::from_value(body["data"].clone()).expect("a lead")
}

/// The next lead on `stream` named `name`, each lead seen on the way recorded in `seen`.
async fn expect_named(stream: &mut EventReader, name: &str, seen: &mut Vec<Lead>) -> Lead {
    let deadline = Instant::now() + SLOW_POLL / 2;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let lead = stream
            .next_within(left)
            .await
            .unwrap_or_else(|| panic!("{name} never reached the other replica"));
        seen.push(lead.clone());
        if lead.meta.name.as_deref() == Some(name) {
            return lead;
        }
    }
}

#[tokio::test]
async fn a_lead_stored_on_a_is_pushed_to_b_and_none_is_missed_while_b_reconnects() {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let graph = spawn_graph().await;
    let a = listening_replica(&graph, &supabase).await;
    let b = listening_replica(&graph, &supabase).await;
    for replica in [&a, &b] {
        let push = push_when(replica, "listening").await;
        assert_eq!(push["mode"], "listening", "{push}");
    }
    let mut on_b = b.events().await;
    let mut seen = Vec::new();
    // A's first write warms its PostgREST connections and plans (1-2 s on a busy machine): not
    // what is timed.
    create(&a, "Warm-up", 300).await;
    expect_named(&mut on_b, "Warm-up", &mut seen).await;

    let mut latencies = Vec::with_capacity(LEADS);
    for n in 0..LEADS {
        let name = format!("Pushed {n}");
        let sent = Instant::now();
        create(&a, &name, n).await;
        expect_named(&mut on_b, &name, &mut seen).await;
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    let p50 = latencies[LEADS / 2];
    let p99 = latencies[(LEADS * 99).div_ceil(100) - 1];
    println!("lead stored on A to B's /api/events over {LEADS} leads: p50 {p50:?}, p99 {p99:?}");
    assert!(p99 <= PUSH_BOUND, "p99 {p99:?} (p50 {p50:?})");

    // Kill B's listening session as an outage or a pooler restart would.
    let session = push_when(&b, "listening").await["session"]
        .as_str()
        .expect("B names its session")
        .to_string();
    let admin = supabase.database.connect().await;
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&session],
        )
        .await
        .expect("terminate B's session");
    assert_eq!(killed.len(), 1, "B's session {session} is one backend");
    let push = push_when(&b, "polling").await;
    assert_eq!(push["mode"], "polling", "{push}");
    assert!(
        push["reason"].as_str().unwrap_or("").contains("was lost"),
        "{push}"
    );
    // Written while B cannot listen: B must catch up on them when it listens again.
    let mut gap = Vec::new();
    for n in 0..5 {
        gap.push(create(&a, &format!("In the gap {n}"), 100 + n).await);
    }
    let push = push_when(&b, "listening").await;
    assert_eq!(push["mode"], "listening", "{push}");
    assert_eq!(push["session"], session, "{push}");
    // No write wakes B now: it reads what it missed because it listens again.
    for lead in &gap {
        let name = lead.meta.name.clone().unwrap_or_default();
        let got = expect_named(&mut on_b, &name, &mut seen).await;
        assert_eq!(got.id, lead.id);
    }
    let after = create(&a, "After the gap", 200).await;
    let sent = Instant::now();
    let got = expect_named(&mut on_b, "After the gap", &mut seen).await;
    assert_eq!(got.id, after.id);
    assert!(sent.elapsed() <= PUSH_BOUND, "{:?}", sent.elapsed());
    // Each change once, in cursor order.
    let ids: Vec<i64> = seen.iter().map(|lead| lead.id).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    assert_eq!(ids.len(), 1 + LEADS + gap.len() + 1, "{ids:?}");
}
