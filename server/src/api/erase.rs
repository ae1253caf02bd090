//! `POST /api/leads/{id}/erase`: any rep erases a person's data (a data-subject request).

use axum::Extension;
use axum::extract::State;
use leadhook_shared::{ApiOk, Lead};

use super::Caller;
use super::extract::Path;
use crate::app::AppState;
use crate::error::AppError;

/// Erases the lead's personal data and answers with the tombstone; erasing twice is harmless.
pub async fn erase(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<axum::Json<ApiOk<Lead>>, AppError> {
    let lead = state
        .leads
        .erase(id, &rep.name)
        .await?
        .ok_or(AppError::LeadNotFound(id))?;
    Ok(axum::Json(ApiOk::new(lead)))
}
