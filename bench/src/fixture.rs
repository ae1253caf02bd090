//! What every benchmark starts from: a leadhook server in this process (the sim's
//! `TestServer`, as the tests start it) or the release binary as a child process pinned to some
//! cores, with a Graph API stand-in, and realistic leads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use leadhook_server::intake::DEFAULT_RETRY;
use leadhook_server::limits::MAX_WEBHOOK_BODY_BYTES;
use leadhook_server::store::sqlite::SqliteStore;
use leadhook_server::store::{LeadStore, LeadWrites, UPSERT_BATCH};
use leadhook_shared::meta::signature::{SIGNATURE_HEADER, sign};
use leadhook_shared::meta::{GraphLead, IncomingLead, parse_graph_lead};
use leadhook_sim::harness::{ServerProcess, TestSettings};
use leadhook_sim::{
    BodyStyle, FakeLead, GraphStandin, LeadFaker, LeadgenChange, TestServer, notification_body,
};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const APP_SECRET: &str = "bench-app-secret";
pub const PAGE_TOKEN: &str = "bench-page-token";
pub const REP_TOKEN: &str = "bench-rep-token-1";
/// No load or drain phase may take longer than this; a slower one is reported as a failure.
pub const PHASE_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

fn settings() -> TestSettings {
    TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: "bench-verify-token".into(),
        page_token: PAGE_TOKEN.into(),
        api_tokens: format!("bench:admin:{REP_TOKEN}"),
    }
}

/// The benchmark server's configuration, with `graph` as its Graph API and `data_dir`.
pub fn server_config(
    graph: &GraphStandin,
    data_dir: &Path,
) -> anyhow::Result<leadhook_server::config::Config> {
    settings()
        .config(graph, data_dir)
        .context("the benchmark's server settings are invalid")
}

/// Where a benchmark's server runs: by default the server's library in this process; with
/// `--server-cpus`, the release `leadhook-server` as a child process pinned with `taskset -c`
/// (the small-VPS profile: `--server-cpus 0` gives it one core).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerPlacement {
    /// Run the release `leadhook-server` as a child process on these CPUs only (`taskset -c`
    /// list, e.g. `0`), instead of the server's library in this process. Pin this program to
    /// the other CPUs (`taskset -c 1 leadhook-bench ...`) so the load does not share them.
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// The leadhook-server binary; by default the one next to this program
    /// (`cargo build --release -p leadhook-server`).
    #[arg(long)]
    pub server: Option<PathBuf>,
    /// Who checkpoints the SQLite lead store's WAL: the store's background thread (the server's
    /// way), or SQLite itself in the commit that fills the WAL (the way before, for comparison;
    /// server in this process only).
    #[arg(long, value_enum, default_value_t = Checkpoints::Background)]
    pub sqlite_checkpoints: Checkpoints,
}

/// Who checkpoints the SQLite lead store's WAL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Checkpoints {
    /// The store's own thread, passive checkpoints off the writers' path.
    #[default]
    Background,
    /// SQLite, in the commit that takes the WAL past 1,000 pages.
    InCommit,
}

/// The release `leadhook-server`: `given`, or the one next to this program.
pub fn server_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let binary = match given {
        Some(path) => path.to_path_buf(),
        None => std::env::current_exe()?
            .parent()
            .context("this program has no directory")?
            .join("leadhook-server"),
    };
    ensure!(
        binary.exists(),
        "{} not found: cargo build --release -p leadhook-server, or pass --server",
        binary.display()
    );
    Ok(binary)
}

/// The server a benchmark measures.
enum Running {
    InProcess(TestServer),
    Child(ServerProcess),
}

/// A running server and its Graph API stand-in; [`Server::stop`] shuts both down.
pub struct Server {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    pub graph: GraphStandin,
    pub client: reqwest::Client,
    server: Running,
}

impl Server {
    /// Starts a Graph API stand-in and a server with an empty `data_dir` where `placement` says.
    pub async fn start_at(data_dir: &Path, placement: &ServerPlacement) -> anyhow::Result<Server> {
        match &placement.server_cpus {
            None if placement.sqlite_checkpoints == Checkpoints::InCommit => {
                let path = data_dir.join("leads.db");
                let store = SqliteStore::open_with(&path, None)
                    .await
                    .with_context(|| format!("cannot open the lead store at {}", path.display()))?;
                Server::start(data_dir, Some(Arc::new(store))).await
            }
            None => Server::start(data_dir, None).await,
            Some(_) if placement.sqlite_checkpoints == Checkpoints::InCommit => {
                bail!("--sqlite-checkpoints in-commit needs the server in this process")
            }
            Some(cpus) => {
                let binary = server_binary(placement.server.as_deref())?;
                Server::start_process(data_dir, &binary, Some(cpus)).await
            }
        }
    }

