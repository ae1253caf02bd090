//! Several servers on one Supabase sweep one at a time, under the store's `sweep` lease, and
//! continue from the sweep positions in the store.

use std::time::{Duration, Instant};

use leadhook_local_supabase::LocalSupabase;
use leadhook_shared::{ApiOk, SyncReport};
use leadhook_sim::{CallKind, GraphFault, GraphStandin, ServerProcess};
use serde_json::Value;

use crate::helpers::*;
use crate::replicas::Replica;

const INTERVAL: Duration = Duration::from_secs(1);

/// A Graph lead created `age` ago.
fn lead_created(leadgen_id: &str, name: &str, age: chrono::Duration) -> Value {
    let mut lead = graph_lead(leadgen_id, &[("full_name", &[name])]);
    lead["created_time"] = Value::String(
        (chrono::Utc::now() - age)
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string(),
    );
    lead
}

/// A form with a lead from two days ago (inside the backfill window, before the sweep position)
/// and one from ten minutes ago.
async fn graph_with_form() -> GraphStandin {
    let graph = spawn_graph().await;
    graph.add_form(PAGE_ID, FORM_ID, "Spring Promo");
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        lead_created("880001", "Two Days Old", chrono::Duration::days(2)),
    );
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        lead_created("880002", "Ten Minutes Old", chrono::Duration::minutes(10)),
    );
    graph
}

async fn supabase() -> LocalSupabase {
    LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await
}

async fn sweeping_replica(
    graph: &GraphStandin,
    supabase: &LocalSupabase,
    interval: Option<Duration>,
) -> Replica {
    Replica::start(graph, supabase, |config| {
        config.sweep.page_ids = vec![PAGE_ID.to_string()];
        config.sweep.interval = interval;
    })
    .await
}

