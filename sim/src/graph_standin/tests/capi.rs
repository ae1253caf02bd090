//! `POST /<dataset>/events`: Meta's checks, the request size limit and `event_id` deduplication.

use super::*;

fn event(lead_id: Value, event_id: &str) -> Value {
    json!({"event_name": "Won", "event_time": Utc::now().timestamp() - 60,
        "action_source": "system_generated", "user_data": {"lead_id": lead_id},
        "custom_data": {"event_source": "crm", "lead_event_source": "leadhook"},
        "event_id": event_id})
}

async fn post(
    standin: &GraphStandin,
    dataset: &str,
    events: Vec<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let client = Client::new(standin);
    let request = client
        .http
        .post(format!("{}/{dataset}/events", client.base))
        .query(&[("access_token", client.token.as_str())])
        .json(&json!({"data": events}));
    send(request).await
}

#[tokio::test]
async fn valid_events_are_kept_once_per_event_id() {
    let standin = GraphStandin::spawn(StandinConfig::default()).await.unwrap();
    let dataset = standin.config().dataset_id.clone();
    let events = vec![
        event(json!(1234567890123456_u64), "a"),
        event(json!(1234567890123457_u64), "b"),
    ];
    let (status, _, body) = post(&standin, &dataset, events.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["events_received"], 2);
    post(&standin, &dataset, events[..1].to_vec()).await;
    assert_eq!(standin.capi_events(), events);
    assert_eq!(standin.capi_repeats(), 1);
    assert_eq!(standin.capi_accepted_requests(), 2);
}

#[tokio::test]
async fn one_invalid_event_rejects_the_request() {
    let standin = GraphStandin::spawn(StandinConfig::default()).await.unwrap();
    let dataset = standin.config().dataset_id.clone();
    let mut old = event(json!(1234567890123456_u64), "old");
    old["event_time"] = json!(Utc::now().timestamp() - 8 * 86_400);
    let mut wrong_source = event(json!(1234567890123456_u64), "source");
    wrong_source["action_source"] = json!("website");
    let mut no_crm = event(json!(1234567890123456_u64), "crm");
    no_crm["custom_data"]["event_source"] = json!("web");
    for (bad, why) in [
        (
            event(json!("1234567890123456"), "text"),
            "lead_id must be the lead id as a number",
        ),
        (event(json!(12345_u64), "short"), "15–16 digit"),
        (old, "more than 7 days"),
        (wrong_source, "system_generated"),
        (no_crm, "event_source must be crm"),
    ] {
        let answer = post(
            &standin,
            &dataset,
            vec![event(json!(1234567890123456_u64), "ok"), bad],
        )
        .await;
        assert_meta_error(&answer, 100, None);
        let message = answer.2["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("data[1]") && message.contains(why),
            "{message}"
        );
    }
    let too_many = (0..1001)
        .map(|n| event(json!(1234567890123456_u64 + n), &n.to_string()))
        .collect();
    let answer = post(&standin, &dataset, too_many).await;
    assert_meta_error(&answer, 100, None);
    assert!(standin.capi_events().is_empty());
    assert_eq!(standin.capi_rejected_requests(), 6);

    let (status, _, _) = post(
        &standin,
        "1111111111",
        vec![event(json!(1234567890123456_u64), "x")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "only the configured dataset takes events"
    );
}
