use std::collections::BTreeSet;

use leadhook_sim::harness::ServerProcess;
use serde_json::Value;

use crate::helpers::*;

/// The real server with JSON logs, the per-request lines (debug) included, and what it needs
/// kept alive: its Graph API stand-in and its data dir.
async fn json_logging_server() -> (ServerProcess, leadhook_sim::GraphStandin, tempfile::TempDir) {
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let mut env = settings().env(&graph.base_url(), data_dir.path());
    env.push(("LEADHOOK_LOG_FORMAT", "json".into()));
    env.push(("RUST_LOG", "info,tower_http=debug".into()));
    let server = ServerProcess::start(&server_binary(), env)
        .await
        .expect("leadhook-server starts with JSON logs");
    (server, graph, data_dir)
}

/// With `LEADHOOK_LOG_FORMAT=json` every line the real server writes is one JSON object with
/// timestamp, level, target and message; the lines logged while serving a request carry the id
/// the response returns as `X-Request-Id`; the query string stays out of the log.
#[tokio::test]
async fn every_json_log_line_parses_and_request_lines_carry_the_request_id() {
    let (server, _graph, _data_dir) = json_logging_server().await;
    let client = reqwest::Client::new();
    let base = server.base_url();
    let responses = [
        client.get(format!("{base}/healthz")).send().await.unwrap(),
        client
            .get(format!("{base}/api/leads"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .unwrap(),
        client
            .get(format!(
                "{base}/webhook?hub.mode=subscribe&hub.challenge=7&hub.verify_token={VERIFY_TOKEN}"
            ))
            .send()
            .await
            .unwrap(),
        post_signed(&client, &base, notification(&["424242"]))
            .await
            .unwrap(),
    ];
    let request_ids: BTreeSet<String> = responses
        .iter()
        .map(|response| {
            assert!(response.status().is_success(), "{}", response.status());
            response
                .headers()
                .get("x-request-id")
                .expect("every response has X-Request-Id")
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(request_ids.len(), responses.len(), "one id per request");

    let (status, log) = server.terminate().await.expect("server stops");
    assert!(status.success(), "{status}\n{log}");
    assert!(
        !log.contains(VERIFY_TOKEN),
        "the query string is not logged:\n{log}"
    );
    let mut logged_ids = BTreeSet::new();
    let mut lines = 0;
    for line in log.lines().filter(|line| !line.trim().is_empty()) {
        lines += 1;
        let event: Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(event[key].is_string(), "no {key} in {line}");
        }
        if let Some(span) = event.get("span").filter(|span| span["name"] == "request") {
            let id = span["request_id"]
                .as_str()
                .unwrap_or_else(|| panic!("request line without request_id: {line}"));
            assert!(request_ids.contains(id), "unknown request id in {line}");
            logged_ids.insert(id.to_string());
        }
    }
    assert!(lines >= 3, "the server logged: {log}");
    assert_eq!(
        logged_ids, request_ids,
        "every request was logged with its id"
    );
}

/// The line logged for each `/api` request names the rep whose token it carried and the client
/// address.
#[tokio::test]
async fn api_request_lines_name_the_rep_and_the_client_address() {
    let (server, _graph, _data_dir) = json_logging_server().await;
    let answer = reqwest::Client::new()
        .get(format!("{}/api/leads", server.base_url()))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let (_, log) = server.terminate().await.expect("server stops");
    let finished: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| {
            event["message"] == "finished processing request"
                && event["span"]["path"] == "/api/leads"
        })
        .collect();
    assert_eq!(finished.len(), 1, "{log}");
    assert_eq!(finished[0]["span"]["rep"], "alice", "{log}");
    assert_eq!(finished[0]["span"]["client"], "127.0.0.1", "{log}");
}
