//! The front door of the local Supabase: a listener that tests can make answer 503, refuse
//! connections, restart, answer slowly or drop repeated headers, in front of the gateway. Everything else a test breaks,
//! it breaks in the database (REVOKE, DROP TABLE) and lets the real PostgREST answer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;

/// How long a stop waits for requests in flight before cutting them off.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How often a restart tries to listen on the released port again.
const REBIND_ATTEMPTS: u32 = 50;

#[derive(Default)]
struct Switches {
    unavailable_until: Option<Instant>,
    slow: Option<(Duration, Instant)>,
    keep_last_header: bool,
}

/// The fault switches of one local Supabase.
#[derive(Clone)]
pub struct Faults {
    addr: SocketAddr,
    switches: Arc<StdMutex<Switches>>,
    server: Arc<Server>,
}

struct Server {
    app: Router,
    running: Mutex<Option<Running>>,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Faults {
    /// Serves `app` on a free loopback port, behind the fault switches.
    pub async fn serve(app: Router) -> Faults {
        let switches = Arc::new(StdMutex::new(Switches::default()));
        let app = app.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&switches),
            inject,
        ));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("local-supabase: cannot listen on 127.0.0.1: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("local-supabase: no local address: {e}"));
        let server = Arc::new(Server {
            running: Mutex::new(Some(serve(listener, app.clone()))),
            app,
        });
        Faults {
            addr,
            switches,
            server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answers every request with 503 for `duration`, as Supabase does while a project restarts.
    pub fn respond_503_for(&self, duration: Duration) {
        if let Ok(mut switches) = self.switches.lock() {
            switches.unavailable_until = Some(Instant::now() + duration);
        }
    }

    /// Holds every request for `delay` before passing it on, for `duration`.
    pub fn slow_down_for(&self, duration: Duration, delay: Duration) {
        if let Ok(mut switches) = self.switches.lock() {
            switches.slow = Some((delay, Instant::now() + duration));
        }
    }

    /// From now on, of a header sent several times only the last one passes, as some gateways
    /// do (RFC 7230 lets a list header be sent several times; they keep one).
    pub fn drop_repeated_headers(&self) {
        if let Ok(mut switches) = self.switches.lock() {
            switches.keep_last_header = true;
        }
    }

    /// Stops listening: new connections are refused and idle ones closed.
    pub async fn stop(&self) {
        let running = self.server.running.lock().await.take();
        if let Some(Running { stop, mut task }) = running {
            // Stops accepting at once, closes idle keep-alive connections, lets requests finish.
            let _ = stop.send(());
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
                // An aborted task is dropped (and its listener closed) only when the runtime gets
                // to it: wait for that, or a connection made right after `stop` still gets in.
                let _ = task.await;
            }
        }
    }

    /// Listens again on the same port.
    pub async fn start(&self) {
        start(&self.server, self.addr).await;
    }

    /// Stops and starts again, as a redeploy does.
    pub async fn restart(&self) {
        self.stop().await;
        self.start().await;
    }

    /// Refuses connections for `duration`, then listens again by itself.
    pub async fn refuse_connections_for(&self, duration: Duration) {
        self.stop().await;
        let server = Arc::clone(&self.server);
        let addr = self.addr;
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            start(&server, addr).await;
        });
    }

    /// Stops serving without waiting (for drop).
    pub fn shut_down(&self) {
        if let Ok(mut running) = self.server.running.try_lock()
            && let Some(Running { stop, task }) = running.take()
        {
            let _ = stop.send(());
            // Whatever is still open goes with the test's runtime; don't wait for it here.
            drop(task);
        }
    }
}

async fn start(server: &Server, addr: SocketAddr) {
    let mut running = server.running.lock().await;
    if running.is_some() {
        return;
    }
    // The port was just released; another process could grab it, so retry briefly.
    let mut attempts = 0;
    let listener = loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => break listener,
            Err(_) if attempts < REBIND_ATTEMPTS => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("local-supabase: cannot listen on {addr} again: {error}"),
        }
    };
    *running = Some(serve(listener, server.app.clone()));
}

fn serve(listener: TcpListener, app: Router) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            eprintln!("local-supabase: server failed: {error}");
        }
    });
    Running { stop, task }
}

async fn inject(
    State(switches): State<Arc<StdMutex<Switches>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let now = Instant::now();
    let (unavailable, delay, keep_last_header) = switches
        .lock()
        .map(|switches| {
            (
                switches.unavailable_until.is_some_and(|until| now < until),
                switches
                    .slow
                    .filter(|(_, until)| now < *until)
                    .map(|(delay, _)| delay),
                switches.keep_last_header,
            )
        })
        .unwrap_or((false, None, false));
    if keep_last_header {
        keep_last_of_each(request.headers_mut());
    }
    if unavailable {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(
                serde_json::json!({"message": "Service Unavailable (injected by the test)"}),
            ),
        )
            .into_response();
    }
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// Leaves one value per header name: the last one sent.
fn keep_last_of_each(headers: &mut axum::http::HeaderMap) {
    let names: Vec<_> = headers.keys().cloned().collect();
    for name in names {
        if let Some(last) = headers.get_all(&name).iter().next_back().cloned() {
            headers.insert(name, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn repeated_headers_keep_their_last_value() {
        let mut headers = HeaderMap::new();
        headers.append("prefer", HeaderValue::from_static("return=representation"));
        headers.append(
            "prefer",
            HeaderValue::from_static("resolution=ignore-duplicates"),
        );
        headers.append("apikey", HeaderValue::from_static("key"));
        keep_last_of_each(&mut headers);
        let prefer: Vec<_> = headers.get_all("prefer").iter().collect();
        assert_eq!(prefer, ["resolution=ignore-duplicates"]);
        assert_eq!(headers["apikey"], "key");
    }
}
