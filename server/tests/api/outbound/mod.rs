//! Outgoing webhooks end to end: the real server's outbox sends each event to a receiver on a
//! local port, and the official Standard Webhooks library (PyPI's `standardwebhooks`, not our
//! code) verifies every request that arrived. Faults: a 500, a hang past the timeout, a SIGKILL
//! mid-send, and a destination that never answers well.

mod channels_test;
mod chat;
mod email;
mod email_tls;
mod first_message;
mod follow_up_events;
mod kill;
mod ntfy;
mod ntfy_standin;
pub(crate) mod pyvenv;
mod receiver;
pub(crate) mod smtp;
pub(crate) mod standins;
mod verifier;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use leadhook_sim::ServerProcess;
use leadhook_sim::harness::poll_until;
use serde_json::{Value, json};

use crate::helpers::{
    FORM_ID, PAGE_ID, REP_TOKEN, TestApp, graph_lead, notification, post_signed, server_binary,
    settings, spawn_app_from_args, spawn_graph,
};
use receiver::{Answer, Receiver};

/// A secret written as Standard Webhooks writes them (`whsec_` and the base64 of the key).
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Markup, a quote that would end a JSON string, a newline, control characters and a mention.
const HOSTILE_NAME: &str = "Jane \"}, \"type\": \"forged\" <b>@channel</b>\n\u{7}\u{1b}[31m";

/// Lead text at its worst for chat and e-mail: mentions, links in Slack's and Markdown's syntax,
/// markup, a script, a line break that would start a mail header, control characters.
const HOSTILE_CHAT_NAME: &str = "<!channel> <@U123> <https://evil.example|x> *bold* \
    [x](http://evil.example) <script>alert(1)</script> & @here\r\nBcc: evil@example.com\u{7}\u{1b}[31m\u{202e}";
/// [`HOSTILE_CHAT_NAME`] as every message shows it: one line, the controls gone, nothing else
/// changed (each medium escapes it; what a reader sees is this).
const HOSTILE_CHAT_SHOWN: &str = "<!channel> <@U123> <https://evil.example|x> *bold* \
    [x](http://evil.example) <script>alert(1)</script> & @here  Bcc: evil@example.com[31m";

/// A file only its owner may read, holding `secret`.
fn secret_file(dir: &Path, name: &str, secret: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, secret).expect("write the secret");
    set_private(&path);
    path
}

/// A channels file in `dir` with one webhook, `crm`, to `url`, its secret in a private file.
fn channels_file(dir: &Path, url: &str, extra: &str) -> PathBuf {
    let secret = secret_file(dir, "crm-secret", SECRET);
    write_channels(
        dir,
        &format!(
            "[webhooks.crm]\nurl = \"{url}\"\nsecret_file = \"{}\"\n\
             events = [\"lead.created\", \"lead.status_changed\"]\n{extra}",
            secret.display()
        ),
    )
}

/// The real server as a child process on `data_dir` with the channels file at `channels`, and
/// the environment it was started with (to start it again after a kill).
async fn process_with_channels(
    graph: &leadhook_sim::GraphStandin,
    data_dir: &Path,
    channels: &Path,
) -> (ServerProcess, Vec<(&'static str, String)>) {
    let mut env = settings().env(&graph.base_url(), data_dir);
    env.push(("LEADHOOK_CHANNELS", channels.display().to_string()));
    let server = ServerProcess::start(&server_binary(), env.clone())
        .await
        .expect("start");
    (server, env)
}

fn write_channels(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("channels.toml");
    std::fs::write(&path, text).expect("write the channels file");
    path
}

fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
}

async fn spawn_with_channels(receiver: &Receiver, extra: &str) -> (TestApp, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().expect("dir");
    let path = channels_file(config_dir.path(), &receiver.url, extra);
    (spawn_with_file(path).await, config_dir)
}

/// The real server (port 0) with the channels file at `path`.
async fn spawn_with_file(path: PathBuf) -> TestApp {
    spawn_app_from_args(
        spawn_graph().await,
        tempfile::tempdir().expect("dir"),
        |args| args.channels = Some(path),
        |_| {},
    )
    .await
}

/// Puts lead `leadgen_id` named `name` on the Graph stand-in and announces it.
async fn new_lead(app: &TestApp, leadgen_id: &str, name: &str) -> leadhook_shared::Lead {
    app.graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead(
            leadgen_id,
            &[("full_name", &[name]), ("phone_number", &["+15551234567"])],
        ),
    );
    app.deliver_first(leadgen_id).await
}

