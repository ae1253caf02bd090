//! Raw sockets for the tests that play a hostile client: heads without bodies, bodies that stall,
//! connections that never send anything.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// A signature header of the right shape; it matches no body.
pub const WELL_FORMED_SIGNATURE: &str =
    "sha256=0000000000000000000000000000000000000000000000000000000000000000";

/// `127.0.0.1:PORT` of a server known by its base URL.
pub fn socket_address(base_url: &str) -> String {
    base_url.trim_start_matches("http://").to_string()
}

pub async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(socket_address(&app.address))
        .await
        .expect("connect to the server")
}

/// Sends the head of `POST /webhook` announcing `content_length` bytes (chunked when `None`),
/// and no body.
pub async fn webhook_head(
    app: &TestApp,
    content_length: Option<u64>,
    signature: Option<&str>,
) -> TcpStream {
    let mut stream = connect(app).await;
    let mut head =
        String::from("POST /webhook HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n");
    match content_length {
        Some(length) => head.push_str(&format!("Content-Length: {length}\r\n")),
        None => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    if let Some(signature) = signature {
        head.push_str(&format!("X-Hub-Signature-256: {signature}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send head");
    stream
}

/// The status code of the answer, if one starts arriving within `limit`.
pub async fn status_within(stream: &mut TcpStream, limit: Duration) -> Option<u16> {
    let mut received = Vec::new();
    let read_status = async {
        let mut buffer = [0u8; 1024];
        loop {
            let n = stream.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            received.extend_from_slice(&buffer[..n]);
            if let Some(end) = received.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&received[..end]).to_string();
                return line.split(' ').nth(1)?.parse().ok();
            }
        }
    };
    tokio::time::timeout(limit, read_status)
        .await
        .ok()
        .flatten()
}

/// Whether the server closes the connection within `limit` (whatever it sent before).
pub async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let drain = async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, drain).await.is_ok()
}
