//! Stand-ins for the APIs a first message to a lead's person goes through, on one local port,
//! written from their public documentation (see `shared/outbound-facts.md`). Each records what
//! arrived, so a test can see what a person would have received, and answers as the service
//! does, or as the test scripts a fault.
//!
//! - WhatsApp Cloud API: `POST /<version>/<phone_number_id>/messages` with a bearer token and
//!   `{"messaging_product": "whatsapp", "to", "type": "template", "template": {"name",
//!   "language": {"code"}, "components"}}`, answered `{"messaging_product": "whatsapp",
//!   "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}`. Errors as Graph errors
//!   (`{"error": {"message", "type", "code", "fbtrace_id"}}`): 401 (code 190) for another token,
//!   404 (code 132001) for a template that does not exist in that language, 400 (code 132001)
//!   for one not approved, 400 (code 100, invalid parameter) for a `to` that is not a number, 400 code 131050 for a person who stopped marketing messages.
//!   `GET /<version>/<waba_id>/message_templates` lists the templates with `status`.
//! - Twilio-style SMS: `POST /2010-04-01/Accounts/<sid>/Messages.json`, basic auth (SID, auth
//!   token), form fields `To`, `From` or `MessagingServiceSid`, `Body`, `StatusCallback`;
//!   answered `201` with `{"sid": "SM…", "status": "queued"}`; `401` (code 20003) for other
//!   credentials, `400` code 21610 for a number that opted out, `400` code 21211 for a `To` that
//!   is not a number.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

pub const WHATSAPP_TOKEN: &str = "EAAGwhatsappSECRETtoken";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const WABA_ID: &str = "102290129340398";
pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "twilioSECRETauthtoken0123456789";

/// Which API a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    WhatsApp,
    Sms,
}

/// What the stand-in does with a request, besides answering as the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagingFault {
    None,
    /// This status, with an error body and no message id.
    Status(u16),
    /// A 429 with `Retry-After` of this many seconds.
    Throttle(u64),
}

/// One request that arrived: its body (JSON, or the form's fields as an object) and what it was
/// answered (0 while held).
#[derive(Debug, Clone)]
pub struct Arrived {
    pub api: Api,
    pub body: Value,
    pub status: u16,
    /// The message id given, when it was taken.
    pub id: Option<String>,
    pub at: std::time::Instant,
}

type Script = Arc<dyn Fn(Api, usize) -> MessagingFault + Send + Sync>;

#[derive(Clone)]
pub struct MessagingStandin {
    pub base: String,
    arrived: Arc<Mutex<Vec<Arrived>>>,
    script: Script,
    held: Arc<AtomicBool>,
    next_id: Arc<AtomicU64>,
    /// Template name → status (`APPROVED`, `PENDING`, `REJECTED`).
    templates: Arc<Mutex<BTreeMap<String, String>>>,
    /// Numbers (digits, no `+`) that opted out.
    opted_out: Arc<Mutex<BTreeSet<String>>>,
}

impl MessagingStandin {
    /// `script(api, n)` decides the `n`th (1-based) request to `api`. The template
    /// `first_contact` is approved, `new_offer` pending, `old_promo` rejected.
    pub async fn spawn(
        script: impl Fn(Api, usize) -> MessagingFault + Send + Sync + 'static,
    ) -> MessagingStandin {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the messaging stand-in");
        let templates = [
            ("first_contact", "APPROVED"),
            ("new_offer", "PENDING"),
            ("old_promo", "REJECTED"),
        ]
        .map(|(name, status)| (name.to_string(), status.to_string()));
        let standin = MessagingStandin {
            base: format!("http://{}", listener.local_addr().expect("addr")),
            arrived: Arc::default(),
            script: Arc::new(script),
            held: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
            templates: Arc::new(Mutex::new(templates.into_iter().collect())),
            opted_out: Arc::default(),
        };
        let app = Router::new()
            .route("/{version}/{phone_number_id}/messages", post(whatsapp_send))
            .route(
                "/{version}/{waba_id}/message_templates",
                get(templates_list),
            )
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(sms_send))
            .with_state(standin.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        standin
    }

