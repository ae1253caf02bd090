//! An ntfy server stand-in, written from ntfy's publishing docs: the JSON publish form
//! (`POST /` with `topic`, `message`, `title`, `priority` 1-5, `tags`, `click`, `actions`), a
//! bearer token when the server requires one (else 403, as ntfy answers for a protected topic),
//! and the message's JSON answer. It records every publish with its headers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Publish {
    pub headers: BTreeMap<String, String>,
    pub json: Value,
}

#[derive(Clone)]
pub struct NtfyStandin {
    /// The server's root, as a channel's `server`.
    pub url: String,
    token: Option<String>,
    published: Arc<Mutex<Vec<Publish>>>,
    held: Arc<AtomicBool>,
    arrived: Arc<AtomicUsize>,
}

impl NtfyStandin {
    /// A stand-in that requires `token` as a bearer token, when given.
    pub async fn spawn(token: Option<&str>) -> NtfyStandin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let standin = NtfyStandin {
            url: format!("http://{}", listener.local_addr().expect("addr")),
            token: token.map(str::to_string),
            published: Arc::default(),
            held: Arc::default(),
            arrived: Arc::default(),
        };
        let app = Router::new()
            .route("/", post(publish))
            .with_state(standin.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        standin
    }

    /// While on, every publish is held unanswered (a server that hangs); once off, a held one is
    /// answered 504 and not accepted.
    pub fn hold(&self, on: bool) {
        self.held.store(on, Ordering::SeqCst);
    }

    /// Every publish request that arrived, held, refused or accepted.
    pub fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }

    /// Every message accepted, in arrival order.
    pub fn published(&self) -> Vec<Publish> {
        self.published.lock().unwrap().clone()
    }

    /// The messages accepted for `topic`.
    pub fn to_topic(&self, topic: &str) -> Vec<Publish> {
        self.published()
            .into_iter()
            .filter(|p| p.json["topic"] == topic)
            .collect()
    }
}

async fn publish(
    State(standin): State<NtfyStandin>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    standin.arrived.fetch_add(1, Ordering::SeqCst);
    if standin.held.load(Ordering::SeqCst) {
        while standin.held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let error = json!({"code": 50401, "http": 504, "error": "held"});
        return (StatusCode::GATEWAY_TIMEOUT, axum::Json(error));
    }
    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(token) = &standin.token
        && headers.get("authorization") != Some(&format!("Bearer {token}"))
    {
        let error = json!({"code": 40301, "http": 403, "error": "forbidden"});
        return (StatusCode::FORBIDDEN, axum::Json(error));
    }
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        let error =
            json!({"code": 40024, "http": 400, "error": "invalid request: body must be JSON"});
        return (StatusCode::BAD_REQUEST, axum::Json(error));
    };
    let topic_ok = json["topic"].as_str().is_some_and(|topic| {
        (1..=64).contains(&topic.len())
            && topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    });
    let priority_ok = json["priority"]
        .as_u64()
        .is_none_or(|p| (1..=5).contains(&p));
    if !topic_ok || !priority_ok {
        let error = json!({"code": 40001, "http": 400, "error": "invalid request"});
        return (StatusCode::BAD_REQUEST, axum::Json(error));
    }
    let answer = json!({"id": "sPs71M8A2T", "time": 1764406160, "event": "message",
        "topic": json["topic"], "message": json["message"]});
    standin
        .published
        .lock()
        .unwrap()
        .push(Publish { headers, json });
    (StatusCode::OK, axum::Json(answer))
}
