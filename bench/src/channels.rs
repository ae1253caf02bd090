//! A lead stored → its channel's request sent: the outbox's latency (issue 27's row, p99 ≤ 1 s).
//!
//! The server (in this process, embedded SQLite) has one channel, a Standard Webhooks webhook
//! taking `lead.created`, to a receiver on a loopback port. Leads exist on the Graph API
//! stand-in; each webhook from Meta is posted alone, a gap apart. "Stored" is the event's own
//! time, which the store writes in the transaction that stores the lead and the webhook carries
//! as its `timestamp`; "sent" is when the receiver has read the request. Both are this machine's
//! clock, so the figure is the queue, the dispatcher's poll, reading the lead, signing and the
//! request, nothing of Meta's side.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use clap::Args;
use tokio::sync::mpsc;

use crate::fixture::{self, LoopbackService, Server, post_webhook, signed_webhooks};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "channels";
/// How long the last lead may take to reach the receiver after the last POST.
const WAIT_LIMIT: Duration = Duration::from_secs(30);
/// A Standard Webhooks secret for the channel (the receiver does not check it: the tests do).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Debug, Clone, Args)]
pub struct ChannelsArgs {
    /// Leads timed per run.
    #[arg(long, default_value_t = 200)]
    pub leads: usize,
    /// Milliseconds between two webhooks from Meta (leads arrive one at a time, not in bursts,
    /// and not in step with the outbox's 5 s idle poll).
    #[arg(long, default_value_t = 37)]
    pub gap_ms: u64,
}

/// What the receiver read: the lead's `leadgen_id`, the event's time, and when it arrived.
type Arrival = (String, DateTime<Utc>, DateTime<Utc>);

async fn receive(State(arrived): State<mpsc::UnboundedSender<Arrival>>, body: Bytes) -> StatusCode {
    let at = Utc::now();
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let id = body["data"]["lead"]["leadgen_id"].as_str();
    let stored = body["timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    match (id, stored) {
        (Some(id), Some(stored)) => {
            let _ = arrived.send((id.to_string(), stored.with_timezone(&Utc), at));
            StatusCode::NO_CONTENT
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A channels file in `dir` with the webhook `bench` to `url`, its secret in a private file.
fn channels_file(dir: &Path, url: &str) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    let secret = dir.join("bench-secret");
    std::fs::write(&secret, SECRET).context("cannot write the channel's secret")?;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600))?;
    let path = dir.join("channels.toml");
    std::fs::write(
        &path,
        format!(
            "[webhooks.bench]\nurl = \"{url}\"\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n",
            secret.display()
        ),
    )
    .context("cannot write the channels file")?;
    Ok(path)
}

/// Times `args.leads` leads from stored to their webhook at the receiver; a fresh server.
async fn time_leads(args: &ChannelsArgs, seed: u64) -> anyhow::Result<Latencies> {
    let (arrived, mut arrivals) = mpsc::unbounded_channel();
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(arrived);
    let receiver = LoopbackService::start(router, "channel receiver").await?;
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let path = channels_file(data_dir.path(), &format!("{}/hook", receiver.base_url))?;
    let channels = leadhook_server::config::load_channels(Some(&path))
        .context("the benchmark's channels file is invalid")?
        .map(Arc::new);
    let server = Server::start_adjusted(data_dir.path(), None, |config| {
        config.channels = channels;
    })
    .await?;
    let leads = fixture::fake_leads(seed, args.leads);
    for lead in &leads {
        server.graph.add_fake_lead(lead);
    }
    let webhooks = signed_webhooks(&leads)?;
    let url = server.url("/webhook");
    let mut gap = tokio::time::interval(Duration::from_millis(args.gap_ms));
    for webhook in &webhooks {
        gap.tick().await;
        post_webhook(&server.client, &url, webhook).await?;
    }

    let mut waiting: HashMap<&str, ()> = leads.iter().map(|l| (l.id.as_str(), ())).collect();
    let mut latencies = Latencies::new()?;
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    while !waiting.is_empty() {
        let Ok(Some((id, stored, at))) = tokio::time::timeout_at(deadline, arrivals.recv()).await
        else {
            bail!(
                "{} of {} leads never reached the channel's receiver",
                waiting.len(),
                leads.len()
            );
        };
        // The first request of each lead counts; a retry would be later, never earlier.
        if waiting.remove(id.as_str()).is_some() {
            latencies.record((at - stored).to_std().unwrap_or_default());
        }
    }
    server.stop().await?;
    receiver.stop().await?;
    Ok(latencies)
}

pub async fn run(args: &ChannelsArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.leads > 0, "--leads must be at least 1");
    let mut figures = Figures::default();
    for run in 0..runs {
        let latencies = time_leads(args, 3_000 + run as u64)
            .await
            .context("lead stored to channel request")?;
        for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
            let mut figure = Figure::new(
                BENCHMARK,
                format!(
                    "lead stored to its webhook channel's request, {name} of {}",
                    args.leads
                ),
                "ms",
            );
            if name == "p99" {
                figure = figure.target(Target::AtMost(1_000.0));
            }
            figures.record(figure, latencies.millis(quantile));
        }
        eprintln!("channels: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
