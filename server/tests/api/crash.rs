use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use leadhook_shared::Lead;
use leadhook_sim::GraphStandin;
use leadhook_sim::harness::{ServerProcess, wait_for_leads};

use crate::helpers::*;

/// `leadhook-server serve` with the test settings and nothing else from the environment.
async fn start_server(graph: &GraphStandin, data_dir: &std::path::Path) -> ServerProcess {
    let env = settings().env(&graph.base_url(), data_dir);
    ServerProcess::start(&server_binary(), env)
        .await
        .expect("leadhook-server starts")
}

/// The Graph API stalls, the webhook is acknowledged, the server is SIGKILLed and restarted on the
/// same data dir, the Graph API recovers: the lead arrives.
#[tokio::test]
async fn an_acknowledged_lead_survives_sigkill() {
    let graph = spawn_graph().await;
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("31337", &[("full_name", &["Crash Survivor"])]),
    );
    graph.stall();
    let data_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();

    let server = start_server(&graph, data_dir.path()).await;
    let response = post_signed(&client, &server.base_url(), notification(&["31337"]))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fetches = poll_until(
        Duration::from_secs(10),
        || async { graph.lead_fetches() },
        |&fetches| fetches > 0,
    )
    .await;
    assert!(fetches > 0, "the worker never called the Graph API");
    // The worker is now stuck on the stalled Graph call.
    server.kill().expect("SIGKILL");

    graph.release();
    let server = start_server(&graph, data_dir.path()).await;
    let leads = wait_for_leads(&client, &server.base_url(), REP_TOKEN, |leads| {
        !leads.is_empty()
    })
    .await;
    server.kill().expect("SIGKILL");
    let names: Vec<_> = leads.iter().filter_map(|l| l.meta.name.clone()).collect();
    assert_eq!(names, ["Crash Survivor"]);
}

/// SIGKILL in the middle of a burst of 1000 signed webhooks sent concurrently: every webhook that
/// got a 200 ends in the store after the restart.
#[tokio::test]
async fn every_acknowledged_webhook_of_a_burst_survives_sigkill() {
    let graph = spawn_graph().await;
    let ids: Vec<String> = (0..1000).map(|i| format!("91{i:05}")).collect();
    for id in &ids {
        graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Burst {id}")])]),
        );
    }
    let data_dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = start_server(&graph, data_dir.path()).await;

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut burst = tokio::task::JoinSet::new();
    for id in ids.clone() {
        let (client, base, acknowledged, sent) = (
            client.clone(),
            server.base_url(),
            acknowledged.clone(),
            sent.clone(),
        );
        burst.spawn(async move {
            let response = post_signed(&client, &base, notification(&[&id])).await;
            sent.fetch_add(1, Ordering::SeqCst);
            if let Ok(response) = response
                && response.status() == 200
            {
                acknowledged.lock().unwrap().push(id);
            }
        });
    }
    // Kill once part of the burst is through.
    while sent.load(Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().expect("SIGKILL");
    while burst.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 250,
        "the burst was under way: {} acknowledged",
        acknowledged.len()
    );

    let server = start_server(&graph, data_dir.path()).await;
    let leadgen_ids = |leads: &[Lead]| -> BTreeSet<String> {
        leads.iter().filter_map(|l| l.leadgen_id.clone()).collect()
    };
    let leads = wait_for_leads(&client, &server.base_url(), REP_TOKEN, |leads| {
        let stored = leadgen_ids(leads);
        acknowledged.iter().all(|id| stored.contains(id))
    })
    .await;
    server.kill().expect("SIGKILL");
    let stored = leadgen_ids(&leads);
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged leads lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

/// SIGTERM stops the server cleanly: exit status 0, and it says so.
#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let server = start_server(&graph, data_dir.path()).await;
    let (status, log) = server.terminate().await.expect("SIGTERM");
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        !log.contains(APP_SECRET) && !log.contains(PAGE_TOKEN),
        "no secrets in logs"
    );
}
