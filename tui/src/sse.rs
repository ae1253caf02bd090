//! A small Server-Sent Events reader for `GET /api/events`.

use std::collections::VecDeque;
use std::pin::Pin;

use futures::{Stream, StreamExt};

use crate::client_error::ClientError;

/// One dispatched event: `event:` (default "message"), `id:` and the joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// Splits a byte stream into events. Lines may end in `\n` or `\r\n` and arrive in any chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    event: String,
    id: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<SseEvent>) {
        for &byte in chunk {
            if byte == b'\n' {
                let mut line = std::mem::take(&mut self.line);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.line_done(&String::from_utf8_lossy(&line), out);
            } else {
                self.line.push(byte);
            }
        }
    }

    fn line_done(&mut self, line: &str, out: &mut VecDeque<SseEvent>) {
        if line.is_empty() {
            if self.has_data {
                out.push_back(SseEvent {
                    event: std::mem::take(&mut self.event),
                    id: self.id.clone(),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return; // keep-alive comment
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = value.to_string(),
            "id" => self.id = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }
}

/// The body of a streaming response.
type ByteStream = dyn Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static;

/// Events read from a streaming response body.
pub struct EventStream {
    body: Pin<Box<ByteStream>>,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
}

impl EventStream {
    pub fn new(
        body: impl Stream<Item = Result<bytes::Bytes, reqwest::Error>> + Send + 'static,
    ) -> Self {
        EventStream {
            body: Box::pin(body),
            parser: SseParser::default(),
            ready: VecDeque::new(),
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Option<Result<SseEvent, ClientError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            match self.body.next().await? {
                Ok(chunk) => self.parser.feed(&chunk, &mut self.ready),
                Err(err) => {
                    return Some(Err(ClientError::Unexpected(format!(
                        "event stream broke: {err}"
                    ))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(chunks: &[&str]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.feed(chunk.as_bytes(), &mut out);
        }
        out.into()
    }

    #[test]
    fn events_split_across_chunks_and_crlf() {
        let events = parse(&[
            ": keep-alive\n\nevent: le",
            "ad\r\nid: 5.1\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n",
            "event: lead\nid: 6.2\ndata:x\n\n",
        ]);
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "lead".into(),
                    id: Some("5.1".into()),
                    data: "{\"a\":\n1}".into()
                },
                SseEvent {
                    event: "lead".into(),
                    id: Some("6.2".into()),
                    data: "x".into()
                },
            ]
        );
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        assert!(parse(&[": ping\n\n", "event: lead\n\n", "data: half"]).is_empty());
    }
}
