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
    poll_until(wait, || sql_text(supabase, sql), Option::is_some)
        .await
        .unwrap_or_else(|| panic!("nothing from {sql} within {wait:?}"))
}

/// Watches the stand-in's form reads until `count` have happened (bounded), and returns when
/// each was first seen. Two reads seen at one look count as simultaneous.
async fn form_read_times(graph: &GraphStandin, count: usize) -> Vec<Instant> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut times = Vec::new();
    while times.len() < count {
        let reads = graph.calls(CallKind::FormLeads) as usize;
        let now = Instant::now();
        times.resize(reads.max(times.len()), now);
        assert!(now < deadline, "only {reads} form reads in 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    times
}

#[tokio::test]
async fn two_replicas_sweeping_every_second_read_the_graph_as_often_as_one() {
    let supabase = supabase().await;
    let graph = graph_with_form().await;
    let _a = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    let _b = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    let times = form_read_times(&graph, 6).await;
    // Whichever replica sweeps, the next sweep is due one interval after the last one ended, so
    // reads are at least an interval apart. Two replicas on their own clocks would read twice an
    // interval, and one gap of every two would be half an interval or less. A loaded machine
    // only makes the gaps longer.
    for (n, pair) in times.windows(2).enumerate() {
        let gap = pair[1] - pair[0];
        assert!(
            gap > INTERVAL / 2,
            "form reads {n} and {} were {gap:?} apart (interval {INTERVAL:?})",
            n + 1
        );
    }
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
    let in_flight = poll_until(
        INTERVAL * 4,
        || async { graph.lead_reads_in_flight() },
        |&reads| reads > 0,
    )
    .await;
    assert!(
        in_flight > 0,
        "A never read the forms while holding the lease"
    );
    let reads = graph.calls(CallKind::FormLeads);
    let b = sweeping_replica(&graph, &supabase, Some(INTERVAL)).await;
    // B's scheduler sleeps until the lease's expiry, then asks for the lease. A renews it while
    // it sweeps (three times a lifetime of one interval), so one interval after the expiry B
    // could have read at its start, B has asked at least once, and was refused.
    let expiry_at_start = sql_text(
        &supabase,
        "select expires_at::text from public.leases where name = 'sweep'",
    )
    .await
    .expect("A's lease has an expiry");
    wait_for_sql(
        &supabase,
        &format!(
            "select holder from public.leases where name = 'sweep' \
             and now() > '{expiry_at_start}'::timestamptz + interval '{} ms'",
            INTERVAL.as_millis()
        ),
        INTERVAL * 10,
    )
    .await;
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
    let health = poll_until(
        INTERVAL * 4,
        || b.health(),
        |health| !health["last_sweep"].is_null(),
    )
    .await;
    let report = health["last_sweep"].clone();
    assert!(!report.is_null(), "B did not sweep after A died");
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
