//! What the server knows about its own health: the state of the Graph API and the store as the
//! intake last saw them, and when the last webhook came. Problems are logged once, when they start
//! and when they end, not once per retry.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GraphStatus {
    Ok,
    RateLimited { until: DateTime<Utc> },
    TokenInvalid { message: String },
    Failing { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoreStatus {
    Ok,
    Unavailable { message: String },
    Misconfigured { message: String, fix: String },
}

#[derive(Debug)]
struct State {
    graph: GraphStatus,
    store: StoreStatus,
    last_webhook_at: Option<DateTime<Utc>>,
}

#[derive(Debug)]
pub struct RuntimeStatus {
    state: Mutex<State>,
}

impl Default for RuntimeStatus {
    fn default() -> Self {
        RuntimeStatus {
            state: Mutex::new(State {
                graph: GraphStatus::Ok,
                store: StoreStatus::Ok,
                last_webhook_at: None,
            }),
        }
    }
}

impl RuntimeStatus {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    pub fn graph(&self) -> GraphStatus {
        self.with(|s| s.graph.clone())
    }

    pub fn store(&self) -> StoreStatus {
        self.with(|s| s.store.clone())
    }

    pub fn last_webhook_at(&self) -> Option<DateTime<Utc>> {
        self.with(|s| s.last_webhook_at)
    }

    pub fn webhook_received(&self, at: DateTime<Utc>) {
        self.with(|s| s.last_webhook_at = Some(at));
    }

    /// Records the Graph API's state, logging only when it changes kind.
    pub fn set_graph(&self, new: GraphStatus) {
        let old = self.with(|s| std::mem::replace(&mut s.graph, new.clone()));
        if std::mem::discriminant(&old) == std::mem::discriminant(&new) {
            return;
        }
        match &new {
            GraphStatus::Ok => tracing::info!("Graph API reachable again"),
            GraphStatus::RateLimited { until } => {
                tracing::warn!(%until, "Graph API rate limit reached; pausing lead fetches until then")
            }
            GraphStatus::TokenInvalid { message } => tracing::error!("{message}"),
            GraphStatus::Failing { message } => {
                tracing::warn!("Graph API failing, retrying with backoff: {message}")
            }
        }
    }

    /// Records the store's state, logging only when it changes kind.
    pub fn set_store(&self, new: StoreStatus) {
        let old = self.with(|s| std::mem::replace(&mut s.store, new.clone()));
        if std::mem::discriminant(&old) == std::mem::discriminant(&new) {
            return;
        }
        match &new {
            StoreStatus::Ok => tracing::info!("lead store reachable again"),
            StoreStatus::Unavailable { message } => {
                tracing::warn!(
                    "lead store unavailable, events stay in the inbox and are retried: {message}"
                )
            }
            StoreStatus::Misconfigured { message, fix } => {
                tracing::error!("lead store misconfigured: {message}; fix: {fix}")
            }
        }
    }
}
