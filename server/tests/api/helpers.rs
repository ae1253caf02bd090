use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_server::config::{Config, ServeArgs};
use leadhook_server::intake::RetryPolicy;
use leadhook_shared::meta::signature::sign;
use leadhook_shared::{ApiList, Lead};
pub use leadhook_sim::harness::poll_until;
use leadhook_sim::harness::{TestSettings, wait_for_leads};
use leadhook_sim::{GraphStandin, StandinConfig, TestServer};
use serde_json::Value;

pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "test-verify-token";
pub const PAGE_TOKEN: &str = "test-page-token";
pub const REP_TOKEN: &str = "alice-token-123";
pub const PAGE_ID: &str = "153125381133";
pub const FORM_ID: &str = "12312312312";

/// Fast retries so tests that play faults finish in seconds.
pub const TEST_RETRY: RetryPolicy = RetryPolicy {
    base: Duration::from_millis(50),
    cap: Duration::from_millis(500),
};

/// The secrets every test server and Graph API stand-in here share; two reps: alice with a
/// token of the older `name:token` form (every power, as before roles) and bob, a manager.
pub fn settings() -> TestSettings {
    TestSettings {
        app_secret: APP_SECRET.into(),
        verify_token: VERIFY_TOKEN.into(),
        page_token: PAGE_TOKEN.into(),
        api_tokens: format!("alice:{REP_TOKEN},bob:manager:bob-token-456"),
    }
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub graph: GraphStandin,
    _server: TestServer,
    _data_dir: tempfile::TempDir,
}

pub fn serve_args(graph_url: &str, data_dir: &Path) -> ServeArgs {
    settings().serve_args(graph_url, data_dir)
}

/// A Graph API stand-in that accepts our Page token and insists on `appsecret_proof`, as Meta
/// does for apps with "Require App Secret" on.
pub async fn spawn_graph() -> GraphStandin {
    GraphStandin::spawn(StandinConfig {
        page_id: PAGE_ID.into(),
        require_appsecret_proof: true,
        ..settings().standin_config()
    })
    .await
    .expect("Graph API stand-in starts")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().expect("temp dir"),
        |_| {},
    )
    .await
}

/// Starts the server with the test settings, adjusted by `adjust`.
pub async fn spawn_app_with(
    graph: GraphStandin,
    data_dir: tempfile::TempDir,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    spawn_app_from_args(graph, data_dir, |_| {}, adjust).await
}

/// Starts the server with the test settings, its `serve` arguments changed by `edit_args` and
/// the resulting configuration by `adjust`.
pub async fn spawn_app_from_args(
    graph: GraphStandin,
    data_dir: tempfile::TempDir,
    edit_args: impl FnOnce(&mut ServeArgs),
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let mut args = serve_args(&graph.base_url(), data_dir.path());
    edit_args(&mut args);
    let mut config = Config::from_args(args).expect("valid test config");
    adjust(&mut config);
    let server = TestServer::start(config, TEST_RETRY)
        .await
        .expect("server starts");
    TestApp {
        address: server.base_url(),
        metrics_address: server.metrics_url(),
        client: reqwest::Client::new(),
        graph,
        _server: server,
        _data_dir: data_dir,
    }
}

impl TestApp {
    /// The server's data directory (its inbox and SQLite store).
    pub fn data_dir(&self) -> &Path {
        self._data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a body to /webhook signed the way Meta signs it.
    pub async fn post_signed(&self, body: &[u8]) -> reqwest::Response {
        self.post_webhook(body, Some(&sign(APP_SECRET.as_bytes(), body)))
            .await
    }

    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/webhook"))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header("x-hub-signature-256", signature);
        }
        request.send().await.expect("webhook request")
    }

    pub async fn api_get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .expect("api request")
    }

    pub async fn leads(&self) -> ApiList {
        let response = self.api_get("/api/leads?limit=1000").await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("lead list")
    }

    /// Waits (bounded) until the store holds `count` leads, and returns them newest first.
    /// Answers other than 200 (a store outage) count as not yet.
    pub async fn wait_for_leads(&self, count: usize) -> Vec<Lead> {
        wait_for_leads(&self.client, &self.address, REP_TOKEN, |leads| {
            leads.len() >= count
        })
        .await
    }

    /// Announces `leadgen_id` (already on the Graph stand-in) in a signed webhook, checks the 200,
    /// and returns the first lead the store then holds: in an empty store, that one.
    pub async fn deliver_first(&self, leadgen_id: &str) -> Lead {
        assert_eq!(
            self.post_signed(&notification(&[leadgen_id]))
                .await
                .status(),
            200
        );
        self.wait_for_leads(1).await.remove(0)
    }

    pub async fn api_post(&self, path: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .expect("api request")
    }

    /// Polls the health report until `done` holds (bounded), and returns the last report.
    pub async fn wait_for_health(&self, done: impl Fn(&Value) -> bool) -> Value {
        poll_until(Duration::from_secs(20), || self.health(), done).await
    }

    /// Waits (bounded) until the inbox holds no pending event, and returns that health report.
    /// The inbox commits an event before the webhook is answered, so after a 200 this is the
    /// witness that the intake is done with what it accepted (stored or failed it for good).
    pub async fn wait_for_settled_inbox(&self) -> Value {
        let health = self
            .wait_for_health(|health| health["inbox"]["pending"] == 0)
            .await;
        assert_eq!(
            health["inbox"]["pending"], 0,
            "the inbox never settled: {health:#}"
        );
        health
    }

    /// The value of one sample of `/metrics` (`name{labels}`, exactly as printed), 0 when absent.
    pub async fn metric(&self, sample: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
            .map_or(0.0, |value| value.trim().parse().expect("a numeric sample"))
    }

    /// The Prometheus text of `/metrics`, from the metrics listener.
    pub async fn metrics(&self) -> String {
        let metrics = self
            .metrics_address
            .as_deref()
            .expect("the test server has a metrics listener");
        self.client
            .get(format!("{metrics}/metrics"))
            .send()
            .await
            .expect("metrics request")
            .text()
            .await
            .expect("metrics text")
    }

    pub async fn health(&self) -> Value {
        self.api_get("/api/health")
            .await
            .json::<Value>()
            .await
            .expect("health json")["data"]
            .clone()
    }
}

