//! Wiring: opens the store and hands each part of the server the store roles it uses (see
//! [`crate::store`]), builds the state, the router and the background workers, and runs them until
//! shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use thiserror::Error;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::admission::Admission;
use crate::announce_once::run_checks;
use crate::capi::CapiSender;
use crate::claim_link;
use crate::config::Config;
use crate::data_dir_lock::{DataDirLock, DataDirLockError};
use crate::erase::Retention;
use crate::error::AppError;
use crate::escalation::Escalator;
use crate::feed::{ChangeFollower, ChangeListener, Feed, LiveFeed, PushStatus};
use crate::graph::{GraphClient, GraphError};
use crate::health::RuntimeHealth;
use crate::inbox::{Inbox, InboxError};
use crate::insights::spend::SpendReader;
use crate::intake::{Intake, RetryPolicy};
use crate::lease::replica_id;
use crate::limits::{MAX_METRICS_CONNECTIONS, OUTBOX_ROUTES_HOLD};
use crate::metrics::Metrics;
use crate::outbox::{Dispatcher, SenderContext};
use crate::reminders::Reminders;
use crate::replies::{self, Replies};
use crate::reps::RepCache;
use crate::serve::{self, ServeLimits};
use crate::store::{
    CapiOutbox, ErasureTargets, EscalationMarks, LeadReader, LeadStore, Outbox, ReminderMarks,
    StoreError, TriageBackfill,
};
use crate::sweeper::{SweepStore, Sweeper};
use crate::writer::LeadWriter;
use crate::{api, client_addr, webhook};

/// What every handler gets. It can read the store and write only through [`LeadWriter`], which
/// announces each change once: the store it holds is the read role, so a write past the writer
/// does not compile. Reading compiles:
///
/// ```no_run
/// # async fn handler(state: leadhook_server::app::AppState) {
/// let lead = state.store.get(1).await;
/// # }
/// ```
///
/// writing does not:
///
/// ```compile_fail,E0599
/// # async fn handler(state: leadhook_server::app::AppState) {
/// let released = state.store.release(1, "mallory").await;
/// # }
/// ```
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// Every lead write goes through here, and so does every announcement of one.
    pub leads: LeadWriter,
    /// What `/api/events` streams: lead changes and escalations.
    pub feed: LiveFeed,
    /// The store's read role: handlers read here and write through `leads`.
    pub store: Arc<dyn LeadReader>,
    pub inbox: Inbox,
    /// The write service's runtime status.
    pub status: Arc<RuntimeHealth>,
    pub metrics: Arc<Metrics>,
    pub sweeper: Sweeper,
    pub admission: Arc<Admission>,
    /// Counts failed API tokens per client address.
    pub auth_throttle: Arc<api::AuthThrottle>,
    /// Sends lead stages to Meta; `None` when `FB_DATASET_ID` is unset.
    pub capi: Option<CapiSender>,
    /// How lead changes made elsewhere reach this server: pushed by PostgreSQL, or polled.
    pub push: tokio::sync::watch::Receiver<PushStatus>,
    /// The outbox of every destination (Conversions API and channels), for its figures.
    pub outbox: Arc<dyn Outbox>,
    /// Sends the outbox's deliveries to the channels; `None` when `LEADHOOK_CHANNELS` is unset.
    pub dispatcher: Option<Dispatcher>,
    /// Who may call `/api`: the configured reps and the store's, kept current.
    pub reps: RepCache,
    /// Reads what the ads cost, for the insights; `None` when `FB_AD_ACCOUNT_ID` is unset.
    pub spend: Option<Arc<SpendReader>>,
    /// Applies WhatsApp's and Twilio's reports and the person's messages; reads conversations.
    pub replies: Replies,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/webhook",
            get(webhook::verify_subscription).post(webhook::receive),
        )
        .route("/twilio/sms", post(replies::twilio::receive))
        .route("/twilio/status", post(replies::twilio::receive))
        .nest("/api", api::router(state.clone()))
        .route(
            "/claim/{token}",
            get(claim_link::page::show).post(claim_link::page::claim),
        )
        .route("/healthz", get(api::healthz))
        // Outermost first: give the request an id, find its client address, log in a span that
        // carries both, echo the id back.
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(serve::request_span))
        .layer(from_fn_with_state(state.clone(), client_addr::resolve))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// What the metrics listener (`LEADHOOK_METRICS_ADDR`) serves: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn metrics(State(state): State<AppState>) -> Result<String, AppError> {
    let counts = state.inbox.counts().await?;
    // Best effort: a store that is down must not take the inbox's figures with it.
    let outbox = state.outbox.outbox_figures(chrono::Utc::now()).await.ok();
    match state.replies.conversations().message_figures().await {
        Ok(figures) => state.metrics.set_conversation_messages(&figures),
        Err(error) => tracing::debug!("conversation figures left out of /metrics: {error}"),
    }
    Ok(state.metrics.render(&counts, outbox.as_ref()))
}

