//! Servers that cannot outlive the test process.
//!
//! Rust never drops statics, and a test that panics in the wrong place, aborts or is killed never
//! reaches its cleanup. So every server the tests start runs under a small `sh` guardian: it starts
//! the server in the background, then blocks reading its stdin, a pipe whose only writer is this
//! process (Rust opens pipes close-on-exec, so no other child inherits it). When this process lets
//! go of the pipe, on [`Guarded`]'s drop or because it exited or died in any way, the read ends:
//! the guardian stops the server, waits for it, and removes the server's directory if it has one.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// `$1` the signal that stops the server, `$2` a directory to remove afterwards (or empty), the
/// rest the server's command line. A watcher waits for the end of stdin and then stops the server;
/// the guardian waits for the server, so it also ends (and cleans up) when the server dies by
/// itself. Ctrl-C reaches the whole process group: the guardian ignores it, so that its cleanup
/// still runs.
const GUARDIAN: &str = r#"
trap '' INT HUP
signal=$1; remove=$2; shift 2
"$@" &
server=$!
# A background job reads /dev/null unless redirected: the watcher gets stdin through fd 3.
exec 3<&0
( read -r _; kill -s "$signal" "$server" 2>/dev/null ) <&3 >/dev/null 2>&1 &
watcher=$!
exec 3<&-
wait "$server"
kill "$watcher" 2>/dev/null
if [ -n "$remove" ]; then rm -rf -- "$remove"; fi
"#;

/// How to start one guarded server.
pub struct Launch {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(String, String)>,
    stop_signal: &'static str,
    remove_afterwards: Option<PathBuf>,
    user: Option<SystemUser>,
    output: Option<(Stdio, Stdio)>,
}

/// An unprivileged account to run a server as (PostgreSQL refuses to run as root).
#[derive(Clone, Copy, Debug)]
pub struct SystemUser {
    pub uid: u32,
    pub gid: u32,
}

impl Launch {
    pub fn new(program: &Path, stop_signal: &'static str) -> Launch {
        Launch {
            program: program.to_path_buf(),
            args: Vec::new(),
            envs: Vec::new(),
            stop_signal,
            remove_afterwards: None,
            user: None,
            output: None,
        }
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Launch {
        self.args.push(arg.into());
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Launch {
        self.envs.push((key.to_string(), value.into()));
        self
    }

    /// Removes `dir` once the server has stopped.
    pub fn remove_afterwards(mut self, dir: &Path) -> Launch {
        self.remove_afterwards = Some(dir.to_path_buf());
        self
    }

    /// Runs guardian and server as `user` (when set).
    pub fn run_as(mut self, user: Option<SystemUser>) -> Launch {
        self.user = user;
        self
    }

    /// Where the server's stdout and stderr go (default: nowhere).
    pub fn output(mut self, stdout: Stdio, stderr: Stdio) -> Launch {
        self.output = Some((stdout, stderr));
        self
    }

    pub fn spawn(self) -> io::Result<Guarded> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(GUARDIAN)
            .arg("leadhook-guardian")
            .arg(self.stop_signal)
            .arg(self.remove_afterwards.unwrap_or_default())
            .arg(&self.program)
            .args(&self.args)
            .envs(self.envs)
            .stdin(Stdio::piped());
        let (stdout, stderr) = self.output.unwrap_or((Stdio::null(), Stdio::null()));
        command.stdout(stdout).stderr(stderr);
        if let Some(user) = self.user {
            // std drops supplementary groups too when it changes the user as root.
            command.uid(user.uid).gid(user.gid);
        }
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        Ok(Guarded { stdin, child })
    }
}

/// A running guarded server. Dropping it stops the server and waits until it is gone.
pub struct Guarded {
    stdin: Option<ChildStdin>,
    child: Child,
}

impl Guarded {
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// True while the guardian runs; it ends early when the server has ended by itself.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the server and waits for it (and for the directory removal).
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}
