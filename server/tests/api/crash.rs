use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(graph_url: &str, data_dir: &std::path::Path, port: u16) -> Child {
    server_command(graph_url, data_dir, port)
        .stderr(Stdio::null())
        .spawn()
        .expect("start leadhook-server")
}

/// `leadhook-server serve` with the test settings and nothing else from the environment.
fn server_command(graph_url: &str, data_dir: &std::path::Path, port: u16) -> Command {
    let mut command = Command::new(server_binary());
    command
        .arg("serve")
        .env_clear()
        .env("FB_APP_SECRET", APP_SECRET)
        .env("FB_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("FB_PAGE_ACCESS_TOKEN", PAGE_TOKEN)
        .env("FB_GRAPH_URL", graph_url)
        .env("LEADHOOK_LISTEN", format!("127.0.0.1:{port}"))
        .env("LEADHOOK_DATA_DIR", data_dir)
        .env("LEADHOOK_API_TOKENS", format!("alice:{REP_TOKEN}"))
        .stdout(Stdio::null());
    command
}

async fn wait_until_up(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("leadhook-server did not come up at {base}");
}

/// The Graph API stalls, the webhook is acknowledged, the server is SIGKILLed and restarted on the
/// same data dir, the Graph API recovers: the lead arrives.
#[tokio::test]
async fn an_acknowledged_lead_survives_sigkill() {
    let graph = spawn_graph().await;
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("31337", &[("full_name", &["Crash Survivor"])]),
    );
    graph.stall();
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut server = start_server(&graph.base_url(), data_dir.path(), port);
    wait_until_up(&client, &base).await;
    let body = notification(&["31337"]);
    let response = client
        .post(format!("{base}/webhook"))
        .header(
            "x-hub-signature-256",
            leadhook_server::webhook::signature::sign(APP_SECRET.as_bytes(), &body),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The worker is now stuck on the stalled Graph call.
    for _ in 0..200 {
        if graph.lead_fetches() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();

    graph.release();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&graph.base_url(), data_dir.path(), port);
    wait_until_up(&client, &base).await;
    let mut names = Vec::new();
    for _ in 0..400 {
        let list: leadhook_shared::ApiList = client
            .get(format!("{base}/api/leads"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        names = list
            .data
            .iter()
            .filter_map(|l| l.meta.name.clone())
            .collect();
        if !names.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    server.kill().ok();
    server.wait().ok();
    assert_eq!(names, ["Crash Survivor"]);
}

/// SIGKILL in the middle of a burst of 1000 signed webhooks sent concurrently: every webhook that
/// got a 200 ends in the store after the restart.
#[tokio::test]
async fn every_acknowledged_webhook_of_a_burst_survives_sigkill() {
    let graph = spawn_graph().await;
    let ids: Vec<String> = (0..1000).map(|i| format!("91{i:05}")).collect();
    for id in &ids {
        graph.add_lead(
            PAGE_ID,
            FORM_ID,
            graph_lead(id, &[("full_name", &[&format!("Burst {id}")])]),
        );
    }
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = start_server(&graph.base_url(), data_dir.path(), port);
    wait_until_up(&client, &base).await;

    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut burst = tokio::task::JoinSet::new();
    for id in ids.clone() {
        let (client, base, acknowledged, sent) = (
            client.clone(),
            base.clone(),
            acknowledged.clone(),
            sent.clone(),
        );
        burst.spawn(async move {
            let body = notification(&[&id]);
            let signature = leadhook_server::webhook::signature::sign(APP_SECRET.as_bytes(), &body);
            let response = client
                .post(format!("{base}/webhook"))
                .header("x-hub-signature-256", signature)
                .body(body)
                .send()
                .await;
            sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if let Ok(response) = response
                && response.status() == 200
            {
                acknowledged.lock().unwrap().push(id);
            }
        });
    }
    // Kill once part of the burst is through.
    while sent.load(std::sync::atomic::Ordering::SeqCst) < 300 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    while burst.join_next().await.is_some() {}
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 250,
        "the burst was under way: {} acknowledged",
        acknowledged.len()
    );

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&graph.base_url(), data_dir.path(), port);
    wait_until_up(&client, &base).await;
    let mut stored = std::collections::BTreeSet::new();
    for _ in 0..600 {
        let list: leadhook_shared::ApiList = client
            .get(format!("{base}/api/leads?limit=1000"))
            .bearer_auth(REP_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored = list
            .data
            .iter()
            .filter_map(|l| l.leadgen_id.clone())
            .collect();
        if acknowledged.iter().all(|id| stored.contains(id)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill().ok();
    server.wait().ok();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged leads lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

/// SIGTERM stops the server cleanly: exit status 0, and it says so.
#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let client = reqwest::Client::new();
    let mut server = server_command(&graph.base_url(), data_dir.path(), port)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until_up(&client, &format!("http://127.0.0.1:{port}")).await;
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || {
        let status = server.wait().unwrap();
        let mut log = String::new();
        std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut log).unwrap();
        (status, log)
    })
    .await
    .unwrap();
    assert!(
        output.0.success(),
        "exit status {:?}\n{}",
        output.0,
        output.1
    );
    assert!(output.1.contains("shutting down"), "{}", output.1);
    assert!(
        !output.1.contains(APP_SECRET) && !output.1.contains(PAGE_TOKEN),
        "no secrets in logs"
    );
}
