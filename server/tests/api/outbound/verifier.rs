//! The official Standard Webhooks verifier (`standardwebhooks` from PyPI, pinned), in its venv
//! (see [`super::pyvenv`]).

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::pyvenv::python;
use super::receiver::Received;

const PACKAGE: &str = "standardwebhooks==1.3.0";

/// Each request as the official library reads it: its verified payload, or `{"error": ...}`.
pub fn verify(secret: &str, requests: &[Received]) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/outbound/verify.py");
    let mut child = Command::new(python(PACKAGE))
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
