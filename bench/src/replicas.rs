//! Two servers on one Supabase (the local Supabase of the tests: the real PostgREST 12 on a
//! throwaway PostgreSQL, behind a Supabase-like gateway):
//!
//! - cross-replica lead to screen: a webhook posted to replica B, until the lead arrives on
//!   replica A's `GET /api/events` stream, which A's change follower fills from the store;
//! - the follower's idle cost: what one idle replica sends PostgREST (requests per second, bytes
//!   per second each way), counted by a loopback proxy between the replica and the gateway, with
//!   automatic sweeps off and no dashboard connected.
//!
//! Needs the PostgreSQL server binaries and PostgREST as the tests do (`scripts/test --setup`),
//! or `LEADHOOK_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, ensure};
use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use clap::Args;
use leadhook_local_supabase::LocalSupabase;
use leadhook_server::store::LeadStore;
use leadhook_server::store::postgrest::{MIGRATIONS, PostgrestStore};

use crate::fixture::{
    self, LoopbackService, Server, Upstream, forward, post_webhook, signed_webhooks,
};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "replicas";
/// How long the last lead may take to reach replica A after the last POST.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Args)]
pub struct ReplicasArgs {
    /// Leads timed per run.
    #[arg(long, default_value_t = 100)]
    pub leads: usize,
    /// Milliseconds between two webhooks (not a divisor of the follower's interval, so its reads
    /// meet the leads at every phase).
    #[arg(long, default_value_t = 53)]
    pub gap_ms: u64,
    /// Seconds the idle cost is counted over.
    #[arg(long, default_value_t = 10)]
    pub idle_seconds: u64,
}

/// What went through a counting proxy.
#[derive(Debug, Default)]
struct Traffic {
    requests: AtomicU64,
    request_bytes: AtomicU64,
    answer_bytes: AtomicU64,
}

impl Traffic {
    fn snapshot(&self) -> [u64; 3] {
        [
            self.requests.load(Ordering::Relaxed),
            self.request_bytes.load(Ordering::Relaxed),
            self.answer_bytes.load(Ordering::Relaxed),
        ]
    }
}

fn header_bytes(headers: &HeaderMap) -> u64 {
    headers
        .iter()
        .map(|(name, value)| (name.as_str().len() + 2 + value.len() + 2) as u64)
        .sum()
}

/// Counts each request and its answer as HTTP/1.1 bytes: start line, headers, blank line, body.
async fn count(State(traffic): State<Arc<Traffic>>, request: Request, next: Next) -> Response {
    let start_line = format!("{} {} HTTP/1.1\r\n", request.method(), request.uri()).len() as u64;
    let request_body = request.body().size_hint().exact().unwrap_or(0);
    let request_bytes = start_line + header_bytes(request.headers()) + 2 + request_body;
    let response = next.run(request).await;
    let status = response.status();
    let reason = status.canonical_reason().unwrap_or("");
    let status_line = format!("HTTP/1.1 {} {reason}\r\n", status.as_str()).len() as u64;
    let answer_body = response.body().size_hint().exact().unwrap_or(0);
    let answer_bytes = status_line + header_bytes(response.headers()) + 2 + answer_body;
    traffic.requests.fetch_add(1, Ordering::Relaxed);
    traffic
        .request_bytes
        .fetch_add(request_bytes, Ordering::Relaxed);
    traffic
        .answer_bytes
        .fetch_add(answer_bytes, Ordering::Relaxed);
    response
}

/// A replica whose store requests go through a counting proxy to the local Supabase.
struct Replica {
    server: Server,
    proxy: LoopbackService,
    traffic: Arc<Traffic>,
}

impl Replica {
    async fn start(supabase: &LocalSupabase, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let traffic = Arc::new(Traffic::default());
        let router = axum::Router::new()
            .fallback(forward)
            .with_state(Upstream {
                base_url: supabase.base_url.clone(),
                client: fixture::client()?,
            })
            .layer(axum::middleware::from_fn_with_state(
                Arc::clone(&traffic),
                count,
            ));
        let proxy = LoopbackService::start(router, "store proxy").await?;
        let store: Arc<dyn LeadStore> = Arc::new(
            PostgrestStore::new(&proxy.base_url, supabase.secret_key().to_string().into())
                .context("cannot build the Supabase store")?,
        );
        let server = Server::start(data_dir, Some(store)).await?;
        Ok(Replica {
            server,
            proxy,
            traffic,
        })
    }

