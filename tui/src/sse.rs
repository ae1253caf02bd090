//! Server-Sent Events from `GET /api/events`. `eventsource-stream` parses them; this module
//! bounds what a server can make the dashboard buffer ([`MAX_EVENT_BYTES`]) and keeps the
//! reconnection time a server asks for with `retry:`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};

use crate::client_error::ClientError;

/// The most bytes one event (with its comments and field lines) may take; a longer one ends the
/// stream, so a broken or hostile server cannot grow the dashboard's memory without limit.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// One dispatched event: `event:` (default "message"), `id:` and the joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// Why the body stopped being readable as events.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("{0}")]
    Transport(reqwest::Error),
    #[error("an event longer than {MAX_EVENT_BYTES} bytes")]
    TooLong,
}

type Parsed = dyn Stream<Item = Result<eventsource_stream::Event, EventStreamError<BodyError>>>
    + Send
    + 'static;

/// Events read from a streaming response body.
pub struct EventStream {
    events: Pin<Box<Parsed>>,
    retry: Arc<Mutex<Option<Duration>>>,
}

impl EventStream {
    pub fn new(body: impl Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static) -> Self {
        let retry = Arc::new(Mutex::new(None));
        let mut framing = Framing {
            retry: Arc::clone(&retry),
            ..Framing::default()
        };
        let bounded = body.map(move |chunk| {
            let chunk = chunk.map_err(BodyError::Transport)?;
            framing.feed(&chunk)?;
            Ok::<_, BodyError>(chunk)
        });
        EventStream {
            events: Box::pin(bounded.eventsource()),
            retry,
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<Result<SseEvent, ClientError>> {
        let event = match self.events.next().await? {
            Ok(event) => event,
            Err(err) => {
                return Some(Err(ClientError::Unexpected(format!(
                    "event stream broke: {err}"
                ))));
            }
        };
        Some(Ok(SseEvent {
            event: event.event,
            id: Some(event.id).filter(|id| !id.is_empty()),
            data: event.data,
        }))
    }

    /// How long the server asked clients to wait before reconnecting (`retry:`), if it did.
    pub fn retry(&self) -> Option<Duration> {
        *self.retry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The longest line that can still be a `retry:` field (its value fits a `u64`).
const RETRY_LINE_MAX: usize = 32;

/// Watches the raw bytes on their way to the parser: how long the current event has grown, and
/// the `retry:` fields (which the parser keeps only on events that carry data).
#[derive(Debug, Default)]
struct Framing {
    event_bytes: usize,
    /// The current line's length and its first [`RETRY_LINE_MAX`] bytes.
    line_len: usize,
    head: Vec<u8>,
    /// The last byte was `\r`: a `\n` now belongs to the same line end.
    after_cr: bool,
    retry: Arc<Mutex<Option<Duration>>>,
}

impl Framing {
    fn feed(&mut self, chunk: &[u8]) -> Result<(), BodyError> {
        for &byte in chunk {
            self.event_bytes += 1;
            if self.event_bytes > MAX_EVENT_BYTES {
                return Err(BodyError::TooLong);
            }
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    self.line_done();
                }
                _ => {
                    self.after_cr = false;
                    self.line_len += 1;
                    if self.head.len() < RETRY_LINE_MAX {
                        self.head.push(byte);
                    }
                }
            }
        }
        Ok(())
    }

    fn line_done(&mut self) {
        if self.line_len == 0 {
            // A blank line ends the event.
            self.event_bytes = 0;
        } else if self.line_len <= RETRY_LINE_MAX
            && let Some(retry) = retry_millis(&self.head)
        {
            *self.retry.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(Duration::from_millis(retry));
        }
        self.line_len = 0;
        self.head.clear();
    }
}

/// The value of a `retry:` line: ASCII digits only, as the Server-Sent Events spec says.
fn retry_millis(line: &[u8]) -> Option<u64> {
    let value = line.strip_prefix(b"retry:")?;
    let value = value.strip_prefix(b" ").unwrap_or(value);
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream<I>(chunks: I) -> EventStream
    where
        I: IntoIterator<Item = Vec<u8>>,
        I::IntoIter: Send + 'static,
    {
        EventStream::new(futures::stream::iter(
            chunks.into_iter().map(|chunk| Ok(Bytes::from(chunk))),
        ))
    }

    async fn read_all(chunks: &[&str]) -> Vec<SseEvent> {
        let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.as_bytes().to_vec()).collect();
        let mut events = stream(chunks);
        let mut out = Vec::new();
        while let Some(event) = events.next().await {
            out.push(event.expect("an event"));
        }
        out
    }

    fn event(event: &str, id: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            id: Some(id.into()),
            data: data.into(),
        }
    }

    #[tokio::test]
    async fn events_split_across_chunks_and_crlf() {
        let events = read_all(&[
            ": keep-alive\n\nevent: le",
            "ad\r\nid: 5.1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n",
            "event: lead\nid: 6.2\ndata:x\n\n",
        ])
        .await;
        assert_eq!(
            events,
            [
                event("lead", "5.1", "{\"a\":\n1}"),
                event("lead", "6.2", "x")
            ]
        );
    }

    #[tokio::test]
    async fn bare_carriage_returns_end_lines() {
        let events = read_all(&[
            "event: lead\rid: 7.3\rdata: one\rdata: two\r\r",
            "event: escalation\rid: 7.3\rdata: {}\r\r: keep-alive\r\r",
        ])
        .await;
        assert_eq!(
            events,
            [
                event("lead", "7.3", "one\ntwo"),
                event("escalation", "7.3", "{}")
            ]
        );
    }

    #[tokio::test]
    async fn comments_and_empty_events_dispatch_nothing() {
        assert!(
            read_all(&[": ping\n\n", "event: lead\n\n", "data: half"])
                .await
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_event_past_the_bound_ends_the_stream() {
        let endless = (0..).map(|_| vec![b'x'; 64 * 1024]);
        let mut events = stream(std::iter::once(b"data: ".to_vec()).chain(endless));
        let err = events
            .next()
            .await
            .expect("an answer")
            .expect_err("too long");
        assert!(err.to_string().contains("longer than"), "{err}");
    }

    #[tokio::test]
    async fn many_events_together_may_pass_the_bound() {
        let line = format!("event: lead\nid: 1.1\ndata: {}\n\n", "x".repeat(1000));
        let count = MAX_EVENT_BYTES / line.len() + 10;
        let events = read_all(&vec![line.as_str(); count]).await;
        assert_eq!(events.len(), count);
    }

    #[tokio::test]
    async fn retry_is_kept_even_without_data() {
        let mut events = stream(
            [
                "retry: 1500\n\n",
                ": ok\r\n\r\n",
                "retry: soon\ndata: x\n\n",
            ]
            .map(|c| c.into()),
        );
        assert_eq!(events.retry(), None);
        let first = events.next().await.expect("an event").expect("readable");
        assert_eq!(first.data, "x");
        assert_eq!(events.retry(), Some(Duration::from_millis(1500)));
        assert_eq!(retry_millis(b"retry: 250"), Some(250));
        assert_eq!(retry_millis(b"retry:-1"), None);
        assert_eq!(retry_millis(b"retrying: 5"), None);
    }
}
