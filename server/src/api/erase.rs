//! `POST /api/leads/{id}/erase`: an admin erases a person's data (a data-subject request), with an
//! optional body `{"reason": "..."}`; a few per admin and hour (bulk erasure is the CLI's).

use std::time::Instant;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use leadhook_shared::{ApiOk, Lead};
use serde::Deserialize;

use super::Caller;
use super::extract::Path;
use crate::app::AppState;
use crate::erase::erase_reason;
use crate::error::AppError;

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
    state.admission.take_erasure(&rep.name, Instant::now())?;
    let lead = state
        .leads
        .erase(id, &rep.name, reason.as_deref())
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
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