    /// The Cloud API's base as the channels file's `api_url` takes it.
    pub fn whatsapp_api(&self) -> String {
        format!("{}/v21.0", self.base)
    }

    pub fn arrived(&self, api: Api) -> Vec<Arrived> {
        let arrived = self.arrived.lock().expect("lock");
        arrived.iter().filter(|a| a.api == api).cloned().collect()
    }

    /// While on, every request is recorded and held unanswered; once off, a held one is
    /// answered 504 to whoever still waits.
    pub fn hold(&self, on: bool) {
        self.held.store(on, Ordering::SeqCst);
    }

    /// `digits` (E.164 without `+`) opts out: sends to it are refused from now on.
    pub fn opt_out(&self, digits: &str) {
        self.opted_out
            .lock()
            .expect("lock")
            .insert(digits.to_string());
    }

    /// Records the request; the fault scripted for it and its index, `None` once held.
    async fn arrive(&self, api: Api, body: Value) -> Option<(usize, MessagingFault)> {
        let arrived = {
            let mut arrived = self.arrived.lock().expect("lock");
            let seen = arrived.iter().filter(|a| a.api == api).count() + 1;
            arrived.push(Arrived {
                api,
                body,
                status: 0,
                id: None,
                at: std::time::Instant::now(),
            });
            (arrived.len() - 1, (self.script)(api, seen))
        };
        if !self.held.load(Ordering::SeqCst) {
            return Some(arrived);
        }
        while self.held.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn answered(&self, index: usize, status: StatusCode, id: Option<String>) {
        let mut arrived = self.arrived.lock().expect("lock");
        arrived[index].status = status.as_u16();
        arrived[index].id = id;
    }

    fn new_id(&self, prefix: &str) -> String {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        format!("{prefix}{n:032}")
    }
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> (StatusCode, HeaderMap, Value) {
    let body = json!({"error": {"message": message, "type": "OAuthException", "code": code,
                                "fbtrace_id": "AbCdEfStandin"}});
    (status, HeaderMap::new(), body)
}

fn fault_answer(fault: MessagingFault) -> Option<(StatusCode, HeaderMap, Value)> {
    match fault {
        MessagingFault::None => None,
        MessagingFault::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Some(graph_error(status, 1, "An unknown error occurred"))
        }
        MessagingFault::Throttle(seconds) => {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", seconds.into());
            let (status, _, body) = graph_error(
                StatusCode::TOO_MANY_REQUESTS,
                130429,
                "Rate limit hit: Cloud API message throughput has been reached",
            );
            Some((status, headers, body))
        }
    }
}

async fn whatsapp_send(
    State(standin): State<MessagingStandin>,
    Path((_version, phone_number_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some((index, fault)) = standin.arrive(Api::WhatsApp, body.clone()).await else {
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    };
    let bearer = format!("Bearer {WHATSAPP_TOKEN}");
    let to = body["to"].as_str().unwrap_or_default().to_string();
    let template = body["template"]["name"].as_str().unwrap_or_default();
    let template_status = standin
        .templates
        .lock()
        .expect("lock")
        .get(template)
        .cloned();
    let (status, headers, answer) = if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(bearer.as_str())
        || phone_number_id != PHONE_NUMBER_ID
    {
        graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token")
    } else if let Some(answer) = fault_answer(fault) {
        answer
    } else if body["messaging_product"] != "whatsapp" || body["type"] != "template" {
        graph_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter")
    } else if to.is_empty() || to.len() > 15 || !to.bytes().all(|b| b.is_ascii_digit()) {
        graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter: to is not a phone number",
        )
    } else if template_status.is_none() {
        graph_error(
            StatusCode::NOT_FOUND,
            132001,
            "Template name does not exist in the translation",
        )
    } else if template_status.as_deref() != Some("APPROVED") {
        graph_error(StatusCode::BAD_REQUEST, 132001, "Template is not approved")
    } else if standin.opted_out.lock().expect("lock").contains(&to) {
        graph_error(
            StatusCode::BAD_REQUEST,
            131050,
            "Unable to deliver the message. This recipient has chosen to stop receiving \
             marketing messages on WhatsApp from your business",
        )
    } else {
        let id = standin.new_id("wamid.HBgL");
        standin.answered(index, StatusCode::OK, Some(id.clone()));
        let answer = json!({"messaging_product": "whatsapp",
                            "contacts": [{"input": to, "wa_id": to}],
                            "messages": [{"id": id}]});
        return (StatusCode::OK, answer.to_string()).into_response();
    };
    standin.answered(index, status, None);
    (status, headers, answer.to_string()).into_response()
}

async fn templates_list(
    State(standin): State<MessagingStandin>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let bearer = format!("Bearer {WHATSAPP_TOKEN}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str())
        || waba_id != WABA_ID
    {
        let (status, _, body) =
            graph_error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token");
        return (status, body.to_string()).into_response();
    }
    let data: Vec<Value> = standin
        .templates
        .lock()
        .expect("lock")
        .iter()
        .map(|(name, status)| {
            json!({"name": name, "status": status, "language": "en_US", "category": "MARKETING",
                   "id": format!("tmpl_{name}")})
        })
        .collect();
    (StatusCode::OK, json!({"data": data}).to_string()).into_response()
}

fn twilio_error(status: StatusCode, code: i64, message: &str) -> (StatusCode, HeaderMap, Value) {
    let body = json!({"code": code, "message": message, "status": status.as_u16(),
                      "more_info": format!("https://www.twilio.com/docs/errors/{code}")});
    (status, HeaderMap::new(), body)
}

async fn sms_send(
    State(standin): State<MessagingStandin>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields: BTreeMap<String, String> = url_form(&body);
    let recorded = serde_json::to_value(&fields).unwrap_or(Value::Null);
    let Some((index, fault)) = standin.arrive(Api::Sms, recorded).await else {
        return StatusCode::GATEWAY_TIMEOUT.into_response();
    };
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
    );
    let to = fields.get("To").cloned().unwrap_or_default();
    let digits = to.strip_prefix('+').unwrap_or_default();
    let (status, headers, answer) = if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(basic.as_str())
        || sid != TWILIO_SID
    {
        twilio_error(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    } else if let Some((status, headers, _)) = fault_answer(fault) {
        let (_, _, body) = twilio_error(status, 20500, "Internal Server Error");
        (status, headers, body)
    } else if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        twilio_error(
            StatusCode::BAD_REQUEST,
            21211,
            &format!("The 'To' number {to} is not a valid phone number."),
        )
    } else if !fields.contains_key("From") && !fields.contains_key("MessagingServiceSid")
        || fields.get("Body").is_none_or(|body| body.is_empty())
    {
        twilio_error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        )
    } else if standin.opted_out.lock().expect("lock").contains(digits) {
        twilio_error(
            StatusCode::BAD_REQUEST,
            21610,
            "Attempt to send to unsubscribed recipient",
        )
    } else {
        let id = standin.new_id("SM");
        standin.answered(index, StatusCode::CREATED, Some(id.clone()));
        let answer = json!({"sid": id, "status": "queued", "to": to, "account_sid": TWILIO_SID,
                            "body": fields.get("Body")});
        return (StatusCode::CREATED, answer.to_string()).into_response();
    };
    standin.answered(index, status, None);
    (status, headers, answer.to_string()).into_response()
}

/// An `application/x-www-form-urlencoded` body's fields (a repeated name keeps its last value).
fn url_form(body: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                urlencoding::decode(&s.replace('+', " "))
                    .map(|d| d.into_owned())
                    .unwrap_or_default()
            };
            (decode(name), decode(value))
        })
        .collect()
}
