//! Keeps the dashboard's copy of the leads current, in the background.
//!
//! The first load pages through every change from [`Cursor::START`]; after that each poll asks
//! only for changes after the last cursor, so an idle poll is one small request whatever the
//! number of leads. When the server offers `GET /api/events`, changes are pushed as they happen
//! and polling drops to a 30 s safety net.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leadhook_shared::{Backoff, Cursor, Escalation, Reminder, Reply};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};

use crate::client::{Client, Listed};
use crate::client_error::ClientError;
use crate::sse::{EventStream, SseEvent};

/// How often to poll while pushed events are flowing.
pub const PUSH_POLL_INTERVAL: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const PUSH_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait before trying push again after the server said it has none (404).
const PUSH_ABSENT_RETRY: Duration = Duration::from_secs(300);
const PUSH_FAILED_RETRY: Duration = Duration::from_secs(60);

/// What the poller tells; each lead read as `T` (see [`Listed`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PollEvent<T> {
    /// Leads created or changed since the last event. `first_load` while loading the store.
    Leads { leads: Vec<T>, first_load: bool },
    /// Everything the server had up to `at` is merged; `push` when events arrive live.
    Synced { at: DateTime<Utc>, push: bool },
    /// A lead has waited past a threshold (pushed only).
    Escalation(Escalation),
    /// A lead's next step fell due (pushed only).
    Reminder(Reminder),
    /// The person wrote back (pushed only).
    Reply(Reply),
    /// The server no longer shows this lead to this rep (pushed only).
    Hidden(i64),
    /// The last poll failed; the next try is at `retry_at`.
    Failed {
        error: ClientError,
        retry_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollCommand {
    /// Poll now instead of at the end of the interval.
    Refresh,
}

/// Whether changes are pushed to us right now.
enum Push {
    Live(EventStream),
    /// Polling only; the next attempt to open the event stream is at `retry_at`.
    Off {
        retry_at: Instant,
    },
}

impl Push {
    fn is_live(&self) -> bool {
        matches!(self, Push::Live(_))
    }

    /// Off after the stream ended: trying again at the next poll, or once the server's
    /// `retry:` has passed.
    fn reconnect_later(&self) -> Push {
        let retry = match self {
            Push::Live(stream) => stream.retry(),
            Push::Off { .. } => None,
        };
        push_off_for(retry.unwrap_or(Duration::ZERO))
    }
}

pub struct Poller<T> {
    client: Client,
    interval: Duration,
    events: mpsc::Sender<PollEvent<T>>,
    commands: mpsc::Receiver<PollCommand>,
    cursor: Cursor,
    first_load: bool,
    failures: u32,
    push: Push,
}

impl<T: Listed> Poller<T> {
    pub fn new(
        client: Client,
        interval: Duration,
        events: mpsc::Sender<PollEvent<T>>,
        commands: mpsc::Receiver<PollCommand>,
    ) -> Poller<T> {
        Poller {
            client,
            interval,
            events,
            commands,
            cursor: Cursor::START,
            first_load: true,
            failures: 0,
            push: Push::Off {
                retry_at: Instant::now(),
            },
        }
    }

    /// Polls until whoever receives the events goes away.
    pub async fn run(mut self) {
        loop {
            let wait = match self.poll().await {
                Ok(()) => {
                    self.failures = 0;
                    self.connect_push().await;
                    emit(
                        &self.events,
                        PollEvent::Synced {
                            at: Utc::now(),
                            push: self.push.is_live(),
                        },
                    )
                    .await;
                    if self.push.is_live() {
                        PUSH_POLL_INTERVAL
                    } else {
                        self.interval
                    }
                }
                Err(error) => {
                    self.failures += 1;
                    let wait = self.backoff();
                    tracing::warn!("poll failed: {error}");
                    let retry_at = Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
                    emit(&self.events, PollEvent::Failed { error, retry_at }).await;
                    wait
                }
            };
            if self.events.is_closed() || !self.wait(wait).await {
                return;
            }
        }
    }

    /// Fetches every change after the cursor, a page at a time.
    async fn poll(&mut self) -> Result<(), ClientError> {
        loop {
            let page = self.client.changes_since::<T>(self.cursor).await?;
            self.cursor = page.cursor;
            let last = page.is_last();
            if !page.data.is_empty() {
                emit(
                    &self.events,
                    PollEvent::Leads {
                        leads: page.data,
                        first_load: self.first_load,
                    },
                )
                .await;
            }
            if last {
                break;
            }
        }
        self.first_load = false;
        Ok(())
    }

    /// The shared backoff from the interval, doubling per consecutive failure up to
    /// [`MAX_BACKOFF`], with jitter: dashboards that lost the same server do not all come back
    /// in the same instant.
    fn backoff(&self) -> Duration {
        Backoff::new(self.interval, MAX_BACKOFF.max(self.interval))
            .delay(self.failures.saturating_sub(1))
    }

    async fn connect_push(&mut self) {
        match self.push {
            Push::Live(_) => return,
            Push::Off { retry_at } if Instant::now() < retry_at => return,
            Push::Off { .. } => {}
        }
        let connected = timeout(PUSH_CONNECT_TIMEOUT, self.client.events(self.cursor)).await;
        match connected {
            Ok(Ok(stream)) => {
                tracing::info!(
                    "push connected; polling every {PUSH_POLL_INTERVAL:?} as a safety net"
                );
                self.push = Push::Live(stream);
            }
            Ok(Err(ClientError::NotFound(_))) => {
                tracing::info!(
                    "server has no /api/events; polling every {:?}",
                    self.interval
                );
                self.push = push_off_for(PUSH_ABSENT_RETRY);
            }
            Ok(Err(err)) => {
                tracing::warn!(
                    "push unavailable ({err}); polling every {:?}",
                    self.interval
                );
                self.push = push_off_for(PUSH_FAILED_RETRY);
            }
            Err(_) => {
                tracing::warn!(
                    "push connection timed out; polling every {:?}",
                    self.interval
                );
                self.push = push_off_for(PUSH_FAILED_RETRY);
            }
        }
    }

    /// Waits `wait`, merging pushed events meanwhile. False when the app has gone away.
    async fn wait(&mut self, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            tokio::select! {
                () = sleep_until(deadline) => return true,
                command = self.commands.recv() => return command.is_some(),
                pushed = next_pushed(&mut self.push) => match pushed {
                    Some(Ok(event)) => self.pushed(event).await,
                    Some(Err(err)) => {
                        tracing::warn!("push stream failed ({err}); polling");
                        self.push = self.push.reconnect_later();
                        return true;
                    }
                    None => {
                        tracing::info!("server closed the push stream; polling");
                        self.push = self.push.reconnect_later();
                        return true;
                    }
                },
            }
        }
    }

    /// Moves the cursor to a pushed event's id, so a reconnect resumes after it.
    fn advance(&mut self, id: Option<&str>) {
        if let Some(cursor) = id.and_then(|id| id.parse::<Cursor>().ok()) {
            self.cursor = self.cursor.max(cursor);
        }
    }

    async fn pushed(&mut self, event: SseEvent) {
        if event.event == "escalation" {
            match serde_json::from_str::<Escalation>(&event.data) {
                Ok(escalation) => emit(&self.events, PollEvent::Escalation(escalation)).await,
                Err(err) => tracing::warn!("ignoring an escalation that does not parse: {err}"),
            }
            return;
        }
        if event.event == "reminder" {
            match serde_json::from_str::<Reminder>(&event.data) {
                Ok(reminder) => emit(&self.events, PollEvent::Reminder(reminder)).await,
                Err(err) => tracing::warn!("ignoring a reminder that does not parse: {err}"),
            }
            return;
        }
        if event.event == "reply" {
            match serde_json::from_str::<Reply>(&event.data) {
                Ok(reply) => emit(&self.events, PollEvent::Reply(reply)).await,
                Err(err) => tracing::warn!("ignoring a reply that does not parse: {err}"),
            }
            return;
        }
        if event.event == "hidden" {
            #[derive(serde::Deserialize)]
            struct Hidden {
                id: i64,
            }
            match serde_json::from_str::<Hidden>(&event.data) {
                Ok(hidden) => {
                    self.advance(event.id.as_deref());
                    emit(&self.events, PollEvent::Hidden(hidden.id)).await;
                }
                Err(err) => tracing::warn!("ignoring a hidden lead that does not parse: {err}"),
            }
            return;
        }
        if event.event != "lead" {
            return;
        }
        let lead = match serde_json::from_str::<T>(&event.data) {
            Ok(lead) => lead,
            Err(err) => {
                tracing::warn!("ignoring a pushed lead that does not parse: {err}");
                return;
            }
        };
        self.advance(event.id.as_deref());
        emit(
            &self.events,
            PollEvent::Leads {
                leads: vec![lead],
                first_load: false,
            },
        )
        .await;
        emit(
            &self.events,
            PollEvent::Synced {
                at: Utc::now(),
                push: true,
            },
        )
        .await;
    }
}

