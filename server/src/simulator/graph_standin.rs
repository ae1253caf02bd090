//! A Graph API stand-in on a local port, faithful to Meta's documented shapes (see
//! `/work/shared/meta-facts.md`): single leads, a form's leads with `time_created` filtering and
//! cursor paging, a page's forms, `subscribed_apps`, `debug_token`, token checks and Meta's error
//! bodies. Tests switch faults (errors, rate limits, stalls, timeouts) and token states at runtime.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use leadhook_shared::meta::{GRAPH_LEAD_FIELDS, parse_meta_time};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::fake_leads::{DEFAULT_PAGE_ID, DEFAULT_PAGE_NAME, FakeLead};
use super::meta_json;
use crate::webhook::signature;

/// Meta's page size when a request gives no `limit`.
const DEFAULT_PAGE_SIZE: usize = 25;
/// Largest `limit` the stand-in honours.
const MAX_PAGE_SIZE: usize = 500;

/// Scopes of a healthy Page token for lead capture.
pub const FULL_SCOPES: &[&str] = &[
    "leads_retrieval",
    "pages_manage_metadata",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_ads",
    "ads_management",
];

/// Lead fields Meta knows besides the ones leadhook asks for.
const OTHER_LEAD_FIELDS: &[&str] = &[
    "home_listing",
    "partner_name",
    "post",
    "retailer_item_id",
    "vehicle",
];
const FORM_FIELDS: &[&str] = &["id", "name", "status", "locale", "leads_count"];
const PAGE_FIELDS: &[&str] = &["id", "name"];

/// The Graph node types the stand-in serves, for `fields` checks.
#[derive(Debug, Clone, Copy)]
enum NodeType {
    Page,
    LeadgenForm,
    Lead,
}

impl NodeType {
    fn knows(self, field: &str) -> bool {
        match self {
            NodeType::Page => PAGE_FIELDS.contains(&field),
            NodeType::LeadgenForm => FORM_FIELDS.contains(&field),
            NodeType::Lead => GRAPH_LEAD_FIELDS
                .split(',')
                .chain(OTHER_LEAD_FIELDS.iter().copied())
                .any(|known| known == field),
        }
    }

    /// What Graph returns without `fields`.
    fn default_fields(self) -> &'static [&'static str] {
        match self {
            NodeType::Page => &["id", "name"],
            NodeType::LeadgenForm => &["id", "name", "status", "locale"],
            NodeType::Lead => &["id", "created_time"],
        }
    }
}

/// Who the stand-in is: the app, the page and the Page token it accepts.
#[derive(Debug, Clone)]
pub struct StandinConfig {
    /// `127.0.0.1:0` picks a free port.
    pub listen: SocketAddr,
    pub app_id: String,
    pub app_name: String,
    pub app_secret: SecretString,
    pub page_id: String,
    pub page_name: String,
    /// The Page token every call must carry (`debug_token` also takes `<app_id>|<app_secret>`).
    pub page_token: String,
    /// Reject calls without `appsecret_proof` (a proof that is given is always checked).
    pub require_appsecret_proof: bool,
    /// Whether the page starts subscribed to the app's `leadgen` webhooks.
    pub subscribed: bool,
}

impl Default for StandinConfig {
    fn default() -> Self {
        StandinConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            app_id: "918273645501234".to_string(),
            app_name: "leadhook".to_string(),
            app_secret: SecretString::from("simulated-app-secret"),
            page_id: DEFAULT_PAGE_ID.to_string(),
            page_name: DEFAULT_PAGE_NAME.to_string(),
            page_token: "EAAGsimulatedPageToken".to_string(),
            require_appsecret_proof: false,
            subscribed: true,
        }
    }
}

/// The state of the configured Page token, as `debug_token` and every call see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// Long-lived, never expires, every scope granted.
    Valid,
    /// Expired: every call fails with 190/463; `debug_token` says `is_valid: false`.
    Expired,
    /// Works, but `debug_token` shows it expiring within the hour (a Graph Explorer token).
    ShortLived,
    /// Valid but without these scopes; calls that need one fail with error 200.
    MissingScopes(Vec<String>),
}

/// Which Graph call a request was, for the call counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `GET /<version>/<leadgen_id>` (also counted for unknown ids).
    Lead,
    /// `GET /<version>/<form_id>/leads`.
    FormLeads,
    /// `GET /<version>/<page_id>/leadgen_forms`.
    LeadgenForms,
    /// `GET|POST|DELETE /<version>/<page_id>/subscribed_apps`.
    SubscribedApps,
    /// `GET /<version>/debug_token`.
    DebugToken,
    /// `me`, a page or form node, unknown edges and paths.
    Other,
}

impl CallKind {
    const ALL: [CallKind; 6] = [
        CallKind::Lead,
        CallKind::FormLeads,
        CallKind::LeadgenForms,
        CallKind::SubscribedApps,
        CallKind::DebugToken,
        CallKind::Other,
    ];

    fn reads_leads(self) -> bool {
        matches!(self, CallKind::Lead | CallKind::FormLeads)
    }
}

/// A Meta error answer: `{"error":{"message","type","code","error_subcode","fbtrace_id","is_transient"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: u32,
    pub subcode: Option<u32>,
    pub message: String,
    /// `OAuthException` for most errors, `GraphMethodException` for unreadable objects.
    pub error_type: &'static str,
    pub is_transient: bool,
    /// For rate limits: the `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`.
    pub regain_access_minutes: Option<u32>,
}

impl GraphError {
    /// The error Meta sends for `code` (and `subcode`), with its usual message and HTTP 400.
    pub fn new(code: u32, subcode: Option<u32>) -> GraphError {
        let message = match (code, subcode) {
            (1, _) => "An unknown error occurred",
            (2, _) => "An unexpected error has occurred. Please retry your request later.",
            (4, _) => "(#4) Application request limit reached",
            (17, _) => "(#17) User request limit reached",
            (32, _) => "(#32) Page request limit reached",
            (613, _) => "(#613) Calls to this api have exceeded the rate limit.",
            (80005, _) => {
                "(#80005) There have been too many leadgen api calls to this Page. Wait a bit and try again."
            }
            (341, _) => "(#341) Application limit reached",
            (190, Some(463)) => "Error validating access token: Session has expired.",
            (190, Some(460)) => {
                "Error validating access token: The session has been invalidated because the user changed their password."
            }
            (190, _) => "Invalid OAuth access token - Cannot parse access token",
            (100, Some(33)) => {
                "Unsupported get request. Object does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
            }
            (10, _) => "(#10) Application does not have permission for this action",
            (200..=299, _) => "(#200) Permissions error",
            _ => "An unknown error occurred",
        };
        GraphError {
            status: StatusCode::BAD_REQUEST,
            code,
            subcode,
            message: message.to_string(),
            error_type: if code == 100 && subcode == Some(33) {
                "GraphMethodException"
            } else {
                "OAuthException"
            },
            is_transient: matches!(code, 1 | 2 | 4 | 17 | 32 | 341 | 613 | 80005),
            regain_access_minutes: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> GraphError {
        self.message = message.into();
        self
    }

    pub fn with_status(mut self, status: StatusCode) -> GraphError {
        self.status = status;
        self
    }

    /// 100/33: the object does not exist or this token cannot read it.
    fn unreadable(id: &str) -> GraphError {
        GraphError::new(100, Some(33)).with_message(format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        ))
    }

    fn invalid_parameter(message: impl Into<String>) -> GraphError {
        GraphError::new(100, None).with_message(message)
    }

    fn is_rate_limit(&self) -> bool {
        matches!(self.code, 4 | 17 | 32 | 341 | 613 | 80005)
    }

    fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        error["is_transient"] = json!(self.is_transient);
        error["fbtrace_id"] = json!(next_fbtrace_id());
        json!({ "error": error })
    }

