//! One server per data dir: a second `leadhook-server serve` on the same `LEADHOOK_DATA_DIR`
//! refuses to start, and says which process holds it.

use std::time::Duration;

use leadhook_sim::harness::{ANY_LOOPBACK_PORT, ServerProcess};

use crate::helpers::*;

#[tokio::test]
async fn a_second_server_on_one_data_dir_exits_with_the_holders_pid() {
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = settings().env(&graph.base_url(), data_dir.path());
    let first = ServerProcess::start(&server_binary(), env.clone())
        .await
        .expect("the first server starts");
    let first_pid = first.pid().expect("running");

    let second = tokio::process::Command::new(server_binary())
        .arg("serve")
        .env_clear()
        .envs(env)
        .env("LEADHOOK_LISTEN", ANY_LOOPBACK_PORT)
        .kill_on_drop(true)
        .output();
    let second = tokio::time::timeout(Duration::from_secs(20), second)
        .await
        .expect("the second server exits instead of serving")
        .expect("the second server runs");
    assert!(!second.status.success(), "{:?}", second.status);
    let stderr = String::from_utf8_lossy(&second.stderr);
    let error_lines: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("error:"))
        .collect();
    assert_eq!(error_lines.len(), 1, "{stderr}");
    let error = error_lines[0];
    assert!(error.contains(&format!("pid {first_pid}")), "{error}");
    assert!(
        error.contains(&data_dir.path().display().to_string()),
        "{error}"
    );
    assert!(
        !stderr.contains("leadhook-server ready"),
        "the second server must not start serving: {stderr}"
    );

    let health = reqwest::get(format!("{}/healthz", first.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "the first server keeps running");
    first.kill().unwrap();
}
