use axum::Extension;
use axum::extract::State;
use leadhook_shared::{ApiOk, SyncReport};

use super::Caller;
use crate::app::AppState;
use crate::error::AppError;

/// `POST /api/leads/sync`: sweep the Graph API now (or join the sweep already running).
pub async fn run(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
) -> Result<axum::Json<ApiOk<SyncReport>>, AppError> {
    if !state.sweeper.is_configured() {
        return Err(AppError::SyncNotConfigured);
    }
    tracing::info!(rep = %rep.name, "manual sync");
    Ok(axum::Json(ApiOk::new(state.sweeper.sweep_now().await)))
}
