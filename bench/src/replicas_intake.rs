//! What `replicas` times of the intake on Supabase: a lead from Meta's POST until a dashboard's
//! event stream has it, on the server that took the webhook or on the other replica, with the
//! Graph API stand-in answering at once or after a delay; and a burst of webhooks acknowledged
//! while the intake drains the leads before it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::fixture::{self, Server, post_webhook, signed_webhooks};
use crate::report::Latencies;

/// How long the last lead may take to reach the stream after the last POST.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// Posts `count` webhooks to `to`, `gap` apart, with the Graph stand-in answering each lead
/// fetch after `graph_delay`, and times each lead until it is on `on`'s event stream.
pub async fn lead_to_screen(
    to: &Server,
    on: &Server,
    count: usize,
    gap: Duration,
    graph_delay: Duration,
    seed: u64,
) -> anyhow::Result<Latencies> {
    let leads = fixture::fake_leads(seed, count);
    for lead in &leads {
        to.graph.add_fake_lead(lead);
    }
    to.graph.set_lead_read_latency(graph_delay);
    let webhooks = signed_webhooks(&leads)?;
    let (mut arrivals, reader) = on.lead_arrivals().await?;
    let url = to.url("/webhook");
    let mut sent = HashMap::with_capacity(leads.len());
    let mut pace = tokio::time::interval(gap);
    for (lead, webhook) in leads.iter().zip(&webhooks) {
        pace.tick().await;
        sent.insert(lead.id.clone(), Instant::now());
        post_webhook(&to.client, &url, webhook).await?;
    }
    let mut latencies = Latencies::new()?;
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    while !sent.is_empty() {
        let Ok(Some((leadgen_id, at))) = tokio::time::timeout_at(deadline, arrivals.recv()).await
        else {
            break;
        };
        if let Some(posted) = sent.remove(&leadgen_id) {
            latencies.record(at.duration_since(posted));
        }
    }
    reader.abort();
    to.graph.set_lead_read_latency(Duration::ZERO);
    ensure!(
        sent.is_empty(),
        "{} of {} leads never reached the event stream",
        sent.len(),
        leads.len()
    );
    Ok(latencies)
}

/// Posts `count` webhooks to `to` with `concurrency` in flight (a burst, as Meta delivers a
/// backlog after an outage) and returns the webhooks acknowledged per second, from the first
/// POST to the last 200, while the intake drains the leads of the burst behind them.
pub async fn burst(
    to: &Server,
    count: usize,
    concurrency: usize,
    seed: u64,
) -> anyhow::Result<f64> {
    let leads = fixture::fake_leads(seed, count);
    for lead in &leads {
        to.graph.add_fake_lead(lead);
    }
    let webhooks = signed_webhooks(&leads)?;
    let url = Arc::new(to.url("/webhook"));
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut posts = JoinSet::new();
    for webhook in webhooks {
        let (client, url, permits) = (to.client.clone(), Arc::clone(&url), Arc::clone(&permits));
        posts.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            post_webhook(&client, &url, &webhook).await
        });
    }
    while let Some(posted) = posts.join_next().await {
        posted??;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}
