//! What the server knows about its own health: the state of the Graph API and the store as the
//! inbox worker, the sweeper and the write service last saw them, and when the last webhook came.
//! Problems are logged once, when they start and when they end, not once per retry.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::graph::GraphError;

/// How long Graph calls pause after a rate-limit answer that does not say when access returns.
pub const RATE_LIMIT_PAUSE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GraphStatus {
    Ok,
    RateLimited { until: DateTime<Utc> },
    TokenInvalid { message: String },
    Failing { message: String },
}

impl GraphStatus {
    /// What a failed Graph call says about the Graph API as a whole, for every caller alike.
    /// `None` when the failure concerns one lead or form only (a missing permission or an
    /// unreadable lead) and says nothing about the API's health.
    pub fn after_error(error: &GraphError, now: DateTime<Utc>) -> Option<GraphStatus> {
        match error {
            GraphError::RateLimited { retry_after, .. } => {
                let pause = retry_after.unwrap_or(RATE_LIMIT_PAUSE);
                Some(GraphStatus::RateLimited {
                    until: now + chrono::Duration::from_std(pause).unwrap_or_default(),
                })
            }
            GraphError::TokenInvalid { .. } => Some(GraphStatus::TokenInvalid {
                message: error.to_string(),
            }),
            GraphError::Transient(_) => Some(GraphStatus::Failing {
                message: error.to_string(),
            }),
            GraphError::PermissionDenied { .. }
            | GraphError::NotReadable { .. }
            | GraphError::Other(_) => None,
        }
    }
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
pub struct RuntimeHealth {
    state: Mutex<State>,
}

impl Default for RuntimeHealth {
    fn default() -> Self {
        RuntimeHealth {
            state: Mutex::new(State {
                graph: GraphStatus::Ok,
                store: StoreStatus::Ok,
                last_webhook_at: None,
            }),
        }
    }
}

impl RuntimeHealth {
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

    /// Records what a failed Graph call says about the API (see [`GraphStatus::after_error`]) and
    /// returns the new state, if it changed anything.
    pub fn graph_failed(&self, error: &GraphError) -> Option<GraphStatus> {
        let status = GraphStatus::after_error(error, Utc::now())?;
        self.set_graph(status.clone());
        Some(status)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap()
    }

    #[test]
    fn a_rate_limit_pauses_until_meta_says_access_returns() {
        let error = GraphError::RateLimited {
            code: 80005,
            retry_after: Some(Duration::from_secs(420)),
        };
        assert_eq!(
            GraphStatus::after_error(&error, at(1_000)),
            Some(GraphStatus::RateLimited { until: at(1_420) })
        );
    }

    #[test]
    fn a_rate_limit_without_a_regain_time_pauses_the_default() {
        let error = GraphError::RateLimited {
            code: 4,
            retry_after: None,
        };
        assert_eq!(
            GraphStatus::after_error(&error, at(1_000)),
            Some(GraphStatus::RateLimited {
                until: at(1_000 + RATE_LIMIT_PAUSE.as_secs() as i64)
            })
        );
    }

    #[test]
    fn token_and_transient_errors_concern_the_whole_api() {
        let token = GraphError::TokenInvalid {
            subcode: Some(463),
            message: "expired".into(),
        };
        assert_eq!(
            GraphStatus::after_error(&token, at(0)),
            Some(GraphStatus::TokenInvalid {
                message: token.to_string()
            })
        );
        let transient = GraphError::Transient("HTTP 500".into());
        assert_eq!(
            GraphStatus::after_error(&transient, at(0)),
            Some(GraphStatus::Failing {
                message: transient.to_string()
            })
        );
    }

    #[test]
    fn errors_about_one_lead_leave_the_status_alone() {
        let status = RuntimeHealth::default();
        for error in [
            GraphError::PermissionDenied {
                code: 200,
                message: "no".into(),
            },
            GraphError::NotReadable {
                message: "gone".into(),
            },
            GraphError::Other("odd".into()),
        ] {
            assert_eq!(GraphStatus::after_error(&error, at(0)), None, "{error}");
            assert_eq!(status.graph_failed(&error), None);
        }
        assert_eq!(status.graph(), GraphStatus::Ok);
    }

    #[test]
    fn a_recorded_failure_becomes_the_status() {
        let status = RuntimeHealth::default();
        let recorded = status.graph_failed(&GraphError::Transient("timeout".into()));
        assert_eq!(recorded, Some(status.graph()));
        assert!(matches!(status.graph(), GraphStatus::Failing { .. }));
    }
}
