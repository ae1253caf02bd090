//! Twilio's status callbacks and inbound SMS on `/twilio/sms`, signed by Twilio's own helper
//! library (`twilio` from PyPI, pinned, `RequestValidator.compute_signature`), not by our code.

use std::io::Write as _;
use std::process::{Command, Stdio};

use leadhook_server::store::{Conversations, MessageChannel, NumberHash, OptOutSource};
use serde_json::json;

use super::*;
use crate::outbound::pyvenv::python;

const PACKAGE: &str = "twilio==9.3.7";

/// What Twilio's helper signs for a post of `params` to `url`.
fn twilio_signature(url: &str, params: &[(&str, &str)]) -> String {
    let script = "import json, sys\n\
        from twilio.request_validator import RequestValidator\n\
        a = json.load(sys.stdin)\n\
        print(RequestValidator(a['token']).compute_signature(a['url'], dict(a['params'])))";
    let mut child = Command::new(python(PACKAGE))
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    let input = json!({"token": TWILIO_TOKEN, "url": url, "params": params});
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python ends");
    assert!(output.status.success(), "twilio's helper failed");
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

async fn post(app: &TestApp, path: &str, params: &[(&str, &str)], signature: Option<&str>) -> u16 {
    let mut request = app.client.post(app.url(path)).form(params);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    request.send().await.expect("request").status().as_u16()
}

/// Posts `params` to `path` signed by Twilio's helper for the public URL.
async fn post_signed(app: &TestApp, path: &str, params: &[(&str, &str)]) -> u16 {
    let signature = twilio_signature(&format!("{PUBLIC_URL}{path}"), params);
    post(app, path, params, Some(&signature)).await
}

fn inbound<'a>(sid: &'a str, body: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("From", JANE),
        ("To", "+15550001111"),
        ("Body", body),
        ("NumMedia", "0"),
    ]
}

#[tokio::test]
async fn status_callbacks_and_inbound_sms_signed_by_twilios_helper_are_applied() {
    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::Sms, "SM0001").await;
    let mut events = api_events(&app).await;

    let delivered = [
        ("MessageSid", "SM0001"),
        ("MessageStatus", "delivered"),
        ("To", JANE),
    ];
    assert_eq!(post_signed(&app, "/twilio/sms", &delivered).await, 200);
    let reply = inbound("SM0002", "Tomorrow at 10 is better");
    assert_eq!(post_signed(&app, "/twilio/sms", &reply).await, 200);
    // The callback URL Twilio was given may be /twilio/status: signed for that URL.
    assert_eq!(
        post_signed(&app, "/twilio/status?x=1", &delivered).await,
        200
    );

    let heard = crate::helpers::events_until(
        &mut events,
        tokio::time::Instant::now() + std::time::Duration::from_millis(1500),
    )
    .await;
    assert!(
        heard.iter().any(|(event, data)| event == "reply"
            && data.contains("Tomorrow at 10 is better")
            && data.contains("\"channel\":\"sms\"")),
        "{heard:?}"
    );
    let rows: Vec<(String, String)> = conversation(&app, &lead)
        .await
        .messages
        .into_iter()
        .map(|m| (m.status, m.body.unwrap_or_default()))
        .collect();
    assert_eq!(
        rows,
        [
            ("delivered".into(), "Hi Jane".into()),
            ("received".into(), "Tomorrow at 10 is better".into())
        ]
    );
    let history = message_history(&store, &lead).await;
    assert!(
        history.contains(&"sms message delivered".to_string()),
        "{history:?}"
    );
    assert!(
        history.contains(&"sms reply from the person".to_string()),
        "{history:?}"
    );
}

#[tokio::test]
async fn keywords_and_error_21610_opt_the_number_out_and_start_opts_it_back_in() {
    let (app, lead) = app_with_jane().await;
    let store = store_of(&app).await;
    message_sent(&store, &lead, MessageChannel::Sms, "SM0001").await;
    let jane = NumberHash::of(JANE);
    let opted_out = || async { store.opted_out(&jane, MessageChannel::Sms).await.unwrap() };

    assert_eq!(
        post_signed(&app, "/twilio/sms", &inbound("SM1", "  stop \n")).await,
        200
    );
    assert_eq!(opted_out().await.unwrap().source, OptOutSource::Keyword);
    assert_eq!(
        post_signed(&app, "/twilio/sms", &inbound("SM2", "Start")).await,
        200
    );
    assert_eq!(opted_out().await, None);
    // A sentence with STOP in it is a message, not a keyword.
    assert_eq!(
        post_signed(&app, "/twilio/sms", &inbound("SM3", "stop by at 10?")).await,
        200
    );
    assert_eq!(opted_out().await, None);

    let undelivered = [
        ("MessageSid", "SM0001"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "21610"),
        ("ErrorMessage", "Attempt to send to unsubscribed recipient"),
        ("To", JANE),
    ];
    assert_eq!(post_signed(&app, "/twilio/sms", &undelivered).await, 200);
    assert_eq!(opted_out().await.unwrap().source, OptOutSource::Twilio21610);
    let messages = conversation(&app, &lead).await.messages;
    assert_eq!(messages[0].status, "failed");
    assert_eq!(
        messages[0].error.as_deref(),
        Some("21610 Attempt to send to unsubscribed recipient")
    );
    // Every inbound body is the person's message, keywords included.
    let bodies: Vec<String> = messages[1..]
        .iter()
        .map(|m| m.body.clone().unwrap_or_default())
        .collect();
    assert_eq!(bodies, ["  stop \n", "Start", "stop by at 10?"]);
}

#[tokio::test]
async fn bad_or_missing_signatures_and_malformed_posts_are_refused_and_change_nothing() {
    let (app, lead) = app_with_jane().await;
    let reply = inbound("SM9", "Hello");
    // Signed for another URL (LEADHOOK_PUBLIC_URL not what Twilio called), or with another token.
    let other_url = twilio_signature("https://elsewhere.example.com/twilio/sms", &reply);
    assert_eq!(
        post(&app, "/twilio/sms", &reply, Some(&other_url)).await,
        403
    );
    assert_eq!(post(&app, "/twilio/sms", &reply, None).await, 403);
    assert_eq!(
        post(&app, "/twilio/sms", &reply, Some("bm90IGl0")).await,
        403
    );
    // A signed post whose params were changed afterwards.
    let signature = twilio_signature(&format!("{PUBLIC_URL}/twilio/sms"), &reply);
    let tampered = inbound("SM9", "Hello, changed");
    assert_eq!(
        post(&app, "/twilio/sms", &tampered, Some(&signature)).await,
        403
    );
    // Signed but malformed: no sid, a sender that is no number, an unknown status.
    let no_sid = [("From", JANE), ("Body", "Hi")];
    assert_eq!(post_signed(&app, "/twilio/sms", &no_sid).await, 400);
    let no_number = [("MessageSid", "SM8"), ("From", "jane"), ("Body", "Hi")];
    assert_eq!(post_signed(&app, "/twilio/sms", &no_number).await, 400);
    let unknown = [("MessageSid", "SM8"), ("MessageStatus", "bounced")];
    assert_eq!(post_signed(&app, "/twilio/sms", &unknown).await, 400);

    assert!(conversation(&app, &lead).await.messages.is_empty());
    assert!(
        message_history(&store_of(&app).await, &lead)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_twilio_token_the_route_says_it_is_not_set_up() {
    let app = spawn_app().await;
    let reply = inbound("SM9", "Hello");
    assert_eq!(post(&app, "/twilio/sms", &reply, Some("x")).await, 404);
}
