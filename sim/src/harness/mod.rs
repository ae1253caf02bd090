//! One leadhook server for tests, benchmarks and the demo, in two flavours:
//! - [`TestServer`]: the library's `Application` in this process, on a port the OS picks;
//! - [`ServerProcess`]: a `leadhook-server serve` child process (for tests that kill it), on a
//!   port the OS picks too, read back from the server's "ready" log line.
//!
//! Both listen on `127.0.0.1:0`: there is no port chosen ahead and released, so two servers can
//! never race for one port. [`TestSettings`] holds the secrets a server and its Graph API
//! stand-in share.

mod in_process;
mod process;

use std::path::Path;
use std::time::Duration;

use leadhook_server::config::{Config, ConfigError, ServeArgs};
use leadhook_shared::{ApiList, Lead};

pub use in_process::TestServer;
pub use process::{ProcessError, ServerProcess};

use crate::graph_standin::{GraphStandin, StandinConfig, StandinError};

/// Where a test server listens: loopback, a port the OS picks.
pub const ANY_LOOPBACK_PORT: &str = "127.0.0.1:0";

/// The secrets and rep tokens of a test server, and of the Graph API stand-in it talks to.
#[derive(Debug, Clone)]
pub struct TestSettings {
    pub app_secret: String,
    pub verify_token: String,
    pub page_token: String,
    /// `LEADHOOK_API_TOKENS`: comma-separated `name:token` pairs.
    pub api_tokens: String,
}

impl TestSettings {
    /// A Graph API stand-in configuration that accepts these secrets.
    pub fn standin_config(&self) -> StandinConfig {
        StandinConfig {
            app_secret: self.app_secret.clone().into(),
            page_token: self.page_token.clone(),
            ..StandinConfig::default()
        }
    }

    /// Starts a Graph API stand-in with [`TestSettings::standin_config`].
    pub async fn spawn_graph(&self) -> Result<GraphStandin, StandinError> {
        GraphStandin::spawn(self.standin_config()).await
    }

    /// `serve` settings for a server on a loopback port the OS picks, fetching leads from
    /// `graph_url` and keeping its data in `data_dir`.
    pub fn serve_args(&self, graph_url: &str, data_dir: &Path) -> ServeArgs {
        ServeArgs {
            fb_app_secret: Some(self.app_secret.clone().into()),
            fb_verify_token: Some(self.verify_token.clone().into()),
            fb_page_access_token: Some(self.page_token.clone().into()),
            fb_graph_url: Some(graph_url.to_string()),
            listen: Some(ANY_LOOPBACK_PORT.to_string()),
            data_dir: Some(data_dir.to_path_buf()),
            api_tokens: Some(self.api_tokens.clone().into()),
            metrics_addr: Some(ANY_LOOPBACK_PORT.to_string()),
            ..ServeArgs::default()
        }
    }

    /// [`TestSettings::serve_args`], checked as the server checks them.
    pub fn config(&self, graph: &GraphStandin, data_dir: &Path) -> Result<Config, ConfigError> {
        Config::from_args(self.serve_args(&graph.base_url(), data_dir))
    }

    /// The same settings as the environment of a `leadhook-server serve` process
    /// (see [`ServerProcess::start`], which adds the listen address).
    pub fn env(&self, graph_url: &str, data_dir: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("FB_APP_SECRET", self.app_secret.clone()),
            ("FB_VERIFY_TOKEN", self.verify_token.clone()),
            ("FB_PAGE_ACCESS_TOKEN", self.page_token.clone()),
            ("FB_GRAPH_URL", graph_url.to_string()),
            ("LEADHOOK_DATA_DIR", data_dir.display().to_string()),
            ("LEADHOOK_API_TOKENS", self.api_tokens.clone()),
        ]
    }
}

/// How long [`wait_for_leads`] keeps asking.
pub const LEADS_WAIT: Duration = Duration::from_secs(30);

/// How often [`poll_until`] asks again.
pub const POLL_EVERY: Duration = Duration::from_millis(25);

/// Asks `probe` until its answer satisfies `done` or `within` has passed, and returns the last
/// answer either way, so that the caller's assertion shows what was seen. The one way tests here
/// wait for a fact (a stored lead, a counter, a health figure) instead of sleeping.
pub async fn poll_until<T, Fut>(
    within: Duration,
    mut probe: impl FnMut() -> Fut,
    done: impl Fn(&T) -> bool,
) -> T
where
    Fut: Future<Output = T>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let answer = probe().await;
        if done(&answer) || tokio::time::Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Asks `GET /api/leads?limit=1000` of the server at `base_url` (as the rep with `token`) until
/// `done` holds for the list or [`LEADS_WAIT`] has passed, and returns the last list, newest
/// first. Failed requests and answers other than 200 (the server restarting, a store outage)
/// count as not yet.
pub async fn wait_for_leads(
    client: &reqwest::Client,
    base_url: &str,
    token: &str,
    done: impl Fn(&[Lead]) -> bool,
) -> Vec<Lead> {
    let list = || async {
        let answer = client
            .get(format!("{base_url}/api/leads?limit=1000"))
            .bearer_auth(token)
            .send()
            .await
            .ok()?;
        if answer.status() != reqwest::StatusCode::OK {
            return None;
        }
        answer.json::<ApiList>().await.ok().map(|list| list.data)
    };
    poll_until(LEADS_WAIT, list, |leads| {
        leads.as_deref().is_some_and(&done)
    })
    .await
    .unwrap_or_default()
}
