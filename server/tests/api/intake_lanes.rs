//! The intake's lanes: a lead that arrives while older events wait is fetched and stored ahead
//! of them, and the backlog still drains completely, never with more Graph calls in flight than
//! `LEADHOOK_GRAPH_CONCURRENCY`.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::helpers::*;

const BACKLOG: usize = 120;

#[tokio::test]
async fn a_live_lead_goes_ahead_of_the_backlog_which_still_drains() {
    let graph = spawn_graph().await;
    let backlog: Vec<String> = (0..BACKLOG).map(|i| format!("81{i:04}")).collect();
    let live = "829999".to_string();
    for id in backlog.iter().chain([&live]) {
        graph.add_lead(PAGE_ID, FORM_ID, graph_lead(id, &[("full_name", &[id])]));
    }
    // Every lead fetch takes 100 ms and two run at once: the backlog needs about 6 s.
    graph.set_lead_read_latency(Duration::from_millis(100));
    let app = spawn_app_with(graph, tempfile::tempdir().unwrap(), |config| {
        config.graph_concurrency = 2;
    })
    .await;

    let ids: Vec<&str> = backlog.iter().map(String::as_str).collect();
    assert_eq!(app.post_signed(&notification(&ids)).await.status(), 200);
    app.wait_for_leads(1).await;
    assert_eq!(app.post_signed(&notification(&[&live])).await.status(), 200);

    let is_live = |lead: &leadhook_shared::Lead| lead.leadgen_id.as_deref() == Some(&live);
    let leads = poll_until(
        Duration::from_secs(30),
        || async { app.leads().await.data },
        |leads| leads.iter().any(is_live),
    )
    .await;
    assert!(leads.iter().any(is_live), "the live lead never arrived");
    let stored_with_live = leads.len();
    assert!(
        stored_with_live < BACKLOG / 2,
        "the live lead waited for {} of {BACKLOG} older leads",
        stored_with_live - 1
    );

    let leads = app.wait_for_leads(BACKLOG + 1).await;
    let stored: BTreeSet<_> = leads.iter().filter_map(|l| l.leadgen_id.clone()).collect();
    assert_eq!(leads.len(), BACKLOG + 1, "every lead exactly once");
    assert_eq!(stored.len(), BACKLOG + 1);
    app.wait_for_settled_inbox().await;
    assert_eq!(
        app.graph.peak_lead_reads_in_flight(),
        2,
        "the Graph API saw LEADHOOK_GRAPH_CONCURRENCY lead reads at once, never more"
    );
}
