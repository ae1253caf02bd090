//! The real `leadhook-server` binary as a child process, for tests that kill it.
//!
//! The child listens on `127.0.0.1:0`; its address comes from the line it logs once it is bound
//! (`leadhook-server ready: ... listen=<address> ...`, see `server/src/main.rs`).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::ANY_LOOPBACK_PORT;

/// How long a server may take from spawn to its "ready" line.
const READY_LIMIT: Duration = Duration::from_secs(30);
/// The start of the server's log message once it listens.
const READY_MESSAGE: &str = "leadhook-server ready";
/// The field of that line holding the bound address.
const LISTEN_FIELD: &str = "listen=";

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {binary}: {source}")]
    Spawn {
        binary: String,
        source: std::io::Error,
    },
    #[error("leadhook-server exited before it was ready; its log:\n{log}")]
    Exited { log: String },
    #[error("leadhook-server did not report its address within {READY_LIMIT:?}; its log:\n{log}")]
    NotReady { log: String },
    #[error("cannot signal or wait for leadhook-server: {0}")]
    Wait(std::io::Error),
}

/// A running `leadhook-server serve`. Dropping it kills the process (SIGKILL).
pub struct ServerProcess {
    address: SocketAddr,
    /// `None` once [`ServerProcess::terminate`] has taken it over.
    child: Option<Child>,
    log: Arc<Mutex<String>>,
    log_reader: Option<JoinHandle<()>>,
}

impl ServerProcess {
    /// Runs `binary serve` with `env` as its whole environment (nothing inherited, so the
    /// caller's `RUST_LOG` or `.env` cannot change it) plus `LEADHOOK_LISTEN=127.0.0.1:0`, and
    /// waits for the address it reports. Its stderr is kept: see [`ServerProcess::log`].
    pub async fn start<K, V>(
        binary: &Path,
        env: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ServerProcess, ProcessError>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        Self::spawn(serve_command(binary, env), binary).await
    }

    /// As [`ServerProcess::start`], with the soft open-file limit lowered to `open_files` (the
    /// hard limit stays), as on a host with the common default of 1,024: for the tests and
    /// benchmarks that try to exhaust the server's file descriptors.
    pub async fn start_with_open_file_limit<K, V>(
        binary: &Path,
        env: impl IntoIterator<Item = (K, V)>,
        open_files: u64,
    ) -> Result<ServerProcess, ProcessError>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let mut command = serve_command(binary, env);
        let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).map_err(ProcessError::Wait)?;
        let soft = open_files.min(hard);
        // SAFETY: setrlimit is async-signal-safe, and the closure allocates nothing.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard));
        }
        Self::spawn(command, binary).await
    }

    /// As [`ServerProcess::start`], run by `taskset -c <cpus>` so that the server and every
    /// thread it starts only ever run on `cpus` (e.g. `0`: one core, as on a small VPS).
    pub async fn start_pinned<K, V>(
        binary: &Path,
        env: impl IntoIterator<Item = (K, V)>,
        cpus: &str,
    ) -> Result<ServerProcess, ProcessError>
    where
        K: AsRef<std::ffi::OsStr>,
        V: AsRef<std::ffi::OsStr>,
    {
        let taskset = on_path(TASKSET).ok_or_else(|| ProcessError::Spawn {
            binary: TASKSET.into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not on PATH (util-linux)"),
        })?;
        let mut command = Command::new(taskset);
        command.arg("-c").arg(cpus).arg(binary);
        Self::spawn(serve(command, env), binary).await
    }

    async fn spawn(mut command: Command, binary: &Path) -> Result<ServerProcess, ProcessError> {
        let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
            binary: binary.display().to_string(),
            source,
        })?;
        let log: Arc<Mutex<String>> = Arc::default();
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let log_reader = child.stderr.take().map(|stderr| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || keep_log(stderr, &log, ready_tx))
        });
        let mut process = ServerProcess {
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            child: Some(child),
            log,
            log_reader,
        };
        match tokio::time::timeout(READY_LIMIT, ready).await {
            Ok(Ok(address)) => {
                process.address = address;
                Ok(process)
            }
            Ok(Err(_closed)) => Err(ProcessError::Exited { log: process.log() }),
            Err(_elapsed) => Err(ProcessError::NotReady { log: process.log() }),
        }
    }

    /// `http://127.0.0.1:PORT`: the address the server reported.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The server's process id, e.g. to read its memory from `/proc/<pid>/status`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// SIGKILL, as a crash or `kill -9` would, and waits for the process to go.
    pub fn kill(mut self) -> Result<(), ProcessError> {
        if let Some(child) = &mut self.child {
            child.kill().map_err(ProcessError::Wait)?;
            child.wait().map_err(ProcessError::Wait)?;
        }
        Ok(())
    }

    /// SIGTERM, as systemd or `docker stop` would; returns the exit status and the whole log.
    pub async fn terminate(mut self) -> Result<(ExitStatus, String), ProcessError> {
        let (Some(mut child), log_reader) = (self.child.take(), self.log_reader.take()) else {
            return Err(ProcessError::Wait(std::io::Error::other("already stopped")));
        };
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .map_err(ProcessError::Wait)?;
        if !sent.success() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcessError::Wait(std::io::Error::other(format!(
                "kill -TERM answered {sent}"
            ))));
        }
        let status = tokio::task::spawn_blocking(move || {
            let status = child.wait();
            if let Some(reader) = log_reader {
                // The reader ends when the process closes stderr, so the log is whole.
                let _ = reader.join();
            }
            status
        })
        .await
        .map_err(|error| ProcessError::Wait(std::io::Error::other(error)))?
        .map_err(ProcessError::Wait)?;
        Ok((status, self.log()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `binary serve` with `env` as its whole environment, on a loopback port the OS picks.
fn serve_command<K, V>(binary: &Path, env: impl IntoIterator<Item = (K, V)>) -> Command
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    serve(Command::new(binary), env)
}

/// `command` (the server binary, or a launcher followed by it) with `serve` and `env` as its
/// whole environment, on a loopback port the OS picks.
fn serve<K, V>(mut command: Command, env: impl IntoIterator<Item = (K, V)>) -> Command
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    command
        .arg("serve")
        .env_clear()
        // No metrics listener: the default port would clash between servers (env may override).
        .env("LEADHOOK_METRICS_ADDR", "off")
        .envs(env)
        .env("LEADHOOK_LISTEN", ANY_LOOPBACK_PORT)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// The program that pins a process to some CPUs (util-linux).
const TASKSET: &str = "taskset";

/// `program`'s path in this process's `PATH` (the child's environment is cleared, so it is
/// looked up here).
fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// Appends every stderr line to `log`, and sends the address once the ready line names it.
fn keep_log(
    stderr: impl std::io::Read,
    log: &Mutex<String>,
    ready: tokio::sync::oneshot::Sender<SocketAddr>,
) {
    let mut ready = Some(ready);
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if let Some(address) = reported_address(&line)
            && let Some(ready) = ready.take()
        {
            let _ = ready.send(address);
        }
        let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
        log.push_str(&line);
        log.push('\n');
    }
}