    /// The HTTP answer; rate limits carry Meta's usage headers for `business_id` (the page).
    fn response(&self, business_id: &str) -> Response {
        let mut response = json_response(self.status, &self.body());
        if self.is_rate_limit() {
            let usage = json!({ business_id: [{
                "type": "leadgen",
                "call_count": 100,
                "total_cputime": 100,
                "total_time": 100,
                "estimated_time_to_regain_access": self.regain_access_minutes.unwrap_or(0),
            }]});
            let app_usage = json!({"call_count": 100, "total_cputime": 100, "total_time": 100});
            let headers = response.headers_mut();
            for (name, value) in [
                ("x-business-use-case-usage", usage),
                ("x-app-usage", app_usage),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
                    headers.insert(name, value);
                }
            }
        }
        response
    }
}

/// What a call does instead of its normal answer while a fault is switched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphFault {
    /// Answer with this Meta error.
    Error(GraphError),
    /// Never answer (until the stand-in shuts down): the client's timeout must fire.
    Hang,
    /// Answer normally, but only after this delay.
    Delay(Duration),
}

impl GraphFault {
    /// Code 1 or 2: Meta asks to retry.
    pub fn transient(code: u32) -> GraphFault {
        GraphFault::Error(GraphError::new(code, None))
    }

    /// Code 4, 17, 32, 341, 613 or 80005, with access regained in `regain_minutes`.
    pub fn rate_limited(code: u32, regain_minutes: u32) -> GraphFault {
        GraphFault::Error(GraphError {
            regain_access_minutes: Some(regain_minutes),
            ..GraphError::new(code, None)
        })
    }

    /// 190 with a subcode such as 463 (expired) or 460 (password changed).
    pub fn invalid_token(subcode: Option<u32>) -> GraphFault {
        GraphFault::Error(GraphError::new(190, subcode))
    }

    /// 100/33: the lead cannot be read.
    pub fn unreadable() -> GraphFault {
        GraphFault::Error(GraphError::new(100, Some(33)))
    }

    /// Code 10 or 200–299: a permission is missing.
    pub fn permission(code: u32) -> GraphFault {
        GraphFault::Error(GraphError::new(code, None))
    }

