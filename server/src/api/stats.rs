use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Duration, FixedOffset, Utc};
use leadhook_shared::{Action, ApiOk, Stats};
use serde::Deserialize;

use super::Caller;
use super::extract::Query;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::StatsWindow;

#[derive(Debug, Deserialize)]
pub struct StatsParams {
    /// The client's UTC offset in minutes (east positive), so "today" is the rep's today.
    tz_offset_minutes: Option<i32>,
}

/// Today and the last 7 days in the caller's time zone, as of `now`.
pub fn window(params: &StatsParams, now: DateTime<Utc>) -> Result<StatsWindow, AppError> {
    let offset_minutes = params.tz_offset_minutes.unwrap_or(0);
    let offset = offset_minutes
        .checked_mul(60)
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| {
            AppError::BadRequest("tz_offset_minutes must be between -1439 and 1439".into())
        })?;
    let local_midnight = now
        .with_timezone(&offset)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(offset).single())
        .map(|midnight| midnight.with_timezone(&Utc))
        .ok_or_else(|| {
            AppError::BadRequest("cannot compute today's start for that offset".into())
        })?;
    Ok(StatsWindow {
        today_start: local_midnight,
        week_start: local_midnight - Duration::days(6),
        now,
    })
}

/// `GET /api/stats`
pub async fn show(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    Query(params): Query<StatsParams>,
) -> Result<axum::Json<ApiOk<Stats>>, AppError> {
    let window = window(&params, state.config.queue.clock.now())?;
    let mut stats = state.store.stats(window).await?;
    let figures = state.store.queue_figures(window).await?;
    let team = state.leads.team();
    stats.speed_to_lead = crate::team::speed_to_lead(&figures, window);
    stats.per_rep = team.per_rep(&figures);
    // Whose figures the caller may see: everyone's, or their own.
    if !rep.role.may(Action::SeePerRepStats) {
        stats.per_rep.retain(|figures| figures.name == rep.name);
    }
    stats.waiting = figures.waiting;
    stats.follow_ups = figures.follow_ups;
    Ok(axum::Json(ApiOk::new(stats)))
}
