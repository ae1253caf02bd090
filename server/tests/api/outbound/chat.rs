//! Slack, Teams and Telegram end to end: a lead arrives through Meta's webhook at the real
//! server, whose outbox sends the event to each service's stand-in (see [`super::standins`]);
//! the test reads what arrived. Per service: the exact message, a 500 answered with the same
//! message again, hostile lead text that arrives inert. Slack's 429 holds the retry for its
//! `Retry-After`.

use std::time::Duration;

use leadhook_shared::Lead;
use leadhook_sim::harness::poll_until;
use serde_json::{Value, json};

use super::standins::{self, BOT_TOKEN, CARD, Fault, Received, Service, StandIns};
use super::{
    HOSTILE_CHAT_NAME, HOSTILE_CHAT_SHOWN, new_lead, secret_file, spawn_with_file, write_channels,
};
use crate::helpers::TestApp;

const CHAT_ID: i64 = -1001234567890;

/// The server with one channel of `service`, named `sales`, taking new leads.
async fn spawn(stand_ins: &StandIns, service: Service) -> (TestApp, tempfile::TempDir) {
    spawn_for(stand_ins, service, "[\"lead.created\"]").await
}

/// The server with one channel of `service`, named `sales`, taking `events` (a TOML list).
async fn spawn_for(
    stand_ins: &StandIns,
    service: Service,
    events: &str,
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let table = match service {
        Service::Slack => {
            let secret = secret_file(dir.path(), "slack-url", &stand_ins.slack_url());
            format!("[slack.sales]\nsecret_file = \"{}\"\n", secret.display())
        }
        Service::Teams => {
            let secret = secret_file(dir.path(), "teams-url", &stand_ins.teams_url());
            format!("[teams.sales]\nsecret_file = \"{}\"\n", secret.display())
        }
        Service::Telegram => {
            let secret = secret_file(dir.path(), "bot-token", BOT_TOKEN);
            format!(
                "[telegram.sales]\nsecret_file = \"{}\"\nchat_id = {CHAT_ID}\napi_url = \"{}\"\n",
                secret.display(),
                stand_ins.base
            )
        }
    };
    let path = write_channels(dir.path(), &format!("{table}events = {events}\n"));
    (spawn_with_file(path).await, dir)
}

/// What `service` has received once one request was answered 2xx.
async fn wait_for_delivery(stand_ins: &StandIns, service: Service) -> Vec<Received> {
    poll_until(
        Duration::from_secs(30),
        || async { stand_ins.received(service) },
        |received| received.iter().any(|r| (200..300).contains(&r.status)),
    )
    .await
}

/// The details under the headline of `lead`, a new one nobody owns, as `Label: value` lines.
fn details(lead: &Lead) -> Vec<(&'static str, String)> {
    let phone = lead.meta.phone_e164.clone().or(lead.meta.phone.clone());
    vec![
        ("Phone", phone.expect("a phone")),
        ("Status", "New Lead".into()),
        ("Owner", "nobody yet".into()),
        ("Lead", format!("#{}", lead.id)),
    ]
}

fn plain(headline: &str, lead: &Lead) -> String {
    let mut text = headline.to_string();
    for (label, value) in details(lead) {
        text.push_str(&format!("\n{label}: {value}"));
    }
    text
}

/// Slack's text as a reader sees it: the three escapes undone.
fn slack_shows(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn first_500(service: Service) -> impl Fn(Service, usize) -> Fault {
    move |s, n| {
        if s == service && n == 1 {
            Fault::Status(500)
        } else {
            Fault::None
        }
    }
}

#[tokio::test]
async fn slack_gets_the_event_as_plain_text_again_after_a_500() {
    let stand_ins = StandIns::spawn(first_500(Service::Slack)).await;
    let (app, _dir) = spawn(&stand_ins, Service::Slack).await;
    let lead = new_lead(&app, "1234567890123501", "Jane Doe").await;
    let received = wait_for_delivery(&stand_ins, Service::Slack).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200], "{received:#?}");
    assert_eq!(received[0].body, received[1].body, "the same message again");
    assert_eq!(
        received[1].body,
        json!({
            "text": plain("New lead: Jane Doe (Winter campaign)", &lead),
            "mrkdwn": false,
            "unfurl_links": false,
            "unfurl_media": false,
        })
    );
}

