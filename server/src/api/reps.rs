//! The team: `GET /api/reps`, and the caller's own entry, `GET`/`PUT /api/reps/me`.

use axum::Extension;
use axum::extract::State;
use leadhook_shared::due_time::parse_zone;
use leadhook_shared::{ApiOk, Me, MeUpdate};

use super::Caller;
use super::extract::{Json, Query};
use super::stats::{StatsParams, window};
use crate::app::AppState;
use crate::error::AppError;

/// The caller as the store knows them now.
async fn me_now(state: &AppState, rep: Caller) -> Result<Me, AppError> {
    let available = state
        .store
        .availability()
        .await?
        .get(&rep.name)
        .copied()
        .unwrap_or(true);
    let time_zone = state.store.time_zone(&rep.name).await?;
    Ok(Me {
        available,
        assignment: state.leads.team().assignment,
        role: rep.role,
        visibility: state.config.visibility,
        time_zone,
        name: rep.name,
        answer_columns: state.config.answer_columns.clone(),
    })
}

/// `GET /api/reps/me`
pub async fn me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    Ok(axum::Json(ApiOk::new(me_now(&state, rep).await?)))
}

/// `PUT /api/reps/me` with `{"available": false}` (round robin skips reps who are away) and/or
/// `{"time_zone": "Europe/Berlin"}` (the zone the rep's dashboard reads typed times in).
pub async fn set_me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Json(body): Json<MeUpdate>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    if body.available.is_none() && body.time_zone.is_none() {
        return Err(AppError::BadRequest(
            "send \"available\" (true or false) or \"time_zone\" (like \"Europe/Berlin\")".into(),
        ));
    }
    let zone = body
        .time_zone
        .as_deref()
        .map(parse_zone)
        .transpose()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    if let Some(zone) = zone {
        state.leads.set_time_zone(&rep.name, zone.name()).await?;
    }
    if let Some(available) = body.available {
        state.leads.set_available(&rep.name, available).await?;
    }
    Ok(axum::Json(ApiOk::new(me_now(&state, rep).await?)))
}

/// `GET /api/reps?tz_offset_minutes=`: every rep (see [`crate::team::Team`]), with
/// availability and today's figures in the caller's time zone.
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<StatsParams>,
) -> Result<axum::Json<ApiOk<Vec<leadhook_shared::Rep>>>, AppError> {
    let window = window(&params, state.config.queue.clock.now())?;
    let figures = state.store.queue_figures(window).await?;
    let availability = state.store.availability().await?;
    Ok(axum::Json(ApiOk::new(state.leads.team().reps(
        &figures,
        &availability,
        window,
    ))))
}
