//! The official Standard Webhooks verifier (`standardwebhooks` from PyPI, pinned) in a virtual
//! environment under the tests' cache directory, made once, as `scripts/test` fetches PostgREST.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::receiver::Received;

const PACKAGE: &str = "standardwebhooks==1.3.0";

fn venv() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME is set");
    cache.join("leadhook").join("standardwebhooks-1.3.0")
}

/// The venv's python, after creating the venv and installing the package when missing.
fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let dir = venv();
            let python = dir.join("bin").join("python");
            let ready = dir.join(".installed");
            if !ready.exists() {
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&dir)
                    .status()
                    .expect("python3 runs (install python3 and python3-venv)");
                assert!(made.success(), "python3 -m venv {}", dir.display());
                let installed = Command::new(&python)
                    .args(["-m", "pip", "install", "--quiet", PACKAGE])
                    .status()
                    .expect("pip runs");
                assert!(installed.success(), "pip install {PACKAGE}");
                std::fs::write(&ready, PACKAGE).expect("mark the venv ready");
            }
            python
        })
        .clone()
}

/// Each request as the official library reads it: its verified payload, or `{"error": ...}`.
pub fn verify(secret: &str, requests: &[Received]) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/outbound/verify.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the verifier starts");
    {
        let mut stdin = child.stdin.take().expect("stdin");
        for request in requests {
            let line = json!({"secret": secret, "headers": request.headers, "body": request.body});
            writeln!(stdin, "{line}").expect("write to the verifier");
        }
    }
    let output = child.wait_with_output().expect("the verifier ends");
    assert!(output.status.success(), "the verifier failed");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(|line| serde_json::from_str(line).expect("json line"))
        .collect()
}
