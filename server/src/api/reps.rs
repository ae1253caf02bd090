//! The team: `GET /api/reps`, the caller's own entry, `GET`/`PUT /api/reps/me`, and an admin's
//! `PUT /api/reps/{name}/paging`.

use axum::Extension;
use axum::extract::State;
use leadhook_shared::due_time::parse_zone;
use leadhook_shared::{ApiOk, Me, MeUpdate, QuietHours, check_ntfy_topic};

use super::Caller;
use super::extract::{Json, Path, Query};
use super::stats::{StatsParams, window};
use crate::app::AppState;
use crate::error::AppError;

/// The caller as the store knows them now.
async fn me_now(state: &AppState, rep: Caller) -> Result<Me, AppError> {
    let paging = state.store.rep_paging(&rep.name).await?;
    Ok(Me {
        available: paging.available,
        assignment: state.leads.team().assignment,
        role: rep.role,
        visibility: state.config.visibility,
        time_zone: paging.time_zone,
        name: rep.name,
        answer_columns: state.config.answer_columns.clone(),
        ntfy_topic: paging.ntfy_topic,
        quiet_hours: paging.quiet_hours,
    })
}

/// `GET /api/reps/me`
pub async fn me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    Ok(axum::Json(ApiOk::new(me_now(&state, rep).await?)))
}

/// `PUT /api/reps/me` with any of `{"available": false}` (round robin skips reps who are away,
/// and so do pages but escalations), `{"time_zone": "Europe/Berlin"}` (the zone the rep's
/// dashboard reads typed times in, and quiet hours are read in), `{"ntfy_topic": "…"}` and
/// `{"quiet_hours": "22:00-07:00"}` (`""` removes either).
pub async fn set_me(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Json(body): Json<MeUpdate>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    set(&state, &rep.name, body).await?;
    Ok(axum::Json(ApiOk::new(me_now(&state, rep).await?)))
}

/// `PUT /api/reps/{name}/paging`: an admin sets a rep's settings as the rep would with
/// `PUT /api/reps/me` (the route needs [`leadhook_shared::Action::ManageReps`]).
pub async fn set_for(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<MeUpdate>,
) -> Result<axum::Json<ApiOk<Me>>, AppError> {
    let Some(rep) = state.reps.caller(&name) else {
        return Err(AppError::RepNotFound(name));
    };
    set(&state, &rep.name, body).await?;
    Ok(axum::Json(ApiOk::new(me_now(&state, rep).await?)))
}

/// Checks every field of `body` before writing any of them for `rep`.
async fn set(state: &AppState, rep: &str, body: MeUpdate) -> Result<(), AppError> {
    if body.available.is_none()
        && body.time_zone.is_none()
        && body.ntfy_topic.is_none()
        && body.quiet_hours.is_none()
    {
        return Err(AppError::BadRequest(
            "send at least one of \"available\" (true or false), \"time_zone\" (like \"Europe/Berlin\"), \
             \"ntfy_topic\" or \"quiet_hours\" (like \"22:00-07:00\")"
                .into(),
        ));
    }
    let topic = match body.ntfy_topic.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(topic) => {
            check_ntfy_topic(topic).map_err(|e| AppError::Unprocessable(e.to_string()))?;
            Some(Some(topic.to_string()))
        }
        None => None,
    };
    let quiet = match body.quiet_hours.as_deref().map(str::trim) {
        Some("") => Some(None),
        Some(text) => Some(Some(
            text.parse::<QuietHours>()
                .map_err(|e| AppError::Unprocessable(e.to_string()))?,
        )),
        None => None,
    };
    let zone = body
        .time_zone
        .as_deref()
        .map(parse_zone)
        .transpose()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    if let Some(zone) = zone {
        state.leads.set_time_zone(rep, zone.name()).await?;
    }
    if let Some(available) = body.available {
        state.leads.set_available(rep, available).await?;
    }
    if topic.is_some() || quiet.is_some() {
        let now = state.store.rep_paging(rep).await?;
        let topic = topic.unwrap_or(now.ntfy_topic);
        let quiet = quiet.unwrap_or(now.quiet_hours);
        state
            .leads
            .set_rep_paging(rep, topic.as_deref(), quiet)
            .await?;
    }
    Ok(())
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
