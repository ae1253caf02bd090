//! One listener's events for `/api/events`: every lead changed after its cursor, replayed from
//! the store, then the live feed (falling back to the store whenever it falls behind), with the
//! escalations and reminders raised while it listens.

use std::sync::Arc;

use axum::response::sse::Event;
use futures::Stream;
use leadhook_shared::{Cursor, Lead};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::{Alert, LiveFeed, changes_after, newest_change};
use crate::store::{LeadReader, StoreError};

/// Events waiting for a slow client before the sender waits for it.
const BUFFERED_EVENTS: usize = 256;

/// Whether a listener may see a lead owned by this rep (`None`: unowned).
pub type Sees = Box<dyn Fn(Option<&str>) -> bool + Send + Sync>;

/// The events after `resume`, or after the newest change when `None` (a fresh listener's first
/// load came from `/api/leads`). Ends when the client goes away (the stream is dropped).
/// A change to a lead the listener may not see is sent as a `hidden` event holding only its id,
/// so a dashboard drops a lead that was given to someone else.
pub async fn lead_events(
    store: Arc<dyn LeadReader>,
    feed: &LiveFeed,
    resume: Option<Cursor>,
    sees: Sees,
) -> Result<impl Stream<Item = Event> + use<>, StoreError> {
    let mut cursor = match resume {
        Some(cursor) => cursor,
        None => newest_change(store.as_ref()).await?,
    };
    // Subscribe before replaying, so nothing stored in between is missed.
    let mut live = feed.subscribe();
    let mut alerts = feed.subscribe_alerts();
    let (sender, receiver) = mpsc::channel::<Event>(BUFFERED_EVENTS);
    tokio::spawn(async move {
        loop {
            let Ok(sent_up_to) = replay(store.as_ref(), cursor, &sender, &sees).await else {
                return;
            };
            cursor = sent_up_to;
            loop {
                let received = tokio::select! {
                    () = sender.closed() => return,
                    received = live.recv() => received,
                    alert = alerts.recv() => {
                        match alert {
                            Ok(alert) if !sees(alert.owner()) => {}
                            Ok(alert) => {
                                if sender.send(alert_event(&alert)).await.is_err() {
                                    return;
                                }
                            }
                            Err(broadcast::error::RecvError::Lagged(missed)) => {
                                tracing::warn!(missed, "an event stream fell behind on escalations and reminders");
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
                        if sender
                            .send(lead_event(&lead, position, &sees))
                            .await
                            .is_err()
                        {
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
    Ok(ReceiverStream::new(receiver))
}

fn lead_event(lead: &Lead, position: Cursor, sees: &Sees) -> Event {
    let event = Event::default().id(position.to_string());
    let event = if sees(lead.owner.as_deref()) {
        event.event("lead").json_data(lead)
    } else {
        event
            .event("hidden")
            .json_data(serde_json::json!({ "id": lead.id }))
    };
    event.unwrap_or_else(|_| Event::default().comment("unserialisable lead skipped"))
}

fn alert_event(alert: &Alert) -> Event {
    let event = match alert {
        Alert::Escalation(escalation) => Event::default().event("escalation").json_data(escalation),
        Alert::Reminder(reminder) => Event::default().event("reminder").json_data(reminder),
        Alert::Reply(reply) => Event::default().event("reply").json_data(reply),
    };
    event.unwrap_or_else(|_| Event::default().comment("unserialisable alert skipped"))
}

/// Sends every lead changed after `cursor`; returns the cursor of the last one sent.
async fn replay(
    store: &dyn LeadReader,
    mut cursor: Cursor,
    sender: &mpsc::Sender<Event>,
    sees: &Sees,
) -> Result<Cursor, ()> {
    loop {
        let page = changes_after(store, cursor).await.map_err(|error| {
            tracing::warn!("event stream cannot replay from the store: {error}")
        })?;
        if page.leads.is_empty() {
            return Ok(cursor);
        }
        for lead in &page.leads {
            let position = Cursor::new(lead.updated_at, lead.id);
            sender
                .send(lead_event(lead, position, sees))
                .await
                .map_err(|_| ())?;
            cursor = position;
        }
    }
}
