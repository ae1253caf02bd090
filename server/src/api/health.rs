use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use leadhook_shared::ApiOk;
use serde::Serialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::feed::PushStatus;
use crate::health::{GraphStatus, StoreStatus};
use crate::inbox::{FailedEvent, InboxCounts};
use crate::store::{CapiFigures, DeliveryFigures};
use crate::sweeper::LastSweep;

#[derive(Debug, Serialize)]
pub struct Health {
    pub ok: bool,
    pub store: StoreHealth,
    pub inbox: InboxHealth,
    pub graph: GraphStatus,
    pub last_webhook_at: Option<DateTime<Utc>>,
    pub last_sweep: Option<LastSweep>,
    pub capi: CapiHealth,
    /// How lead changes made elsewhere reach this server: `listening` (PostgreSQL pushes them),
    /// `polling` (with the interval and why), or `local` (the store is this server's own).
    pub push: PushStatus,
    /// Every destination's deliveries (the Conversions API's as `capi`), pending and dead.
    pub outbox: OutboxHealth,
}

/// What the outbox holds per destination; only in the full report.
#[derive(Debug, Serialize)]
pub struct OutboxHealth {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub destinations: BTreeMap<String, DeliveryFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

async fn outbox_health(state: &AppState, with_figures: bool) -> OutboxHealth {
    if !with_figures {
        return OutboxHealth {
            destinations: BTreeMap::new(),
            error: None,
        };
    }
    match state.outbox.outbox_figures(today_start()).await {
        Ok(destinations) => OutboxHealth {
            destinations,
            error: None,
        },
        Err(error) => OutboxHealth {
            destinations: BTreeMap::new(),
            error: Some(error.to_string()),
        },
    }
}

/// The start of today (UTC): "sent today" counts from here.
fn today_start() -> DateTime<Utc> {
    Utc::now()
        .date_naive()
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
}

/// Lead stages sent to Meta's Conversions API: what waits, went out today, or failed and why.
#[derive(Debug, Serialize)]
pub struct CapiHealth {
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset_id: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub figures: Option<CapiFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outbox figures are read only for the full report (`with_figures`), not for `/healthz`.
async fn capi_health(state: &AppState, with_figures: bool) -> CapiHealth {
    let sender = state.capi.as_ref().filter(|_| with_figures);
    let (Some(sender), Some(capi)) = (sender, state.config.capi.as_ref()) else {
        return CapiHealth {
            enabled: state.config.capi.is_some(),
            dataset_id: None,
            figures: None,
            error: None,
        };
    };
    let (figures, error) = match sender.figures(today_start()).await {
        Ok(figures) => (Some(figures), None),
        Err(error) => (None, Some(error.to_string())),
    };
    CapiHealth {
        enabled: true,
        dataset_id: Some(capi.dataset_id.clone()),
        figures,
        error,
    }
}

#[derive(Debug, Serialize)]
pub struct StoreHealth {
    pub backend: &'static str,
    #[serde(flatten)]
    pub status: StoreStatus,
}

#[derive(Debug, Serialize)]
pub struct InboxHealth {
    #[serde(flatten)]
    pub counts: InboxCounts,
    pub oldest_pending_age_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recent_failures: Vec<FailedEvent>,
}

/// Asks the store and the inbox now; the Graph state is what the intake last saw.
async fn check(state: &AppState, with_failures: bool) -> Result<Health, AppError> {
    let store_status = match state.store.ping().await {
        Ok(()) => state.status.store(),
        Err(crate::store::StoreError::Misconfigured { message, fix }) => {
            StoreStatus::Misconfigured { message, fix }
        }
        Err(error) => StoreStatus::Unavailable {
            message: error.to_string(),
        },
    };
    let counts = state.inbox.counts().await?;
    let recent_failures = if with_failures {
        state.inbox.failures(10).await?
    } else {
        Vec::new()
    };
    let graph = state.status.graph();
    let outbox = outbox_health(state, with_failures).await;
    // After the last await: the watch's borrow must not be held across one.
    let push = state.push.borrow().clone();
    let ok = store_status == StoreStatus::Ok
        && counts.failed == 0
        && !matches!(graph, GraphStatus::TokenInvalid { .. });
    Ok(Health {
        ok,
        store: StoreHealth {
            backend: state.store.backend(),
            status: store_status,
        },
        inbox: InboxHealth {
            oldest_pending_age_seconds: counts
                .oldest_pending_at
                .map(|at| (Utc::now() - at).num_seconds()),
            counts,
            recent_failures,
        },
        graph,
        last_webhook_at: state.status.last_webhook_at(),
        last_sweep: state.sweeper.last(),
        capi: capi_health(state, with_failures).await,
        push,
        outbox,
    })
}

/// What `/healthz` tells anyone: status and counts, no messages, times or lead data.
#[derive(Debug, Serialize)]
pub struct PublicHealth {
    pub ok: bool,
    pub store: PublicStoreHealth,
    pub inbox: PublicInboxHealth,
}

#[derive(Debug, Serialize)]
pub struct PublicStoreHealth {
    pub backend: &'static str,
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
pub struct PublicInboxHealth {
    pub pending: u64,
    pub failed: u64,
}

impl From<&Health> for PublicHealth {
    fn from(health: &Health) -> Self {
        PublicHealth {
            ok: health.ok,
            store: PublicStoreHealth {
                backend: health.store.backend,
                state: match health.store.status {
                    StoreStatus::Ok => "ok",
                    StoreStatus::Unavailable { .. } => "unavailable",
                    StoreStatus::Misconfigured { .. } => "misconfigured",
                },
            },
            inbox: PublicInboxHealth {
                pending: health.inbox.counts.pending,
                failed: health.inbox.counts.failed,
            },
        }
    }
}

/// `GET /healthz` (no token, for load balancers and uptime checks): 200 when the store answers.
/// The reasons, the Graph API's state and the last webhook time are in `/api/health`.
pub async fn healthz(
    State(state): State<AppState>,
) -> Result<(StatusCode, axum::Json<PublicHealth>), AppError> {
    let health = check(&state, false).await?;
    let status = if matches!(health.store.status, StoreStatus::Ok) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, axum::Json(PublicHealth::from(&health))))
}

/// `GET /api/health`: the same plus the most recent failures and their reasons.
pub async fn detailed(
    State(state): State<AppState>,
) -> Result<axum::Json<ApiOk<Health>>, AppError> {
    Ok(axum::Json(ApiOk::new(check(&state, true).await?)))
}

#[derive(Debug, Serialize)]
pub struct Retried {
    pub retried: usize,
}

/// `POST /api/inbox/retry`: after fixing a token or permission, try every failed event again.
pub async fn retry_failed(
    State(state): State<AppState>,
) -> Result<axum::Json<ApiOk<Retried>>, AppError> {
    let retried = state.inbox.retry_failed().await?;
    if retried > 0 {
        // A new attempt deserves a fresh verdict on the Graph API.
        state.status.set_graph(GraphStatus::Ok);
    }
    tracing::info!(retried, "failed events queued again");
    Ok(axum::Json(ApiOk::new(Retried { retried })))
}
