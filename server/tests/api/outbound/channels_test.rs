//! `leadhook-server channels test` through the binary, against the chat stand-ins: what it
//! printed, its exit status, what arrived, and that no secret showed.

use std::process::Command;

use super::receiver::{Answer, Receiver};
use super::standins::{BOT_TOKEN, Fault, Service, StandIns};
use super::{SECRET, secret_file, verifier, write_channels};
use crate::helpers::server_binary;

fn channels_test(file: &std::path::Path, name: Option<&str>) -> (i32, String) {
    let mut command = Command::new(server_binary());
    command
        .args(["channels", "test"])
        .env("LEADHOOK_CHANNELS", file);
    if let Some(name) = name {
        command.arg(name);
    }
    let output = command.output().expect("the binary runs");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), printed)
}

#[tokio::test]
async fn channels_test_sends_a_marked_message_through_each_and_says_what_happened() {
    let stand_ins = StandIns::spawn(|service, _| match service {
        Service::Teams => Fault::Status(500),
        _ => Fault::None,
    })
    .await;
    // Takes connections (the kernel's backlog) and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_url = format!(
        "http://{}/services/T0/B0/x",
        silent.local_addr().expect("addr")
    );
    let dir = tempfile::tempdir().expect("dir");
    let slow = secret_file(dir.path(), "slow", &silent_url);
    let slack = secret_file(dir.path(), "slack", &stand_ins.slack_url());
    let teams = secret_file(dir.path(), "teams", &stand_ins.teams_url());
    let bot = secret_file(dir.path(), "bot", BOT_TOKEN);
    let receiver = Receiver::spawn(|_| Answer::Status(204)).await;
    let crm = secret_file(dir.path(), "crm", SECRET);
    let file = write_channels(
        dir.path(),
        &format!(
            "[webhooks.crm]\nurl = \"{}\"\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [slack.sales]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [slack.slow]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\ntimeout = \"500ms\"\n\
             [teams.managers]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [telegram.bot]\nsecret_file = \"{}\"\nchat_id = 42\napi_url = \"{}\"\n\
             events = [\"lead.created\"]\n",
            receiver.url,
            crm.display(),
            slack.display(),
            slow.display(),
            teams.display(),
            bot.display(),
            stand_ins.base
        ),
    );
    let file = file.as_path();

    let (status, printed) = tokio::task::spawn_blocking({
        let file = file.to_path_buf();
        move || channels_test(&file, None)
    })
    .await
    .expect("ran");
    assert_eq!(status, 1, "a channel failed: {printed}");
    assert!(
        printed.contains("✓ crm (webhooks): sent; the receiver answered 2xx to a signed request"),
        "{printed}"
    );
    assert!(
        printed.contains("✓ sales (slack): sent; look for it in the Slack channel"),
        "{printed}"
    );
    assert!(
        printed.contains("✓ bot (telegram): sent; look for it in the Telegram chat 42"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "✗ managers (teams): the receiver answered 500 Internal Server Error\n      \
             next: the service failed on its side"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("✗ slow (slack): timed out\n      next: no answer within 500ms"),
        "{printed}"
    );
    assert!(
        printed.contains("3 of 5 channel(s) took the test message"),
        "{printed}"
    );
    for secret in ["SECRET", "AAH", "sig="] {
        assert!(!printed.contains(secret), "a secret showed: {printed}");
    }
    let slack_text = stand_ins.received(Service::Slack)[0].body["text"].clone();
    assert!(
        slack_text
            .as_str()
            .is_some_and(|t| t.starts_with("Test message from leadhook: the channel sales works\n")),
        "{slack_text}"
    );
    let verified = verifier::verify(SECRET, &receiver.received());
    assert_eq!(verified.len(), 1, "{verified:?}");
    assert_eq!(verified[0]["type"], "leadhook.test", "{verified:?}");
    assert_eq!(verified[0]["data"], serde_json::json!({"channel": "crm"}));
    let telegram = &stand_ins.received(Service::Telegram)[0];
    assert_eq!(telegram.status, 200);
    assert_eq!(telegram.body["chat_id"], 42);

    let (status, printed) = tokio::task::spawn_blocking({
        let file = file.to_path_buf();
        move || channels_test(&file, Some("sales"))
    })
    .await
    .expect("ran");
    assert_eq!(status, 0, "{printed}");
    assert!(
        printed.contains("1 of 1 channel(s) took the test message"),
        "{printed}"
    );
    assert_eq!(
        stand_ins.received(Service::Teams).len(),
        1,
        "only the named channel"
    );

    let (status, printed) = channels_test(file, Some("nope"));
    assert_eq!(status, 2, "{printed}");
    assert!(
        printed.contains(
            "no channel is named \"nope\"; the file has: crm, sales, slow, managers, bot"
        ),
        "{printed}"
    );

    let unset = Command::new(server_binary())
        .args(["channels", "test"])
        .env_remove("LEADHOOK_CHANNELS")
        .output()
        .expect("the binary runs");
    assert_eq!(unset.status.code(), Some(2), "{unset:?}");
    assert!(
        String::from_utf8_lossy(&unset.stderr).contains("give the channels file with --channels"),
        "{unset:?}"
    );
}
