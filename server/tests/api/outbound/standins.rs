//! Stand-ins for the chat services, written from their public documentation, on one local port.
//! Each records what arrived and answers as the service does, or as the test scripts a fault.
//!
//! - Slack incoming webhooks (<https://api.slack.com/messaging/webhooks>, "Handling errors"):
//!   `POST /services/T…/B…/…` with JSON carrying `text`; `200 ok`; `400 invalid_payload` for a
//!   body that is not such JSON, `400 no_text` without text, `404 no_service` for another hook;
//!   `429` with `Retry-After` when posting too fast.
//! - Microsoft Teams Workflows webhooks ("When a Teams webhook request is received", Microsoft
//!   Learn, "Create incoming webhooks with Workflows"): `POST` of `{"type": "message",
//!   "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content":
//!   <AdaptiveCard>}]}`, answered `202 Accepted`; anything else `400`.
//! - Telegram's Bot API (<https://core.telegram.org/bots/api#making-requests>, `sendMessage`,
//!   "HTML style"): `POST /bot<token>/sendMessage` with `chat_id` and `text`; `{"ok": true,
//!   "result": <Message>}`; `401 Unauthorized` for another token; `400 Bad Request: can't parse
//!   entities` for HTML with a tag Telegram does not support or a bare `&`; `429` with
//!   `parameters.retry_after`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

pub const SLACK_HOOK: &str = "/services/T0001/B0001/XXXXslackSECRETXXXX";
pub const TEAMS_HOOK: &str =
    "/workflows/0a1b/triggers/manual/paths/invoke?api-version=1&sig=teamsSECRET";
pub const BOT_TOKEN: &str = "123456789:AAHtelegramSECRET_-x";
pub const CARD: &str = "application/vnd.microsoft.card.adaptive";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Slack,
    Teams,
    Telegram,
}

/// What the stand-in does with a request, besides answering as the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Status(u16),
    /// A 429 asking for this many seconds.
    Throttle(u64),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub service: Service,
    pub body: Value,
    pub status: u16,
    pub at: Instant,
}

type Script = Arc<dyn Fn(Service, usize) -> Fault + Send + Sync>;

#[derive(Clone)]
pub struct StandIns {
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Script,
    held: Arc<AtomicBool>,
}

impl StandIns {
    /// `script(service, n)` decides the `n`th (1-based) request to `service`.
    pub async fn spawn(
        script: impl Fn(Service, usize) -> Fault + Send + Sync + 'static,
    ) -> StandIns {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let stand_ins = StandIns {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            received: Arc::default(),
            script: Arc::new(script),
            held: Arc::default(),
        };
        let app = Router::new()
            .route("/services/{team}/{hook}/{key}", post(slack))
            .route("/workflows/{*path}", post(teams))
            .route("/{bot}/sendMessage", post(telegram))
            .with_state(stand_ins.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        stand_ins
    }

    pub fn slack_url(&self) -> String {
        format!("{}{SLACK_HOOK}", self.base)
    }

    pub fn teams_url(&self) -> String {
        format!("{}{TEAMS_HOOK}", self.base)
    }

    pub fn received(&self, service: Service) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.service == service)
            .cloned()
            .collect()
    }

    /// While on, every request is recorded and held unanswered (as a service that hangs);
    /// once off, a held one is answered 504 to whoever still waits, and stays unanswered in the
    /// record.
    pub fn hold(&self, on: bool) {
        self.held.store(on, Ordering::SeqCst);
    }

    /// Records the request and returns the fault scripted for it; `None` for a held one.
    async fn arrive(&self, service: Service, body: &Value) -> Option<(usize, Fault)> {
        let arrived = {
            let mut received = self.received.lock().unwrap();
            let seen = received.iter().filter(|r| r.service == service).count() + 1;
            received.push(Received {
                service,
                body: body.clone(),
                status: 0,
                at: Instant::now(),
            });
            (received.len() - 1, (self.script)(service, seen))
        };
        if !self.held.load(Ordering::SeqCst) {
            return Some(arrived);
        }
        while self.held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn answered(&self, index: usize, status: StatusCode) {
        self.received.lock().unwrap()[index].status = status.as_u16();
    }
}