    /// Starts a Graph API stand-in and `binary` as a child process with `data_dir`, on `cpus`
    /// only when given; it logs as in production (`info`, a line per new lead).
    pub async fn start_process(
        data_dir: &Path,
        binary: &Path,
        cpus: Option<&str>,
    ) -> anyhow::Result<Server> {
        let settings = settings();
        let graph = settings
            .spawn_graph()
            .await
            .context("cannot start the Graph API stand-in")?;
        let env = settings.env(&graph.base_url(), data_dir);
        let process = match cpus {
            Some(cpus) => ServerProcess::start_pinned(binary, env, cpus).await,
            None => ServerProcess::start(binary, env).await,
        }
        .with_context(|| format!("cannot start {}", binary.display()))?;
        Ok(Server {
            base_url: process.base_url(),
            graph,
            client: client()?,
            server: Running::Child(process),
        })
    }

    /// The child process's id (`None` for a server in this process).
    pub fn pid(&self) -> Option<u32> {
        match &self.server {
            Running::InProcess(_) => None,
            Running::Child(process) => process.pid(),
        }
    }

    /// Starts a Graph API stand-in and a server on a free loopback port with `data_dir`, using
    /// `store` as its lead store when given (else the embedded SQLite file in `data_dir`).
    pub async fn start(
        data_dir: &Path,
        store: Option<Arc<dyn LeadStore>>,
    ) -> anyhow::Result<Server> {
        Server::start_adjusted(data_dir, store, |_| {}).await
    }