/// The `listen=` address of the server's ready line, colours or not, or its `listen` field
/// when the server logs JSON (`LEADHOOK_LOG_FORMAT=json`).
fn reported_address(line: &str) -> Option<SocketAddr> {
    if let Ok(serde_json::Value::Object(event)) = serde_json::from_str(line) {
        let message = event.get("message")?.as_str()?;
        return message
            .contains(READY_MESSAGE)
            .then(|| event.get("listen")?.as_str()?.parse().ok())
            .flatten();
    }
    let plain = without_ansi_styles(line);
    if !plain.contains(READY_MESSAGE) {
        return None;
    }
    let (_, rest) = plain.split_once(LISTEN_FIELD)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// `line` without ANSI colour sequences (`ESC [ ... m`), which the log has on some terminals.
fn without_ansi_styles(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_address_from_a_json_ready_line() {
        let json = r#"{"timestamp":"2026-11-30T09:00:00Z","level":"INFO","message":"leadhook-server ready: webhook at /webhook","listen":"127.0.0.1:41234","target":"leadhook_server"}"#;
        assert_eq!(
            reported_address(json),
            Some(SocketAddr::from(([127, 0, 0, 1], 41234)))
        );
        let other = r#"{"message":"lead store: embedded SQLite","listen":"127.0.0.1:1"}"#;
        assert_eq!(reported_address(other), None);
    }

    #[test]
    fn reads_the_address_from_the_ready_line() {
        let plain = "2026-11-30T09:00:00.000000Z  INFO leadhook_server: leadhook-server ready: \
                     webhook at /webhook, API at /api, health at /healthz listen=127.0.0.1:41234 \
                     data_dir=/tmp/x graph=http://127.0.0.1:1/v24.0 api_tokens=1";
        assert_eq!(
            reported_address(plain),
            Some(SocketAddr::from(([127, 0, 0, 1], 41234)))
        );
        let coloured = "\u{1b}[2m2026-11-30T09:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \
                        leadhook-server ready: webhook at /webhook \u{1b}[3mlisten\u{1b}[0m\
                        \u{1b}[2m=\u{1b}[0m[::1]:8080 \u{1b}[3mdata_dir\u{1b}[0m\u{1b}[2m=\u{1b}[0m/x";
        assert_eq!(reported_address(coloured), "[::1]:8080".parse().ok());
    }

    #[test]
    fn other_lines_report_no_address() {
        assert_eq!(
            reported_address("INFO listen=127.0.0.1:1 something else"),
            None
        );
        assert_eq!(
            reported_address("leadhook-server ready: listen=not-an-address"),
            None
        );
    }
}