    /// HTTP 500 with Meta's unknown-error body.
    pub fn server_error() -> GraphFault {
        GraphFault::Error(GraphError::new(1, None).with_status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

enum FaultPlan {
    Healthy,
    Always(GraphFault),
    Sometimes {
        ratio: f64,
        faults: Vec<GraphFault>,
        rng: Box<StdRng>,
    },
}

impl FaultPlan {
    fn next_fault(&mut self) -> Option<GraphFault> {
        match self {
            FaultPlan::Healthy => None,
            FaultPlan::Always(fault) => Some(fault.clone()),
            FaultPlan::Sometimes { ratio, faults, rng } => {
                if faults.is_empty() || !rng.random_bool(*ratio) {
                    return None;
                }
                Some(faults[rng.random_range(..faults.len())].clone())
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StandinError {
    #[error("cannot listen on {addr} for the Graph API stand-in: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The running stand-in. Dropping it (or [`GraphStandin::shutdown`]) stops the server.
pub struct GraphStandin {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl GraphStandin {
    /// Binds `config.listen` and serves until dropped.
    pub async fn spawn(config: StandinConfig) -> Result<GraphStandin, StandinError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| StandinError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StandinError::Bind {
            addr: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let mut stopping = shared.shutdown.subscribe();
        let server = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            };
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::warn!(%error, "the Graph API stand-in stopped");
            }
        });
        Ok(GraphStandin {
            shared,
            addr,
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: the Graph version goes in the path after it.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn config(&self) -> &StandinConfig {
        &self.shared.config
    }

    /// Registers (or renames) a lead form of `page_id`.
    pub fn add_form(&self, page_id: &str, form_id: &str, name: &str) {
        self.shared.world().add_form(page_id, form_id, Some(name));
    }

    /// Stores a Graph-shaped lead (a JSON object) and returns its leadgen id: the lead's `id`
    /// when it has one, else a fresh one. `form_id` and `created_time` (now) are filled in when
    /// missing. Unknown forms are registered with a generated name.
    ///
    /// # Panics
    /// When `lead` is not a JSON object.
    pub fn add_lead(&self, page_id: &str, form_id: &str, lead: Value) -> String {
        let Value::Object(fields) = lead else {
            panic!("a Graph API lead is a JSON object, got {lead}");
        };
        self.shared.world().add_lead(page_id, form_id, fields)
    }

    /// Stores a generated lead under its page and form (registering the form with its name).
    pub fn add_fake_lead(&self, lead: &FakeLead) -> String {
        let mut world = self.shared.world();
        world.add_form(&lead.page_id, &lead.form_id, Some(&lead.form_name));
        match lead.graph_json() {
            Value::Object(fields) => world.add_lead(&lead.page_id, &lead.form_id, fields),
            other => unreachable!("a fake lead serializes to an object, not {other}"),
        }
    }

    /// Leadgen ids in the order they were added.
    pub fn lead_ids(&self) -> Vec<String> {
        self.shared.world().lead_order.clone()
    }

    /// Holds every lead read (single leads and form leads) until [`GraphStandin::release`].
    pub fn stall(&self) {
        self.shared.stall.send_replace(true);
    }

    pub fn release(&self) {
        self.shared.stall.send_replace(false);
    }

    /// Every call answers with `fault` until [`GraphStandin::heal`].
    pub fn fail_all(&self, fault: GraphFault) {
        *self.shared.faults() = FaultPlan::Always(fault);
    }

    /// A `ratio` (0.0–1.0) of calls, drawn from `seed`, answer with one of `faults`.
    pub fn fail_ratio(&self, ratio: f64, faults: Vec<GraphFault>, seed: u64) {
        *self.shared.faults() = FaultPlan::Sometimes {
            ratio: ratio.clamp(0.0, 1.0),
            faults,
            rng: Box::new(StdRng::seed_from_u64(seed)),
        };
    }

    /// Ends injected faults and stalls.
    pub fn heal(&self) {
        *self.shared.faults() = FaultPlan::Healthy;
        self.release();
    }

    pub fn set_token_state(&self, state: TokenState) {
        let mut world = self.shared.world();
        world.token = state;
        world.token_changed_at = Utc::now();
    }

    /// Subscribes or unsubscribes a page from the app's `leadgen` webhooks.
    pub fn set_subscribed(&self, page_id: &str, subscribed: bool) {
        let mut world = self.shared.world();
        if subscribed {
            world
                .subscriptions
                .insert(page_id.to_string(), vec!["leadgen".to_string()]);
        } else {
            world.subscriptions.remove(page_id);
        }
    }

    /// `false` makes every lead read fail with 100/33, as when the app has no Leads Access.
    pub fn set_leads_readable(&self, readable: bool) {
        self.shared.world().leads_readable = readable;
    }

    /// Calls of one kind so far, whatever their answer.
    pub fn calls(&self, kind: CallKind) -> u64 {
        self.shared.calls[kind as usize].load(Ordering::SeqCst)
    }

    /// `GET /<version>/<leadgen_id>` calls so far.
    pub fn lead_fetches(&self) -> u64 {
        self.calls(CallKind::Lead)
    }

    pub fn total_calls(&self) -> u64 {
        CallKind::ALL.iter().map(|&kind| self.calls(kind)).sum()
    }

    /// Stops serving and waits for the server task; hanging and stalled calls are dropped.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for GraphStandin {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

struct Shared {
    config: StandinConfig,
    base_url: String,
    world: Mutex<World>,
    faults: Mutex<FaultPlan>,
    stall: watch::Sender<bool>,
    shutdown: watch::Sender<bool>,
    calls: [AtomicU64; CallKind::ALL.len()],
}

impl Shared {
    fn new(config: StandinConfig, base_url: String) -> Shared {
        let mut world = World {
            pages: BTreeMap::new(),
            forms: BTreeMap::new(),
            leads: BTreeMap::new(),
            lead_order: Vec::new(),
            subscriptions: BTreeMap::new(),
            token: TokenState::Valid,
            token_changed_at: Utc::now(),
            leads_readable: true,
            next_lead_id: 2_000_000_000_000_001,
        };
        world
            .pages
            .insert(config.page_id.clone(), config.page_name.clone());
        if config.subscribed {
            world
                .subscriptions
                .insert(config.page_id.clone(), vec!["leadgen".to_string()]);
        }
        Shared {
            config,
            base_url,
            world: Mutex::new(world),
            faults: Mutex::new(FaultPlan::Healthy),
            stall: watch::Sender::new(false),
            shutdown: watch::Sender::new(false),
            calls: Default::default(),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn faults(&self) -> MutexGuard<'_, FaultPlan> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn stopped(&self) {
        let _ = self.shutdown.subscribe().wait_for(|stop| *stop).await;
    }

    /// Waits while lead reads are stalled; `false` when the stand-in stops meanwhile.
    async fn wait_unstalled(&self) -> bool {
        let mut stall = self.stall.subscribe();
        tokio::select! {
            _ = stall.wait_for(|stalled| !*stalled) => true,
            _ = self.stopped() => false,
        }
    }

    fn app_token(&self) -> String {
        format!(
            "{}|{}",
            self.config.app_id,
            self.config.app_secret.expose_secret()
        )
    }
}

struct World {
    /// Page id → name.
    pages: BTreeMap<String, String>,
    forms: BTreeMap<String, StoredForm>,
    leads: BTreeMap<String, StoredLead>,
    lead_order: Vec<String>,
    /// Page id → the webhook fields it subscribed the app to.
    subscriptions: BTreeMap<String, Vec<String>>,
    token: TokenState,
    token_changed_at: DateTime<Utc>,
    leads_readable: bool,
    next_lead_id: u64,
}

struct StoredForm {
    page_id: String,
    name: String,
}

struct StoredLead {
    form_id: String,
    created: i64,
    fields: Map<String, Value>,
}

impl World {
    fn add_form(&mut self, page_id: &str, form_id: &str, name: Option<&str>) {
        self.pages
            .entry(page_id.to_string())
            .or_insert_with(|| format!("Page {page_id}"));
        let form = self
            .forms
            .entry(form_id.to_string())
            .or_insert_with(|| StoredForm {
                page_id: page_id.to_string(),
                name: format!("Form {form_id}"),
            });
        if let Some(name) = name {
            form.name = name.to_string();
        }
    }

    fn add_lead(&mut self, page_id: &str, form_id: &str, mut fields: Map<String, Value>) -> String {
        self.add_form(page_id, form_id, None);
        let id = match fields.get("id") {
            Some(Value::String(id)) => id.clone(),
            Some(Value::Number(id)) => id.to_string(),
            _ => {
                self.next_lead_id += 1;
                self.next_lead_id.to_string()
            }
        };
        fields.insert("id".into(), Value::String(id.clone()));
        fields
            .entry("form_id")
            .or_insert_with(|| Value::String(form_id.to_string()));
        let created = match fields.get("created_time").and_then(Value::as_str) {
            Some(time) => parse_meta_time(time).unwrap_or_else(Utc::now),
            None => {
                let now = Utc::now();
                fields.insert(
                    "created_time".into(),
                    Value::String(now.format("%Y-%m-%dT%H:%M:%S%z").to_string()),
                );
                now
            }
        };
        let lead = StoredLead {
            form_id: form_id.to_string(),
            created: created.timestamp(),
            fields,
        };
        if self.leads.insert(id.clone(), lead).is_none() {
            self.lead_order.push(id.clone());
        }
        id
    }

    fn scopes(&self) -> Vec<&'static str> {
        match &self.token {
            TokenState::MissingScopes(missing) => FULL_SCOPES
                .iter()
                .copied()
                .filter(|scope| !missing.iter().any(|m| m == scope))
                .collect(),
            _ => FULL_SCOPES.to_vec(),
        }
    }

    fn require_scope(&self, scope: &str) -> Result<(), GraphError> {
        if self.scopes().contains(&scope) {
            Ok(())
        } else {
            Err(GraphError::new(200, None).with_message(format!(
                "(#200) Requires {scope} permission to manage the object"
            )))
        }
    }

    /// When the token expires: 0 for never, as `debug_token` reports it.
    fn token_expires_at(&self) -> i64 {
        match self.token {
            TokenState::Expired => self.token_changed_at.timestamp() - 60,
            TokenState::ShortLived => self.token_changed_at.timestamp() + 3600,
            TokenState::Valid | TokenState::MissingScopes(_) => 0,
        }
    }
}

/// A parsed Graph request: `/<version>/<node>[/<edge>]` with its parameters.
struct GraphRequest {
    method: Method,
    version: String,
    node: String,
    edge: Option<String>,
    params: BTreeMap<String, String>,
    kind: CallKind,
    /// `/<version>/<node>[/<edge>]` with a `vN.N` version; anything else is an unknown path.
    well_formed: bool,
}

impl GraphRequest {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// The one handler: Graph paths are `/<version>/<id>[/<edge>]`, and ids and edges decide the answer.
async fn handle(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = parse_request(&shared, method, &uri, &headers, &body);
    shared.calls[request.kind as usize].fetch_add(1, Ordering::SeqCst);
    let page_id = shared.config.page_id.as_str();

    let fault = shared.faults().next_fault();
    match fault {
        Some(GraphFault::Error(error)) => return error.response(page_id),
        Some(GraphFault::Hang) => {
            shared.stopped().await;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        Some(GraphFault::Delay(delay)) => {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shared.stopped() => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
            }
        }
        None => {}
    }
    if request.kind.reads_leads() && !shared.wait_unstalled().await {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    match answer(&shared, &request) {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(error) => error.response(page_id),
    }
}

fn parse_request(
    shared: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> GraphRequest {
    let mut params = parse_form(uri.query().unwrap_or_default().as_bytes());
    if method != Method::GET {
        params.extend(parse_form(body));
    }
    if !params.contains_key("access_token") {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("OAuth "))
            });
        if let Some(token) = bearer {
            params.insert("access_token".into(), token.trim().to_string());
        }
    }
    let mut segments = uri.path().trim_matches('/').split('/').map(str::to_string);
    let version = segments.next().unwrap_or_default();
    let node = segments.next().unwrap_or_default();
    let edge = segments.next();
    let well_formed = segments.next().is_none() && is_graph_version(&version) && !node.is_empty();
    let kind = if !well_formed {
        CallKind::Other
    } else {
        match edge.as_deref() {
            Some("leads") => CallKind::FormLeads,
            Some("leadgen_forms") => CallKind::LeadgenForms,
            Some("subscribed_apps") => CallKind::SubscribedApps,
            Some(_) => CallKind::Other,
            None if node == "debug_token" => CallKind::DebugToken,
            None => {
                let world = shared.world();
                if node == "me"
                    || world.pages.contains_key(&node)
                    || world.forms.contains_key(&node)
                {
                    CallKind::Other
                } else {
                    CallKind::Lead
                }
            }
        }
    };
    GraphRequest {
        method,
        version,
        node,
        edge,
        params,
        kind,
        well_formed,
    }
}

/// `v23.0` and the like.
fn is_graph_version(segment: &str) -> bool {
    segment.strip_prefix('v').is_some_and(|number| {
        number.split_once('.').is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// `application/x-www-form-urlencoded` pairs (query strings and POST bodies).
fn parse_form(text: &[u8]) -> BTreeMap<String, String> {
    let decode = |part: &[u8]| {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        urlencoding::decode_binary(&spaced).into_owned()
    };
    text.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|&b| b == b'=') {
            Some(equals) => (decode(&pair[..equals]), decode(&pair[equals + 1..])),
            None => (decode(pair), Vec::new()),
        })
        .map(|(name, value)| {
            (
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect()
}

fn answer(shared: &Shared, request: &GraphRequest) -> Result<Value, GraphError> {
    if !request.well_formed {
        return Err(unknown_path(request));
    }
    let mut world = shared.world();
    check_token(shared, &world, request)?;
    match (request.edge.as_deref(), &request.method) {
        (None, &Method::GET) if request.kind == CallKind::DebugToken => {
            debug_token(shared, &world, request)
        }
        (None, &Method::GET) => read_node(shared, &world, request),
        (Some("leads"), &Method::GET) => form_leads(shared, &world, request),
        (Some("leadgen_forms"), &Method::GET) => leadgen_forms(shared, &world, request),
        (Some("subscribed_apps"), _) => subscribed_apps(shared, &mut world, request),
        (Some(edge), &Method::GET) => Err(GraphError::invalid_parameter(format!(
            "(#100) Tried accessing nonexisting field ({edge}) on node type (Page)"
        ))),
        _ => Err(unsupported_request(request)),
    }
}

fn unknown_path(request: &GraphRequest) -> GraphError {
    let path = [
        Some(request.version.as_str()),
        Some(request.node.as_str()),
        request.edge.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("/");
    GraphError::new(2500, None).with_message(format!("Unknown path components: /{path}"))
}

fn unsupported_request(request: &GraphRequest) -> GraphError {
    GraphError::unreadable(&request.node).with_message(format!(
        "Unsupported {} request. Object with ID '{}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        request.method.as_str().to_lowercase(),
        request.node
    ))
}

/// The `access_token` (and `appsecret_proof`) check every call goes through first.
fn check_token(shared: &Shared, world: &World, request: &GraphRequest) -> Result<(), GraphError> {
    let token = request
        .param("access_token")
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            GraphError::new(190, None)
                .with_message("An access token is required to request this resource.")
        })?;
    if request.kind == CallKind::DebugToken && token == shared.app_token() {
        return Ok(());
    }
    if token != shared.config.page_token {
        return Err(GraphError::new(190, None));
    }
    let expected_proof = appsecret_proof(shared, token);
    let proof_error = |message: &str| GraphError {
        error_type: "GraphMethodException",
        ..GraphError::invalid_parameter(message)
    };
    match request.param("appsecret_proof") {
        Some(proof) if !proof.eq_ignore_ascii_case(&expected_proof) => {
            return Err(proof_error(
                "Invalid appsecret_proof provided in the API argument",
            ));
        }
        None if shared.config.require_appsecret_proof => {
            return Err(proof_error(
                "API calls from the server require an appsecret_proof argument",
            ));
        }
        _ => {}
    }
    if world.token == TokenState::Expired {
        return Err(expired_token_error(world));
    }
    Ok(())
}

/// `appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the App Secret.
fn appsecret_proof(shared: &Shared, token: &str) -> String {
    let signed = signature::sign(
        shared.config.app_secret.expose_secret().as_bytes(),
        token.as_bytes(),
    );
    signed.trim_start_matches("sha256=").to_string()
}

fn expired_token_error(world: &World) -> GraphError {
    let expired = DateTime::from_timestamp(world.token_expires_at(), 0).unwrap_or_default();
    GraphError::new(190, Some(463)).with_message(format!(
        "Error validating access token: Session has expired on {}. The current time is {}.",
        expired.format("%A, %d-%b-%y %H:%M:%S UTC"),
        Utc::now().format("%A, %d-%b-%y %H:%M:%S UTC"),
    ))
}

/// `GET /<version>/debug_token?input_token=...`: what Meta knows about a token.
fn debug_token(
    shared: &Shared,
    world: &World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let config = &shared.config;
    let input = request
        .param("input_token")
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            GraphError::invalid_parameter("(#100) The parameter input_token is required")
        })?;
    if input == shared.app_token() {
        return Ok(json!({"data": {
            "app_id": config.app_id, "type": "APP", "application": config.app_name, "is_valid": true,
        }}));
    }
    if input != config.page_token {
        return Ok(json!({"data": {
            "error": {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"},
            "is_valid": false,
            "scopes": [],
        }}));
    }
    let issued_at = world.token_changed_at.timestamp() - 86_400;
    let mut data = json!({
        "app_id": config.app_id,
        "type": "PAGE",
        "application": config.app_name,
        "data_access_expires_at": world.token_changed_at.timestamp() + 90 * 86_400,
        "expires_at": world.token_expires_at(),
        "is_valid": world.token != TokenState::Expired,
        "issued_at": issued_at,
        "profile_id": config.page_id,
        "scopes": world.scopes(),
        "user_id": "100012345678901",
    });
    if world.token == TokenState::Expired {
        let error = expired_token_error(world);
        data["error"] =
            json!({"code": error.code, "message": error.message, "subcode": error.subcode});
    }
    Ok(json!({ "data": data }))
}

/// `GET /<version>/<id>`: a lead, a form, a page or `me` (the token's page).
fn read_node(shared: &Shared, world: &World, request: &GraphRequest) -> Result<Value, GraphError> {
    let node = request.node.as_str();
    let page_id = page_id_of(shared, node);
    if let Some(name) = world.pages.get(page_id) {
        let fields = wanted_fields(request, NodeType::Page)?;
        let page = json!({"id": page_id, "name": name});
        return Ok(select(into_object(page), &fields));
    }
    if let Some(form) = world.forms.get(node) {
        let fields = wanted_fields(request, NodeType::LeadgenForm)?;
        return Ok(select(form_json(world, node, form), &fields));
    }
    let fields = wanted_fields(request, NodeType::Lead)?;
    check_leads_access(world, node)?;
    let lead = world
        .leads
        .get(node)
        .ok_or_else(|| GraphError::unreadable(node))?;
    Ok(select(lead.fields.clone(), &fields))
}

fn into_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn form_json(world: &World, form_id: &str, form: &StoredForm) -> Map<String, Value> {
    let leads_count = world
        .leads
        .values()
        .filter(|lead| lead.form_id == form_id)
        .count();
    into_object(json!({
        "id": form_id,
        "name": form.name,
        "status": "ACTIVE",
        "locale": "en_US",
        "leads_count": leads_count,
    }))
}

/// Lead reads need `leads_retrieval` and Leads Access for the app; `id` names the object read.
fn check_leads_access(world: &World, id: &str) -> Result<(), GraphError> {
    world.require_scope("leads_retrieval")?;
    if world.leads_readable {
        Ok(())
    } else {
        Err(GraphError::unreadable(id))
    }
}

/// The fields a request asks for (`fields=a,b`), or the node type's defaults; an unknown
/// field is Meta's error 100.
fn wanted_fields(request: &GraphRequest, node_type: NodeType) -> Result<Vec<&str>, GraphError> {
    let Some(list) = request
        .param("fields")
        .filter(|list| !list.trim().is_empty())
    else {
        return Ok(node_type.default_fields().to_vec());
    };
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            if node_type.knows(name) {
                Ok(name)
            } else {
                Err(GraphError::invalid_parameter(format!(
                    "(#100) Tried accessing nonexisting field ({name}) on node type ({node_type:?})"
                )))
            }
        })
        .collect()
}

/// The object with only `fields` (and its `id`, which Graph always returns); absent fields stay absent.
fn select(mut object: Map<String, Value>, fields: &[&str]) -> Value {
    object.retain(|name, _| name == "id" || fields.contains(&name.as_str()));
    Value::Object(object)
}

/// `GET /<version>/<form_id>/leads`: newest first, optionally filtered by `time_created`, paged.
fn form_leads(shared: &Shared, world: &World, request: &GraphRequest) -> Result<Value, GraphError> {
    let form_id = request.node.as_str();
    if !world.forms.contains_key(form_id) {
        return Err(GraphError::unreadable(form_id));
    }
    let fields = wanted_fields(request, NodeType::Lead)?;
    check_leads_access(world, form_id)?;
    let filters = time_filters(request.param("filtering"))?;
    let mut leads: Vec<(&String, &StoredLead)> = world
        .leads
        .iter()
        .filter(|(_, lead)| lead.form_id == form_id)
        .filter(|(_, lead)| filters.iter().all(|filter| filter.accepts(lead.created)))
        .collect();
    leads.sort_by(|(a_id, a), (b_id, b)| b.created.cmp(&a.created).then_with(|| b_id.cmp(a_id)));
    let items = leads
        .into_iter()
        .map(|(id, lead)| (id.clone(), select(lead.fields.clone(), &fields)))
        .collect();
    paged(shared, request, items)
}

/// `GET /<version>/<page_id>/leadgen_forms`.
fn leadgen_forms(
    shared: &Shared,
    world: &World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let page_id = known_page(shared, world, request)?;
    world.require_scope("pages_manage_ads")?;
    let fields = wanted_fields(request, NodeType::LeadgenForm)?;
    let items = world
        .forms
        .iter()
        .rev()
        .filter(|(_, form)| form.page_id == page_id)
        .map(|(id, form)| (id.clone(), select(form_json(world, id, form), &fields)))
        .collect();
    paged(shared, request, items)
}

/// `me` is the token's page.
fn page_id_of<'a>(shared: &'a Shared, node: &'a str) -> &'a str {
    if node == "me" {
        shared.config.page_id.as_str()
    } else {
        node
    }
}

/// The page a page edge is called on.
fn known_page<'a>(
    shared: &'a Shared,
    world: &World,
    request: &'a GraphRequest,
) -> Result<&'a str, GraphError> {
    let page_id = page_id_of(shared, &request.node);
    if world.pages.contains_key(page_id) {
        Ok(page_id)
    } else {
        Err(GraphError::unreadable(&request.node))
    }
}

/// `GET|POST|DELETE /<version>/<page_id>/subscribed_apps`.
fn subscribed_apps(
    shared: &Shared,
    world: &mut World,
    request: &GraphRequest,
) -> Result<Value, GraphError> {
    let page_id = known_page(shared, world, request)?.to_string();
    let config = &shared.config;
    match request.method {
        Method::GET => {
            let apps: Vec<Value> = world
                .subscriptions
                .get(&page_id)
                .map(|fields| {
                    json!({"category": "Business", "link": "https://leadhook.example/",
                           "name": config.app_name, "id": config.app_id, "subscribed_fields": fields})
                })
                .into_iter()
                .collect();
            Ok(json!({ "data": apps }))
        }
        Method::POST => {
            world.require_scope("pages_manage_metadata")?;
            let fields: Vec<String> = request
                .param("subscribed_fields")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .map(str::to_string)
                .collect();
            if fields.is_empty() {
                return Err(GraphError::invalid_parameter(
                    "(#100) The parameter subscribed_fields is required.",
                ));
            }
            world.subscriptions.insert(page_id, fields);
            Ok(json!({"success": true}))
        }
        Method::DELETE => {
            world.require_scope("pages_manage_metadata")?;
            world.subscriptions.remove(&page_id);
            Ok(json!({"success": true}))
        }
        _ => Err(unsupported_request(request)),
    }
}

/// One `filtering` condition on `time_created`.
struct TimeFilter {
    operator: TimeOperator,
    value: i64,
}

enum TimeOperator {
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
}

impl TimeFilter {
    fn accepts(&self, created: i64) -> bool {
        match self.operator {
            TimeOperator::GreaterThan => created > self.value,
            TimeOperator::GreaterThanOrEqual => created >= self.value,
            TimeOperator::LessThan => created < self.value,
            TimeOperator::LessThanOrEqual => created <= self.value,
        }
    }
}

/// `filtering=[{"field":"time_created","operator":"GREATER_THAN","value":<unix seconds>}]`.
fn time_filters(filtering: Option<&str>) -> Result<Vec<TimeFilter>, GraphError> {
    let Some(filtering) = filtering.filter(|text| !text.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let invalid =
        |detail: String| GraphError::invalid_parameter(format!("(#100) filtering: {detail}"));
    let conditions: Vec<Value> = serde_json::from_str(filtering)
        .map_err(|_| invalid("param filtering must be a JSON array".into()))?;
    conditions
        .iter()
        .map(|condition| {
            let field = condition["field"].as_str().unwrap_or_default();
            if field != "time_created" {
                return Err(invalid(format!(
                    "filtering field {field:?} is not supported"
                )));
            }
            let operator = match condition["operator"].as_str().unwrap_or_default() {
                "GREATER_THAN" => TimeOperator::GreaterThan,
                "GREATER_THAN_OR_EQUAL" => TimeOperator::GreaterThanOrEqual,
                "LESS_THAN" => TimeOperator::LessThan,
                "LESS_THAN_OR_EQUAL" => TimeOperator::LessThanOrEqual,
                other => return Err(invalid(format!("operator {other:?} is not supported"))),
            };
            let value = match &condition["value"] {
                Value::Number(number) => number.as_i64(),
                Value::String(text) => text.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid("value must be unix seconds".into()))?;
            Ok(TimeFilter { operator, value })
        })
        .collect()
}

/// One page of `items` (keyed for cursors) after the `after` cursor, with Meta's `paging` object;
/// `next` only when more items follow.
fn paged(
    shared: &Shared,
    request: &GraphRequest,
    items: Vec<(String, Value)>,
) -> Result<Value, GraphError> {
    let limit = match request.param("limit") {
        None => DEFAULT_PAGE_SIZE,
        Some(text) => text
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|&limit| limit > 0)
            .ok_or_else(|| {
                GraphError::invalid_parameter("(#100) Param limit must be a positive integer")
            })?
            .min(MAX_PAGE_SIZE),
    };
    let start = match request.param("after") {
        None => 0,
        Some(cursor) => decode_cursor(cursor)
            .and_then(|key| items.iter().position(|(item_key, _)| *item_key == key))
            .map(|position| position + 1)
            .ok_or_else(|| GraphError::invalid_parameter("(#100) The after cursor is not valid"))?,
    };
    let end = (start + limit).min(items.len());
    let page = &items[start.min(end)..end];
    let (Some((first, _)), Some((last, _))) = (page.first(), page.last()) else {
        return Ok(json!({"data": []}));
    };
    let mut paging =
        json!({"cursors": {"before": encode_cursor(first), "after": encode_cursor(last)}});
    if end < items.len() {
        paging["next"] = json!(next_url(shared, request, &encode_cursor(last)));
    }
    Ok(json!({
        "data": page.iter().map(|(_, item)| item.clone()).collect::<Vec<_>>(),
        "paging": paging,
    }))
}

/// The same call with `after` moved on, as a full URL (with the access token, as Meta's are).
fn next_url(shared: &Shared, request: &GraphRequest, after: &str) -> String {
    let path = format!(
        "/{}/{}/{}",
        request.version,
        request.node,
        request.edge.as_deref().unwrap_or_default()
    );
    let query: String = request
        .params
        .iter()
        .filter(|(name, _)| name.as_str() != "after")
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .chain([("after", after)])
        .map(|(name, value)| {
            format!(
                "{}={}",
                urlencoding::encode(name),
                urlencoding::encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{}{path}?{query}", shared.base_url)
}

fn encode_cursor(key: &str) -> String {
    hex::encode(key)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    String::from_utf8(hex::decode(cursor).ok()?).ok()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = meta_json::to_ascii_vec(body).expect("a JSON value always serializes");
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        bytes,
    )
        .into_response()
}

/// An opaque id like Meta's `fbtrace_id` (11 characters), different for every error.
fn next_fbtrace_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut mixed = COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..11)
        .map(|_| {
            let character = ALPHABET[(mixed % ALPHABET.len() as u64) as usize] as char;
            mixed /= ALPHABET.len() as u64;
            character
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::simulator::fake_leads::LeadFaker;

    const VERSION: &str = "v23.0";

    struct Client {
        http: reqwest::Client,
        base: String,
        token: String,
    }

    impl Client {
        fn new(standin: &GraphStandin) -> Client {
            Client {
                http: reqwest::Client::new(),
                base: format!("{}/{VERSION}", standin.base_url()),
                token: standin.config().page_token.clone(),
            }
        }

        /// GET `path` with the Page token and `query`.
        async fn get(&self, path: &str, query: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
            let request = self
                .http
                .get(format!("{}/{path}", self.base))
                .query(&[("access_token", self.token.as_str())])
                .query(query);
            send(request).await
        }
    }

    async fn send(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
        let response = request.send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap();
        assert!(body.is_ascii(), "Meta escapes non-ASCII: {body:?}");
        (status, headers, serde_json::from_slice(&body).unwrap())
    }

    fn assert_meta_error(
        (status, _, body): &(StatusCode, HeaderMap, Value),
        code: u64,
        subcode: Option<u64>,
    ) {
        assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
        let error = &body["error"];
        assert_eq!(error["code"], code, "{body}");
        assert_eq!(error["error_subcode"].as_u64(), subcode, "{body}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            error["type"]
                .as_str()
                .is_some_and(|t| t.ends_with("Exception"))
        );
        assert_eq!(error["fbtrace_id"].as_str().map(str::len), Some(11));
        assert!(error["is_transient"].is_boolean());
    }

    async fn standin() -> GraphStandin {
        GraphStandin::spawn(StandinConfig::default()).await.unwrap()
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_750_000_000 + seconds, 0).unwrap()
    }

    /// Adds `count` leads to one form, one a minute, and returns the form id.
    fn add_leads(standin: &GraphStandin, count: i64) -> String {
        let mut faker = LeadFaker::new(42);
        let form_id = "555000111";
        standin.add_form(DEFAULT_PAGE_ID, form_id, "Spring Promo");
        for minute in 0..count {
            let mut lead = faker.next_lead(at(minute * 60));
            lead.form_id = form_id.to_string();
            standin.add_fake_lead(&lead);
        }
        form_id.to_string()
    }

    #[tokio::test]
    async fn serves_a_lead_with_only_the_requested_fields() {
        let standin = standin().await;
        let mut lead = LeadFaker::new(1).next_lead(at(0));
        lead.set_answer("full_name", vec!["José Muñoz".into()]);
        let id = standin.add_fake_lead(&lead);
        assert_eq!(standin.lead_ids(), [id.as_str()]);
        let client = Client::new(&standin);

        let (status, _, body) = client.get(&id, &[("fields", GRAPH_LEAD_FIELDS)]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, lead.graph_json());
        assert_eq!(body["created_time"], "2025-06-15T15:06:40+0000");

        let (_, _, body) = client.get(&id, &[("fields", "field_data,form_id")]).await;
        let mut keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["field_data", "form_id", "id"]);

        let (_, _, body) = client.get(&id, &[]).await;
        assert_eq!(
            body,
            json!({"id": id, "created_time": "2025-06-15T15:06:40+0000"})
        );
        assert_eq!(standin.lead_fetches(), 3);
    }

    #[tokio::test]
    async fn unknown_leads_and_fields_get_meta_errors() {
        let standin = standin().await;
        let client = Client::new(&standin);
        let unknown = client.get("999", &[("fields", GRAPH_LEAD_FIELDS)]).await;
        assert_meta_error(&unknown, 100, Some(33));
        assert_eq!(unknown.2["error"]["type"], "GraphMethodException");
        assert!(
            unknown.2["error"]["message"]
                .as_str()
                .unwrap()
                .contains("'999'")
        );
        assert_eq!(standin.lead_fetches(), 1);

        let id = standin.add_lead(DEFAULT_PAGE_ID, "77", json!({"field_data": []}));
        assert_meta_error(
            &client.get(&id, &[("fields", "id,shoe_size")]).await,
            100,
            None,
        );
        assert_meta_error(
            &client.get(DEFAULT_PAGE_ID, &[("fields", "x")]).await,
            100,
            None,
        );
        assert_meta_error(&client.get("77/comments", &[]).await, 100, None);
        let (status, _, body) = client.get("77/leads/extra", &[]).await;
        assert_eq!(
            (status, body["error"]["code"].as_u64()),
            (StatusCode::BAD_REQUEST, Some(2500))
        );
    }

    #[tokio::test]
    async fn added_leads_get_ids_forms_and_times() {
        let standin = standin().await;
        let given = standin.add_lead(
            "1",
            "2",
            json!({"id": 444444444444_u64, "created_time": "2015-02-28T08:49:14+0000"}),
        );
        assert_eq!(given, "444444444444");
        let fresh = standin.add_lead("1", "2", json!({}));
        assert_ne!(fresh, given);
        let client = Client::new(&standin);
        let (_, _, body) = client
            .get(&fresh, &[("fields", "form_id,created_time")])
            .await;
        assert_eq!(body["form_id"], "2");
        assert!(parse_meta_time(body["created_time"].as_str().unwrap()).is_some());
        let (_, _, forms) = client.get("1/leadgen_forms", &[]).await;
        assert_eq!(forms["data"][0]["name"], "Form 2");
    }

    #[tokio::test]
    async fn pages_form_leads_until_next_is_absent() {
        let standin = standin().await;
        let form_id = add_leads(&standin, 7);
        let client = Client::new(&standin);

        let (status, _, mut page) = client
            .get(
                &format!("{form_id}/leads"),
                &[("fields", GRAPH_LEAD_FIELDS), ("limit", "3")],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let mut seen = Vec::new();
        let mut pages = 1;
        loop {
            let data = page["data"].as_array().unwrap();
            assert!(data.len() <= 3);
            assert!(data.iter().all(|lead| lead["field_data"].is_array()));
            seen.extend(
                data.iter()
                    .map(|lead| lead["id"].as_str().unwrap().to_string()),
            );
            assert!(page["paging"]["cursors"]["before"].is_string());
            assert!(page["paging"]["cursors"]["after"].is_string());
            let Some(next) = page["paging"]["next"].as_str() else {
                break;
            };
            assert!(next.starts_with(&standin.base_url()), "{next}");
            page = send(client.http.get(next)).await.2;
            pages += 1;
        }
        assert_eq!(pages, 3);
        let mut expected = standin.lead_ids();
        expected.reverse();
        assert_eq!(seen, expected, "newest first, each lead once");
        assert_eq!(standin.calls(CallKind::FormLeads), 3);

        let after_last = client
            .get(
                &format!("{form_id}/leads"),
                &[(
                    "after",
                    page["paging"]["cursors"]["after"].as_str().unwrap(),
                )],
            )
            .await;
        assert_eq!(after_last.2, json!({"data": []}));
        assert_meta_error(
            &client
                .get(&format!("{form_id}/leads"), &[("after", "zz")])
                .await,
            100,
            None,
        );
        assert_meta_error(
            &client
                .get(&format!("{form_id}/leads"), &[("limit", "0")])
                .await,
            100,
            None,
        );
        assert_meta_error(&client.get("404/leads", &[]).await, 100, Some(33));
    }

    #[tokio::test]
    async fn filters_form_leads_by_time_created() {
        let standin = standin().await;
        let form_id = add_leads(&standin, 6);
        let client = Client::new(&standin);
        let since = at(3 * 60).timestamp();
        let filtering =
            format!(r#"[{{"field":"time_created","operator":"GREATER_THAN","value":{since}}}]"#);
        let (_, _, body) = client
            .get(
                &format!("{form_id}/leads"),
                &[("filtering", &filtering), ("limit", "1")],
            )
            .await;
        let mut times = Vec::new();
        let mut page = body;
        loop {
            for lead in page["data"].as_array().unwrap() {
                times.push(
                    parse_meta_time(lead["created_time"].as_str().unwrap())
                        .unwrap()
                        .timestamp(),
                );
            }
            let Some(next) = page["paging"]["next"].as_str() else {
                break;
            };
            page = send(client.http.get(next)).await.2;
        }
        assert_eq!(times, [at(300), at(240)].map(|time| time.timestamp()));

        let as_string =
            format!(r#"[{{"field":"time_created","operator":"LESS_THAN","value":"{since}"}}]"#);
        let (_, _, body) = client
            .get(&format!("{form_id}/leads"), &[("filtering", &as_string)])
            .await;
        assert_eq!(body["data"].as_array().unwrap().len(), 3);
        for bad in [
            "nope",
            r#"[{"field":"name","operator":"GREATER_THAN","value":1}]"#,
            r#"[{"field":"time_created","operator":"ABOUT","value":1}]"#,
        ] {
            assert_meta_error(
                &client
                    .get(&format!("{form_id}/leads"), &[("filtering", bad)])
                    .await,
                100,
                None,
            );
        }
    }

    #[tokio::test]
    async fn lists_a_pages_forms() {
        let standin = standin().await;
        for (id, name) in [
            ("11", "Spring Promo"),
            ("12", "Free Quote"),
            ("13", "Webinar Signup"),
        ] {
            standin.add_form(DEFAULT_PAGE_ID, id, name);
        }
        standin.add_form("other-page", "14", "Elsewhere");
        let client = Client::new(&standin);
        let (status, _, body) = client
            .get(
                &format!("{DEFAULT_PAGE_ID}/leadgen_forms"),
                &[("limit", "2")],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["data"][0],
            json!({"id": "13", "name": "Webinar Signup", "status": "ACTIVE", "locale": "en_US"})
        );
        let next = body["paging"]["next"].as_str().unwrap();
        let (_, _, last) = send(client.http.get(next)).await;
        assert_eq!(
            last["data"],
            json!([{"id": "11", "name": "Spring Promo", "status": "ACTIVE", "locale": "en_US"}])
        );
        assert!(last["paging"].get("next").is_none());
        let (_, _, me) = client
            .get("me/leadgen_forms", &[("fields", "name,leads_count")])
            .await;
        assert_eq!(
            me["data"][2],
            json!({"id": "11", "name": "Spring Promo", "leads_count": 0})
        );
        assert_meta_error(
            &client.get("nobody/leadgen_forms", &[]).await,
            100,
            Some(33),
        );
        let (_, _, page) = client.get("me", &[]).await;
        assert_eq!(
            page,
            json!({"id": DEFAULT_PAGE_ID, "name": DEFAULT_PAGE_NAME})
        );
    }

    #[tokio::test]
    async fn subscribes_pages_to_leadgen() {
        let standin = GraphStandin::spawn(StandinConfig {
            subscribed: false,
            ..StandinConfig::default()
        })
        .await
        .unwrap();
        let client = Client::new(&standin);
        let edge = format!("{DEFAULT_PAGE_ID}/subscribed_apps");
        assert_eq!(client.get(&edge, &[]).await.2, json!({"data": []}));

        let post = |query: &'static [(&'static str, &'static str)]| {
            client
                .http
                .post(format!("{}/{edge}", client.base))
                .query(&[("access_token", client.token.as_str())])
                .query(query)
        };
        assert_meta_error(&send(post(&[])).await, 100, None);
        let (status, _, body) = send(post(&[("subscribed_fields", "leadgen")])).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
        let (_, _, body) = client.get(&edge, &[]).await;
        let config = standin.config();
        assert_eq!(body["data"][0]["id"], config.app_id.as_str());
        assert_eq!(body["data"][0]["name"], config.app_name.as_str());
        assert_eq!(body["data"][0]["subscribed_fields"], json!(["leadgen"]));

        // Parameters in a form body work too, as with Meta.
        let form = client.http.post(format!("{}/{edge}", client.base)).form(&[
            ("access_token", client.token.as_str()),
            ("subscribed_fields", "leadgen,feed"),
        ]);
        assert_eq!(send(form).await.2, json!({"success": true}));
        assert_eq!(
            client.get(&edge, &[]).await.2["data"][0]["subscribed_fields"],
            json!(["leadgen", "feed"])
        );

        standin.set_subscribed(DEFAULT_PAGE_ID, false);
        assert_eq!(client.get(&edge, &[]).await.2, json!({"data": []}));
        assert_eq!(standin.calls(CallKind::SubscribedApps), 7);
    }

    #[tokio::test]
    async fn checks_the_access_token_on_every_call() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);
        let url = format!("{}/{id}", client.base);
        assert_meta_error(&send(client.http.get(&url)).await, 190, None);
        assert_meta_error(
            &send(client.http.get(&url).query(&[("access_token", "EAAwrong")])).await,
            190,
            None,
        );
        let (status, _, _) = send(client.http.get(&url).bearer_auth(&client.token)).await;
        assert_eq!(status, StatusCode::OK);
        let app_token = format!("{}|simulated-app-secret", standin.config().app_id);
        assert_meta_error(
            &send(client.http.get(&url).query(&[("access_token", &app_token)])).await,
            190,
            None,
        );
        assert_meta_error(&client.get("debug_token", &[]).await, 100, None);
    }

    #[tokio::test]
    async fn checks_appsecret_proof_when_required() {
        let standin = GraphStandin::spawn(StandinConfig {
            require_appsecret_proof: true,
            ..StandinConfig::default()
        })
        .await
        .unwrap();
        let client = Client::new(&standin);
        let missing = client.get("me", &[]).await;
        assert_meta_error(&missing, 100, None);
        assert_eq!(missing.2["error"]["type"], "GraphMethodException");
        assert_meta_error(
            &client.get("me", &[("appsecret_proof", "00")]).await,
            100,
            None,
        );
        let proof = signature::sign(b"simulated-app-secret", client.token.as_bytes())
            .replace("sha256=", "");
        assert_eq!(
            client.get("me", &[("appsecret_proof", &proof)]).await.0,
            StatusCode::OK
        );
    }

    /// A client calling with the app token `<app_id>|<app_secret>`.
    fn app_client(standin: &GraphStandin) -> Client {
        let config = standin.config();
        let token = format!("{}|{}", config.app_id, config.app_secret.expose_secret());
        Client {
            token,
            ..Client::new(standin)
        }
    }

    async fn debug_token(standin: &GraphStandin) -> Value {
        let input_token = standin.config().page_token.as_str();
        let (status, _, body) = app_client(standin)
            .get("debug_token", &[("input_token", input_token)])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    #[tokio::test]
    async fn debug_token_reports_each_token_state() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);

        let valid = debug_token(&standin).await;
        assert_eq!(valid["type"], "PAGE");
        assert_eq!(valid["is_valid"], true);
        assert_eq!(valid["expires_at"], 0);
        assert_eq!(valid["profile_id"], DEFAULT_PAGE_ID);
        assert_eq!(valid["app_id"], standin.config().app_id.as_str());
        assert!(
            valid["scopes"]
                .as_array()
                .unwrap()
                .contains(&json!("leads_retrieval"))
        );

        standin.set_token_state(TokenState::ShortLived);
        let expires_in =
            debug_token(&standin).await["expires_at"].as_i64().unwrap() - Utc::now().timestamp();
        assert!((3000..=3600).contains(&expires_in), "{expires_in}");
        assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);

        standin.set_token_state(TokenState::Expired);
        let expired = debug_token(&standin).await;
        assert_eq!(expired["is_valid"], false);
        assert_eq!(expired["error"]["subcode"], 463);
        assert!(expired["expires_at"].as_i64().unwrap() < Utc::now().timestamp());
        assert_meta_error(&client.get(&id, &[]).await, 190, Some(463));

        standin.set_token_state(TokenState::MissingScopes(vec!["leads_retrieval".into()]));
        let missing = debug_token(&standin).await;
        assert!(
            !missing["scopes"]
                .as_array()
                .unwrap()
                .contains(&json!("leads_retrieval"))
        );
        assert_meta_error(&client.get(&id, &[]).await, 200, None);
        assert_meta_error(&client.get("1/leads", &[]).await, 200, None);

        standin.set_token_state(TokenState::Valid);
        standin.set_leads_readable(false);
        assert_meta_error(&client.get(&id, &[]).await, 100, Some(33));
        assert_meta_error(&client.get("1/leads", &[]).await, 100, Some(33));

        let garbage = app_client(&standin)
            .get("debug_token", &[("input_token", "garbage")])
            .await
            .2;
        assert_eq!(garbage["data"]["is_valid"], false);
        assert_eq!(standin.calls(CallKind::DebugToken), 5);
    }

    #[tokio::test]
    async fn injected_errors_follow_meta_and_heal() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);

        standin.fail_all(GraphFault::rate_limited(80005, 7));
        let limited = client.get(&id, &[]).await;
        assert_meta_error(&limited, 80005, None);
        assert_eq!(limited.2["error"]["is_transient"], true);
        let usage: Value =
            serde_json::from_str(limited.1["x-business-use-case-usage"].to_str().unwrap()).unwrap();
        assert_eq!(
            usage[DEFAULT_PAGE_ID][0]["estimated_time_to_regain_access"],
            7
        );
        assert!(limited.1.contains_key("x-app-usage"));

        for (fault, code, subcode) in [
            (GraphFault::transient(2), 2, None),
            (GraphFault::invalid_token(Some(460)), 190, Some(460)),
            (GraphFault::unreadable(), 100, Some(33)),
            (GraphFault::permission(10), 10, None),
        ] {
            standin.fail_all(fault);
            assert_meta_error(&client.get(&id, &[]).await, code, subcode);
            assert_meta_error(
                &client.get("debug_token", &[("input_token", "x")]).await,
                code,
                subcode,
            );
        }
        standin.fail_all(GraphFault::server_error());
        let (status, _, body) = client.get(&id, &[]).await;
        assert_eq!(
            (status, body["error"]["code"].as_u64()),
            (StatusCode::INTERNAL_SERVER_ERROR, Some(1))
        );

        standin.heal();
        assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn fails_a_seeded_fraction_of_calls() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);
        standin.fail_ratio(
            0.5,
            vec![GraphFault::transient(1), GraphFault::rate_limited(4, 1)],
            9,
        );
        let mut codes = BTreeMap::new();
        for _ in 0..60 {
            let (_, _, body) = client.get(&id, &[]).await;
            *codes
                .entry(body["error"]["code"].as_u64().unwrap_or(0))
                .or_insert(0) += 1;
        }
        assert_eq!(
            codes.keys().copied().collect::<Vec<_>>(),
            [0, 1, 4],
            "{codes:?}"
        );
        assert!((15..=45).contains(&codes[&0]), "{codes:?}");
        assert_eq!(standin.lead_fetches(), 60);
        assert_eq!(standin.total_calls(), 60);
    }

    #[tokio::test]
    async fn stalls_lead_reads_until_released() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);
        standin.stall();
        let pending = tokio::spawn({
            let request = client
                .http
                .get(format!("{}/{id}", client.base))
                .query(&[("access_token", &client.token)]);
            async move { send(request).await.0 }
        });
        while standin.lead_fetches() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            client.get("me", &[]).await.0,
            StatusCode::OK,
            "only lead reads stall"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!pending.is_finished());
        standin.release();
        assert_eq!(pending.await.unwrap(), StatusCode::OK);
    }

    #[tokio::test]
    async fn hangs_and_delays_on_request() {
        let standin = standin().await;
        let id = standin.add_lead(DEFAULT_PAGE_ID, "1", json!({}));
        let client = Client::new(&standin);
        standin.fail_all(GraphFault::Hang);
        let timed_out = client
            .http
            .get(format!("{}/{id}", client.base))
            .query(&[("access_token", &client.token)])
            .timeout(Duration::from_millis(100))
            .send()
            .await;
        assert!(timed_out.is_err_and(|error| error.is_timeout()));

        standin.fail_all(GraphFault::Delay(Duration::from_millis(150)));
        let started = std::time::Instant::now();
        assert_eq!(client.get(&id, &[]).await.0, StatusCode::OK);
        assert!(started.elapsed() >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn shuts_down_even_with_a_hanging_call() {
        let standin = standin().await;
        let url = format!(
            "{}/{VERSION}/me?access_token={}",
            standin.base_url(),
            standin.config().page_token
        );
        standin.fail_all(GraphFault::Hang);
        let hanging = tokio::spawn(reqwest::get(url.clone()));
        while standin.total_calls() == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::timeout(Duration::from_secs(5), standin.shutdown())
            .await
            .unwrap();
        let _ = hanging.await;
        assert!(reqwest::get(url).await.is_err(), "nothing listens any more");
    }
}
