use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::*;

/// `leadhook-server simulate --graph` against a running server: the leads it reports sending are
/// the leads the server stores.
#[tokio::test]
async fn simulate_produces_the_leads_it_reports() {
    let graph_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(
        spawn_graph().await,
        tempfile::tempdir().unwrap(),
        |config| {
            config.graph_url = format!("http://{graph_addr}");
            config.page_access_token = "sim-page-token-1".to_string().into();
        },
    )
    .await;
    let mut simulate = Command::new(server_binary())
        .args([
            "simulate",
            "--count",
            "5",
            "--rate",
            "20",
            "--seed",
            "42",
            "--graph-token",
            "sim-page-token-1",
        ])
        .args([
            "--url",
            &app.url("/webhook"),
            "--graph",
            &graph_addr.to_string(),
        ])
        .env_clear()
        .env("FB_APP_SECRET", APP_SECRET)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = simulate.stdout.take().unwrap();
    let reported = tokio::task::spawn_blocking(move || {
        let mut names = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.starts_with("sent ") {
                assert!(line.ends_with("→ 200"), "{line}");
                let name = line
                    .split_once(" (")
                    .unwrap()
                    .1
                    .rsplit_once(") →")
                    .unwrap()
                    .0
                    .to_string();
                names.push(name);
            }
            if line.starts_with("serving lead details") {
                break;
            }
        }
        names
    })
    .await
    .unwrap();
    assert_eq!(reported.len(), 5, "{reported:?}");

    let leads = app.wait_for_leads(5).await;
    let _ = Command::new("kill")
        .arg("-INT")
        .arg(simulate.id().to_string())
        .status();
    let status = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::task::spawn_blocking(move || simulate.wait()),
    )
    .await
    .expect("simulate stops on Ctrl-C")
    .unwrap()
    .unwrap();
    assert!(status.success(), "{status:?}");

    let mut stored: Vec<String> = leads.iter().map(|l| l.display_name()).collect();
    let mut reported = reported;
    stored.sort();
    reported.sort();
    assert_eq!(stored, reported);
    assert!(
        leads
            .iter()
            .all(|l| l.meta.form_id.is_some() && !l.meta.fields.is_empty())
    );
}
