//! A stand-in for Supabase's PostgREST (and the API gateway in front of it) for leadhook's tests.
//!
//! It serves `http://127.0.0.1:<port>/rest/v1/...` and answers the requests leadhook's store sends
//! exactly as `shared/postgrest-facts.md` describes PostgREST 12–14 on Supabase: status codes,
//! `Prefer` handling, `Content-Range`, error bodies with all four keys, form-decoded query strings,
//! the gateway's 401s. Every request runs as real SQL on a real PostgreSQL database, inside a
//! transaction that has switched to the role the key stands for (`service_role`), so a missing
//! grant fails with 42501 → 403 as on Supabase. SQL is built from the table's catalog and
//! parameters; request values are never pasted into it.
//!
//! Anything it does not implement (another operator, `limit=`, a `Prefer` it does not know, an
//! embedded resource, ...) is answered with 501 and a line on stderr naming the request shape, so
//! the store cannot drift into behaviour nobody checked.
//!
//! Fault switches: [`Standin::respond_503_for`], [`Standin::refuse_connections_for`],
//! [`Standin::stop`] / [`Standin::start`] / [`Standin::restart`], and [`Standin::set_max_rows`]
//! (Supabase caps answers at 1000 rows).

mod db;
mod error;
mod handler;
mod request;
mod sql;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{Mutex, oneshot};
use tokio::task::JoinHandle;

pub use db::TestDatabase;

/// Supabase's default cap on the rows of one answer (`db-max-rows`).
pub const DEFAULT_MAX_ROWS: usize = 1000;

/// What the request handler shares.
struct State {
    pool: db::Pool,
    api_key: String,
    max_rows: AtomicUsize,
    unavailable_until: StdMutex<Option<Instant>>,
}

impl State {
    fn unavailable(&self) -> bool {
        self.unavailable_until
            .lock()
            .map(|until| until.is_some_and(|until| Instant::now() < until))
            .unwrap_or(false)
    }
}

/// A running stand-in. Dropping it stops the server.
pub struct Standin {
    /// Like `https://<project>.supabase.co/rest/v1`: `http://127.0.0.1:<port>/rest/v1`.
    pub base_url: String,
    pub addr: SocketAddr,
    state: Arc<State>,
    server: Arc<Server>,
}

/// The listening part, which the fault switches stop and start on the same port.
struct Server {
    running: Mutex<Option<Running>>,
    dropped: AtomicBool,
}

struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Starts a stand-in on a free loopback port that accepts `api_key` and runs requests on
/// `database_url` (which should have leadhook's migrations applied).
///
/// Panics when it cannot listen or the URL is not a PostgreSQL URL: it is test scaffolding.
pub async fn spawn(database_url: &str, api_key: &str) -> Standin {
    let pool = db::Pool::new(database_url).expect("postgrest-standin: bad database URL");
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("postgrest-standin: cannot listen on 127.0.0.1");
    let addr = listener
        .local_addr()
        .expect("postgrest-standin: no local address");
    let state = Arc::new(State {
        pool,
        api_key: api_key.to_string(),
        max_rows: AtomicUsize::new(DEFAULT_MAX_ROWS),
        unavailable_until: StdMutex::new(None),
    });
    let server = Arc::new(Server {
        running: Mutex::new(Some(serve(listener, Arc::clone(&state)))),
        dropped: AtomicBool::new(false),
    });
    Standin {
        base_url: format!("http://{addr}/rest/v1"),
        addr,
        state,
        server,
    }
}

fn serve(listener: TcpListener, state: Arc<State>) -> Running {
    let app = handler::router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            eprintln!("postgrest-standin: server failed: {error}");
        }
    });
    Running { stop, task }
}

/// How long a stop waits for requests in flight before cutting them off.
const STOP_GRACE: Duration = Duration::from_secs(5);

impl Server {
    async fn stop(&self) {
        let running = self.running.lock().await.take();
        if let Some(Running { stop, mut task }) = running {
            // Stops accepting at once, closes idle keep-alive connections, lets requests finish.
            let _ = stop.send(());
            if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                task.abort();
            }
        }
    }

    async fn start(&self, addr: SocketAddr, state: &Arc<State>) {
        let mut running = self.running.lock().await;
        if running.is_some() || self.dropped.load(Ordering::SeqCst) {
            return;
        }
        // The port was just released; another process could grab it, so retry briefly.
        let mut attempts = 0;
        let listener = loop {
            match TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(error) if attempts < 50 => {
                    attempts += 1;
                    tracing::debug!(%error, "postgrest-standin: rebinding {addr}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("postgrest-standin: cannot listen on {addr} again: {error}"),
            }
        };
        *running = Some(serve(listener, Arc::clone(state)));
    }
}

impl Standin {
    /// Stops listening: new connections are refused and idle ones closed.
    pub async fn stop(&self) {
        self.server.stop().await;
    }

    /// Listens again on the same port.
    pub async fn start(&self) {
        self.server.start(self.addr, &self.state).await;
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
        let state = Arc::clone(&self.state);
        let addr = self.addr;
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            server.start(addr, &state).await;
        });
    }

    /// Answers every request with 503 (PostgREST's PGRST001, database unreachable) for `duration`.
    pub fn respond_503_for(&self, duration: Duration) {
        if let Ok(mut until) = self.state.unavailable_until.lock() {
            *until = Some(Instant::now() + duration);
        }
    }

    /// The most rows one answer holds (`db-max-rows`; Supabase's default is 1000).
    pub fn set_max_rows(&self, max_rows: usize) {
        self.state.max_rows.store(max_rows.max(1), Ordering::SeqCst);
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.server.dropped.store(true, Ordering::SeqCst);
        if let Ok(mut running) = self.server.running.try_lock()
            && let Some(Running { stop, task }) = running.take()
        {
            let _ = stop.send(());
            // Whatever is still open goes with the test's runtime; don't wait for it here.
            drop(task);
        }
    }
}
