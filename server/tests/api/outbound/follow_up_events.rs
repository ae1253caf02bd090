//! The follow-up events over a real server: a rep's call attempt and next step reach a webhook
//! routed to them, each request verified by the official Standard Webhooks library, with the
//! history entry that made the event in `data.change`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::receiver::{Answer, Receiver};
use super::{
    HOSTILE_NAME, SECRET, by_id, new_lead, secret_file, spawn_with_channels, verifier,
    wait_for_delivered,
};
use crate::helpers::REP_TOKEN;

#[tokio::test]
async fn a_call_attempt_and_a_next_step_reach_the_webhook_with_their_change() {
    let receiver = Receiver::spawn(|_| Answer::Status(200)).await;
    // The channels file's `crm` takes lead.created and lead.status_changed; this adds a webhook
    // for the follow-ups only.
    let secrets = tempfile::tempdir().expect("dir");
    let secret = secret_file(secrets.path(), "followups-secret", SECRET);
    let extra = format!(
        "[webhooks.followups]\nurl = \"{}\"\nsecret_file = \"{}\"\n\
         events = [\"lead.attempt_logged\", \"lead.next_step_changed\"]\n",
        receiver.url,
        secret.display()
    );
    let (app, _config) = spawn_with_channels(&receiver, &extra).await;
    let lead = new_lead(&app, "1234567890123481", HOSTILE_NAME).await;
    let attempt = app
        .client
        .post(app.url(&format!("/api/leads/{}/attempts", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&json!({"outcome": "no_answer", "note": "busy tone\n<b>again</b>"}))
        .send()
        .await
        .expect("attempt");
    assert_eq!(attempt.status(), 200);
    let at = (chrono::Utc::now() + chrono::Duration::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let step = app
        .client
        .put(app.url(&format!("/api/leads/{}/next-step", lead.id)))
        .bearer_auth(REP_TOKEN)
        .json(&json!({"at": at, "what": "Send the quote"}))
        .send()
        .await
        .expect("next step");
    assert_eq!(step.status(), 200);

    // To crm: lead.created, and lead.status_changed (a first attempt contacts the lead); to
    // followups: the attempt, the next step the cadence planned after it, and the rep's own.
    wait_for_delivered(&receiver, 5).await;
    let received = receiver.delivered();
    assert_eq!(by_id(&received).len(), 5, "{received:#?}");
    let verified = verifier::verify(SECRET, &received);
    let mut by_type: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for payload in &verified {
        assert!(payload.get("error").is_none(), "refused: {payload}");
        let kind = payload["type"].as_str().expect("a type");
        by_type.entry(kind).or_default().push(payload);
    }
    let counts: Vec<(&str, usize)> = by_type.iter().map(|(k, v)| (*k, v.len())).collect();
    assert_eq!(
        counts,
        [
            ("lead.attempt_logged", 1),
            ("lead.created", 1),
            ("lead.next_step_changed", 2),
            ("lead.status_changed", 1),
        ]
    );
    let attempt = by_type["lead.attempt_logged"][0];
    assert_eq!(attempt["data"]["change"]["kind"], "attempt");
    assert_eq!(
        attempt["data"]["change"]["new"], "no_answer: busy tone\n<b>again</b>",
        "the rep's note arrives as text: {attempt}"
    );
    assert_eq!(attempt["data"]["lead"]["id"], lead.id);
    let steps: Vec<&Value> = by_type["lead.next_step_changed"]
        .iter()
        .map(|payload| &payload["data"]["change"]["new"])
        .collect();
    assert!(
        steps.contains(&&json!(format!("{at} Send the quote"))),
        "{steps:?}"
    );
    assert!(
        by_type["lead.next_step_changed"]
            .iter()
            .all(|payload| payload["data"]["change"]["kind"] == "next_step")
    );
    assert_eq!(
        by_type["lead.created"][0]["data"]["change"]["kind"], "stored",
        "every event names its history entry"
    );
}
