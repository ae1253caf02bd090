//! App subscriptions, Leads Access and test leads, with the webhook Meta sends for a test lead.

use super::*;
use crate::test_receiver::Receiver;

const FORM: &str = "777000111";

async fn with_form() -> (GraphStandin, Client) {
    let standin = standin().await;
    standin.add_form(DEFAULT_PAGE_ID, FORM, "Test form");
    let client = Client::new(&standin);
    (standin, client)
}

impl Client {
    async fn call(&self, method: reqwest::Method, path: &str) -> (StatusCode, HeaderMap, Value) {
        send(
            self.http
                .request(method, format!("{}/{path}", self.base))
                .query(&[("access_token", self.token.as_str())]),
        )
        .await
    }
}

/// Waits up to 5 s for `count` webhooks at the receiver.
async fn received(receiver: &Receiver, count: usize) -> Vec<crate::test_receiver::ReceivedWebhook> {
    crate::harness::poll_until(
        Duration::from_secs(5),
        || async { receiver.received() },
        |received| received.len() >= count,
    )
    .await
}

#[tokio::test]
async fn app_subscriptions_need_the_app_token() {
    let (standin, client) = with_form().await;
    let app_id = standin.config().app_id.clone();
    let path = format!("{}/{VERSION}/{app_id}/subscriptions", standin.base_url());
    let app_token = format!("{app_id}|{}", standin.config().app_secret.expose_secret());
    let list = |token: String| {
        let request = client.http.get(&path).query(&[("access_token", token)]);
        send(request)
    };
    let (status, _, body) = list(app_token.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"data": []}), "no subscription yet");

    standin.set_app_subscription(Some(AppSubscription::leadgen(
        "https://leads.example.com/webhook",
    )));
    let (_, _, body) = list(app_token).await;
    assert_eq!(
        body,
        json!({"data": [{"object": "page", "callback_url": "https://leads.example.com/webhook",
                         "active": true, "fields": [{"name": "leadgen", "version": "v25.0"}]}]})
    );
    let page_token = list(standin.config().page_token.clone()).await;
    assert_meta_error(&page_token, 15, None);
}

#[tokio::test]
async fn has_lead_access_follows_leads_readability() {
    let (standin, client) = with_form().await;
    let (status, _, body) = client
        .get(DEFAULT_PAGE_ID, &[("fields", "has_lead_access")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], DEFAULT_PAGE_ID);
    assert_eq!(body["has_lead_access"]["can_access_lead"], true);
    assert!(body.get("name").is_none(), "only the fields asked for");

    standin.set_leads_readable(false);
    let (_, _, body) = client
        .get(DEFAULT_PAGE_ID, &[("fields", "has_lead_access")])
        .await;
    assert_eq!(body["has_lead_access"]["can_access_lead"], false);
    assert!(
        body["has_lead_access"]["failure_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("Leads Access")),
        "{body}"
    );

    standin.set_token_state(TokenState::MissingScopes(vec!["leads_retrieval".into()]));
    let missing = client
        .get(DEFAULT_PAGE_ID, &[("fields", "has_lead_access")])
        .await;
    assert_meta_error(&missing, 200, None);
}

#[tokio::test]
async fn a_test_lead_is_created_once_per_form_announced_and_deletable() {
    let (standin, client) = with_form().await;
    let receiver = Receiver::spawn().await;
    standin.set_app_subscription(Some(AppSubscription::leadgen(receiver.url())));

    let (status, _, created) = client
        .call(reqwest::Method::POST, &format!("{FORM}/test_leads"))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(standin.test_lead(FORM).as_deref(), Some(id.as_str()));

    let (_, _, listed) = client.get(&format!("{FORM}/test_leads"), &[]).await;
    assert_eq!(listed["data"][0]["id"], id.as_str());
    let (_, _, lead) = client.get(&id, &[("fields", GRAPH_LEAD_FIELDS)]).await;
    assert_eq!(lead["form_id"], FORM);
    assert_eq!(lead["field_data"][1]["values"][0], "test@fb.com");

    let webhooks = received(&receiver, 1).await;
    assert_eq!(
        webhooks.len(),
        1,
        "Meta announces a test lead like a real one"
    );
    let webhook = &webhooks[0];
    let signature = standin_signature(&standin, &webhook.body);
    assert_eq!(webhook.signature.as_deref(), Some(signature.as_str()));
    let body: Value = serde_json::from_slice(&webhook.body).unwrap();
    let value = &body["entry"][0]["changes"][0]["value"];
    assert_eq!(value["leadgen_id"], id.as_str());
    assert_eq!(value["form_id"], FORM);
    assert_eq!(value["page_id"], DEFAULT_PAGE_ID);

    let second = client
        .call(reqwest::Method::POST, &format!("{FORM}/test_leads"))
        .await;
    assert_meta_error(&second, 100, None);

    let (status, _, deleted) = client.call(reqwest::Method::DELETE, &id).await;
    assert_eq!(
        (status, deleted),
        (StatusCode::OK, json!({"success": true}))
    );
    assert_eq!(standin.test_lead(FORM), None);
    assert!(!standin.lead_ids().contains(&id));
    let gone = client.call(reqwest::Method::DELETE, &id).await;
    assert_meta_error(&gone, 100, Some(33));
    let (status, _, _) = client
        .call(reqwest::Method::POST, &format!("{FORM}/test_leads"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a new test lead once the old one is gone"
    );
}

fn standin_signature(standin: &GraphStandin, body: &[u8]) -> String {
    signature::sign(standin.config().app_secret.expose_secret().as_bytes(), body)
}

#[tokio::test]
async fn no_webhook_without_delivery_subscription_or_page_subscription() {
    let (standin, client) = with_form().await;
    let receiver = Receiver::spawn().await;
    let create = |n: usize| {
        let standin = &standin;
        let client = &client;
        async move {
            if let Some(id) = standin.test_lead(FORM) {
                client.call(reqwest::Method::DELETE, &id).await;
            }
            let (status, _, body) = client
                .call(reqwest::Method::POST, &format!("{FORM}/test_leads"))
                .await;
            assert_eq!(status, StatusCode::OK, "try {n}: {body}");
        }
    };
    create(1).await; // no app subscription
    standin.set_app_subscription(Some(AppSubscription {
        active: false,
        ..AppSubscription::leadgen(receiver.url())
    }));
    create(2).await;
    standin.set_app_subscription(Some(AppSubscription::leadgen(receiver.url())));
    standin.set_webhook_delivery(false);
    create(3).await;
    standin.set_webhook_delivery(true);
    standin.set_subscribed(DEFAULT_PAGE_ID, false);
    create(4).await;

    // Subscribed again, the fifth test lead is announced: a webhook for any of the first four
    // would have been sent before its one.
    standin.set_subscribed(DEFAULT_PAGE_ID, true);
    create(5).await;
    let fifth = standin.test_lead(FORM).expect("the fifth test lead");
    let webhooks = received(&receiver, 1).await;
    let announced: Vec<Value> = webhooks
        .iter()
        .map(|webhook| {
            let body: Value = serde_json::from_slice(&webhook.body).expect("JSON body");
            body["entry"][0]["changes"][0]["value"]["leadgen_id"].clone()
        })
        .collect();
    assert_eq!(
        announced,
        [Value::from(fifth)],
        "only the fifth test lead is announced"
    );
}
