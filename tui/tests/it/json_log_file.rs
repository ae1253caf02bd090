//! `LEADHOOK_LOG_FORMAT=json` makes the dashboard's log file one JSON object a line.

use std::process::{Command, Stdio};
use std::time::Duration;

use leadhook_sim::harness::poll_until;

#[tokio::test]
async fn every_line_of_a_json_log_file_parses_as_json() {
    let home = tempfile::tempdir().unwrap();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // Nothing listens there once the listener is dropped: watch logs its failed polls.
    let mut watch = Command::new(env!("CARGO_BIN_EXE_leadhook"))
        .args(["--interval", "100ms", "--no-notify", "watch"])
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("LEADHOOK_SERVER", format!("http://{closed_port}"))
        .env("LEADHOOK_LOG_FORMAT", "json")
        .env("LEADHOOK_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("leadhook watch starts");
    let log_file = home.path().join("cache/leadhook/leadhook.log");
    let read_log = || async { std::fs::read_to_string(&log_file).unwrap_or_default() };
    // Two failed polls logged: watch has been through its loop, Ctrl-C handler included.
    let failed_polls = |log: &String| log.matches("poll failed").count() >= 2;
    let log = poll_until(Duration::from_secs(20), read_log, failed_polls).await;
    assert!(failed_polls(&log), "watch logged no failed polls:\n{log}");
    // Ctrl-C: watch stops cleanly and flushes its log.
    let interrupted = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = watch.wait().unwrap();
    assert!(status.success(), "{status}");

    let log = std::fs::read_to_string(&log_file).expect("the log file exists");
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect();
    for event in &events {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(event[key].is_string(), "no {key} in {event}");
        }
    }
    assert!(
        events
            .iter()
            .any(|event| event["message"] == "leadhook exits"),
        "{log}"
    );
}
