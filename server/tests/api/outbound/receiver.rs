//! A webhook receiver on a local port that records every request as it came and answers as the
//! test scripts it: by how many times it has seen the request's `webhook-id`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// What the receiver does with the `n`th request (1-based) of one `webhook-id`.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Holds the request without answering, for this long.
    Hang(Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// `None` while (or because) the request hangs.
    pub answered: Option<u16>,
}

impl Received {
    pub fn id(&self) -> &str {
        &self.headers["webhook-id"]
    }
}

type Script = Arc<dyn Fn(usize) -> Answer + Send + Sync>;

#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub async fn spawn(script: impl Fn(usize) -> Answer + Send + Sync + 'static) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = Receiver {
            url: format!("http://{}/hooks", listener.local_addr().expect("addr")),
            received: Arc::default(),
            script: Arc::new(Mutex::new(Arc::new(script))),
        };
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    pub fn answer_with(&self, script: impl Fn(usize) -> Answer + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Arc::new(script);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests answered 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.answered.is_some_and(|s| (200..300).contains(&s)))
            .collect()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let headers: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    let id = headers.get("webhook-id").cloned().unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let (index, seen) = {
        let mut received = receiver.received.lock().unwrap();
        let seen = received.iter().filter(|r| r.id() == id).count() + 1;
        received.push(Received {
            headers,
            body,
            answered: None,
        });
        (received.len() - 1, seen)
    };
    let script = receiver.script.lock().unwrap().clone();
    match script(seen) {
        Answer::Status(status) => {
            receiver.received.lock().unwrap()[index].answered = Some(status);
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        // The sender has given up by then: the request stays unanswered in the record.
        Answer::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::OK
        }
    }
}