/// The requests grouped by `webhook-id`, in arrival order.
fn by_id(received: &[receiver::Received]) -> BTreeMap<String, Vec<receiver::Received>> {
    let mut grouped: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for request in received {
        grouped
            .entry(request.id().to_string())
            .or_default()
            .push(request.clone());
    }
    grouped
}

async fn wait_for_delivered(receiver: &Receiver, ids: usize) -> Vec<receiver::Received> {
    poll_until(
        Duration::from_secs(30),
        || async { receiver.delivered() },
        |delivered| by_id(delivered).len() >= ids,
    )
    .await
}

#[tokio::test]
async fn each_event_arrives_once_by_id_signed_as_the_official_verifier_expects() {
    // Every first attempt fails: each event is sent twice, with one id.
    let receiver = Receiver::spawn(|seen| Answer::Status(if seen == 1 { 500 } else { 200 })).await;
    let (app, _config) = spawn_with_channels(&receiver, "").await;
    let lead = new_lead(&app, "1234567890123401", HOSTILE_NAME).await;
    let answer = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&json!({"status": "Contacted"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(answer.status(), 200);

    let delivered = wait_for_delivered(&receiver, 2).await;
    let health = app
        .wait_for_health(|h| h["outbox"]["destinations"]["crm"]["sent_today"] == 2)
        .await;
    let crm = &health["outbox"]["destinations"]["crm"];
    assert_eq!(
        (
            crm["sent_today"].as_u64(),
            crm["queued"].as_u64(),
            crm["failed"].as_u64()
        ),
        (Some(2), Some(0), Some(0)),
        "{health:#}"
    );
    assert_eq!(by_id(&delivered).len(), 2, "two events: {delivered:#?}");
    let received = receiver.received();
    for (id, attempts) in by_id(&received) {
        let answers: Vec<_> = attempts.iter().map(|a| a.answered).collect();
        assert_eq!(
            answers,
            [Some(500), Some(200)],
            "{id}: delivered once after one failure"
        );
    }

    let verified = verifier::verify(SECRET, &received);
    assert_eq!(verified.len(), received.len());
    for payload in &verified {
        assert!(payload.get("error").is_none(), "refused: {payload}");
        assert_eq!(payload["data"]["lead"]["id"], lead.id);
        assert_eq!(
            payload["data"]["lead"]["name"], HOSTILE_NAME,
            "the name arrives as text: {payload}"
        );
    }
    let types: BTreeSet<&str> = verified.iter().filter_map(|p| p["type"].as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from(["lead.created", "lead.status_changed"])
    );
    let statuses: BTreeSet<&str> = verified
        .iter()
        .filter_map(|p| p["data"]["status"].as_str())
        .collect();
    assert_eq!(statuses, BTreeSet::from(["New Lead", "Contacted"]));

    // The lead's details say where its events went: both sent to crm, after two attempts each.
    let deliveries: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/leads/{}/deliveries", lead.id)))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .expect("deliveries")
        .json()
        .await
        .expect("json");
    let seen: Vec<(&str, &str, &str, u64)> = deliveries["data"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| {
            (
                d["destination"].as_str().unwrap_or_default(),
                d["event_type"].as_str().unwrap_or_default(),
                d["state"].as_str().unwrap_or_default(),
                d["attempts"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("crm", "lead.status_changed", "sent", 2),
            ("crm", "lead.created", "sent", 2)
        ],
        "{deliveries:#}"
    );
    let unknown = app
        .client
        .get(app.url("/api/leads/999999/deliveries"))
        .bearer_auth(REP_TOKEN)
        .send()
        .await
        .expect("deliveries");
    assert_eq!(unknown.status(), 404);
    let anonymous = app
        .client
        .get(app.url(&format!("/api/leads/{}/deliveries", lead.id)))
        .send()
        .await
        .expect("deliveries");
    assert_eq!(anonymous.status(), 401);

    // The verifier does check: a changed body or another secret is refused.
    let mut tampered = received[0].clone();
    tampered.body = tampered
        .body
        .replacen("New Lead", "Won", 1)
        .replacen("Contacted", "Won", 1);
    let refused = verifier::verify(SECRET, &[tampered]);
    assert!(refused[0].get("error").is_some(), "{refused:?}");
    let other = verifier::verify("whsec_QmFkU2VjcmV0QmFkU2VjcmV0QmFkU2VjcmV0", &received[..1]);
    assert!(other[0].get("error").is_some(), "{other:?}");
}

#[tokio::test]
async fn a_receiver_that_hangs_past_the_timeout_gets_the_delivery_again_with_its_id() {
    let receiver = Receiver::spawn(|seen| {
        if seen == 1 {
            Answer::Hang(Duration::from_secs(30))
        } else {
            Answer::Status(204)
        }
    })
    .await;
    let (app, _config) = spawn_with_channels(&receiver, "timeout = \"500ms\"\n").await;
    new_lead(&app, "1234567890123402", "Jane Doe").await;
    let delivered = wait_for_delivered(&receiver, 1).await;
    assert_eq!(delivered.len(), 1, "{:#?}", receiver.received());
    let received = receiver.received();
    assert_eq!(
        received.len(),
        2,
        "one hung attempt, one delivery: {received:#?}"
    );
    assert_eq!(received[0].id(), received[1].id());
    assert_eq!(received[0].answered, None);
    let verified = verifier::verify(SECRET, &received);
    assert!(
        verified.iter().all(|p| p["type"] == "lead.created"),
        "{verified:?}"
    );
}

#[tokio::test]
async fn a_dead_destination_ends_dead_lettered_and_visible_while_leads_keep_coming() {
    let receiver = Receiver::spawn(|_| Answer::Status(503)).await;
    let (app, _config) = spawn_with_channels(&receiver, "expire_after = \"2s\"\n").await;
    let lead = new_lead(&app, "1234567890123403", "Jane Doe").await;
    let health = app
        .wait_for_health(|h| h["outbox"]["destinations"]["crm"]["failed"] == 1)
        .await;
    let crm = &health["outbox"]["destinations"]["crm"];
    assert_eq!(crm["failed"], 1, "{health:#}");
    assert_eq!(crm["queued"], 0, "{health:#}");
    let failure = &crm["recent_failures"][0];
    assert_eq!(failure["lead_id"], lead.id);
    let reason = failure["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("gave up after") && reason.contains("503"),
        "{reason}"
    );
    assert!(receiver.received().len() >= 2, "retried before giving up");
    assert_eq!(
        app.metric("leadhook_outbox_dead{destination=\"crm\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.metric("leadhook_outbox_pending{destination=\"crm\"}")
            .await,
        0.0
    );
    assert!(
        app.metric("leadhook_outbox_deliveries_total{destination=\"crm\",outcome=\"dead\"}")
            .await
            >= 1.0
    );
}

#[tokio::test]
async fn a_server_killed_mid_send_sends_the_delivery_again_with_the_same_id() {
    let receiver = Receiver::spawn(|_| Answer::Hang(Duration::from_secs(120))).await;
    let graph = spawn_graph().await;
    graph.add_lead(
        PAGE_ID,
        FORM_ID,
        graph_lead("1234567890123404", &[("full_name", &["Jane Doe"])]),
    );
    let data_dir = tempfile::tempdir().expect("dir");
    let config_dir = tempfile::tempdir().expect("dir");
    let path = channels_file(config_dir.path(), &receiver.url, "timeout = \"1s\"\n");
    let (server, env) = process_with_channels(&graph, data_dir.path(), &path).await;
    let client = reqwest::Client::new();
    let answer = post_signed(
        &client,
        &server.base_url(),
        notification(&["1234567890123404"]),
    )
    .await
    .expect("webhook");
    assert_eq!(answer.status(), 200);
    let seen = poll_until(
        Duration::from_secs(30),
        || async { receiver.received().len() },
        |&n| n >= 1,
    )
    .await;
    assert_eq!(seen, 1, "{}", server.log());
    server.kill().expect("SIGKILL");

    receiver.answer_with(|_| Answer::Status(200));
    let server = ServerProcess::start(&server_binary(), env)
        .await
        .expect("restart");
    let delivered = wait_for_delivered(&receiver, 1).await;
    assert_eq!(delivered.len(), 1, "{}", server.log());
    let received = receiver.received();
    assert_eq!(
        received[0].id(),
        delivered[0].id(),
        "the same webhook-id after the restart"
    );
    let stamp = |r: &receiver::Received| r.headers["webhook-timestamp"].parse::<i64>().unwrap();
    assert!(
        stamp(&delivered[0]) > stamp(&received[0]),
        "each attempt is signed afresh"
    );
    let verified = verifier::verify(SECRET, &received);
    assert!(
        verified.iter().all(|p| p.get("error").is_none()),
        "{verified:?}"
    );
    let _: Vec<Value> = verified;
}
