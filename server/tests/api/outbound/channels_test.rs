//! `leadhook-server channels test` through the binary, against the chat stand-ins: what it
//! printed, its exit status, what arrived, and that no secret showed.

use std::process::Command;

use super::standins::{BOT_TOKEN, Fault, Service, StandIns};
use super::{secret_file, write_channels};
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
    let dir = tempfile::tempdir().expect("dir");
    let slack = secret_file(dir.path(), "slack", &stand_ins.slack_url());
    let teams = secret_file(dir.path(), "teams", &stand_ins.teams_url());
    let bot = secret_file(dir.path(), "bot", BOT_TOKEN);
    let file = write_channels(
        dir.path(),
        &format!(
            "[slack.sales]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [teams.managers]\nsecret_file = \"{}\"\nevents = [\"lead.created\"]\n\
             [telegram.bot]\nsecret_file = \"{}\"\nchat_id = 42\napi_url = \"{}\"\n\
             events = [\"lead.created\"]\n",
            slack.display(),
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
        printed.contains("✓ sales (slack): sent; look for it in the Slack channel"),
        "{printed}"
    );
    assert!(
        printed.contains("✓ bot (telegram): sent; look for it in the Telegram chat 42"),
        "{printed}"
    );
    assert!(
        printed.contains(
            "✗ managers (teams): the receiver answered 500 Internal Server Error\n      next: "
        ),
        "{printed}"
    );
    assert!(
        printed.contains("2 of 3 channel(s) took the test message"),
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
        printed.contains("no channel is named \"nope\"; the file has: sales, managers, bot"),
        "{printed}"
    );
}
