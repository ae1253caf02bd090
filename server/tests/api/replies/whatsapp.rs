//! WhatsApp statuses and replies on `/webhook`.

use std::time::Duration;

use leadhook_server::store::{Conversations, MessageChannel, NumberHash, OptOutSource};
use leadhook_shared::meta::whatsapp::{
    WhatsAppError, WhatsAppStatusKind, status_value, text_value, whatsapp_webhook,
};
use leadhook_shared::{AnswerMode, Reply};
use serde_json::{Value, json};
use tokio::time::Instant;

use super::*;

fn webhook(value: Value) -> Vec<u8> {
    serde_json::to_vec(&whatsapp_webhook("1055", value)).unwrap()
}

fn status(kind: WhatsAppStatusKind, error: Option<&WhatsAppError>) -> Vec<u8> {
    webhook(status_value(
        "wamid.JANE1",
        kind,
        "16502530000",
        error,
        1765152000,
    ))
}

#[tokio::test]
async fn statuses_and_replies_reach_the_conversation_the_history_and_the_owner() {
    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::WhatsApp, "wamid.JANE1").await;
    let mut events = api_events(&app).await;

    for kind in [WhatsAppStatusKind::Delivered, WhatsAppStatusKind::Read] {
        assert_eq!(app.post_signed(&status(kind, None)).await.status(), 200);
    }
    // A late `delivered` never moves the message back.
    let late = status(WhatsAppStatusKind::Delivered, None);
    assert_eq!(app.post_signed(&late).await.status(), 200);
    let reply = webhook(text_value(
        "16502530000",
        "Jane",
        "wamid.FROMJANE",
        "Tomorrow at 10 is better",
        1765152060,
    ));
    assert_eq!(app.post_signed(&reply).await.status(), 200);
    // Meta delivers again: stored and told once.
    assert_eq!(app.post_signed(&reply).await.status(), 200);

    let heard: Vec<Reply> =
        crate::helpers::events_until(&mut events, Instant::now() + Duration::from_millis(1500))
            .await
            .into_iter()
            .filter(|(event, _)| event == "reply")
            .map(|(_, data)| serde_json::from_str(&data).unwrap())
            .collect();
    assert_eq!(heard.len(), 1, "{heard:?}");
    assert_eq!(heard[0].lead_id, lead.id);
    assert_eq!(heard[0].name, "Jane Doe");
    assert_eq!(heard[0].text, "Tomorrow at 10 is better");
    assert_eq!(heard[0].channel, "whatsapp");

    let conversation = conversation(&app, &lead).await;
    let rows: Vec<(&str, &str, Option<&str>)> = conversation
        .messages
        .iter()
        .map(|m| (m.direction.as_str(), m.status.as_str(), m.body.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("out", "read", Some("Hi Jane")),
            ("in", "received", Some("Tomorrow at 10 is better")),
        ]
    );
    assert_eq!(conversation.answer_mode, AnswerMode::FreeText);
    let history = message_history(&store, &lead).await;
    // One line per status the message took: the late `delivered` adds none.
    let statuses: Vec<&str> = history
        .iter()
        .map(String::as_str)
        .filter(|row| row.starts_with("whatsapp message "))
        .collect();
    assert_eq!(
        statuses,
        ["whatsapp message delivered", "whatsapp message read"],
        "{history:?}"
    );
    assert_eq!(
        history
            .iter()
            .filter(|row| *row == "whatsapp reply from the person")
            .count(),
        1,
        "{history:?}"
    );
    assert_eq!(
        app.metric(r#"leadhook_conversation_events_total{channel="whatsapp",event="reply"}"#)
            .await,
        1.0
    );
    assert_eq!(
        app.metric(r#"leadhook_conversation_events_total{channel="whatsapp",event="read"}"#)
            .await,
        1.0
    );
    let stored =
        r#"leadhook_conversation_messages{channel="whatsapp",direction="in",status="received"}"#;
    assert_eq!(app.metric(stored).await, 1.0);
    let read =
        r#"leadhook_conversation_messages{channel="whatsapp",direction="out",status="read"}"#;
    assert_eq!(app.metric(read).await, 1.0);
}

#[tokio::test]
async fn a_failure_131050_records_the_opt_out_with_metas_error() {
    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::WhatsApp, "wamid.JANE1").await;
    let error = WhatsAppError {
        code: 131050,
        title: "Unable to deliver the message: the user stopped marketing messages".into(),
    };
    let failed = status(WhatsAppStatusKind::Failed, Some(&error));
    assert_eq!(app.post_signed(&failed).await.status(), 200);

    let message = &conversation(&app, &lead).await.messages[0];
    assert_eq!(message.status, "failed");
    assert!(
        message
            .error
            .as_deref()
            .unwrap()
            .starts_with("131050 Unable")
    );
    let opt_out = store
        .opted_out(&NumberHash::of(super::JANE), MessageChannel::WhatsApp)
        .await
        .unwrap()
        .expect("the number opted out");
    assert_eq!(opt_out.source, OptOutSource::WhatsApp131050);
    let history = message_history(&store, &lead).await;
    assert!(
        history
            .iter()
            .any(|row| row.starts_with("whatsapp message failed: 131050")),
        "{history:?}"
    );
}

#[tokio::test]
async fn a_reply_from_a_number_never_messaged_goes_to_the_newest_lead_with_that_phone() {
    let (app, lead) = app_with_jane().await;
    let reply = webhook(text_value(
        "16502530000",
        "Jane",
        "wamid.X",
        "Is it still available?",
        1,
    ));
    assert_eq!(app.post_signed(&reply).await.status(), 200);
    let messages = conversation(&app, &lead).await.messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body.as_deref(), Some("Is it still available?"));
}

#[tokio::test]
async fn bad_signatures_and_malformed_bodies_are_refused_and_change_nothing() {
    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::WhatsApp, "wamid.JANE1").await;
    let delivered = status(WhatsAppStatusKind::Delivered, None);
    let wrong = leadhook_shared::meta::signature::sign(b"another-secret", &delivered);
    assert_eq!(
        app.post_webhook(&delivered, Some(&wrong)).await.status(),
        403
    );
    assert_eq!(app.post_webhook(&delivered, None).await.status(), 403);

    // One bad status refuses the whole body, the good one before it included.
    let malformed = webhook(json!({"statuses": [
        {"id": "wamid.JANE1", "status": "delivered"},
        {"id": "wamid.JANE1", "status": "bounced"}]}));
    let refused = app.post_signed(&malformed).await;
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bounced"),
        "{body}"
    );
    let not_a_number = webhook(
        json!({"messages": [{"from": "jane", "id": "w1", "type": "text",
        "text": {"body": "hi"}}]}),
    );
    assert_eq!(app.post_signed(&not_a_number).await.status(), 400);

    let messages = conversation(&app, &lead).await.messages;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].status, "sent");
    assert!(message_history(&store, &lead).await.is_empty());
}
