//! Issue 11 items 1 and 2: nobody can take /webhook down with big, slow or many requests.

use std::time::Duration;

use leadhook_server::webhook::signature::sign;
use leadhook_sim::harness::ServerProcess;
use tokio::io::AsyncWriteExt as _;

use crate::helpers::*;
use crate::raw_http::*;

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn an_oversized_announced_body_is_refused_before_it_is_read() {
    let app = spawn_app().await;
    let mut stream = webhook_head(&app, Some(64 * MIB as u64), Some(WELL_FORMED_SIGNATURE)).await;
    stream.write_all(&vec![b' '; 64 * 1024]).await.unwrap();
    assert_eq!(
        status_within(&mut stream, Duration::from_secs(2)).await,
        Some(413)
    );
}

#[tokio::test]
async fn a_missing_or_malformed_signature_is_refused_before_the_body() {
    let app = spawn_app().await;
    for signature in [None, Some("sha256=zz"), Some("sha1=0123456789abcdef")] {
        let mut stream = webhook_head(&app, Some(1000), signature).await;
        assert_eq!(
            status_within(&mut stream, Duration::from_secs(2)).await,
            Some(403),
            "signature {signature:?}"
        );
    }
}

#[tokio::test]
async fn a_body_that_never_finishes_is_cut_off() {
    let app = spawn_app().await;
    let mut stream = webhook_head(&app, Some(1000), Some(WELL_FORMED_SIGNATURE)).await;
    stream.write_all(b"{\"object\":").await.unwrap();
    // The whole body must arrive within 10 s; allow a margin for a busy machine.
    assert_eq!(
        status_within(&mut stream, Duration::from_secs(15)).await,
        Some(408)
    );
}

/// Meta's largest batch (1,000 changes) fits; a chunked body past 1 MiB does not.
#[tokio::test]
async fn webhook_bodies_fit_meta_batches_and_no_more() {
    let app = spawn_app().await;
    let ids: Vec<String> = (0..1000).map(|i| format!("9{i:014}")).collect();
    let batch = notification(&ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        batch.len() < MIB,
        "a 1,000-change batch is {} bytes",
        batch.len()
    );
    assert_eq!(app.post_signed(&batch).await.status(), 200);

    let padded = format!(
        r#"{{"object":"page","entry":[],"padding":"{}"}}"#,
        "x".repeat(MIB)
    );
    let mut stream = webhook_head(
        &app,
        None,
        Some(&sign(APP_SECRET.as_bytes(), padded.as_bytes())),
    )
    .await;
    for chunk in padded.as_bytes().chunks(64 * 1024) {
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let refused = status_within(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(refused, Some(413));
}

/// Stalled large bodies hold at most a fixed budget of memory: past it, large webhooks get 503 at
/// once (Meta retries), small ones are still accepted, and once the stalled ones are gone large
/// ones are accepted again.
#[tokio::test]
async fn buffered_webhook_bytes_are_capped_across_requests() {
    let app = spawn_app().await;
    let mut holders = Vec::new();
    let mut overloaded = false;
    for _ in 0..64 {
        let mut stream = webhook_head(&app, Some(MIB as u64), Some(WELL_FORMED_SIGNATURE)).await;
        stream.write_all(b"{").await.unwrap();
        match status_within(&mut stream, Duration::from_millis(300)).await {
            Some(503) => {
                overloaded = true;
                break;
            }
            Some(other) => panic!("a stalled 1 MiB body was answered {other}"),
            None => holders.push(stream),
        }
    }
    assert!(
        overloaded,
        "{} stalled 1 MiB bodies were all admitted",
        holders.len()
    );
    // Meta's usual small deliveries need no share of the budget.
    assert_eq!(app.post_signed(&notification(&["60"])).await.status(), 200);
    drop(holders);
    let large: Vec<String> = (0..200).map(|i| format!("61{i:013}")).collect();
    let large = notification(&large.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(large.len() > 32 * 1024);
    // The dropped bodies give their share back as their connections close.
    let status = poll_until(
        Duration::from_secs(5),
        || async { app.post_signed(&large).await.status() },
        |&status| status == 200,
    )
    .await;
    assert_eq!(status, 200);
}

/// A connection that sends nothing, one that trickles a head, and one idle after a request are
/// all closed by the server.
#[tokio::test]
async fn idle_and_trickling_connections_are_closed() {
    let app = spawn_app().await;
    let mut silent = connect(&app).await;
    let mut trickling = connect(&app).await;
    trickling
        .write_all(b"POST /webhook HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut kept_alive = connect(&app).await;
    kept_alive
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let limit = Duration::from_secs(15);
    let (silent, trickling, kept_alive) = tokio::join!(
        closed_within(&mut silent, limit),
        closed_within(&mut trickling, limit),
        closed_within(&mut kept_alive, limit),
    );
    assert!(silent, "a silent connection stays open");
    assert!(trickling, "a trickled head keeps its connection");
    assert!(kept_alive, "an idle keep-alive connection stays open");
}

/// The server started as in production with a soft limit of 1,024 open files: 1,100 idle
/// connections do not stop a signed webhook from being answered within 1 s.
#[tokio::test]
async fn a_signed_webhook_is_answered_while_1100_connections_idle() {
    rlimit::increase_nofile_limit(4096).expect("raise this test's open-file limit");
    let graph = spawn_graph().await;
    let data_dir = tempfile::tempdir().unwrap();
    let env = settings().env(&graph.base_url(), data_dir.path());
    let server = ServerProcess::start_with_open_file_limit(&server_binary(), env, 1024)
        .await
        .expect("leadhook-server starts");
    let base = server.base_url();

    let address = socket_address(&base);
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(
            tokio::net::TcpStream::connect(&address)
                .await
                .expect("open an idle connection"),
        );
    }
    let body = notification(&["7001"]);
    let answer = tokio::time::timeout(
        Duration::from_secs(1),
        reqwest::Client::new()
            .post(format!("{base}/webhook"))
            .header("x-hub-signature-256", sign(APP_SECRET.as_bytes(), &body))
            .body(body)
            .send(),
    )
    .await;
    let status = match answer {
        Ok(Ok(response)) => response.status().as_u16(),
        Ok(Err(error)) => panic!("the webhook failed: {error}"),
        Err(_) => panic!("no answer within 1 s with 1,100 idle connections open"),
    };
    assert_eq!(status, 200);
    drop(idle);
    drop(server);
}

/// One rep's dashboards cannot hold every connection: the ninth stream of a token gets 429, and
/// other reps and Meta are still served.
#[tokio::test]
async fn event_streams_are_capped_per_token() {
    let app = spawn_app().await;
    let open_stream = |token: &'static str| {
        app.client
            .get(app.url("/api/events"))
            .bearer_auth(token)
            .send()
    };
    let mut streams = Vec::new();
    for _ in 0..8 {
        let response = open_stream(REP_TOKEN).await.unwrap();
        assert_eq!(response.status(), 200);
        streams.push(response);
    }
    let refused = open_stream(REP_TOKEN).await.unwrap();
    assert_eq!(refused.status(), 429);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("8"),
        "{body}"
    );
    assert_eq!(open_stream("bob-token-456").await.unwrap().status(), 200);
    assert_eq!(app.post_signed(&notification(&["62"])).await.status(), 200);
    drop(streams);
}
