//! The `simulate` command: its flags, what it sends (signed, to a test receiver), what its Graph
//! API stand-in serves afterwards, and how it fails.

use clap::Parser;
use leadhook_shared::meta::{GRAPH_LEAD_FIELDS, GraphLead, parse_graph_lead, parse_notification};

use super::*;
use crate::test_receiver::{Receiver, closed_port_url};
use leadhook_shared::meta::signature::verify;

const SECRET: &str = "s3cret-app-secret";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    simulate: SimulateArgs,
}

fn args(url: &str, extra: &[&str]) -> SimulateArgs {
    let base = [
        "simulate", "--url", url, "--secret", SECRET, "--rate", "1000", "--seed", "5",
    ];
    Cli::try_parse_from(base.iter().chain(extra))
        .unwrap()
        .simulate
}

#[test]
fn parses_the_documented_flags() {
    let parsed = Cli::try_parse_from([
        "simulate",
        "--url",
        "http://h/webhook",
        "--secret",
        SECRET,
        "--count",
        "3",
        "--rate",
        "0.5",
        "--field",
        "budget=5000",
        "--field",
        "topics=A=B",
        "--page-id",
        "1",
        "--form-id",
        "2",
        "--graph",
        "127.0.0.1:9090",
        "--graph-token",
        "tok",
    ])
    .unwrap()
    .simulate;
    assert_eq!((parsed.count, parsed.rate), (3, 0.5));
    assert_eq!(
        parsed.fields,
        [
            ("budget".into(), "5000".into()),
            ("topics".into(), "A=B".into())
        ]
    );
    assert_eq!(
        (parsed.page_id.as_str(), parsed.form_id.as_deref()),
        ("1", Some("2"))
    );
    assert_eq!(parsed.graph, Some("127.0.0.1:9090".parse().unwrap()));
    assert!(!format!("{parsed:?}").contains(SECRET));

    let defaults = args("http://h/webhook", &[]);
    assert_eq!(
        (defaults.count, defaults.page_id.as_str(), defaults.graph),
        (10, DEFAULT_PAGE_ID, None)
    );
    for bad in [
        &["--field", "novalue"][..],
        &["--field", "=x"],
        &["--graph-token", "t"],
    ] {
        let parsed = Cli::try_parse_from(
            ["simulate", "--url", "u", "--secret", "s"]
                .iter()
                .chain(bad),
        );
        assert!(parsed.is_err(), "{bad:?}");
    }
}

#[tokio::test]
async fn sends_signed_leads_and_counts_answers() {
    let receiver = Receiver::spawn().await;
    receiver.answer_with([StatusCode::OK, StatusCode::FORBIDDEN]);
    let summary = run_until(
        args(&receiver.url(), &["--count", "4"]),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(
        summary,
        SimulateSummary {
            sent: 4,
            accepted: 3,
            rejected: 1,
            failed: 0,
            graph_url: None
        }
    );
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    for webhook in &received {
        let signature = webhook.signature.as_deref().map(str::as_bytes);
        assert_eq!(verify(SECRET.as_bytes(), signature, &webhook.body), Ok(()));
        let events = parse_notification(&webhook.body).unwrap().events;
        assert_eq!(events[0].page_id.as_deref(), Some(DEFAULT_PAGE_ID));
    }
}

#[tokio::test]
async fn serves_the_sent_leads_on_the_graph_standin() {
    let receiver = Receiver::spawn().await;
    let simulate = args(
        &receiver.url(),
        &[
            "--count",
            "3",
            "--graph",
            "127.0.0.1:0",
            "--graph-token",
            "page-tok",
            "--page-id",
            "42",
            "--form-id",
            "4242",
            "--field",
            "budget=Über 9000",
            "--field",
            "topics=A",
            "--field",
            "topics=B",
        ],
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let simulation = Simulation::start(simulate).await.unwrap();
    let graph_url = simulation.graph_url().expect("--graph serves");
    let run = tokio::spawn(simulation.run_until(async move {
        let _ = stopped.await;
    }));
    while receiver.received().len() < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let http = reqwest::Client::new();
    for webhook in receiver.received() {
        let event = parse_notification(&webhook.body).unwrap().events.remove(0);
        assert_eq!(
            (event.page_id.as_deref(), event.form_id.as_deref()),
            (Some("42"), Some("4242"))
        );
        let body = http
            .get(format!("{graph_url}/v23.0/{}", event.leadgen_id))
            .query(&[("fields", GRAPH_LEAD_FIELDS), ("access_token", "page-tok")])
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let lead = parse_graph_lead(GraphLead::from_json(&body).unwrap(), Utc::now()).unwrap();
        assert_eq!(lead.leadgen_id, event.leadgen_id);
        assert_eq!(lead.meta.fields["budget"].text(), "Über 9000");
        assert_eq!(lead.meta.fields["topics"].text(), "A, B");
        assert!(lead.meta.name.is_some());
    }
    assert!(!run.is_finished(), "the stand-in stays up until stopped");
    stop.send(()).unwrap();
    let summary = run.await.unwrap().unwrap();
    assert_eq!((summary.sent, summary.accepted), (3, 3));
    assert_eq!(summary.graph_url.as_ref(), Some(&graph_url));
    assert!(
        http.get(format!("{graph_url}/v23.0/me"))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn stops_at_once_when_the_server_is_down() {
    let url = closed_port_url().await;
    let error = run_until(args(&url, &[]), std::future::pending())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("is leadhook-server running at {url}?")),
        "{error}"
    );
}

#[tokio::test]
async fn rejects_a_bad_rate_or_empty_secret() {
    let mut simulate = args("http://127.0.0.1:9/webhook", &[]);
    simulate.rate = 0.0;
    assert!(matches!(
        run_until(simulate.clone(), std::future::pending()).await,
        Err(SimulateError::InvalidRate(_))
    ));
    simulate.rate = 1.0;
    simulate.secret = SecretString::from("");
    assert!(matches!(
        run_until(simulate, std::future::pending()).await,
        Err(SimulateError::EmptySecret)
    ));
}
