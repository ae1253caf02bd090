use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_server::app::Application;
use leadhook_server::config::{Config, ServeArgs};
use leadhook_server::intake::RetryPolicy;
use leadhook_server::simulator::{GraphStandin, StandinConfig};
use leadhook_server::webhook::signature::sign;
use leadhook_shared::{ApiList, Lead};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

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

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub graph: GraphStandin,
    _data_dir: tempfile::TempDir,
    _server: DropGuard,
}

pub fn serve_args(graph_url: &str, data_dir: &Path) -> ServeArgs {
    ServeArgs {
        fb_app_secret: Some(APP_SECRET.into()),
        fb_verify_token: Some(VERIFY_TOKEN.into()),
        fb_page_access_token: Some(PAGE_TOKEN.into()),
        fb_graph_url: Some(graph_url.into()),
        fb_graph_version: None,
        listen: Some("127.0.0.1:0".into()),
        data_dir: Some(data_dir.to_path_buf()),
        api_tokens: Some(format!("alice:{REP_TOKEN},bob:bob-token-456")),
        ..ServeArgs::default()
    }
}

/// A Graph API stand-in that accepts our Page token and insists on `appsecret_proof`, as Meta
/// does for apps with "Require App Secret" on.
pub async fn spawn_graph() -> GraphStandin {
    GraphStandin::spawn(StandinConfig {
        app_secret: APP_SECRET.to_string().into(),
        page_id: PAGE_ID.into(),
        page_token: PAGE_TOKEN.into(),
        require_appsecret_proof: true,
        ..StandinConfig::default()
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
    let mut config = Config::from_args(serve_args(&graph.base_url(), data_dir.path()))
        .expect("valid test config");
    adjust(&mut config);
    let app = Application::build(config, TEST_RETRY)
        .await
        .expect("server starts");
    let address = format!("http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until(shutdown.clone()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        graph,
        _data_dir: data_dir,
        _server: DropGuard(shutdown, server),
    }
}

/// Stops the server when the test ends.
struct DropGuard(
    CancellationToken,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.cancel();
        self.1.abort();
    }
}

impl TestApp {
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
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut leads = Vec::new();
        while tokio::time::Instant::now() < deadline {
            let response = self.api_get("/api/leads?limit=1000").await;
            if response.status() == 200 {
                leads = response.json::<ApiList>().await.expect("lead list").data;
                if leads.len() >= count {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        leads
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
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let health = self.health().await;
            if done(&health) || tokio::time::Instant::now() > deadline {
                return health;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
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

/// Path of the real server binary, for tests that kill it.
pub fn server_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leadhook-server"))
}
