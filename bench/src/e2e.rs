//! End to end: from the webhook POST to the lead printed by the real `leadhook watch --json`.
//!
//! Leads exist on the Graph API stand-in; each webhook is posted alone, a gap apart, so every
//! lead is timed on its own path: inbox, worker, Graph fetch, store, then to the dashboard
//! - with push: the server's `GET /api/events` stream, which `watch` uses when it is offered;
//! - polling only: `watch` talks to the server through a loopback proxy that answers 404 to
//!   `/api/events`, as a server without push would. The dashboard has no switch to turn push
//!   off: a 404 there is how it learns to poll every `--interval` (and it asks again only
//!   after five minutes).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use axum::http::StatusCode;
use clap::Args;
use leadhook_shared::Lead;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::fixture::{
    self, LoopbackService, REP_TOKEN, Server, Upstream, forward, post_webhook, signed_webhooks,
};
use crate::report::{Figure, Figures, Latencies, Target};

const BENCHMARK: &str = "e2e";
/// How long `watch` may take to connect, and the last lead to arrive after the last POST.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Args)]
pub struct E2eArgs {
    /// Leads timed per mode and run.
    #[arg(long, default_value_t = 200)]
    pub leads: usize,
    /// `leadhook watch --interval`: how often it polls when push is unavailable.
    #[arg(long, default_value = "500ms")]
    pub interval: String,
    /// Milliseconds between two webhooks (not a divisor of the interval, so polls meet the
    /// leads at every phase).
    #[arg(long, default_value_t = 37)]
    pub gap_ms: u64,
    /// The `leadhook` dashboard binary; default: `leadhook` next to this program
    /// (`cargo build --release -p leadhook`).
    #[arg(long)]
    pub leadhook: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Push,
    PollingOnly,
}

impl Mode {
    /// What `watch` says on stderr once connected this way.
    fn connected_line(self) -> &'static str {
        match self {
            Mode::Push => "connected (live)",
            Mode::PollingOnly => "connected (polling)",
        }
    }
}

fn leadhook_binary(args: &E2eArgs) -> anyhow::Result<PathBuf> {
    let path = match &args.leadhook {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("cannot find this program's path")?
            .with_file_name("leadhook"),
    };
    ensure!(
        path.is_file(),
        "no dashboard binary at {}: build it with `cargo build --release -p leadhook` or pass --leadhook",
        path.display()
    );
    Ok(path)
}

/// A loopback proxy to the server that answers 404 to `/api/events`.
async fn no_push_proxy(server: &Server) -> anyhow::Result<LoopbackService> {
    let router = axum::Router::new()
        .route(
            "/api/events",
            axum::routing::any(|| async { StatusCode::NOT_FOUND }),
        )
        .fallback(forward)
        .with_state(Upstream {
            base_url: server.base_url.clone(),
            client: fixture::client()?,
        });
    LoopbackService::start(router, "proxy").await
}

/// `leadhook watch --json` against `server_url`, with its config and logs in `home`.
struct Watch {
    child: Child,
    /// Each printed lead's `leadgen_id` and when its line was read.
    arrivals: mpsc::UnboundedReceiver<(String, Instant)>,
}

