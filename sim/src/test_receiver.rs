//! A stand-in webhook callback for the simulator's own tests: records what arrives and answers
//! with scripted statuses (200 once the script runs out).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use tokio::task::JoinHandle;

use leadhook_shared::meta::signature::SIGNATURE_HEADER;

#[derive(Debug, Clone)]
pub struct ReceivedWebhook {
    pub signature: Option<String>,
    pub user_agent: Option<String>,
    pub body: Bytes,
}

#[derive(Default)]
struct Log {
    received: Vec<ReceivedWebhook>,
    script: VecDeque<StatusCode>,
}

pub struct Receiver {
    url: String,
    log: Arc<Mutex<Log>>,
    server: JoinHandle<()>,
}

impl Receiver {
    pub async fn spawn() -> Receiver {
        let log = Arc::new(Mutex::new(Log::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/webhook", listener.local_addr().unwrap());
        let router = Router::new()
            .route("/webhook", post(record))
            .with_state(log.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Receiver { url, log, server }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The next answers, in order.
    pub fn answer_with(&self, statuses: impl IntoIterator<Item = StatusCode>) {
        self.log.lock().unwrap().script = statuses.into_iter().collect();
    }

    pub fn received(&self) -> Vec<ReceivedWebhook> {
        self.log.lock().unwrap().received.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let mut log = log.lock().unwrap();
    log.received.push(ReceivedWebhook {
        signature: text(SIGNATURE_HEADER),
        user_agent: text(header::USER_AGENT.as_str()),
        body,
    });
    log.script.pop_front().unwrap_or(StatusCode::OK)
}

/// A URL on a port nothing listens on.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/webhook")
}