#[tokio::test]
async fn hostile_lead_text_reaches_slack_with_no_mention_link_or_markup() {
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let (app, _dir) = spawn(&stand_ins, Service::Slack).await;
    let lead = new_lead(&app, "1234567890123502", HOSTILE_CHAT_NAME).await;
    let received = wait_for_delivery(&stand_ins, Service::Slack).await;
    let text = received[0].body["text"].as_str().expect("text");
    assert!(
        !text.contains(['<', '>']),
        "no <…> control sequence (link, mention) can form: {text}"
    );
    assert!(
        text.contains("&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|x&gt;"),
        "{text}"
    );
    assert_eq!(received[0].body["mrkdwn"], false, "*bold* shows as typed");
    assert_eq!(
        slack_shows(text),
        plain(
            &format!("New lead: {HOSTILE_CHAT_SHOWN} (Winter campaign)"),
            &lead
        )
    );
}

/// A lead's message to `service`, refused once with a 429 asking for 2 s, then taken: the retry
/// waited at least that. The server (and its data dir), for more checks.
async fn retried_after_its_retry_after(
    service: Service,
    leadgen_id: &str,
) -> (TestApp, tempfile::TempDir) {
    let stand_ins = StandIns::spawn(|_, n| {
        if n == 1 {
            Fault::Throttle(2)
        } else {
            Fault::None
        }
    })
    .await;
    let (app, dir) = spawn(&stand_ins, service).await;
    new_lead(&app, leadgen_id, "Jane Doe").await;
    let received = wait_for_delivery(&stand_ins, service).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200], "{received:#?}");
    let waited = received[1].at - received[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, before the wait the 429 asked for"
    );
    (app, dir)
}

#[tokio::test]
async fn slack_s_429_holds_the_retry_for_its_retry_after() {
    let (app, _dir) = retried_after_its_retry_after(Service::Slack, "1234567890123503").await;
    let health = app
        .wait_for_health(|h| h["outbox"]["destinations"]["sales"]["sent_today"] == 1)
        .await;
    assert_eq!(
        health["outbox"]["destinations"]["sales"]["failed"], 0,
        "{health:#}"
    );
}

/// The texts of a card's text runs, line by line, and every element type in it.
fn card_lines(body: &Value) -> (Vec<String>, Vec<String>) {
    let card = &body["attachments"][0]["content"];
    let mut lines = Vec::new();
    let mut types = Vec::new();
    for block in card["body"].as_array().expect("a body") {
        types.push(block["type"].as_str().unwrap_or_default().to_string());
        let runs = block["inlines"].as_array().cloned().unwrap_or_default();
        for run in &runs {
            types.push(run["type"].as_str().unwrap_or_default().to_string());
        }
        lines.push(runs.iter().filter_map(|run| run["text"].as_str()).collect());
    }
    (lines, types)
}

#[tokio::test]
async fn teams_gets_the_event_as_an_adaptive_card_again_after_a_500() {
    let stand_ins = StandIns::spawn(first_500(Service::Teams)).await;
    let (app, _dir) = spawn(&stand_ins, Service::Teams).await;
    let lead = new_lead(&app, "1234567890123511", "Jane Doe").await;
    let received = wait_for_delivery(&stand_ins, Service::Teams).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 202], "{received:#?}");
    assert_eq!(received[0].body, received[1].body, "the same message again");
    let mut body = vec![
        json!({"type": "RichTextBlock", "inlines": [{"type": "TextRun",
        "text": "New lead: Jane Doe (Winter campaign)", "weight": "Bolder", "size": "Medium"}]}),
    ];
    for (label, value) in details(&lead) {
        body.push(
            json!({"type": "RichTextBlock", "spacing": "Small", "inlines": [
            {"type": "TextRun", "text": format!("{label}: "), "weight": "Bolder"},
            {"type": "TextRun", "text": value}]}),
        );
    }
    assert_eq!(
        received[1].body,
        json!({"type": "message", "attachments": [{"contentType": CARD, "contentUrl": null,
            "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard", "version": "1.4", "body": body}}]})
    );
}