impl Watch {
    async fn start(
        binary: &Path,
        server_url: &str,
        interval: &str,
        home: &Path,
        mode: Mode,
    ) -> anyhow::Result<Watch> {
        let mut child = Command::new(binary)
            .args(["--server", server_url])
            .env("LEADHOOK_TOKEN", REP_TOKEN)
            .args(["--interval", interval, "--no-notify", "watch", "--json"])
            .env("XDG_CONFIG_HOME", home)
            .env("XDG_CACHE_HOME", home)
            .env_remove("LEADHOOK_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let stderr = child.stderr.take().context("no stderr pipe")?;

        let (arrived, arrivals) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let at = Instant::now();
                if let Ok(Lead {
                    leadgen_id: Some(id),
                    ..
                }) = serde_json::from_str::<Lead>(&line)
                    && arrived.send((id, at)).is_err()
                {
                    return;
                }
            }
        });

        let (status_tx, mut status) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                // Keep draining after the receiver is gone, so watch never blocks on stderr.
                let _ = status_tx.send(line);
            }
        });
        let wanted = mode.connected_line();
        let connected = async {
            while let Some(line) = status.recv().await {
                if line.contains(wanted) {
                    return Ok(());
                }
                if line.contains("connected (") {
                    bail!("leadhook watch connected the wrong way: {line}");
                }
            }
            bail!("leadhook watch exited before connecting")
        };
        tokio::time::timeout(WAIT_LIMIT, connected)
            .await
            .with_context(|| format!("leadhook watch did not say \"{wanted}\" within 30 s"))??;
        Ok(Watch { child, arrivals })
    }

    async fn stop(mut self) -> anyhow::Result<()> {
        self.child
            .kill()
            .await
            .context("cannot stop leadhook watch")
    }
}

/// Times `args.leads` leads from POST to printed line in one mode; a fresh server each time.
async fn time_leads(
    args: &E2eArgs,
    binary: &Path,
    mode: Mode,
    seed: u64,
) -> anyhow::Result<Latencies> {
    let data_dir = tempfile::tempdir().context("cannot create a data directory")?;
    let server = Server::start(data_dir.path(), None).await?;
    let leads = fixture::fake_leads(seed, args.leads);
    for lead in &leads {
        server.graph.add_fake_lead(lead);
    }
    let webhooks = signed_webhooks(&leads)?;
    let proxy = match mode {
        Mode::Push => None,
        Mode::PollingOnly => Some(no_push_proxy(&server).await?),
    };
    let watch_url = proxy
        .as_ref()
        .map_or(server.base_url.as_str(), |p| &p.base_url);
    let mut watch = Watch::start(binary, watch_url, &args.interval, data_dir.path(), mode).await?;

    let url = server.url("/webhook");
    let mut sent = HashMap::with_capacity(leads.len());
    let mut gap = tokio::time::interval(Duration::from_millis(args.gap_ms));
    for (lead, webhook) in leads.iter().zip(&webhooks) {
        gap.tick().await;
        sent.insert(lead.id.clone(), Instant::now());
        post_webhook(&server.client, &url, webhook).await?;
    }

    let mut latencies = Latencies::new()?;
    let mut pending = sent.len();
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    while pending > 0 {
        let arrival = tokio::time::timeout_at(deadline, watch.arrivals.recv()).await;
        let Ok(Some((leadgen_id, at))) = arrival else {
            bail!(
                "{pending} of {} leads never reached leadhook watch",
                leads.len()
            );
        };
        if let Some(posted) = sent.remove(&leadgen_id) {
            latencies.record(at.duration_since(posted));
            pending -= 1;
        }
    }
    watch.stop().await?;
    if let Some(proxy) = proxy {
        proxy.stop().await?;
    }
    server.stop().await?;
    Ok(latencies)
}

pub async fn run(args: &E2eArgs, runs: usize) -> anyhow::Result<Figures> {
    ensure!(args.leads > 0, "--leads must be at least 1");
    let binary = leadhook_binary(args)?;
    let mut figures = Figures::default();
    for run in 0..runs {
        for (mode, label) in [
            (Mode::Push, "with push".to_string()),
            (
                Mode::PollingOnly,
                format!("polling only (--interval {})", args.interval),
            ),
        ] {
            let latencies = time_leads(args, &binary, mode, 2_000 + run as u64)
                .await
                .with_context(|| format!("lead to screen {label}"))?;
            for (name, quantile) in [("p50", 0.5), ("p99", 0.99)] {
                let mut figure = Figure::new(
                    BENCHMARK,
                    format!("lead to screen {label}, {name} of {}", args.leads),
                    "ms",
                );
                if mode == Mode::Push && name == "p99" {
                    figure = figure.target(Target::AtMost(500.0));
                }
                figures.record(figure, latencies.millis(quantile));
            }
        }
        eprintln!("e2e: run {} of {runs} done", run + 1);
    }
    Ok(figures)
}
