//! A Graph API stand-in on a local port, faithful to Meta's documented shapes: single leads, a
//! form's leads with `time_created` filtering and cursor paging, a page's forms, `subscribed_apps`,
//! `debug_token`, the app's webhook subscriptions, Leads Access, test leads (announced by a signed
//! webhook like Meta's), token checks and Meta's error bodies. Tests switch faults (errors, rate limits,
//! stalls, timeouts) and token states at runtime.
//!
//! - [`world`]: the pages, forms, leads, subscriptions and token the stand-in knows;
//! - [`request`] and [`routes`]: Graph paths, parameters and the answer to each call;
//! - [`setup_routes`]: app subscriptions, `has_lead_access` and test leads;
//! - [`paging`]: `time_created` filters and cursor paging of edges;
//! - [`errors`] and [`faults`]: Meta's error answers and the faults tests switch on.

mod ads_insights;
mod capi;
mod errors;
mod faults;
mod paging;
mod request;
mod routes;
mod setup_routes;
#[cfg(test)]
mod tests;
mod world;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use chrono::Utc;
use rand::SeedableRng;
use rand::rngs::StdRng;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use ads_insights::{CURRENCY, daily_cents};
pub use errors::GraphError;
pub use faults::GraphFault;
pub use world::{AppSubscription, FULL_SCOPES};

use crate::fake_leads::{DEFAULT_PAGE_ID, DEFAULT_PAGE_NAME, FakeLead};
use faults::FaultPlan;
use routes::handle;
use world::World;

/// The CRM dataset a default stand-in knows.
pub const DEFAULT_DATASET_ID: &str = "1029384756102938";
/// The simulated ad account's number (`act_4455667788`).
pub const DEFAULT_AD_ACCOUNT_ID: &str = "4455667788";

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
    /// The CRM dataset whose `/events` edge takes Conversions API events.
    pub dataset_id: String,
    /// The ad account (its number) whose `act_<id>/insights` edge says what the ads spent.
    pub ad_account_id: String,
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
            dataset_id: DEFAULT_DATASET_ID.to_string(),
            ad_account_id: DEFAULT_AD_ACCOUNT_ID.to_string(),
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
    /// `POST /<version>/<dataset_id>/events` (Conversions API).
    Events,
    /// `GET /<version>/act_<id>/insights` (ads insights: spend).
    AdsInsights,
    /// `me`, a page or form node, unknown edges and paths.
    Other,
}

impl CallKind {
    const ALL: [CallKind; 8] = [
        CallKind::Lead,
        CallKind::Events,
        CallKind::AdsInsights,
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

    /// Every lead read (single leads and form leads) answers `latency` after it arrives, as a
    /// Graph API that far away would (a real one is 100–300 ms away); faults and stalls still
    /// apply. `Duration::ZERO`, the default, answers at once.
    pub fn set_lead_read_latency(&self, latency: Duration) {
        *self.shared.lead_read_latency() = latency;
    }

    /// Lead reads (single leads and form leads) that have arrived and are not answered yet.
    pub fn lead_reads_in_flight(&self) -> u64 {
        self.shared.lead_reads.in_flight.load(Ordering::SeqCst)
    }

    /// The most lead reads that were ever in flight at once: how many concurrent Graph calls
    /// the server's intake made.
    pub fn peak_lead_reads_in_flight(&self) -> u64 {
        self.shared.lead_reads.peak.load(Ordering::SeqCst)
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

    /// Sets (or, with `None`, removes) the app's webhook subscription that `GET /<app_id>/subscriptions`
    /// lists; test leads are announced to its callback when it is an active `page`/`leadgen` one.
    pub fn set_app_subscription(&self, subscription: Option<AppSubscription>) {
        self.shared.world().app_subscription = subscription;
    }

    /// `false`: test leads are created, but no webhook announces them (Meta cannot reach the callback).
    pub fn set_webhook_delivery(&self, delivers: bool) {
        self.shared.world().delivers_webhooks = delivers;
    }

    /// The test lead of a form, if it has one.
    pub fn test_lead(&self, form_id: &str) -> Option<String> {
        self.shared.world().test_leads.get(form_id).cloned()
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

    /// Conversions API events Meta kept, each `event_id` once, in arrival order.
    pub fn capi_events(&self) -> Vec<Value> {
        self.shared.capi().events.clone()
    }

    /// Conversions API events sent with a `test_event_code` (kept apart, as Meta's Test events).
    pub fn capi_test_events(&self) -> Vec<Value> {
        self.shared.capi().test_events.clone()
    }

    /// Events taken again under an `event_id` already kept (Meta drops them as repeats).
    pub fn capi_repeats(&self) -> u64 {
        self.shared.capi().repeats
    }

    /// Conversions API requests answered 200.
    pub fn capi_accepted_requests(&self) -> u64 {
        self.shared.capi().accepted_requests
    }

    /// Conversions API requests refused for an invalid event.
    pub fn capi_rejected_requests(&self) -> u64 {
        self.shared.capi().rejected_requests
    }

    /// Refuses events of this lead id from now on, as Meta refuses a lead not in the dataset.
    pub fn refuse_capi_lead(&self, lead_id: u64) {
        self.shared.capi().refused_leads.insert(lead_id);
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
    lead_reads: InFlight,
    lead_read_latency: Mutex<Duration>,
    capi: Mutex<capi::CapiLog>,
}

/// Calls being answered now, and the most there ever were at once.
#[derive(Default)]
struct InFlight {
    in_flight: AtomicU64,
    peak: AtomicU64,
}

impl InFlight {
    /// Counts a call in until the guard is dropped: when its answer is returned, or when the
    /// client goes away first and the handler is dropped.
    fn enter(&self) -> InFlightGuard<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlightGuard(self)
    }
}

struct InFlightGuard<'a>(&'a InFlight);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
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
            app_subscription: None,
            test_leads: BTreeMap::new(),
            delivers_webhooks: true,
            outbox: Vec::new(),
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
            lead_reads: InFlight::default(),
            lead_read_latency: Mutex::new(Duration::ZERO),
            capi: Mutex::default(),
        }
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn capi(&self) -> MutexGuard<'_, capi::CapiLog> {
        self.capi.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn faults(&self) -> MutexGuard<'_, FaultPlan> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lead_read_latency(&self) -> MutexGuard<'_, Duration> {
        self.lead_read_latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn stopped(&self) {
        let _ = self.shutdown.subscribe().wait_for(|stop| *stop).await;
    }

    /// Waits `delay`; `false` when the stand-in stops meanwhile.
    async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = self.stopped() => false,
        }
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
