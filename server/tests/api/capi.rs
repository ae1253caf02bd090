//! Conversions API for CRM end to end: lead stages from the real server reach the Graph API
//! stand-in's `/<dataset>/events` exactly once, with Meta's field names and types.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::config::{ServeArgs, StoreConfig};
use leadhook_server::doctor::{self, DoctorArgs, Verdict};
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{CapiOutbox, LeadWrites};
use leadhook_shared::meta::IncomingLead;
use leadhook_shared::team::actor::FACEBOOK;
use leadhook_shared::{Lead, MetaFields};
use leadhook_sim::{CallKind, DEFAULT_DATASET_ID, GraphFault, GraphStandin, ServerProcess};
use serde_json::{Value, json};

use leadhook_sim::harness::poll_until;

use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, serve_args, server_binary,
    settings, spawn_app_from_args, spawn_graph,
};

/// Short waits so the tests take seconds; production defaults are 3s, 30s and 5m. The timeout
/// stays long enough that a loaded CI machine never turns a slow answer into a resend (which
/// would reorder the stages and count a repeat); only the hanging-Meta test shortens it.
const SETTINGS: [(&str, &str); 4] = [
    ("FB_DATASET_ID", DEFAULT_DATASET_ID),
    ("LEADHOOK_CAPI_BATCH_WAIT", "50ms"),
    ("LEADHOOK_CAPI_TIMEOUT", "10s"),
    ("LEADHOOK_CAPI_RETRY_CAP", "300ms"),
];

fn capi_on(args: &mut ServeArgs) {
    args.fb_dataset_id = Some(SETTINGS[0].1.into());
    args.capi_batch_wait = Some(SETTINGS[1].1.into());
    args.capi_timeout = Some(SETTINGS[2].1.into());
    args.capi_retry_cap = Some(SETTINGS[3].1.into());
    args.capi_stages = Some("Junk=Worthless lead".into());
}

async fn spawn_capi_app(graph: GraphStandin, data_dir: tempfile::TempDir) -> TestApp {
    spawn_app_from_args(graph, data_dir, capi_on, |_| {}).await
}

/// The 16-digit leadgen id of lead `n`.
fn leadgen_id(n: u64) -> String {
    (1_234_567_890_000_000 + n).to_string()
}

fn incoming(leadgen_id: String) -> IncomingLead {
    IncomingLead {
        leadgen_id,
        meta: MetaFields {
            name: Some("Jane Doe".into()),
            email: None,
            phone: None,
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            junk_reason: None,
            created_at: Utc::now() - chrono::Duration::days(9),
            page_id: Some(PAGE_ID.into()),
            form_id: Some(FORM_ID.into()),
            form_name: None,
            ad_id: None,
            ad_name: None,
            adset_id: None,
            adset_name: None,
            campaign_id: None,
            campaign_name: None,
            platform: None,
            is_organic: false,
            fields: BTreeMap::new(),
        },
    }
}

/// Stores `count` Facebook leads in the data dir before any server runs (CAPI off, so their
/// stages wait for the backfill); returns the store's lead ids.
async fn stored_leads(data_dir: &Path, count: u64) -> Vec<i64> {
    let store = SqliteStore::open(&data_dir.join("leads.db"))
        .await
        .expect("store");
    let mut ids = Vec::new();
    for n in 0..count {
        let stored = store
            .upsert(&incoming(leadgen_id(n)), FACEBOOK)
            .await
            .expect("upsert");
        ids.push(stored.lead.id);
    }
    ids
}

/// Moves the recorded changes of `lead_ids` (and anything queued of them) 8 days back.
fn age_by_eight_days(data_dir: &Path, lead_ids: &[i64]) {
    let conn = rusqlite::Connection::open(data_dir.join("leads.db")).expect("open db");
    let eight_days = 8 * 86_400 * 1_000_000_i64;
    for id in lead_ids {
        for table in ["activity", "capi_events"] {
            conn.execute(
                &format!("UPDATE {table} SET at = at - ?1 WHERE lead_id = ?2"),
                rusqlite::params![eight_days, id],
            )
            .expect("age");
        }
    }
}

/// Waits (bounded) until the stand-in kept at least `count` events.
async fn wait_for_events(graph: &GraphStandin, count: usize) -> Vec<Value> {
    poll_until(
        Duration::from_secs(60),
        || async { graph.capi_events() },
        |events| events.len() >= count,
    )
    .await
}

/// Waits (bounded) until `settled` holds for the health report and nothing is queued any more,
/// and returns that report: the sender has recorded Meta's answer to every stage it sent, so
/// nothing else goes out unless a new stage is queued.
async fn wait_for_settled_outbox(app: &TestApp, settled: impl Fn(&Value) -> bool) -> Value {
    let health = app
        .wait_for_health(|h| h["capi"]["queued"] == 0 && settled(h))
        .await;
    assert_eq!(
        health["capi"]["queued"], 0,
        "the outbox never settled: {health:#}"
    );
    health
}

