//! The e-mail channel's receiver: a real SMTP server, `aiosmtpd` from PyPI (pinned, in its venv),
//! run by `smtp_server.py`, which parses each mail that arrived with Python's own e-mail parser
//! and hands it over as JSON.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::pyvenv::python;

const PACKAGE: &str = "aiosmtpd==1.4.6";

pub struct SmtpServer {
    pub port: u16,
    child: Child,
    lines: Arc<Mutex<Vec<Value>>>,
}

/// How the SMTP server protects its connections.
#[derive(Debug, Clone, Copy)]
pub enum Security<'a> {
    Plain,
    /// STARTTLS with the certificate and key (PEM files); `required` refuses anything else
    /// before it, otherwise a client could go on in clear (and would be seen doing so).
    StartTls {
        cert: &'a Path,
        key: &'a Path,
        required: bool,
    },
    /// TLS from the first byte.
    Implicit {
        cert: &'a Path,
        key: &'a Path,
    },
}

impl SmtpServer {
    /// Answers the first `fail_first` mails 451; requires `login` (user, password) when given.
    pub fn start(fail_first: usize, login: Option<(&str, &str)>) -> SmtpServer {
        SmtpServer::start_with(fail_first, login, Security::Plain)
    }

    /// As [`SmtpServer::start`], protected as `security` says.
    pub fn start_with(
        fail_first: usize,
        login: Option<(&str, &str)>,
        security: Security<'_>,
    ) -> SmtpServer {
        SmtpServer::spawn(fail_first, login, security, None)
    }

    /// A plain server that holds every mail unanswered while the file `hold_while` exists.
    pub fn holding(hold_while: &Path) -> SmtpServer {
        SmtpServer::spawn(0, None, Security::Plain, Some(hold_while))
    }

    fn spawn(
        fail_first: usize,
        login: Option<(&str, &str)>,
        security: Security<'_>,
        hold_while: Option<&Path>,
    ) -> SmtpServer {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/outbound/smtp_server.py"
        );
        let mut command = Command::new(python(PACKAGE));
        command
            .arg(script)
            .args(["--fail-first", &fail_first.to_string()]);
        if let Some((user, password)) = login {
            command.args(["--login", &format!("{user}:{password}")]);
        }
        let (mode, files) = match security {
            Security::Plain => ("none", None),
            Security::StartTls {
                cert,
                key,
                required,
            } => (
                if required {
                    "starttls"
                } else {
                    "starttls-optional"
                },
                Some((cert, key)),
            ),
            Security::Implicit { cert, key } => ("implicit", Some((cert, key))),
        };
        command.args(["--tls", mode]);
        if let Some(path) = hold_while {
            command.arg("--hold-while").arg(path);
        }
        if let Some((cert, key)) = files {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("the SMTP server's port");
        let port: Value = serde_json::from_str(&first).expect("{\"port\": N}");
        let port = port["port"].as_u64().expect("a port") as u16;
        let lines: Arc<Mutex<Vec<Value>>> = Arc::default();
        let record = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).expect("a JSON line");
                record.lock().unwrap().push(value);
            }
        });
        SmtpServer { port, child, lines }
    }

    /// Every mail that arrived, parsed, in order.
    pub fn mails(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.get("content_type").is_some())
            .cloned()
            .collect()
    }

    /// Every login attempted: the user, and whether the connection was encrypted by then.
    pub fn logins(&self) -> Vec<Value> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.get("auth").is_some())
            .cloned()
            .collect()
    }

    /// How many mails were held (see [`SmtpServer::holding`]).
    pub fn held(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.get("held").is_some())
            .count()
    }

    /// How many mails were answered 451.
    pub fn refused(&self) -> usize {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.get("refused").is_some())
            .count()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
