//! The real PostgREST binary, configured as Supabase configures it, one per test.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::guarded::{Guarded, Launch};

/// The release the tests are written against (Supabase runs 12 and later).
pub const VERSION: &str = "12.0.2";

/// Points the tests at another PostgREST binary.
pub const BINARY_ENV: &str = "LEADHOOK_TEST_POSTGREST";

/// The command that installs what the tests need, PostgREST included.
pub const SETUP_COMMAND: &str = "scripts/test --setup";

/// How long PostgREST may take to connect and load its schema cache.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What PostgREST logs after every (re)load of its schema cache.
const SCHEMA_LOADED: &str = "Schema cache loaded";

/// Where `scripts/test --setup` puts the binary: `$XDG_CACHE_HOME` or `~/.cache`, then
/// `leadhook/postgrest-<version>/postgrest`.
pub fn cached_binary() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    cache
        .join("leadhook")
        .join(format!("postgrest-{VERSION}"))
        .join("postgrest")
}

/// The binary to run; panics with one line saying how to get it when it is missing.
fn binary() -> PathBuf {
    let (path, origin) = match std::env::var_os(BINARY_ENV) {
        Some(path) => (PathBuf::from(path), BINARY_ENV),
        None => (cached_binary(), "the cache"),
    };
    if !path.is_file() {
        panic!(
            "PostgREST {VERSION} is missing ({} from {origin}): run `{SETUP_COMMAND}`, or set {BINARY_ENV}",
            path.display()
        );
    }
    path
}

/// Settings of one PostgREST.
pub struct Settings {
    pub db_uri: String,
    pub jwt_secret: String,
    pub max_rows: u32,
}

/// A running PostgREST, stopped on drop.
pub struct Postgrest {
    /// `http://127.0.0.1:<port>`; PostgREST serves tables at `/<table>`.
    pub url: String,
    log: Arc<Log>,
    _process: Guarded,
}

/// PostgREST's output, line by line, so that tests can wait for a schema reload.
#[derive(Default)]
struct Log {
    state: Mutex<LogState>,
    changed: Condvar,
}

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    /// stdout and stderr end when PostgREST is gone.
    ended_streams: usize,
}

impl LogState {
    fn count(&self, needle: &str) -> usize {
        self.lines
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }
}

impl Log {
    fn update(&self, change: impl FnOnce(&mut LogState)) {
        if let Ok(mut state) = self.state.lock() {
            change(&mut state);
        }
        self.changed.notify_all();
    }

    fn count(&self, needle: &str) -> usize {
        self.state
            .lock()
            .map(|state| state.count(needle))
            .unwrap_or(0)
    }

    /// Blocks until `needle` was logged more than `seen` times; false on timeout or when
    /// PostgREST has ended.
    fn wait_for(&self, needle: &str, seen: usize, timeout: Duration) -> bool {
        let Ok(state) = self.state.lock() else {
            return false;
        };
        self.changed
            .wait_timeout_while(state, timeout, |state| {
                state.count(needle) <= seen && state.ended_streams < 2
            })
            .is_ok_and(|(state, _)| state.count(needle) > seen)
    }

    fn text(&self) -> String {
        self.state
            .lock()
            .map(|state| state.lines.join("\n"))
            .unwrap_or_default()
    }
}

impl Postgrest {
    /// Starts PostgREST and waits until it has loaded its schema cache. Panics when it cannot.
    pub async fn start(settings: &Settings) -> Postgrest {
        let binary = binary();
        let mut last_log = String::new();
        // The free port could be taken between probing and PostgREST binding it: try again.
        for _ in 0..3 {
            let port = free_port();
            let log = Arc::new(Log::default());
            let mut process = launch(&binary, settings, port, &log);
            let waiting = Arc::clone(&log);
            let ready = tokio::task::spawn_blocking(move || {
                waiting.wait_for(SCHEMA_LOADED, 0, READY_TIMEOUT)
            })
            .await
            .unwrap_or(false);
            if ready && log.count(&format!("Listening on port {port}")) > 0 {
                return Postgrest {
                    url: format!("http://127.0.0.1:{port}"),
                    log,
                    _process: process,
                };
            }
            process.stop();
            last_log = log.text();
        }
        panic!(
            "PostgREST ({}) ended or did not load its schema cache within {}s; its output:\n{last_log}",
            binary.display(),
            READY_TIMEOUT.as_secs()
        );
    }

    /// Makes PostgREST reload its schema cache (as Supabase does after DDL: `NOTIFY pgrst`) and
    /// waits until it has.
    pub async fn reload_schema(&self, database: &crate::TestDatabase) {
        let seen = self.log.count(SCHEMA_LOADED);
        database
            .execute("NOTIFY pgrst, 'reload schema'")
            .await
            .unwrap_or_else(|e| panic!("cannot notify PostgREST: {e}"));
        let log = Arc::clone(&self.log);
        let reloaded =
            tokio::task::spawn_blocking(move || log.wait_for(SCHEMA_LOADED, seen, READY_TIMEOUT))
                .await
                .unwrap_or(false);
        assert!(
            reloaded,
            "PostgREST did not reload its schema cache:\n{}",
            self.log.text()
        );
    }
}

fn launch(binary: &std::path::Path, settings: &Settings, port: u16, log: &Arc<Log>) -> Guarded {
    let mut process = Launch::new(binary, "TERM")
        .env("PGRST_DB_URI", &settings.db_uri)
        .env("PGRST_DB_SCHEMAS", "public")
        .env("PGRST_DB_ANON_ROLE", "anon")
        .env("PGRST_JWT_SECRET", &settings.jwt_secret)
        .env("PGRST_DB_MAX_ROWS", settings.max_rows.to_string())
        .env("PGRST_DB_POOL", "10")
        .env("PGRST_SERVER_HOST", "127.0.0.1")
        .env("PGRST_SERVER_PORT", port.to_string())
        .output(Stdio::piped(), Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start PostgREST: {e}"));
    let child = process.child_mut();
    let outputs: [Option<Box<dyn std::io::Read + Send>>; 2] = [
        child.stdout.take().map(|out| Box::new(out) as _),
        child.stderr.take().map(|err| Box::new(err) as _),
    ];
    for output in outputs.into_iter().flatten() {
        let log = Arc::clone(log);
        // Ends when PostgREST and its guardian are gone.
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines().map_while(Result::ok) {
                log.update(|state| state.lines.push(line));
            }
            log.update(|state| state.ended_streams += 1);
        });
    }
    process
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free port for PostgREST: {e}"))
}
