//! `leadhook-sim simulate --graph` against a running server: the leads it reports sending are
//! the leads the server stores.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use leadhook_server::config::Config;
use leadhook_server::intake::DEFAULT_RETRY;
use leadhook_sim::TestServer;
use leadhook_sim::harness::{TestSettings, wait_for_leads};
use tokio::net::{TcpListener, TcpStream};

const REP_TOKEN: &str = "sim-rep-token-1";
const GRAPH_TOKEN: &str = "sim-page-token-1";

fn settings() -> TestSettings {
    TestSettings {
        app_secret: "sim-app-secret".into(),
        verify_token: "sim-verify-token".into(),
        page_token: GRAPH_TOKEN.into(),
        api_tokens: format!("rep:{REP_TOKEN}"),
    }
}

#[tokio::test]
async fn simulate_produces_the_leads_it_reports() {
    // The server needs its Graph API address before `simulate` has one: it gets a port of this
    // test, which forwards to the stand-in once `simulate` says where that listens.
    let graph_door = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let settings = settings();
    let data_dir = tempfile::tempdir().unwrap();
    let graph_url = format!("http://{}", graph_door.local_addr().unwrap());
    let config = Config::from_args(settings.serve_args(&graph_url, data_dir.path())).unwrap();
    let server = TestServer::start(config, DEFAULT_RETRY).await.unwrap();

    let mut simulate = Command::new(env!("CARGO_BIN_EXE_leadhook-sim"))
        .args(["simulate", "--count", "5", "--rate", "20", "--seed", "42"])
        .args(["--graph-token", GRAPH_TOKEN, "--graph", "127.0.0.1:0"])
        .args(["--url", &format!("{}/webhook", server.base_url())])
        .env_clear()
        .env("FB_APP_SECRET", &settings.app_secret)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = simulate.stdout.take().unwrap();
    let (graph_tx, graph_rx) = tokio::sync::oneshot::channel();
    let printed = tokio::task::spawn_blocking(move || {
        let mut names = Vec::new();
        let mut graph_tx = Some(graph_tx);
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(url) = line.trim().strip_prefix("FB_GRAPH_URL=http://")
                && let Some(tx) = graph_tx.take()
            {
                let _ = tx.send(url.parse::<SocketAddr>().unwrap());
            }
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
    });
    let graph = tokio::time::timeout(Duration::from_secs(30), graph_rx)
        .await
        .expect("simulate prints FB_GRAPH_URL")
        .expect("simulate prints FB_GRAPH_URL");
    let forwarder = tokio::spawn(forward(graph_door, graph));

    let reported = printed.await.unwrap();
    assert_eq!(reported.len(), 5, "{reported:?}");
    let leads = wait_for_leads(
        &reqwest::Client::new(),
        &server.base_url(),
        REP_TOKEN,
        |leads| leads.len() >= 5,
    )
    .await;

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
    forwarder.abort();
    server.stop().await.unwrap();

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

/// Forwards every connection to `listener` to `target`.
async fn forward(listener: TcpListener, target: SocketAddr) {
    while let Ok((mut inbound, _)) = listener.accept().await {
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