#[derive(Debug, Error)]
pub enum StartupError {
    #[error("cannot create the data directory {path}: {reason}; check LEADHOOK_DATA_DIR")]
    DataDir { path: String, reason: String },
    #[error(transparent)]
    DataDirInUse(#[from] DataDirLockError),
    #[error(transparent)]
    Inbox(#[from] InboxError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Graph(#[from] GraphError),
    #[error(
        "cannot listen on {addr}: {reason}; is another server running there? Set {var} to another address"
    )]
    Listen {
        var: &'static str,
        addr: SocketAddr,
        reason: String,
    },
}

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    /// Serves `/metrics` alone; `None` when `LEADHOOK_METRICS_ADDR=off`.
    metrics_listener: Option<TcpListener>,
    state: AppState,
    intake: Intake,
    /// Runs when the store is shared, so changes made elsewhere reach this server's dashboards.
    follower: Option<ChangeFollower>,
    /// Runs with a shared store and `DATABASE_URL`, so the store pushes its changes.
    change_listener: Option<ChangeListener>,
    /// Keeps other servers off this data dir until this one has stopped.
    data_dir_lock: DataDirLock,
    /// What the escalator reads.
    escalation_marks: Arc<dyn EscalationMarks>,
    /// What the reminders read.
    reminder_marks: Arc<dyn ReminderMarks>,
    /// What the retention run reads.
    erasure_targets: Arc<dyn ErasureTargets>,
    /// What the triage backfill reads.
    triage_backfill: Arc<dyn TriageBackfill>,
}

impl Application {
    pub async fn build(config: Config, retry: RetryPolicy) -> Result<Application, StartupError> {
        create_data_dir(&config)?;
        // Before the store: on SQLite it is a file in the data dir.
        let data_dir_lock = DataDirLock::acquire(&config.data_dir)?;
        let store = crate::store::open(&config).await?;
        Self::assemble(config, store, retry, data_dir_lock).await
    }

    pub async fn build_with_store(
        config: Config,
        store: Arc<dyn LeadStore>,
        retry: RetryPolicy,
    ) -> Result<Application, StartupError> {
        create_data_dir(&config)?;
        let data_dir_lock = DataDirLock::acquire(&config.data_dir)?;
        Self::assemble(config, store, retry, data_dir_lock).await
    }