fn lead_ids_of(events: &[Value]) -> Vec<u64> {
    events
        .iter()
        .map(|event| {
            event["user_data"]["lead_id"]
                .as_u64()
                .expect("numeric lead id")
        })
        .collect()
}

/// Lead `n` on the stand-in, announced by a signed webhook and stored: the server's copy.
async fn webhook_lead(app: &TestApp, n: u64) -> Lead {
    let id = leadgen_id(n);
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            &id,
            &[
                ("full_name", &["Jane Doe"]),
                ("email", &[&format!("jane{n}@example.com")]),
            ],
        ),
    );
    app.deliver_first(&id).await
}

async fn set_status(app: &TestApp, lead: &Lead, status: &str) {
    let answer = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&json!({"status": status}))
        .send()
        .await
        .expect("patch");
    assert_eq!(answer.status(), 200, "{status}");
}

#[tokio::test]
async fn each_stage_of_a_facebook_lead_reaches_meta_once_and_manual_leads_never() {
    let app = spawn_capi_app(spawn_graph().await, tempfile::tempdir().expect("dir")).await;
    stages_reach_meta_once(&app).await;
}

#[tokio::test]
async fn with_supabase_each_stage_reaches_meta_once_and_manual_leads_never() {
    let supabase =
        LocalSupabase::with_migrations(leadhook_server::store::postgrest::MIGRATIONS).await;
    let app = spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("dir"),
        capi_on,
        |config| {
            config.store = StoreConfig::Supabase {
                url: supabase.base_url.clone(),
                key: supabase.secret_key().to_string().into(),
            };
        },
    )
    .await;
    stages_reach_meta_once(&app).await;
    assert_eq!(app.health().await["store"]["backend"], "postgrest");
}

/// A webhook lead moved to Contacted then Won, and a manual lead moved twice: Meta gets the
/// Facebook lead's three stages, each once, and nothing of the manual lead.
async fn stages_reach_meta_once(app: &TestApp) {
    let lead = webhook_lead(app, 42).await;
    let manual: Lead = {
        let answer = app
            .client
            .post(app.url("/api/leads"))
            .bearer_auth(REP_TOKEN)
            .json(&json!({"name": "Walk In", "phone": "+15550100"}))
            .send()
            .await
            .expect("create");
        assert_eq!(answer.status(), 201);
        serde_json::from_value(answer.json::<Value>().await.expect("json")["data"].clone())
            .expect("lead")
    };
    set_status(app, &manual, "Contacted").await;
    set_status(app, &lead, "Contacted").await;
    set_status(app, &manual, "Won").await;
    set_status(app, &lead, "Won").await;
    // Meta's own test lead is junk: Meta hears it as its own stage, named as configured.
    let junk_id = leadgen_id(43);
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            &junk_id,
            &[
                ("full_name", &["<test lead: dummy data for full_name>"]),
                ("email", &["test@fb.com"]),
            ],
        ),
    );
    assert_eq!(
        app.post_signed(&notification(&[&junk_id])).await.status(),
        200
    );

    wait_for_events(&app.graph, 4).await;
    // Every status change above queued its stage before it was answered.
    wait_for_settled_outbox(app, |_| true).await;
    let events = app.graph.capi_events();
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_eq!(app.graph.capi_repeats(), 0, "nothing sent twice");
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["New Lead", "Contacted", "Won", "Worthless lead"]);
    let now = Utc::now().timestamp();
    assert_eq!(
        events[3]["user_data"],
        json!({"lead_id": 1_234_567_890_000_043_u64})
    );
    let mut event_ids = BTreeSet::new();
    for event in &events[..3] {
        let fields: BTreeSet<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from([
                "event_name",
                "event_time",
                "action_source",
                "user_data",
                "custom_data",
                "event_id"
            ])
        );
        let time = event["event_time"]
            .as_i64()
            .expect("event_time in whole seconds");
        assert!((now - 60..=now).contains(&time), "{time} vs {now}");
        assert_eq!(event["action_source"], "system_generated");
        assert_eq!(
            event["user_data"],
            json!({"lead_id": 1_234_567_890_000_042_u64})
        );
        assert!(
            event["user_data"]["lead_id"].is_u64(),
            "a number, not a string"
        );
        assert_eq!(
            event["custom_data"],
            json!({"event_source": "crm", "lead_event_source": "leadhook"})
        );
        let event_id = event["event_id"].as_str().expect("event_id string");
        assert!(
            event_id.starts_with(&format!("leadhook-{}-", lead.id)),
            "{event_id}"
        );
        event_ids.insert(event_id.to_string());
    }
    assert_eq!(event_ids.len(), 3);

    let health = app.health().await;
    assert_eq!(health["capi"]["enabled"], true);
    assert_eq!(health["capi"]["dataset_id"], DEFAULT_DATASET_ID);
    assert_eq!(health["capi"]["sent_today"], 4);
    assert_eq!(health["capi"]["queued"], 0);
    assert_eq!(health["capi"]["failed"], 0);
    assert!(health["capi"]["last_success_at"].is_string());
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("leadhook_capi_events_total{outcome=\"sent\"} 4"),
        "{metrics}"
    );
}

