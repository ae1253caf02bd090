//! The PostgreSQL server the test databases live on: `LEADHOOK_TEST_DATABASE_URL`, or else a
//! throwaway cluster started once per test process (trust auth, a free loopback port, its data
//! under `target/local-supabase/`), stopped and removed when the process ends, however it ends.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::guarded::{Guarded, Launch, SystemUser};

/// Names an existing server to create the test databases on (a superuser, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`).
pub const DATABASE_URL_ENV: &str = "LEADHOOK_TEST_DATABASE_URL";

/// How long a fresh cluster may take to accept connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The URL of a superuser connection to the server the tests use. Starts the throwaway cluster on
/// first use; panics, with what went wrong, when there is none to be had.
pub fn admin_url() -> &'static str {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    let server = SERVER.get_or_init(|| match std::env::var(DATABASE_URL_ENV) {
        Ok(url) => Ok(url),
        Err(_) => start_throwaway().map_err(|error| {
            format!(
                "cannot start a throwaway PostgreSQL for the tests ({error}); install the \
                 PostgreSQL server binaries (`scripts/test --setup`) or set {DATABASE_URL_ENV}"
            )
        }),
    });
    match server {
        Ok(url) => url,
        Err(message) => panic!("{message}"),
    }
}

/// The guardian of the throwaway cluster. Never dropped: the guardian notices this process is gone.
static THROWAWAY: Mutex<Option<Guarded>> = Mutex::new(None);

fn start_throwaway() -> Result<String, String> {
    let bin = postgres_bindir()?;
    let user = unprivileged_user()?;
    let dir = run_dir(user)?;
    let data = dir.join("data");
    let initdb = Command::new(bin.join("initdb"))
        .args(["--auth=trust", "--username=postgres", "--encoding=UTF8"])
        .args(["--no-locale", "--no-sync", "--no-instructions", "-D"])
        .arg(&data)
        .stdin(Stdio::null())
        .uid_gid(user)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.join("initdb").display()))?;
    if !initdb.status.success() {
        let _ = fs::remove_dir_all(&dir);
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr).trim()
        ));
    }
    let port = free_port()?;
    let log_path = dir.join("postgres.log");
    let log = fs::File::create(&log_path).map_err(|e| format!("cannot create the log: {e}"))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let mut launch = Launch::new(&bin.join("postgres"), "INT")
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .remove_afterwards(&dir)
        .run_as(user)
        .output(log.into(), log_err.into());
    // Speed over durability: the cluster is thrown away. Enough connections for parallel tests,
    // each with its own PostgREST pool.
    for setting in [
        "listen_addresses=127.0.0.1",
        "unix_socket_directories=",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
        "max_connections=300",
        "shared_buffers=64MB",
    ] {
        launch = launch.arg("-c").arg(setting);
    }
    let mut guardian = launch
        .spawn()
        .map_err(|e| format!("cannot start postgres: {e}"))?;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-p",
                &port.to_string(),
            ])
            .status()
            .is_ok_and(|status| status.success());
        if ready {
            break;
        }
        if Instant::now() > deadline || !guardian.is_running() {
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            drop(guardian);
            return Err(format!("postgres did not come up: {}", log.trim()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Ok(mut slot) = THROWAWAY.lock() {
        *slot = Some(guardian);
    }
    Ok(url)
}

/// Where `initdb`, `postgres` and `pg_isready` are: `PATH`, `pg_config --bindir`, or the newest
/// `/usr/lib/postgresql/*/bin` (Debian and Ubuntu keep the server binaries there).
fn postgres_bindir() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "postgres", "pg_isready"]
            .iter()
            .all(|tool| dir.join(tool).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let version = entry.file_name().to_string_lossy().parse().ok()?;
                    Some((version, entry.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    debian.sort();
    on_path
        .into_iter()
        .chain(pg_config)
        .chain(debian.into_iter().rev().map(|(_, dir)| dir))
        .find(|dir| complete(dir))
        .ok_or_else(|| {
            "no initdb, postgres and pg_isready on PATH, in `pg_config --bindir` or in \
             /usr/lib/postgresql/*/bin"
                .to_string()
        })
}

/// PostgreSQL will not run as root: then the cluster runs as the `postgres` system user.
fn unprivileged_user() -> Result<Option<SystemUser>, String> {
    let id = |flag: &str| -> Result<u32, String> {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| format!("cannot run id: {e}"))?;
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                "running as root, and there is no `postgres` system user to run PostgreSQL as"
                    .to_string()
            })
    };
    let euid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run id: {e}"))?;
    if String::from_utf8_lossy(&euid.stdout).trim() != "0" {
        return Ok(None);
    }
    Ok(Some(SystemUser {
        uid: id("-u")?,
        gid: id("-g")?,
    }))
}

/// A fresh directory for this process's cluster, owned by the user the cluster runs as:
/// `target/local-supabase/pg-<pid>` when that user can reach it, else in the system temp dir. The
/// parent is sticky and world-writable like /tmp, so the guardian may remove its own directory.
fn run_dir(user: Option<SystemUser>) -> Result<PathBuf, String> {
    let under_target = std::env::current_exe().ok().and_then(|exe| {
        // <target>/<profile>/deps/<test binary>, or <target>/<profile>/<binary> (leadhook-bench)
        let profile = exe.parent()?;
        let profile = if profile.ends_with("deps") {
            profile.parent()?
        } else {
            profile
        };
        profile.parent().map(|target| target.join("local-supabase"))
    });
    let candidates = under_target
        .into_iter()
        .chain([std::env::temp_dir().join("leadhook-local-supabase")]);
    let mut last_error = String::from("no place for the cluster");
    for parent in candidates {
        let prepared = fs::create_dir_all(&parent)
            .and_then(|()| fs::set_permissions(&parent, fs::Permissions::from_mode(0o1777)));
        if let Err(error) = prepared {
            last_error = format!("cannot prepare {}: {error}", parent.display());
            continue;
        }
        if !reachable_by(&parent, user) {
            last_error = format!("the postgres user cannot reach {}", parent.display());
            continue;
        }
        let dir = parent.join(format!("pg-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if let Some(user) = user {
            std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid))
                .map_err(|e| format!("cannot hand {} to postgres: {e}", dir.display()))?;
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))?;
        return Ok(dir);
    }
    Err(last_error)
}

fn reachable_by(dir: &Path, user: Option<SystemUser>) -> bool {
    Command::new("test")
        .arg("-w")
        .arg(dir)
        .uid_gid(user)
        .status()
        .is_ok_and(|status| status.success())
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("no free port: {e}"))
}

trait RunAs {
    fn uid_gid(&mut self, user: Option<SystemUser>) -> &mut Self;
}

impl RunAs for Command {
    fn uid_gid(&mut self, user: Option<SystemUser>) -> &mut Self {
        use std::os::unix::process::CommandExt;
        if let Some(user) = user {
            self.uid(user.uid).gid(user.gid);
        }
        self
    }
}
