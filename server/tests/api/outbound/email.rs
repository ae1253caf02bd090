//! E-mail end to end: a lead arrives through Meta's webhook at the real server, whose outbox
//! mails the event to a real SMTP server (`aiosmtpd` from PyPI, see [`super::smtp`]) with a
//! login; the test reads the mail that arrived, parsed by Python's e-mail parser.

use std::time::Duration;

use leadhook_sim::harness::poll_until;
use serde_json::Value;

use super::smtp::SmtpServer;
use super::{
    HOSTILE_CHAT_NAME, HOSTILE_CHAT_SHOWN, new_lead, secret_file, spawn_with_file, write_channels,
};
use crate::helpers::TestApp;

const USER: &str = "leadhook";
const PASSWORD: &str = "s3cret-smtp";

async fn spawn(smtp: &SmtpServer) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let password = secret_file(dir.path(), "smtp-password", PASSWORD);
    let path = write_channels(
        dir.path(),
        &format!(
            "[email.inbox]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n\
             username = \"{USER}\"\nsecret_file = \"{}\"\n\
             from = \"Leadhook <leadhook@example.com>\"\n\
             to = [\"sales@example.com\", \"Alice <alice@example.com>\"]\n\
             events = [\"lead.created\"]\n",
            smtp.port,
            password.display()
        ),
    );
    (spawn_with_file(path).await, dir)
}

async fn wait_for_mail(smtp: &SmtpServer) -> Value {
    let mails = poll_until(
        Duration::from_secs(30),
        || async { smtp.mails() },
        |m| !m.is_empty(),
    )
    .await;
    assert_eq!(mails.len(), 1, "{mails:#?}");
    mails[0].clone()
}

#[tokio::test]
async fn the_event_arrives_as_a_plain_and_html_mail_again_after_a_temporary_failure() {
    let smtp = SmtpServer::start(1, Some((USER, PASSWORD)));
    let (app, _dir) = spawn(&smtp).await;
    let lead = new_lead(&app, "1234567890123531", "Jane Doe").await;
    let mail = wait_for_mail(&smtp).await;
    assert_eq!(
        smtp.refused(),
        1,
        "the 451 was answered once, then sent again"
    );
    let phone = lead
        .meta
        .phone_e164
        .clone()
        .or(lead.meta.phone.clone())
        .expect("a phone");
    let id = lead.id;
    assert_eq!(mail["login"], USER);
    assert_eq!(mail["mail_from"], "leadhook@example.com");
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["sales@example.com", "alice@example.com"])
    );
    assert_eq!(mail["subject"], "New lead: Jane Doe (Winter campaign)");
    assert_eq!(mail["from"], "Leadhook <leadhook@example.com>");
    assert_eq!(
        mail["to"],
        serde_json::json!(["sales@example.com", "Alice <alice@example.com>"])
    );
    assert_eq!(mail["content_type"], "multipart/alternative");
    assert_eq!(
        mail["text"].as_str().map(str::trim_end),
        Some(
            format!(
                "New lead: Jane Doe (Winter campaign)\nPhone: {phone}\nStatus: New Lead\n\
                 Owner: nobody yet\nLead: #{id}"
            )
            .as_str()
        )
    );
    assert_eq!(
        mail["html"].as_str().map(str::trim_end),
        Some(
            format!(
                "<!DOCTYPE html>\n<html><body>\n<p><b>New lead: Jane Doe (Winter campaign)</b></p>\n\
                 <table>\n<tr><td><b>Phone</b></td><td>{phone}</td></tr>\n\
                 <tr><td><b>Status</b></td><td>New Lead</td></tr>\n\
                 <tr><td><b>Owner</b></td><td>nobody yet</td></tr>\n\
                 <tr><td><b>Lead</b></td><td>#{id}</td></tr>\n</table>\n</body></html>"
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn hostile_lead_text_adds_no_header_or_recipient_and_is_escaped_in_html() {
    let smtp = SmtpServer::start(0, Some((USER, PASSWORD)));
    let (app, _dir) = spawn(&smtp).await;
    new_lead(&app, "1234567890123532", HOSTILE_CHAT_NAME).await;
    let mail = wait_for_mail(&smtp).await;
    let headline = format!("New lead: {HOSTILE_CHAT_SHOWN} (Winter campaign)");
    assert_eq!(mail["subject"], headline, "one line, the Bcc: inside it");
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["sales@example.com", "alice@example.com"]),
        "no recipient added"
    );
    let headers: Vec<&str> = mail["header_names"]
        .as_array()
        .expect("headers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!headers.contains(&"bcc"), "{headers:?}");
    let text = mail["text"].as_str().expect("a text part");
    assert!(text.starts_with(&format!("{headline}\n")), "{text:?}");
    let html = mail["html"].as_str().expect("an HTML part");
    assert!(
        !html.contains("<script>") && !html.contains("<!channel>"),
        "{html}"
    );
    assert!(
        html.contains(
            "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|x&gt; *bold* \
             [x](http://evil.example) &lt;script&gt;alert(1)&lt;/script&gt; &amp; @here  Bcc:"
        ),
        "{html}"
    );
}
