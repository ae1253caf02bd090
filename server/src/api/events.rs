//! `GET /api/events`: lead changes pushed as Server-Sent Events, so dashboards see a new lead the
//! moment it is stored. Resumable: `Last-Event-ID` (or `?since=`) is a lead cursor, and whatever
//! changed after it is replayed from the store before live events follow. `escalation` events
//! (a lead waiting too long in New Lead) are sent live only.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use leadhook_shared::{Cursor, Escalation, Lead};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::Rep;
use super::extract::Query;
use crate::app::AppState;
use crate::error::AppError;
use crate::store::{LeadQuery, MAX_PAGE};

#[derive(Debug, Deserialize)]
pub struct EventsParams {
    since: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    Extension(rep): Extension<Rep>,
    headers: HeaderMap,
    Query(params): Query<EventsParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    // Held by the response body: freed when the client goes away.
    let slot = state.admission.open_stream(&rep.0)?;
    let resume = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or(params.since);
    let mut cursor = match resume {
        Some(text) => text
            .parse::<Cursor>()
            .map_err(|e| AppError::BadRequest(e.to_string()))?,
        // A fresh listener starts from now: its first load came from /api/leads.
        None => {
            state
                .store
                .list(&LeadQuery {
                    limit: 1,
                    ..LeadQuery::default()
                })
                .await?
                .cursor
        }
    };
    // Subscribe before replaying, so nothing stored in between is missed.
    let mut live = state.leads.subscribe();
    // Escalations are live only: a dashboard that was away has no one left to notify.
    let mut escalations = state.leads.subscribe_escalations();
    let (sender, receiver) = mpsc::channel::<Event>(256);
    tokio::spawn(async move {
        loop {
            // Replay everything after the cursor from the store.
            let Ok(sent_up_to) = replay(&state, cursor, &sender).await else {
                return;
            };
            cursor = sent_up_to;
            loop {
                let received = tokio::select! {
                    () = sender.closed() => return,
                    received = live.recv() => received,
                    escalation = escalations.recv() => {
                        match escalation {
                            Ok(escalation) => {
                                if sender.send(escalation_event(&escalation)).await.is_err() {
                                    return;
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(missed)) => {
                                tracing::warn!(missed, "an event stream fell behind on escalations");
                            }
                            Err(broadcast::error::RecvError::Closed) => return,
                        }
                        continue;
                    }
                };
                match received {
                    Ok(lead) => {
                        let position = Cursor::new(lead.updated_at, lead.id);
                        if position <= cursor {
                            continue;
                        }
                        if sender.send(event(&lead, position)).await.is_err() {
                            return;
                        }
                        cursor = position;
                    }
                    // Fell behind the live feed: catch up from the store.
                    Err(broadcast::error::RecvError::Lagged(_)) => break,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    });
    let events = ReceiverStream::new(receiver).map(move |event| {
        let _open = &slot;
        Ok(event)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn event(lead: &Lead, position: Cursor) -> Event {
    Event::default()
        .event("lead")
        .id(position.to_string())
        .json_data(lead)
        .unwrap_or_else(|_| Event::default().comment("unserialisable lead skipped"))
}

fn escalation_event(escalation: &Escalation) -> Event {
    Event::default()
        .event("escalation")
        .json_data(escalation)
        .unwrap_or_else(|_| Event::default().comment("unserialisable escalation skipped"))
}

/// Sends every lead changed after `cursor`; returns the cursor of the last one sent.
async fn replay(
    state: &AppState,
    mut cursor: Cursor,
    sender: &mpsc::Sender<Event>,
) -> Result<Cursor, ()> {
    loop {
        let page = state
            .store
            .list(&LeadQuery {
                limit: MAX_PAGE,
                since: Some(cursor),
                ..LeadQuery::default()
            })
            .await
            .map_err(|error| {
                tracing::warn!("event stream cannot replay from the store: {error}")
            })?;
        if page.leads.is_empty() {
            return Ok(cursor);
        }
        for lead in &page.leads {
            let position = Cursor::new(lead.updated_at, lead.id);
            sender.send(event(lead, position)).await.map_err(|_| ())?;
            cursor = position;
        }
    }
}