#[tokio::test]
async fn hostile_lead_text_reaches_teams_only_as_plain_text_runs() {
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let (app, _dir) = spawn(&stand_ins, Service::Teams).await;
    let lead = new_lead(&app, "1234567890123512", HOSTILE_CHAT_NAME).await;
    let received = wait_for_delivery(&stand_ins, Service::Teams).await;
    let (lines, types) = card_lines(&received[0].body);
    assert!(
        types.iter().all(|t| t == "RichTextBlock" || t == "TextRun"),
        "no TextBlock or FactSet (Markdown) holds lead text: {types:?}"
    );
    assert_eq!(
        lines.join("\n"),
        plain(
            &format!("New lead: {HOSTILE_CHAT_SHOWN} (Winter campaign)"),
            &lead
        )
    );
}

#[tokio::test]
async fn telegram_gets_the_event_in_html_again_after_a_500() {
    let stand_ins = StandIns::spawn(first_500(Service::Telegram)).await;
    let (app, _dir) = spawn(&stand_ins, Service::Telegram).await;
    let lead = new_lead(&app, "1234567890123521", "Jane Doe").await;
    let received = wait_for_delivery(&stand_ins, Service::Telegram).await;
    let statuses: Vec<u16> = received.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200], "{received:#?}");
    assert_eq!(received[0].body, received[1].body, "the same message again");
    let mut text = "<b>New lead: Jane Doe (Winter campaign)</b>".to_string();
    for (label, value) in details(&lead) {
        text.push_str(&format!("\n{label}: {value}"));
    }
    assert_eq!(
        received[1].body,
        json!({"chat_id": CHAT_ID, "text": text, "parse_mode": "HTML",
               "link_preview_options": {"is_disabled": true}})
    );
}

#[tokio::test]
async fn hostile_lead_text_reaches_telegram_as_text_with_no_tag_or_mention() {
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let (app, _dir) = spawn(&stand_ins, Service::Telegram).await;
    let lead = new_lead(&app, "1234567890123522", HOSTILE_CHAT_NAME).await;
    let received = wait_for_delivery(&stand_ins, Service::Telegram).await;
    assert_eq!(
        received[0].status, 200,
        "Telegram parses the HTML: {received:#?}"
    );
    let text = received[0].body["text"].as_str().expect("text");
    assert_eq!(
        standins::tags(text),
        ["b", "/b"],
        "only our own bold: {text}"
    );
    let shown = HOSTILE_CHAT_SHOWN
        .replace("<@", "<@\u{2060}")
        .replace(" @here", " @\u{2060}here");
    let expected = plain(&format!("New lead: {shown} (Winter campaign)"), &lead);
    assert_eq!(standins::visible_html(text).expect("valid HTML"), expected);
}

#[tokio::test]
async fn telegram_s_429_holds_the_retry_for_its_retry_after() {
    retried_after_its_retry_after(Service::Telegram, "1234567890123523").await;
}

#[tokio::test]
async fn a_claim_and_a_status_change_reach_slack_worded_as_such() {
    let stand_ins = StandIns::spawn(|_, _| Fault::None).await;
    let (app, _dir) = spawn_for(
        &stand_ins,
        Service::Slack,
        "[\"lead.created\", \"lead.assigned\", \"lead.status_changed\"]",
    )
    .await;
    let lead = new_lead(&app, "1234567890123504", "Jane Doe").await;
    // Each message words the lead as it is when sent: the claim waits for the first.
    wait_for_delivery(&stand_ins, Service::Slack).await;
    let claimed = app.api_post(&format!("/api/leads/{}/claim", lead.id)).await;
    assert_eq!(claimed.status(), 200);
    let patched = app
        .client
        .patch(app.url(&format!("/api/leads/{}", lead.id)))
        .bearer_auth(crate::helpers::REP_TOKEN)
        .json(&json!({"status": "Contacted"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    let received = poll_until(
        Duration::from_secs(30),
        || async { stand_ins.received(Service::Slack) },
        |received| received.iter().filter(|r| r.status == 200).count() >= 3,
    )
    .await;
    let mut headlines: Vec<String> = received
        .iter()
        .filter_map(|r| r.body["text"].as_str())
        .filter_map(|text| text.lines().next().map(str::to_string))
        .collect();
    headlines.sort();
    assert_eq!(
        headlines,
        [
            "Lead assigned: Jane Doe (Winter campaign) to alice",
            "Lead status: Jane Doe (Winter campaign) is now Contacted",
            "New lead: Jane Doe (Winter campaign)",
        ]
    );
}
