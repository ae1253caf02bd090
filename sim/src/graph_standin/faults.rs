//! Faults a test switches on: Meta errors, rate limits, hangs and delays, for all or some calls.

use std::time::Duration;

use axum::http::StatusCode;
use rand::Rng;
use rand::rngs::StdRng;

use super::errors::GraphError;

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

pub(super) enum FaultPlan {
    Healthy,
    Always(GraphFault),
    Sometimes {
        ratio: f64,
        faults: Vec<GraphFault>,
        rng: Box<StdRng>,
    },
}

impl FaultPlan {
    pub(super) fn next_fault(&mut self) -> Option<GraphFault> {
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
