//! The team: `GET /api/reps`, and the caller's own entry, `GET`/`PUT /api/reps/me`.

use axum::Extension;
use axum::extract::State;
use leadhook_shared::{ApiOk, Availability, Me};

use super::Caller;
use super::extract::{Json, Query};
use super::stats::{StatsParams, window};
use crate::app::AppState;
use crate::error::AppError;

/// `GET /api/reps/me`
pub async fn me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    let available = state
        .store
        .availability()
        .await?
        .get(&rep.name)
        .copied()
        .unwrap_or(true);
    Ok(axum::Json(ApiOk::new(Me {
        name: rep.name,
        available,
        assignment: state.leads.team().assignment,
        role: rep.role,
        visibility: state.config.visibility,
    })))
}

/// `PUT /api/reps/me` with `{"available": false}`: round robin skips reps who are away.
pub async fn set_me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Json(body): Json<Availability>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    state.leads.set_available(&rep.name, body.available).await?;
    Ok(axum::Json(ApiOk::new(Me {
        name: rep.name,
        available: body.available,
        assignment: state.leads.team().assignment,
        role: rep.role,
        visibility: state.config.visibility,
    })))
}

/// `GET /api/reps?tz_offset_minutes=`: every rep (see [`crate::team::Team`]), with
/// availability and today's figures in the caller's time zone.
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<StatsParams>,
) -> Result<axum::Json<ApiOk<Vec<leadhook_shared::Rep>>>, AppError> {
    let window = window(&params)?;
    let figures = state.store.queue_figures(window).await?;
    let availability = state.store.availability().await?;
    Ok(axum::Json(ApiOk::new(state.leads.team().reps(
        &figures,
        &availability,
        window,
    ))))
}
