//! The HTTP server loop: hyper's HTTP/1.1 connection with a head-read timeout (which also closes
//! idle keep-alive connections), a cap on connections served at once that fits the open-file
//! limit, and a graceful shutdown that lets requests in flight finish.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::client_addr::ClientAddr;
use crate::limits::{FILES_KEPT_FREE, HEADER_READ_TIMEOUT, MAX_CONNECTIONS, SHUTDOWN_GRACE};

/// Pause after an accept error that is not the client's (such as running out of files), so the
/// loop does not spin while it lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    /// The limits in [`crate::limits`], with the connection cap lowered to fit the open-file limit.
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            max_connections: connection_cap(),
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }
}

/// Raises this process's soft open-file limit to its hard limit (systemd and Docker start
/// services at 1,024) and returns the new soft limit.
pub fn raise_open_file_limit() -> std::io::Result<u64> {
    rlimit::increase_nofile_limit(u64::MAX)
}

fn connection_cap() -> usize {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _hard)) => {
            let fits = usize::try_from(soft.saturating_sub(FILES_KEPT_FREE)).unwrap_or(usize::MAX);
            fits.clamp(1, MAX_CONNECTIONS)
        }
        Err(_) => MAX_CONNECTIONS,
    }
}

/// Serves `app` on `listener` until `shutdown` fires, then stops accepting and gives the
/// connections in flight [`ServeLimits::shutdown_grace`] to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    loop {
        // Wait for a free slot before accepting: beyond the cap, clients wait in the listen queue.
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_client_error(&error) {
                        tracing::warn!("cannot accept a connection: {error}");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                    continue;
                }
            },
        };
        // Answers are small; do not hold them back for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        // The peer address, as axum's `ConnectInfo`, for every request of this connection.
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?limits.shutdown_grace,
            "connections still open after the shutdown grace (event streams?); closing them"
        );
    }
    Ok(())
}

/// The span every request is logged in: its id (as in `X-Request-Id`), method and path, never
/// the query string, which carries `hub.verify_token` on Meta's handshake; the client address
/// ([`ClientAddr`]) and, on `/api` once the token is checked, the rep. At info level, so that
/// warnings logged while serving a request carry its id.
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    let request_id = request
        .extensions()
        .get::<tower_http::request_id::RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id,
        method = %request.method(),
        path = %request.uri().path(),
        client = request
            .extensions()
            .get::<ClientAddr>()
            .map(|client| tracing::field::display(client.0)),
        rep = tracing::field::Empty,
    )
}

/// Errors about one client's connection, which say nothing about the server.
fn is_client_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    const SLOW: Duration = Duration::from_millis(300);

    async fn start(
        limits: ServeLimits,
    ) -> (
        String,
        CancellationToken,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let app = Router::new().route("/", get(|| async { "hello" })).route(
            "/slow",
            get(|| async {
                tokio::time::sleep(SLOW).await;
                "finished"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(serve(listener, app, limits, shutdown.clone()));
        (address, shutdown, server)
    }

    fn limits(max_connections: usize) -> ServeLimits {
        ServeLimits {
            header_read_timeout: Duration::from_secs(5),
            max_connections,
            shutdown_grace: Duration::from_secs(5),
        }
    }

    async fn request(address: &str, path: &str) -> TcpStream {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        stream
    }

    async fn answer(stream: &mut TcpStream, limit: Duration) -> Option<String> {
        let mut answer = Vec::new();
        tokio::time::timeout(limit, stream.read_to_end(&mut answer))
            .await
            .ok()?
            .ok()?;
        Some(String::from_utf8_lossy(&answer).to_string())
    }

    #[tokio::test]
    async fn connections_past_the_cap_wait_until_one_closes() {
        let (address, _shutdown, _server) = start(limits(1)).await;
        let idle = TcpStream::connect(&address).await.unwrap();
        let mut waiting = request(&address, "/").await;
        assert_eq!(answer(&mut waiting, Duration::from_millis(500)).await, None);
        drop(idle);
        let answered = answer(&mut waiting, Duration::from_secs(5)).await.unwrap();
        assert!(answered.ends_with("hello"), "{answered}");
    }

    #[tokio::test]
    async fn a_shutdown_lets_requests_in_flight_finish_and_accepts_no_more() {
        let (address, shutdown, server) = start(limits(8)).await;
        let mut in_flight = request(&address, "/slow").await;
        tokio::time::sleep(SLOW / 3).await;
        shutdown.cancel();
        let answered = answer(&mut in_flight, Duration::from_secs(5))
            .await
            .unwrap();
        assert!(answered.ends_with("finished"), "{answered}");
        server.await.unwrap().unwrap();
        assert!(TcpStream::connect(&address).await.is_err());
    }

    #[test]
    fn the_connection_cap_fits_the_open_file_limit() {
        let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let cap = connection_cap() as u64;
        assert!(cap >= 1 && cap <= MAX_CONNECTIONS as u64);
        assert!(cap + FILES_KEPT_FREE <= soft.max(FILES_KEPT_FREE + 1));
    }
}
