//! `GET /api/insights?period=30d&by=campaign&tz=Europe/Berlin`: the manager's figures by source
//! and by rep (the router declares who may), counted in the store, with Meta's spend beside them.

use axum::extract::State;
use leadhook_shared::insights::{InsightsParams, SpendStatus};
use leadhook_shared::{ApiOk, Insights, Tz, parse_zone};

use super::extract::Query;
use crate::app::AppState;
use crate::error::AppError;
use crate::insights::spend::Spend;
use crate::insights::{Asked, assemble};

pub async fn show(
    State(state): State<AppState>,
    Query(params): Query<InsightsParams>,
) -> Result<axum::Json<ApiOk<Insights>>, AppError> {
    let (period, by) = params
        .read()
        .map_err(|error| AppError::BadRequest(error.to_string()))?;
    let zone = match params.tz.as_deref() {
        Some(name) => parse_zone(name).map_err(|error| AppError::BadRequest(error.to_string()))?,
        None => Tz::UTC,
    };
    let asked = Asked::new(
        period,
        by,
        zone,
        state.config.queue.clock.now(),
        &state.config.answer_columns,
    )
    .map_err(|error| AppError::BadRequest(error.to_string()))?;
    let query = asked.store_query();
    let (counted, spend) = tokio::join!(state.store.insights(&query), async {
        match &state.spend {
            Some(reader) => {
                reader
                    .spend(&asked.by, asked.first_day, asked.last_day)
                    .await
            }
            None => Spend::without(SpendStatus::Off),
        }
    });
    Ok(axum::Json(ApiOk::new(assemble(
        &asked, &query, counted?, spend,
    ))))
}