    /// [`Server::start`] with the settings changed by `adjust` first.
    pub async fn start_adjusted(
        data_dir: &Path,
        store: Option<Arc<dyn LeadStore>>,
        adjust: impl FnOnce(&mut leadhook_server::config::Config),
    ) -> anyhow::Result<Server> {
        let graph = settings()
            .spawn_graph()
            .await
            .context("cannot start the Graph API stand-in")?;
        let mut config = server_config(&graph, data_dir)?;
        adjust(&mut config);
        let server = match store {
            Some(store) => TestServer::start_with_store(config, store, DEFAULT_RETRY).await,
            None => TestServer::start(config, DEFAULT_RETRY).await,
        }
        .context("the server does not start")?;
        Ok(Server {
            base_url: server.base_url(),
            graph,
            client: client()?,
            server: Running::InProcess(server),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Graceful shutdown: requests and lead fetches in flight finish first (stalled fetches
    /// are released).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.graph.release();
        match self.server {
            Running::InProcess(server) => server
                .stop()
                .await
                .context("the server stopped with an error")?,
            Running::Child(process) => {
                let (status, log) = process
                    .terminate()
                    .await
                    .context("cannot stop the server")?;
                ensure!(status.success(), "the server exited with {status}: {log}");
            }
        }
        self.graph.shutdown().await;
        Ok(())
    }
}

/// A helper HTTP service on a loopback port (a proxy, a no-op receiver) beside the server.
pub struct LoopbackService {
    /// `http://127.0.0.1:PORT`
    pub base_url: String,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl LoopbackService {
    /// Serves `router` on a port the OS picks; `name` says what it is in errors.
    pub async fn start(router: axum::Router, name: &'static str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .with_context(|| format!("cannot bind the {name}"))?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let shutdown = CancellationToken::new();
        let stopped = shutdown.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
        });
        Ok(LoopbackService {
            base_url,
            shutdown,
            task,
        })
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.task
            .await
            .context("a loopback service panicked")?
            .context("a loopback service failed")
    }
}

/// Where [`forward`] sends requests.
#[derive(Clone)]
pub struct Upstream {
    pub base_url: String,
    pub client: reqwest::Client,
}

/// Forwards a request to the upstream as it came (the body read whole) and returns its answer.
pub async fn forward(State(upstream): State<Upstream>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    let mut headers = parts.headers;
    headers.remove(axum::http::header::HOST);
    let answer = upstream
        .client
        .request(parts.method, format!("{}{path}", upstream.base_url))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    for hop in ["connection", "transfer-encoding", "content-length"] {
        headers.remove(hop);
    }
    match answer.bytes().await {
        Ok(body) => (status, headers, Body::from(body)).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}

/// An HTTP client for loopback load: no proxy, keep-alive connections reused.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1024)
        .build()
        .context("cannot build the HTTP client")
}

/// `count` fake leads, one a minute up to now, reproducible from `seed`.
pub fn fake_leads(seed: u64, count: usize) -> Vec<FakeLead> {
    let mut faker = LeadFaker::new(seed);
    let now = Utc::now();
    (0..count)
        .map(|i| faker.next_lead(now - Duration::minutes((count - i) as i64)))
        .collect()
}

/// The lead as the intake would store it after reading it from the Graph API.
pub fn incoming(lead: &FakeLead, fallback_created: DateTime<Utc>) -> anyhow::Result<IncomingLead> {
    let body = serde_json::to_vec(lead).context("cannot encode a fake lead")?;
    let graph_lead = GraphLead::from_json(&body).context("a fake lead is not a Graph lead")?;
    let mut incoming =
        parse_graph_lead(graph_lead, fallback_created).context("cannot parse a fake lead")?;
    incoming.meta.page_id = Some(lead.page_id.clone());
    incoming.meta.form_name = Some(lead.form_name.clone());
    // Read as the server reads a lead before storing it: E.164 phone, e-mail key, junk flag.
    leadhook_server::triage::Triage::default().read(&mut incoming.meta);
    Ok(incoming)
}

/// Fills a fresh SQLite lead store in `data_dir` with `count` leads through
/// `LeadWrites::upsert_many`, in pieces of `UPSERT_BATCH` as the intake stores them. Returns the
/// store and how long filling took.
pub async fn filled_store(
    data_dir: &Path,
    count: usize,
) -> anyhow::Result<(Arc<SqliteStore>, std::time::Duration)> {
    let path = data_dir.join("leads.db");
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("cannot open the lead store at {}", path.display()))?;
    let now = Utc::now();
    let leads = fake_leads(7, count)
        .iter()
        .map(|lead| incoming(lead, now))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let started = Instant::now();
    for piece in leads.chunks(UPSERT_BATCH) {
        store
            .upsert_many(
                piece,
                leadhook_shared::team::actor::FACEBOOK,
                leadhook_server::store::Routing::UNOWNED,
            )
            .await
            .context("cannot store leads")?;
    }
    Ok((Arc::new(store), started.elapsed()))
}

/// A webhook ready to send: its body and `X-Hub-Signature-256`.
pub struct Signed {
    pub body: Bytes,
    pub signature: HeaderValue,
}

/// One webhook per lead, as Meta usually sends them.
pub fn signed_webhooks(leads: &[FakeLead]) -> anyhow::Result<Vec<Signed>> {
    signed_batches(leads, 1)
}

/// Webhooks of up to `per_webhook` leadgen changes each, in the leads' order.
pub fn signed_batches(leads: &[FakeLead], per_webhook: usize) -> anyhow::Result<Vec<Signed>> {
    ensure!(per_webhook > 0, "a webhook carries at least one change");
    let sent_at = chrono::Utc::now().timestamp();
    leads
        .chunks(per_webhook)
        .map(|batch| {
            let changes: Vec<LeadgenChange> = batch.iter().map(LeadgenChange::from).collect();
            let body = notification_body(&changes, &BodyStyle::default(), sent_at);
            ensure!(
                body.len() <= MAX_WEBHOOK_BODY_BYTES,
                "a webhook of {} changes is {} bytes, over the server's {MAX_WEBHOOK_BODY_BYTES}",
                changes.len(),
                body.len()
            );
            let signature = HeaderValue::from_str(&sign(APP_SECRET.as_bytes(), &body))
                .context("a signature is not a valid header value")?;
            Ok(Signed {
                body: Bytes::from(body),
                signature,
            })
        })
        .collect()
}

pub async fn post_webhook(
    client: &reqwest::Client,
    url: &str,
    webhook: &Signed,
) -> anyhow::Result<()> {
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, webhook.signature.clone())
        .body(webhook.body.clone())
        .send()
        .await
        .with_context(|| format!("POST {url} failed"))?;
    let status = response.status();
    // Read the answer fully so the connection is reused.
    let answer = response.bytes().await.context("cannot read the answer")?;
    ensure!(
        status == StatusCode::OK,
        "POST {url} answered {status}: {}",
        String::from_utf8_lossy(&answer)
    );
    Ok(())
}