    async fn stop(self) -> anyhow::Result<()> {
        self.server.stop().await?;
        self.proxy.stop().await
    }
}

/// Posts `args.leads` webhooks to `b` and times each lead until it is on `a`'s event stream.
async fn cross_replica(
    args: &ReplicasArgs,
    a: &Replica,
    b: &Replica,
    seed: u64,
) -> anyhow::Result<Latencies> {
    let leads = fixture::fake_leads(seed, args.leads);
    for lead in &leads {
        b.server.graph.add_fake_lead(lead);
    }
    let webhooks = signed_webhooks(&leads)?;
    let (mut on_a, reader) = a.server.lead_arrivals().await?;
    let url = b.server.url("/webhook");
    let mut sent = HashMap::with_capacity(leads.len());
    let mut gap = tokio::time::interval(Duration::from_millis(args.gap_ms));
    for (lead, webhook) in leads.iter().zip(&webhooks) {
        gap.tick().await;
        sent.insert(lead.id.clone(), Instant::now());
        post_webhook(&b.server.client, &url, webhook).await?;
    }
    let mut latencies = Latencies::new()?;
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    while !sent.is_empty() {
        let Ok(Some((leadgen_id, at))) = tokio::time::timeout_at(deadline, on_a.recv()).await
        else {
            break;
        };
        if let Some(posted) = sent.remove(&leadgen_id) {
            latencies.record(at.duration_since(posted));
        }
    }
    reader.abort();
    ensure!(
        sent.is_empty(),
        "{} of {} leads never reached replica A",
        sent.len(),
        leads.len()
    );
    Ok(latencies)
}

pub async fn run(args: &ReplicasArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.leads > 0, "--leads must be at least 1");
    ensure!(args.idle_seconds > 0, "--idle-seconds must be at least 1");
    let mut figures = Figures::default();
    for run in 0..runs {
        let supabase = LocalSupabase::with_migrations(MIGRATIONS).await;
        let (dir_a, dir_b) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let a = Replica::start(&supabase, dir_a.path()).await?;
        let b = Replica::start(&supabase, dir_b.path()).await?;

        // Idle: both replicas started, nothing happening.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = a.traffic.snapshot();
        let idle = Duration::from_secs(args.idle_seconds);
        tokio::time::sleep(idle).await;
        let after = a.traffic.snapshot();
        let per_second = |i: usize| (after[i] - before[i]) as f64 / idle.as_secs_f64();
        for (name, unit, value) in [
            (
                "follower idle: requests to PostgREST per replica",
                "/s",
                per_second(0),
            ),
            (
                "follower idle: bytes sent to PostgREST per replica",
                "B/s",
                per_second(1),
            ),
            (
                "follower idle: bytes received from PostgREST per replica",
                "B/s",
                per_second(2),
            ),
        ] {
            figures.record(Figure::new(BENCHMARK, name, unit), value);
        }
        let idle_answer = if after[0] > before[0] {
            (after[2] - before[2]) as f64 / (after[0] - before[0]) as f64
        } else {
            f64::NAN
        };
        figures.record(
            Figure::new(
                BENCHMARK,
                "follower idle: one answer (status line, headers, body)",
                "B",
            ),
            idle_answer,
        );

        let latencies = cross_replica(args, &a, &b, 3_000 + run as u64)
            .await
            .context("cross-replica lead to screen")?;
        for (name, quantile, target) in [("p50", 0.5, None), ("p99", 0.99, Some(1_000.0))] {
            let mut figure = Figure::new(
                BENCHMARK,
                format!(
                    "lead to screen across replicas (webhook to B, event on A), {name} of {}",
                    args.leads
                ),
                "ms",
            );
            if let Some(bound) = target {
                figure = figure.target(Target::AtMost(bound));
            }
            figures.record(figure, latencies.millis(quantile));
        }
        a.stop().await?;
        b.stop().await?;
    }
    Ok(figures)
}
