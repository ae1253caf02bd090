//! The running server under test, through its API: its health (what it saw), its newest leads
//! and its live feed, as a dashboard sees them.

use std::net::SocketAddr;
use std::time::Duration;

use leadhook_shared::ApiList;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::{EndToEndArgs, NAME};
use crate::config::Config;
use crate::doctor::Check;

/// How many of the newest leads are searched for the test lead.
const NEWEST_LEADS: u32 = 50;
/// How long one request to the watched server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The running server under test, through its API.
pub(super) struct WatchedServer {
    http: reqwest::Client,
    pub(super) base: String,
    token: SecretString,
}

impl WatchedServer {
    pub(super) fn new(args: &EndToEndArgs, config: &Config) -> Result<WatchedServer, Check> {
        let base = args
            .server
            .as_deref()
            .map(|url| url.trim().trim_end_matches('/').to_string())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| format!("http://{}", reachable(config.listen)));
        let token = match args
            .token_file
            .as_ref()
            .or(args.token.as_ref())
            .map(|token| token.expose_secret().trim())
        {
            Some(token) if !token.is_empty() => SecretString::from(token),
            _ => config
                .api_tokens
                .first()
                .map(|token| token.token.clone())
                .unwrap_or_default(),
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| {
                Check::fail(
                    NAME,
                    format!("cannot build an HTTP client: {}", error.without_url()),
                    "run doctor again",
                )
            })?;
        Ok(WatchedServer { http, base, token })
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
    }

    /// `GET /api/health`: what the server saw (webhooks, failed events, the Graph API's state).
    pub(super) async fn health(&self) -> Result<Health, Check> {
        let unreachable = |error: reqwest::Error| {
            Check::fail(
                NAME,
                format!(
                    "cannot ask the server at {} ({})",
                    self.base,
                    error.without_url()
                ),
                "start leadhook-server serve, or pass --server with the address of the running server",
            )
        };
        let response = self
            .get("/api/health")
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        match response.status() {
            status if status.is_success() => response
                .json::<Wrapped<Health>>()
                .await
                .map(|wrapped| wrapped.data)
                .map_err(unreachable),
            reqwest::StatusCode::UNAUTHORIZED => Err(Check::fail(
                NAME,
                format!("the server at {} refused the API token", self.base),
                "set LEADHOOK_TOKEN (or --token-file) to one of that server's LEADHOOK_API_TOKENS",
            )),
            status => Err(Check::fail(
                NAME,
                format!(
                    "the server at {} answered /api/health with HTTP {status}",
                    self.base
                ),
                "pass --server with the address of a running leadhook-server",
            )),
        }
    }

    /// Whether the lead is among the newest ones in the store.
    pub(super) async fn has_lead(&self, leadgen_id: &str) -> bool {
        let answer = self
            .get(&format!("/api/leads?limit={NEWEST_LEADS}"))
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await;
        let Ok(response) = answer else { return false };
        match response.json::<ApiList>().await {
            Ok(list) => list
                .data
                .iter()
                .any(|lead| lead.leadgen_id.as_deref() == Some(leadgen_id)),
            Err(_) => false,
        }
    }

    /// Listens to `GET /api/events` as a dashboard does; the channel gets the leadgen id of every
    /// lead the feed shows. Abort the task when done.
    pub(super) async fn open_feed(
        &self,
    ) -> Result<(mpsc::UnboundedReceiver<String>, tokio::task::JoinHandle<()>), Check> {
        let response = self
            .get("/api/events")
            .send()
            .await
            .ok()
            .filter(|response| response.status().is_success())
            .ok_or_else(|| {
                Check::fail(
                    NAME,
                    format!("cannot open the dashboard feed {}/api/events", self.base),
                    "check that the server and any proxy in front of it pass /api/events",
                )
            })?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(read_feed(response, sender));
        Ok((receiver, task))
    }
}

/// Reads Server-Sent Events and sends the `leadgen_id` of each lead event.
async fn read_feed(mut response: reqwest::Response, ids: mpsc::UnboundedSender<String>) {
    let mut pending = String::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        pending.push_str(&String::from_utf8_lossy(&chunk).replace('\r', ""));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let data: String = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            #[derive(Deserialize)]
            struct FeedLead {
                leadgen_id: Option<String>,
            }
            if let Ok(FeedLead {
                leadgen_id: Some(id),
            }) = serde_json::from_str(&data)
                && ids.send(id).is_err()
            {
                return;
            }
        }
    }
}

/// The listen address as a client reaches it: `0.0.0.0` and `[::]` mean this machine.
fn reachable(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], listen.port()))
    } else {
        listen
    }
}

#[derive(Deserialize)]
struct Wrapped<T> {
    data: T,
}

/// The parts of `/api/health` the diagnosis reads.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Health {
    #[serde(default)]
    pub(super) last_webhook_at: Option<String>,
    #[serde(default)]
    inbox: InboxHealth,
    #[serde(default)]
    pub(super) graph: GraphHealth,
}

impl Health {
    /// The lead's event, when the server keeps it as failed.
    pub(super) fn failure(&self, leadgen_id: &str) -> Option<&FailedEvent> {
        self.inbox
            .recent_failures
            .iter()
            .find(|failure| failure.leadgen_id == leadgen_id)
    }
}

#[derive(Debug, Default, Deserialize)]
struct InboxHealth {
    #[serde(default)]
    recent_failures: Vec<FailedEvent>,
}

#[derive(Debug, Deserialize)]
pub(super) struct FailedEvent {
    leadgen_id: String,
    #[serde(default)]
    pub(super) reason: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct GraphHealth {
    #[serde(default)]
    pub(super) message: Option<String>,
}
