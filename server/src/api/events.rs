//! `GET /api/events`: lead changes pushed as Server-Sent Events, so dashboards see a new lead the
//! moment it is stored. Resumable: `Last-Event-ID` (or `?since=`) is a lead cursor, and whatever
//! changed after it is replayed from the store before live events follow; `escalation` events are
//! live only. The stream itself is built in [`crate::feed::stream`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use leadhook_shared::Cursor;
use serde::Deserialize;

use super::Caller;
use super::extract::Query;
use crate::app::AppState;
use crate::error::AppError;
use crate::feed::stream::lead_events;

#[derive(Debug, Deserialize)]
pub struct EventsParams {
    since: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    Extension(rep): Extension<Caller>,
    headers: HeaderMap,
    Query(params): Query<EventsParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    // Held by the response body: freed when the client goes away.
    let slot = state.admission.open_stream(&rep.name)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or(params.since)
        .map(|text| text.parse::<Cursor>())
        .transpose()
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let visibility = state.config.visibility;
    let caller = rep.clone();
    let sees = Box::new(move |owner: Option<&str>| caller.sees_owned_by(owner, visibility));
    let events = lead_events(Arc::clone(&state.store), &state.feed, resume, sees).await?;
    let events = events.map(move |event| {
        let _open = &slot;
        Ok(event)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