async fn sync(replica: &Replica) -> SyncReport {
    let response = replica
        .client
        .post(replica.url("/api/leads/sync"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .expect("sync request");
    assert_eq!(response.status(), 200);
    response.json::<ApiOk<SyncReport>>().await.unwrap().data
}

/// One row of SQL, or `None`.
async fn sql_text(supabase: &LocalSupabase, sql: &str) -> Option<String> {
    supabase
        .database
        .connect()
        .await
        .query_opt(sql, &[])
        .await
        .expect("sql")
        .and_then(|row| row.get::<_, Option<String>>(0))
}

/// Asks `sql` until it yields a row with a non-null text, for at most `wait`.
async fn wait_for_sql(supabase: &LocalSupabase, sql: &str, wait: Duration) -> String {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(text) = sql_text(supabase, sql).await {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "nothing from {sql} within {wait:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_replicas_sweeping_every_second_read_the_graph_as_often_as_one() {
    let supabase = supabase().await;
    let graph = graph_with_form().await;
    let started = Instant::now();
    let _a = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    let _b = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reads = graph.calls(CallKind::FormLeads) as i64;
    // One replica sweeps at its start and then once an interval.
    let one_replica = (started.elapsed().as_secs_f64() / INTERVAL.as_secs_f64()).floor() as i64 + 1;
    // Never more than one replica's reads; fewer only when a loaded machine delays sweeps.
    assert!(
        reads <= one_replica + 1 && reads >= one_replica / 2,
        "{reads} form reads in {:?}; one replica makes {one_replica}",
        started.elapsed()
    );
}

#[tokio::test]
async fn killing_the_sweeping_replica_hands_the_lease_over_within_two_intervals() {
    let supabase = supabase().await;
    let graph = graph_with_form().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut env = settings().env(&graph.base_url(), data_dir.path());
    env.extend([
        ("FB_PAGE_ID", PAGE_ID.to_string()),
        ("LEADHOOK_SYNC_INTERVAL", INTERVAL.as_secs().to_string()),
        ("SUPABASE_URL", supabase.base_url.clone()),
        ("SUPABASE_SECRET_KEY", supabase.secret_key().to_string()),
    ]);
    let a = ServerProcess::start(&server_binary(), env)
        .await
        .expect("replica A starts");
    // A's first sweep stores the form's position; its next one hangs on the Graph API, holding
    // the lease.
    wait_for_sql(
        &supabase,
        &format!("select form_id from public.sweep_positions where form_id = '{FORM_ID}'"),
        Duration::from_secs(10),
    )
    .await;
    graph.stall();
    let holder = wait_for_sql(
        &supabase,
        "select holder from public.leases where name = 'sweep' and holder is not null",
        Duration::from_secs(5),
    )
    .await;
    // The lease is taken before the read it guards: count reads once A's is held by the stall.
    let stalled_since = Instant::now();
    while graph.lead_reads_in_flight() == 0 {
        assert!(
            stalled_since.elapsed() < INTERVAL * 4,
            "A never read the forms while holding the lease"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reads = graph.calls(CallKind::FormLeads);
    let b = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    tokio::time::sleep(INTERVAL * 2).await;
    assert_eq!(
        graph.calls(CallKind::FormLeads),
        reads,
        "B must not read the forms while A sweeps"
    );
    assert_eq!(
        sql_text(
            &supabase,
            "select holder from public.leases where name = 'sweep'"
        )
        .await,
        Some(holder.clone()),
        "A keeps the lease while it sweeps"
    );
    assert!(b.health().await["last_sweep"].is_null());

    a.kill().expect("kill A");
    let killed = Instant::now();
    graph.release();
    let report = loop {
        let health = b.health().await;
        if !health["last_sweep"].is_null() {
            break health["last_sweep"].clone();
        }
        assert!(
            killed.elapsed() < INTERVAL * 4,
            "B did not sweep after A died"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        killed.elapsed() <= INTERVAL * 2,
        "B swept {:?} after A died",
        killed.elapsed()
    );
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(
        (report["fetched"].as_u64(), report["inserted"].as_u64()),
        (Some(1), Some(0)),
        "B continues from A's position: only the recent lead is read again: {report}"
    );
}

#[tokio::test]
async fn sync_on_both_replicas_sweeps_one_after_the_other_and_answers_each() {
    let supabase = supabase().await;
    let graph = graph_with_form().await;
    let a = sweeping_replica(&graph, &supabase, None).await;
    let b = sweeping_replica(&graph, &supabase, None).await;
    let delay = Duration::from_millis(400);
    graph.fail_all(GraphFault::Delay(delay));
    let started = Instant::now();
    let (on_a, on_b) = tokio::join!(sync(&a), sync(&b));
    let elapsed = started.elapsed();
    for report in [&on_a, &on_b] {
        assert!(report.errors.is_empty(), "{report:?}");
        assert_eq!(report.forms, 1, "{report:?}");
    }
    assert_eq!(on_a.inserted + on_b.inserted, 2, "{on_a:?} {on_b:?}");
    // Each sweep lists the forms and reads one: two delayed calls. One after the other, the
    // second answer takes at least four delays.
    assert!(elapsed >= delay * 4, "the sweeps overlapped: {elapsed:?}");
    assert_eq!(graph.calls(CallKind::FormLeads), 2);
}

/// Before several servers, the positions were a file in the data dir: the first sweep moves them
/// into the store, so the backfill window is not read again.
#[tokio::test]
async fn sweep_positions_from_the_old_file_move_into_the_store() {
    let graph = graph_with_form().await;
    let data_dir = tempfile::tempdir().unwrap();
    let position = (chrono::Utc::now() - chrono::Duration::hours(1)).timestamp();
    let file = data_dir.path().join("sweep-state.json");
    std::fs::write(
        &file,
        serde_json::json!({ "forms": { FORM_ID: position } }).to_string(),
    )
    .unwrap();
    let app = spawn_app_with(graph, data_dir, |config| {
        config.sweep.page_ids = vec![PAGE_ID.to_string()];
        config.sweep.interval = None;
    })
    .await;
    let response = app.api_post("/api/leads/sync").await;
    assert_eq!(response.status(), 200);
    let report = response.json::<ApiOk<SyncReport>>().await.unwrap().data;
    assert!(report.errors.is_empty(), "{report:?}");
    assert_eq!(
        report.fetched, 1,
        "the two-day-old lead is not read: {report:?}"
    );
    assert!(!file.exists(), "the old file is set aside");
    assert!(file.with_extension("json.imported").exists());
}