#[tokio::test]
async fn twenty_five_hundred_queued_stages_go_out_in_three_requests() {
    let data_dir = tempfile::tempdir().expect("dir");
    stored_leads(data_dir.path(), 2500).await;
    let app = spawn_capi_app(spawn_graph().await, data_dir).await;
    wait_for_events(&app.graph, 2500).await;
    wait_for_settled_outbox(&app, |_| true).await;
    let events = app.graph.capi_events();
    assert_eq!(events.len(), 2500);
    assert_eq!(app.graph.capi_accepted_requests(), 3);
    assert_eq!(app.graph.calls(CallKind::Events), 3);
    let unique: BTreeSet<u64> = lead_ids_of(&events).into_iter().collect();
    assert_eq!(unique.len(), 2500);
}

#[tokio::test]
async fn one_invalid_event_in_fifty_fails_alone_and_shows_in_health() {
    let data_dir = tempfile::tempdir().expect("dir");
    stored_leads(data_dir.path(), 50).await;
    let graph = spawn_graph().await;
    let refused = 1_234_567_890_000_017_u64;
    graph.refuse_capi_lead(refused);
    let app = spawn_capi_app(graph, data_dir).await;
    let health = app
        .wait_for_health(|h| h["capi"]["failed"] == 1 && h["capi"]["queued"] == 0)
        .await;
    assert_eq!(health["capi"]["failed"], 1, "{health:#}");
    assert_eq!(health["capi"]["sent_today"], 49);
    let failure = &health["capi"]["recent_failures"][0];
    assert_eq!(failure["stage"], "New Lead");
    let reason = failure["reason"].as_str().expect("reason");
    assert!(reason.contains("is not a lead of this dataset"), "{reason}");
    let events = app.graph.capi_events();
    assert_eq!(events.len(), 49);
    assert!(!lead_ids_of(&events).contains(&refused));
    assert!(app.graph.capi_rejected_requests() >= 1);
}

#[tokio::test]
async fn stages_older_than_seven_days_are_never_sent() {
    let data_dir = tempfile::tempdir().expect("dir");
    // Queued while CAPI was on, then 8 days passed before a sender ran.
    {
        let store = SqliteStore::open(&data_dir.path().join("leads.db"))
            .await
            .expect("store");
        store
            .capi_switch(true, Utc::now())
            .await
            .expect("switch on");
    }
    let ids = stored_leads(data_dir.path(), 3).await;
    age_by_eight_days(data_dir.path(), &ids[..2]);
    let app = spawn_capi_app(spawn_graph().await, data_dir).await;
    let health = app
        .wait_for_health(|h| h["capi"]["queued"] == 0 && h["capi"]["sent_today"] == 1)
        .await;
    assert_eq!(health["capi"]["failed"], 2, "{health:#}");
    let reason = health["capi"]["recent_failures"][0]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("more than 7 days ago"), "{reason}");
    assert_eq!(
        lead_ids_of(&app.graph.capi_events()),
        [1_234_567_890_000_002]
    );
}

#[tokio::test]
async fn the_first_start_backfills_only_the_last_seven_days() {
    let data_dir = tempfile::tempdir().expect("dir");
    let ids = stored_leads(data_dir.path(), 4).await;
    age_by_eight_days(data_dir.path(), &ids[..3]);
    let app = spawn_capi_app(spawn_graph().await, data_dir).await;
    // Before the sender switches queueing on, the outbox is empty too: wait for its first send.
    let health = wait_for_settled_outbox(&app, |h| {
        h["capi"]["sent_today"]
            .as_u64()
            .is_some_and(|sent| sent >= 1)
    })
    .await;
    assert_eq!(
        lead_ids_of(&app.graph.capi_events()),
        [1_234_567_890_000_003]
    );
    assert_eq!(
        health["capi"]["failed"], 0,
        "older stages are not even queued"
    );
}