/// A Graph API lead with the given answers, as Meta returns it.
pub fn graph_lead(leadgen_id: &str, answers: &[(&str, &[&str])]) -> Value {
    serde_json::json!({
        "id": leadgen_id,
        "created_time": "2026-11-29T08:49:14+0000",
        "form_id": FORM_ID,
        "ad_id": "5555",
        "ad_name": "Winter ad",
        "campaign_name": "Winter campaign",
        "platform": "fb",
        "is_organic": false,
        "field_data": answers.iter().map(|(name, values)| serde_json::json!({"name": name, "values": values})).collect::<Vec<_>>(),
    })
}

/// A webhook body announcing the given leads in one entry, IDs as strings.
pub fn notification(leadgen_ids: &[&str]) -> Vec<u8> {
    let changes: Vec<Value> = leadgen_ids
        .iter()
        .map(|id| {
            serde_json::json!({"field": "leadgen", "value": {"leadgen_id": id, "page_id": PAGE_ID, "form_id": FORM_ID,
                "adgroup_id": "777", "ad_id": "5555", "created_time": 1764406154}})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"object": "page", "entry": [{"id": PAGE_ID, "time": 1764406160, "changes": changes}]}))
        .expect("json")
}

/// POSTs `body` to the server's webhook, signed as Meta signs it.
pub async fn post_signed(
    client: &reqwest::Client,
    server_url: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{server_url}/webhook"))
        .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), &body))
        .body(body)
        .send()
        .await
}

/// Path of the real server binary, for tests that kill it.
pub fn server_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leadhook-server"))
}

/// A clock the test moves by hand, for the server's work queue (`config.queue.clock`).
#[derive(Debug)]
pub struct TestClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl TestClock {
    pub fn at(now: chrono::DateTime<chrono::Utc>) -> std::sync::Arc<TestClock> {
        std::sync::Arc::new(TestClock(std::sync::Mutex::new(now)))
    }

    pub fn advance_to(&self, at: chrono::DateTime<chrono::Utc>) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl leadhook_server::clock::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// Reads `/api/events` until `deadline`: the (event, data) pairs seen.
pub async fn events_until(
    response: &mut reqwest::Response,
    deadline: tokio::time::Instant,
) -> Vec<(String, String)> {
    let mut text = String::new();
    let mut events = Vec::new();
    while let Ok(chunk) = tokio::time::timeout_at(deadline, response.chunk()).await {
        let Some(chunk) = chunk.expect("event stream readable") else {
            break;
        };
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::to_string)
            };
            if let (Some(event), Some(data)) = (field("event: "), field("data: ")) {
                events.push((event, data));
            }
        }
    }
    events
}

/// `leadhook-server erase <args>` with the server's settings, in a directory without `.env`.
pub fn erase_command(app: &TestApp, args: &[&str]) -> std::process::Output {
    let workdir = tempfile::tempdir().expect("temp dir");
    std::process::Command::new(server_binary())
        .current_dir(workdir.path())
        .env_clear()
        .env("FB_APP_SECRET", APP_SECRET)
        .env("FB_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("FB_PAGE_ACCESS_TOKEN", PAGE_TOKEN)
        .env("LEADHOOK_API_TOKENS", settings().api_tokens)
        .env("LEADHOOK_DATA_DIR", app.data_dir())
        .arg("erase")
        .args(args)
        .output()
        .expect("run leadhook-server erase")
}
