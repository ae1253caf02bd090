//! Issue 11 items 8, 9 and 11: secrets stay out of logs, files stay private, and the
//! unauthenticated health check tells only status and counts.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use leadhook_sim::harness::ServerProcess;
use serde_json::Value;

use crate::helpers::*;

/// With `RUST_LOG=debug`, the real server logs each request by its path, never its query string
/// (the verify token). A process of its own: in-process, another test's server can leave
/// tracing's per-callsite cache saying the request span is never wanted.
#[tokio::test]
async fn debug_logs_carry_paths_without_query_strings() {
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut env = settings().env(&graph.base_url(), data_dir.path());
    env.push(("RUST_LOG", "debug".into()));
    let server = ServerProcess::start(&server_binary(), env)
        .await
        .expect("leadhook-server starts with debug logs");
    let client = reqwest::Client::new();
    let base = server.base_url();
    let handshake = format!(
        "{base}/webhook?hub.mode=subscribe&hub.challenge=4242&hub.verify_token={VERIFY_TOKEN}"
    );
    assert_eq!(client.get(handshake).send().await.unwrap().status(), 200);
    let wrong = format!(
        "{base}/webhook?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guessed-secret"
    );
    assert_eq!(client.get(wrong).send().await.unwrap().status(), 403);

    let (_, logged) = server.terminate().await.expect("server stops");
    assert!(
        logged.contains("path=/webhook"),
        "the request was not logged:\n{logged}"
    );
    assert!(
        !logged.contains(VERIFY_TOKEN),
        "the verify token is in the log:\n{logged}"
    );
    assert!(
        !logged.contains("guessed-secret"),
        "a guessed token is in the log:\n{logged}"
    );
    assert!(
        !logged.contains("hub.challenge"),
        "a query string is in the log:\n{logged}"
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Even with umask 0, the data directory is 0700 and the databases with their WAL files 0600.
#[tokio::test]
#[allow(unsafe_code)]
async fn the_data_dir_and_databases_are_private_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    // SAFETY: umask only changes this process's file creation mask; it is restored below.
    let previous = unsafe { libc::umask(0) };
    let app = spawn_app_with(spawn_graph().await, parent, {
        let data_dir = data_dir.clone();
        move |config| config.data_dir = data_dir
    })
    .await;
    unsafe { libc::umask(previous) };
    let created = app
        .client
        .post(app.url("/api/leads"))
        .bearer_auth(REP_TOKEN)
        .json(&serde_json::json!({"name": "Private", "phone": "+1555"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(app.post_signed(&notification(&["81"])).await.status(), 200);

    assert_eq!(mode(&data_dir), 0o700, "data dir");
    for name in [
        "leads.db",
        "leads.db-wal",
        "leads.db-shm",
        "inbox.db",
        "inbox.db-wal",
        "inbox.db-shm",
    ] {
        assert_eq!(mode(&data_dir.join(name)), 0o600, "{name}");
    }
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// `/healthz` answers anyone with status and counts only; the last webhook time and the Graph
/// API's state and messages are in the authenticated `/api/health`.
#[tokio::test]
async fn healthz_tells_status_and_counts_only() {
    let app = spawn_app().await;
    assert_eq!(app.post_signed(&notification(&["91"])).await.status(), 200);

    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let public: Value = response.json().await.unwrap();
    assert_eq!(keys(&public), ["inbox", "ok", "store"], "{public}");
    assert_eq!(keys(&public["store"]), ["backend", "state"], "{public}");
    assert_eq!(keys(&public["inbox"]), ["failed", "pending"], "{public}");
    assert_eq!(public["store"]["state"], "ok");

    let detailed = app.health().await;
    assert!(detailed["last_webhook_at"].is_string(), "{detailed}");
    assert!(detailed["graph"]["state"].is_string(), "{detailed}");
    assert_eq!(
        app.client
            .get(app.url("/api/health"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