async fn emit<T>(events: &mpsc::Sender<PollEvent<T>>, event: PollEvent<T>) {
    // A closed channel means the app is quitting; `run` notices and stops.
    let _ = events.send(event).await;
}

fn push_off_for(wait: Duration) -> Push {
    Push::Off {
        retry_at: Instant::now() + wait,
    }
}

async fn next_pushed(push: &mut Push) -> Option<Result<SseEvent, ClientError>> {
    match push {
        Push::Live(stream) => stream.next().await,
        Push::Off { .. } => std::future::pending().await,
    }
}

/// Starts a [`Poller`]. It stops by itself once both returned ends are dropped.
pub fn spawn<T: Listed>(
    client: Client,
    interval: Duration,
) -> (mpsc::Receiver<PollEvent<T>>, mpsc::Sender<PollCommand>) {
    let (event_tx, event_rx) = mpsc::channel(64);
    let (command_tx, command_rx) = mpsc::channel(8);
    tokio::spawn(Poller::new(client, interval, event_tx, command_rx).run());
    (event_rx, command_tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn off_until(push: &Push) -> Instant {
        match push {
            Push::Off { retry_at } => *retry_at,
            Push::Live(_) => panic!("still live"),
        }
    }

    #[tokio::test]
    async fn an_ended_stream_reconnects_after_the_servers_retry() {
        let body = futures::stream::iter([Ok(bytes::Bytes::from("retry: 5000\n\n"))]);
        let mut stream = EventStream::new(body);
        assert!(stream.next().await.is_none(), "the server closed it");
        let before = Instant::now();
        let retry_at = off_until(&Push::Live(stream).reconnect_later());
        assert!(retry_at >= before + Duration::from_secs(5));
        assert!(retry_at <= Instant::now() + Duration::from_secs(5));

        let silent = EventStream::new(futures::stream::iter(Vec::new()));
        assert!(off_until(&Push::Live(silent).reconnect_later()) <= Instant::now());
    }
}