fn json_body(bytes: &Bytes) -> Value {
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

async fn slack(
    State(stand_ins): State<StandIns>,
    Path((team, hook, key)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let body = json_body(&body);
    let Some((index, fault)) = stand_ins.arrive(Service::Slack, &body).await else {
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    };
    let (status, headers, text) = if format!("/services/{team}/{hook}/{key}") != SLACK_HOOK {
        (StatusCode::NOT_FOUND, HeaderMap::new(), "no_service")
    } else if !body.is_object() {
        (StatusCode::BAD_REQUEST, HeaderMap::new(), "invalid_payload")
    } else if !body["text"].is_string() {
        (StatusCode::BAD_REQUEST, HeaderMap::new(), "no_text")
    } else {
        match fault {
            Fault::None => (StatusCode::OK, HeaderMap::new(), "ok"),
            Fault::Status(status) => (status_code(status), HeaderMap::new(), "service_error"),
            Fault::Throttle(seconds) => {
                let mut headers = HeaderMap::new();
                headers.insert("retry-after", seconds.into());
                (StatusCode::TOO_MANY_REQUESTS, headers, "rate_limited")
            }
        }
    };
    stand_ins.answered(index, status);
    (status, headers, text).into_response()
}

async fn teams(State(stand_ins): State<StandIns>, body: Bytes) -> Response {
    let body = json_body(&body);
    let Some((index, fault)) = stand_ins.arrive(Service::Teams, &body).await else {
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    };
    let attachments = body["attachments"].as_array().cloned().unwrap_or_default();
    let cards_only = !attachments.is_empty()
        && attachments.iter().all(|a| {
            a["contentType"] == CARD
                && a["content"]["type"] == "AdaptiveCard"
                && a["content"]["version"].is_string()
                && a["content"]["body"].is_array()
        });
    let status = if body["type"] != "message" || !cards_only {
        StatusCode::BAD_REQUEST
    } else {
        match fault {
            Fault::None => StatusCode::ACCEPTED,
            Fault::Status(status) => status_code(status),
            Fault::Throttle(_) => StatusCode::TOO_MANY_REQUESTS,
        }
    };
    stand_ins.answered(index, status);
    status.into_response()
}

async fn telegram(
    State(stand_ins): State<StandIns>,
    Path(bot): Path<String>,
    body: Bytes,
) -> Response {
    let body = json_body(&body);
    let Some((index, fault)) = stand_ins.arrive(Service::Telegram, &body).await else {
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    };
    let refuse = |status: StatusCode, description: String, extra: Value| {
        let mut answer =
            json!({"ok": false, "error_code": status.as_u16(), "description": description});
        if let Some(extra) = extra.as_object() {
            answer.as_object_mut().unwrap().extend(extra.clone());
        }
        (status, axum::Json(answer))
    };
    let text = body["text"].as_str().unwrap_or_default();
    let parsed = if body["parse_mode"] == "HTML" {
        visible_html(text)
    } else {
        Ok(text.to_string())
    };
    let (status, answer) = if bot.strip_prefix("bot") != Some(BOT_TOKEN) {
        refuse(StatusCode::UNAUTHORIZED, "Unauthorized".into(), Value::Null)
    } else if body["chat_id"].is_null() || text.is_empty() {
        refuse(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty".into(),
            Value::Null,
        )
    } else if let Err(problem) = &parsed {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("Bad Request: can't parse entities: {problem}"),
            Value::Null,
        )
    } else {
        match fault {
            Fault::None => (
                StatusCode::OK,
                axum::Json(json!({"ok": true, "result": {
                    "message_id": index + 1, "date": 1796655600,
                    "chat": {"id": body["chat_id"]}, "text": parsed.unwrap_or_default()}})),
            ),
            Fault::Status(status) => refuse(
                status_code(status),
                "Internal Server Error".into(),
                Value::Null,
            ),
            Fault::Throttle(seconds) => refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too Many Requests: retry after {seconds}"),
                json!({"parameters": {"retry_after": seconds}}),
            ),
        }
    };
    stand_ins.answered(index, status);
    (status, answer).into_response()
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Telegram's tags of the HTML style.
const TELEGRAM_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "tg-emoji",
    "blockquote",
    "span",
];

/// The text a Telegram client shows for `html`, as the HTML style reads it (tags dropped,
/// entities decoded), or why Telegram refuses it.
pub fn visible_html(html: &str) -> Result<String, String> {
    let mut visible = String::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unclosed start tag")?;
                let tag = rest[1..end].trim_start_matches('/');
                let name = tag.split_whitespace().next().unwrap_or_default();
                if !TELEGRAM_TAGS.contains(&name) {
                    return Err(format!("Unsupported start tag \"{name}\""));
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let end = rest.find(';').ok_or("bare &")?;
                let decoded = match &rest[..=end] {
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&amp;" => '&',
                    "&quot;" => '"',
                    other => return Err(format!("unsupported entity {other}")),
                };
                visible.push(decoded);
                rest = &rest[end + 1..];
            }
            c => {
                visible.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Ok(visible)
}

/// The tag names used in `html`.
pub fn tags(html: &str) -> Vec<String> {
    html.split('<')
        .skip(1)
        .filter_map(|part| part.split('>').next())
        .map(str::to_string)
        .collect()
}
