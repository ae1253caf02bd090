//! Polls: what a dashboard's `GET /api/leads` costs with many leads stored.
//!
//! - idle `since` poll: `GET /api/leads?since=<cursor>` when nothing changed (200, empty page),
//!   and the same with `If-None-Match` (304, no body);
//! - full first page: `GET /api/leads` (100 newest leads).
//!
//! Bytes are the whole HTTP/1.1 answer (status line, headers, body). "Server time" is the
//! loopback round trip, one request at a time on a kept-alive connection, and separately the
//! store call alone (`LeadStore::list`), to tell the store's work from HTTP and JSON.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, ensure};
use clap::Args;
use leadhook_server::store::{LeadQuery, LeadStore};
use leadhook_shared::{ApiList, Cursor};
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_NONE_MATCH};

use crate::fixture::{self, REP_TOKEN, Server};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "polls";

#[derive(Debug, Clone, Args)]
pub struct PollsArgs {
    /// Leads in the store.
    #[arg(long, default_value_t = 100_000)]
    pub leads: usize,
    /// Requests (and store calls) timed per kind of poll and run.
    #[arg(long, default_value_t = 2_000)]
    pub repetitions: usize,
}

/// One answer as it crossed the wire.
struct Answer {
    status: StatusCode,
    bytes: usize,
    body: Vec<u8>,
    etag: Option<String>,
}

/// Size of the HTTP/1.1 answer hyper writes: status line, `name: value` lines, blank line, body.
fn wire_bytes(response: &reqwest::Response, body_len: usize) -> usize {
    let status_line = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status().as_str(),
        response.status().canonical_reason().unwrap_or("")
    );
    let headers: usize = response
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    status_line.len() + headers + 2 + body_len
}

async fn get(server: &Server, path: &str, etag: Option<&str>) -> anyhow::Result<Answer> {
    let mut request = server.client.get(server.url(path)).bearer_auth(REP_TOKEN);
    if let Some(etag) = etag {
        request = request.header(IF_NONE_MATCH, etag);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("GET {path} failed"))?;
    let status = response.status();
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let head = wire_bytes(&response, 0);
    let body = response
        .bytes()
        .await
        .with_context(|| format!("cannot read the answer to GET {path}"))?
        .to_vec();
    ensure!(
        status.is_success() || status == StatusCode::NOT_MODIFIED,
        "GET {path} answered {status}: {}",
        String::from_utf8_lossy(&body)
    );
    Ok(Answer {
        status,
        bytes: head + body.len(),
        body,
        etag,
    })
}

fn lead_list(answer: &Answer) -> anyhow::Result<ApiList> {
    serde_json::from_slice(&answer.body).context("the answer is not a lead list")
}

/// Times `repetitions` requests of `path`; returns the latencies and the size of the last answer.
async fn time_requests(
    server: &Server,
    path: &str,
    etag: Option<&str>,
    repetitions: usize,
    expect: StatusCode,
) -> anyhow::Result<(Latencies, usize)> {
    let mut latencies = Latencies::new()?;
    let mut bytes = 0;
    for _ in 0..repetitions {
        let started = Instant::now();
        let answer = get(server, path, etag).await?;
        latencies.record(started.elapsed());
        ensure!(
            answer.status == expect,
            "GET {path} answered {} instead of {expect}",
            answer.status
        );
        bytes = answer.bytes;
    }
    Ok((latencies, bytes))
}

async fn time_store(
    store: &Arc<dyn LeadStore>,
    query: &LeadQuery,
    repetitions: usize,
) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new()?;
    for _ in 0..repetitions {
        let started = Instant::now();
        store.list(query).await.context("LeadStore::list failed")?;
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}

fn record_latencies(figures: &mut Figures, what: &str, latencies: &Latencies, target: Option<f64>) {
    for (label, quantile) in [("p50", 0.5), ("p99", 0.99)] {
        let mut figure = Figure::new(BENCHMARK, format!("{what} {label}"), "µs");
        if let Some(bound) = target {
            figure = figure.target(Target::AtMost(bound));
        }
        figures.record(figure, latencies.micros(quantile));
    }
}

pub async fn run(args: &PollsArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.repetitions > 0, "--repetitions must be at least 1");
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    eprintln!("polls: storing {} leads...", args.leads);
    let (store, fill_time) = fixture::filled_store(data_dir.path(), args.leads).await?;
    eprintln!(
        "polls: stored {} leads in {:.1} s ({:.0} leads/s)",
        args.leads,
        fill_time.as_secs_f64(),
        args.leads as f64 / fill_time.as_secs_f64()
    );
    let store: Arc<dyn LeadStore> = store;
    let server = Server::start(data_dir.path(), Some(Arc::clone(&store))).await?;

    let first_page = lead_list(&get(&server, "/api/leads", None).await?)?;
    ensure!(
        first_page.count == args.leads as u64,
        "the server sees {} leads, not {}",
        first_page.count,
        args.leads
    );
    let cursor: Cursor = first_page.cursor;
    let idle_path = format!("/api/leads?since={cursor}");
    let idle = get(&server, &idle_path, None).await?;
    ensure!(
        lead_list(&idle)?.data.is_empty(),
        "an idle since poll returned leads"
    );
    let etag = idle.etag.context("the idle poll has no ETag")?;

    let mut figures = Figures::default();
    let idle_query = LeadQuery {
        since: Some(cursor),
        ..LeadQuery::default()
    };
    for run in 0..runs {
        let (latencies, bytes) =
            time_requests(&server, &idle_path, None, args.repetitions, StatusCode::OK).await?;
        figures.record(
            Figure::new(BENCHMARK, "idle since poll: answer size", "bytes")
                .target(Target::AtMost(500.0)),
            bytes as f64,
        );
        record_latencies(
            &mut figures,
            "idle since poll: HTTP round trip",
            &latencies,
            Some(1_000.0),
        );

        let (latencies, bytes) = time_requests(
            &server,
            &idle_path,
            Some(&etag),
            args.repetitions,
            StatusCode::NOT_MODIFIED,
        )
        .await?;
        figures.record(
            Figure::new(
                BENCHMARK,
                "idle since poll with If-None-Match (304): answer size",
                "bytes",
            ),
            bytes as f64,
        );
        record_latencies(
            &mut figures,
            "idle since poll with If-None-Match: HTTP round trip",
            &latencies,
            None,
        );

        let latencies = time_store(&store, &idle_query, args.repetitions).await?;
        record_latencies(
            &mut figures,
            "idle since poll: LeadStore::list alone",
            &latencies,
            None,
        );

        let (latencies, bytes) = time_requests(
            &server,
            "/api/leads",
            None,
            args.repetitions,
            StatusCode::OK,
        )
        .await?;
        figures.record(
            Figure::new(BENCHMARK, "first page (100 leads): answer size", "bytes"),
            bytes as f64,
        );
        record_latencies(
            &mut figures,
            "first page: HTTP round trip",
            &latencies,
            None,
        );

        let latencies = time_store(&store, &LeadQuery::default(), args.repetitions).await?;
        record_latencies(
            &mut figures,
            "first page: LeadStore::list alone",
            &latencies,
            None,
        );
        eprintln!("polls: run {} of {runs} done", run + 1);
    }
    server.stop().await?;
    Ok(figures)
}
