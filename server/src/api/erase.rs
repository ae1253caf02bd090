//! `POST /api/leads/{id}/erase`: an admin erases a person's data (a data-subject request), with an
//! optional body `{"reason": "..."}`; a few per admin and hour (bulk erasure is the CLI's).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use chrono::{DateTime, TimeDelta, Utc};
use leadhook_shared::{ApiOk, Lead};
use serde::Deserialize;

use super::Caller;
use super::extract::Path;
use crate::app::AppState;
use crate::erase::erase_reason;
use crate::error::AppError;
use crate::limits::{ERASURE_WINDOW, ERASURES_PER_REP};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseBody {
    reason: Option<String>,
}

/// Erases the lead's personal data and answers with the tombstone; erasing twice is harmless.
pub async fn erase(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    let reason = reason(&body?)?;
    let now = Utc::now();
    let window = TimeDelta::from_std(ERASURE_WINDOW).unwrap_or(TimeDelta::hours(1));
    let recent = state
        .store
        .erasures_since(&rep.name, now - window, ERASURES_PER_REP as u32)
        .await?;
    allowed(&recent, now, window)?;
    let lead = state
        .leads
        .erase(id, &rep.name, reason.as_deref())
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}

/// Whether one more erasure fits beside `recent` (the caller's erasures in the last `window`,
/// oldest first); if not, when the oldest leaves the window. Two requests on two replicas at the
/// same moment may both fit: the limit slows a stolen admin token down, it is not a lock.
fn allowed(
    recent: &[DateTime<Utc>],
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Result<(), AppError> {
    let Some(oldest) = recent.first().filter(|_| recent.len() >= ERASURES_PER_REP) else {
        return Ok(());
    };
    let retry_after = (*oldest + window - now)
        .to_std()
        .unwrap_or_default()
        .max(std::time::Duration::from_secs(1));
    Err(AppError::TooManyErasures {
        limit: ERASURES_PER_REP,
        retry_after,
    })
}

/// The reason in the body; no body (as before reasons) is no reason.
fn reason(body: &[u8]) -> Result<Option<String>, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let body: EraseBody = serde_json::from_slice(body).map_err(|error| {
        AppError::Unprocessable(format!("send no body or {{\"reason\": \"...\"}}: {error}"))
    })?;
    erase_reason(body.reason.as_deref()).map_err(|error| AppError::Unprocessable(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_the_window_and_says_when_the_oldest_leaves_it() {
        let now = Utc::now();
        let hour = TimeDelta::hours(1);
        let minutes = |n: i64| now - TimeDelta::minutes(n);
        let nine: Vec<_> = (1..=9).rev().map(minutes).collect();
        assert!(allowed(&nine, now, hour).is_ok());
        let ten: Vec<_> = (1..=10).rev().map(minutes).collect();
        match allowed(&ten, now, hour) {
            Err(AppError::TooManyErasures { retry_after, limit }) => {
                assert_eq!(limit, 10);
                assert_eq!(retry_after.as_secs(), 50 * 60);
            }
            other => panic!("{other:?}"),
        }
    }
}