    async fn assemble(
        config: Config,
        store: Arc<dyn LeadStore>,
        retry: RetryPolicy,
        data_dir_lock: DataDirLock,
    ) -> Result<Application, StartupError> {
        let inbox = Inbox::open(&config.data_dir.join("inbox.db"))?;
        let graph = GraphClient::for_config(&config)?;
        let listener = bind("LEADHOOK_LISTEN", config.listen).await?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => Some(bind("LEADHOOK_METRICS_ADDR", addr).await?),
            None => None,
        };
        let metrics: Arc<Metrics> = Arc::default();
        let capi = match config.capi.clone() {
            Some(capi) => Some(CapiSender::new(
                &config,
                capi,
                Arc::clone(&store) as Arc<dyn CapiOutbox>,
                Arc::clone(&metrics),
            )?),
            None => {
                // Stages stop being queued; switching back on later backfills the last 7 days.
                // Best effort: a store that is down now must not keep webhooks out.
                if let Err(error) = store.capi_switch(false, chrono::Utc::now()).await {
                    tracing::warn!(%error, "cannot switch Conversions API queueing off");
                }
                None
            }
        };
        // The store is split into its roles here, each handed to the part that uses it.
        let reps = RepCache::new(
            config.api_tokens.clone(),
            config.queue.assignment,
            Arc::clone(&store) as _,
        );
        reps.refresh().await;
        if reps.tokens() == 0 {
            tracing::warn!(
                "no rep can log in yet: add one with `leadhook-server reps add NAME --role admin`"
            );
        }
        let reader: Arc<dyn LeadReader> = Arc::clone(&store) as _;
        let Feed {
            live: feed,
            announcer,
            follower,
            listener: change_listener,
            push,
        } = Feed::for_store(
            Arc::clone(&reader),
            config.follow_interval,
            config.database.clone(),
        );
        let leads = LeadWriter::new(
            Arc::clone(&store) as _,
            announcer,
            graph.clone(),
            reps.team(),
            config.triage.clone(),
        );
        let intake = Intake::new(
            inbox.clone(),
            graph.clone(),
            leads.clone(),
            Arc::clone(&metrics),
            retry,
            config.graph_concurrency,
        );
        let sweeper = Sweeper::new(
            config.sweep.clone(),
            graph,
            leads.clone(),
            SweepStore {
                positions: Arc::clone(&store) as _,
                leases: Arc::clone(&store) as _,
            },
            Arc::clone(&metrics),
            &config.data_dir,
        );
        let dispatcher = match config.channels.clone() {
            Some(channels) => Some(Dispatcher::new(
                Arc::clone(&store) as _,
                Arc::clone(&reader),
                channels,
                Arc::clone(&metrics),
                SenderContext {
                    clock: Arc::clone(&config.queue.clock),
                    claim_links: config.claim_links.clone(),
                    conversations: Some(Arc::clone(&store) as _),
                    metrics: Arc::clone(&metrics),
                },
                feed.clone(),
            )),
            None => {
                // This server queues events for no channel (others may: their routes are theirs),
                // and an older server's routes go. Best effort, as for the Conversions API.
                let holder = replica_id();
                let none = store.outbox_hold_routes(&holder, &[], OUTBOX_ROUTES_HOLD, true);
                if let Err(error) = none.await {
                    tracing::warn!(%error, "cannot clear the outbox's routes");
                }
                None
            }
        };
        let spend = match &config.ads {
            Some(ads) => Some(SpendReader::new(
                GraphClient::for_ads(&config, ads)?,
                ads.account(),
            )),
            None => None,
        };
        let replies = Replies::new(
            Arc::clone(&store) as _,
            Arc::clone(&store) as _,
            Arc::clone(&reader),
            feed.clone(),
            Arc::clone(&metrics),
        );
        let state = AppState {
            replies,
            config: Arc::new(config),
            store: reader,
            feed,
            status: Arc::clone(leads.status()),
            leads,
            inbox,
            metrics,
            sweeper,
            admission: Arc::default(),
            auth_throttle: Arc::default(),
            capi,
            outbox: Arc::clone(&store) as _,
            dispatcher,
            reps,
            spend,
            push,
        };
        Ok(Application {
            listener,
            metrics_listener,
            state,
            intake,
            follower,
            change_listener,
            data_dir_lock,
            escalation_marks: Arc::clone(&store) as _,
            reminder_marks: Arc::clone(&store) as _,
            triage_backfill: Arc::clone(&store) as _,
            erasure_targets: store,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// How many tokens let someone in now, of `LEADHOOK_API_TOKENS` and of the store's reps.
    pub fn tokens(&self) -> usize {
        self.state.reps.tokens()
    }

    /// Where `/metrics` is served, when it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `shutdown` fires: stops accepting, finishes in-flight requests and lead
    /// fetches, and leaves unfinished events in the inbox for the next start.
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let data_dir_lock = self.data_dir_lock;
        let intake = tokio::spawn(self.intake.clone().run(shutdown.clone()));
        tokio::spawn(self.state.sweeper.clone().run(shutdown.clone()));
        if let Some(capi) = self.state.capi.clone() {
            tokio::spawn(capi.run(shutdown.clone()));
        }
        if let Some(dispatcher) = self.state.dispatcher.clone() {
            tokio::spawn(dispatcher.run(shutdown.clone()));
        }
        tokio::spawn(self.state.reps.clone().run(shutdown.clone()));
        let escalator = Escalator::new(
            self.escalation_marks,
            self.state.leads.clone(),
            self.state.feed.clone(),
            &self.state.config.queue,
        );
        tokio::spawn(run_checks(escalator, shutdown.clone()));
        let reminders = Reminders::new(
            self.reminder_marks,
            self.state.leads.clone(),
            self.state.feed.clone(),
            Arc::clone(&self.state.config.queue.clock),
        );
        tokio::spawn(run_checks(reminders, shutdown.clone()));
        tokio::spawn(crate::triage::backfill::run(
            self.triage_backfill,
            self.state.leads.clone(),
            self.state.config.triage.clone(),
            shutdown.clone(),
        ));
        if let Some(follower) = self.follower {
            tokio::spawn(follower.run(shutdown.clone()));
        }
        if let Some(change_listener) = self.change_listener {
            tokio::spawn(change_listener.run(shutdown.clone()));
        }
        if let Some(retention) = Retention::new(
            self.erasure_targets,
            self.state.leads.clone(),
            Arc::clone(&self.state.config.queue.clock),
            self.state.config.retention_days,
        ) {
            tokio::spawn(retention.run(shutdown.clone()));
        }
        if let Some(listener) = self.metrics_listener {
            let metrics = metrics_router(self.state.clone());
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let limits = ServeLimits {
                    max_connections: MAX_METRICS_CONNECTIONS,
                    ..ServeLimits::default()
                };
                if let Err(error) = serve::serve(listener, metrics, limits, shutdown).await {
                    tracing::error!("the metrics listener stopped: {error}");
                }
            });
        }
        let app = router(self.state);
        let result =
            serve::serve(self.listener, app, ServeLimits::default(), shutdown.clone()).await;
        shutdown.cancel();
        if let Err(error) = intake.await {
            tracing::error!("the inbox worker stopped abnormally: {error}");
        }
        drop(data_dir_lock);
        result
    }
}

async fn bind(var: &'static str, addr: SocketAddr) -> Result<TcpListener, StartupError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| StartupError::Listen {
            var,
            addr,
            reason: e.to_string(),
        })
}

/// The data directory, private to the server's user when it creates it.
fn create_data_dir(config: &Config) -> Result<(), StartupError> {
    crate::private_files::create_private_dir(&config.data_dir).map_err(|e| StartupError::DataDir {
        path: config.data_dir.display().to_string(),
        reason: e.to_string(),
    })
}
