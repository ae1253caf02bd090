//! The server as a library in this process: `Application::build` on port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use leadhook_server::app::{Application, StartupError};
use leadhook_server::config::Config;
use leadhook_server::intake::RetryPolicy;
use leadhook_server::store::LeadStore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running in-process server. [`TestServer::stop`] shuts it down gracefully; dropping it
/// cancels it and aborts its task.
pub struct TestServer {
    address: SocketAddr,
    metrics_address: Option<SocketAddr>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Builds the server from `config` (its own store) and starts serving.
    pub async fn start(config: Config, retry: RetryPolicy) -> Result<TestServer, StartupError> {
        Ok(Self::run(Application::build(config, retry).await?))
    }

    /// Like [`TestServer::start`], with `store` as the lead store.
    pub async fn start_with_store(
        config: Config,
        store: Arc<dyn LeadStore>,
        retry: RetryPolicy,
    ) -> Result<TestServer, StartupError> {
        Ok(Self::run(
            Application::build_with_store(config, store, retry).await?,
        ))
    }

    fn run(app: Application) -> TestServer {
        let address = app.local_addr();
        let metrics_address = app.metrics_addr();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until(shutdown.clone()));
        TestServer {
            address,
            metrics_address,
            shutdown,
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT`: the address the server is bound to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// `http://127.0.0.1:PORT` of the metrics listener, when `LEADHOOK_METRICS_ADDR` is not off.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_address
            .map(|address| format!("http://{address}"))
    }

    /// Graceful shutdown: requests and lead fetches in flight finish first, and unfinished
    /// events stay in the inbox. A stalled Graph API stand-in must be released before.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.cancel();
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::TestSettings;
    use leadhook_server::intake::DEFAULT_RETRY;

    fn settings() -> TestSettings {
        TestSettings {
            app_secret: "harness-app-secret".into(),
            verify_token: "harness-verify-token".into(),
            page_token: "harness-page-token".into(),
            api_tokens: "rep:harness-rep-token".into(),
        }
    }

    #[tokio::test]
    async fn serves_on_the_port_it_reports_and_stops_cleanly() {
        let settings = settings();
        let graph = settings.spawn_graph().await.unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let server = TestServer::start(
            settings.config(&graph, data_dir.path()).unwrap(),
            DEFAULT_RETRY,
        )
        .await
        .unwrap();
        let url = format!("{}/healthz", server.base_url());
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        assert!(!url.starts_with("http://127.0.0.1:0/"), "{url}");
        let health = reqwest::get(&url).await.unwrap();
        assert_eq!(health.status(), 200);

        server.stop().await.unwrap();
        assert!(
            reqwest::get(url).await.is_err(),
            "the port is closed after stop"
        );
    }
}