#[tokio::test]
async fn every_stage_arrives_once_through_failures_and_kills() {
    const LEADS: usize = 300;
    let data_dir = tempfile::tempdir().expect("dir");
    stored_leads(data_dir.path(), LEADS as u64).await;
    let graph = spawn_graph().await;
    let mut env = settings().env(&graph.base_url(), data_dir.path());
    env.extend(
        SETTINGS
            .iter()
            .map(|(name, value)| (*name, value.to_string())),
    );
    // A hanging Meta must cost a second per try here, not the usual timeout.
    env.push(("LEADHOOK_CAPI_TIMEOUT", "1s".to_string()));
    let mut calls = 0;
    for fault in [
        GraphFault::server_error(),
        GraphFault::rate_limited(4, 0),
        GraphFault::Hang,
    ] {
        graph.fail_all(fault.clone());
        let server = ServerProcess::start(&server_binary(), env.clone())
            .await
            .expect("start");
        calls += 2;
        let seen = poll_until(
            Duration::from_secs(30),
            || async { graph.calls(CallKind::Events) },
            |&seen| seen >= calls,
        )
        .await;
        assert!(seen >= calls, "{fault:?}: {}", server.log());
        calls = graph.calls(CallKind::Events);
        server.kill().expect("SIGKILL");
    }
    assert!(graph.capi_events().is_empty());
    graph.heal();
    let server = ServerProcess::start(&server_binary(), env)
        .await
        .expect("start");
    let events = wait_for_events(&graph, LEADS).await;
    assert_eq!(events.len(), LEADS, "{}", server.log());
    let expected: BTreeSet<u64> = (0..LEADS as u64)
        .map(|n| 1_234_567_890_000_000 + n)
        .collect();
    let sent = lead_ids_of(&events);
    assert_eq!(sent.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert_eq!(sent.len(), LEADS, "each stage once");
}

/// `doctor` with `FB_DATASET_ID` set reads the dataset with the CAPI token, and names the
/// setting to fix when the dataset is wrong.
#[tokio::test]
async fn doctor_checks_the_dataset_with_the_capi_token() {
    let graph = spawn_graph().await;
    let dir = tempfile::tempdir().expect("dir");
    let doctor_args = |dataset: &str| {
        let mut serve = serve_args(&graph.base_url(), dir.path());
        capi_on(&mut serve);
        serve.fb_dataset_id = Some(dataset.into());
        DoctorArgs {
            serve,
            ..DoctorArgs::default()
        }
    };
    let checks = doctor::run(&doctor_args(DEFAULT_DATASET_ID)).await;
    let check = checks
        .iter()
        .find(|c| c.name == "Conversions API dataset")
        .expect("dataset check");
    assert!(
        matches!(&check.verdict, Verdict::Pass(detail) if detail.contains("leadhook CRM dataset")),
        "{check:?}"
    );
    assert!(graph.capi_events().is_empty(), "doctor sends no event");

    let checks = doctor::run(&doctor_args("999999999999999")).await;
    let check = checks
        .iter()
        .find(|c| c.name == "Conversions API dataset")
        .expect("dataset check");
    assert!(
        matches!(&check.verdict, Verdict::Fail { fix, .. } if fix.contains("FB_DATASET_ID")),
        "{check:?}"
    );
}

/// `doctor --capi-test CODE` sends the newest Facebook lead's stage as a test event, which the
/// stand-in keeps apart from real events, as Meta's Test events tab does.
#[tokio::test]
async fn doctor_sends_one_test_event_only_when_asked() {
    let app = spawn_capi_app(spawn_graph().await, tempfile::tempdir().expect("dir")).await;
    let lead = webhook_lead(&app, 7).await;
    wait_for_events(&app.graph, 1).await;
    let health = app.health().await;
    assert_eq!(health["capi"]["sent_today"], 1, "{health:#}");

    // doctor opens the store the server uses: its SQLite file, read while the server runs.
    let mut serve = serve_args(&app.graph.base_url(), app.data_dir());
    capi_on(&mut serve);
    let args = DoctorArgs {
        serve,
        capi_test: Some("TEST12345".into()),
        ..DoctorArgs::default()
    };
    let checks = doctor::run(&args).await;
    let check = checks
        .iter()
        .find(|c| c.name == "Conversions API test event")
        .expect("test event check");
    assert!(matches!(&check.verdict, Verdict::Pass(_)), "{check:?}");
    let test_events = app.graph.capi_test_events();
    assert_eq!(test_events.len(), 1);
    assert_eq!(
        test_events[0]["user_data"]["lead_id"],
        1_234_567_890_000_007_u64
    );
    assert_eq!(test_events[0]["event_name"], "New Lead");
    assert!(
        test_events[0]["event_id"]
            .as_str()
            .is_some_and(|id| id.starts_with(&format!("leadhook-doctor-{}-", lead.id)))
    );
    assert_eq!(app.graph.capi_events().len(), 1, "no real event added");
}
