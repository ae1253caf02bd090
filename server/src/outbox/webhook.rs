//! Outgoing webhooks, signed per Standard Webhooks: `webhook-id` is the delivery's (the same on
//! every attempt, so the receiver can drop repeats), `webhook-timestamp` is the attempt's,
//! `webhook-signature` signs both with the body. The body is versioned by its `type`:
//!
//! ```json
//! {"type": "lead.created", "timestamp": "2026-12-07T15:00:00Z",
//!  "data": {"status": "New Lead", "lead": {"id": 12, "leadgen_id": "…", "full_name": "…", …}}}
//! ```
//!
//! `timestamp` is when the event happened, `data.status` the status it left the lead in,
//! `data.lead` the lead as `GET /api/leads/{id}` serves it at the time of the attempt (`null`
//! once it is gone), and `data.change` the history entry that made the event, as
//! `GET /api/leads/{id}/activity` serves it (`{"id", "lead_id", "at", "actor", "kind", "old",
//! "new"}`: the step set, the call's outcome, who claimed; `null` once it is gone). Lead text is
//! escaped by serde; nothing in it can break out of its string.

use secrecy::{ExposeSecret, SecretBox};
use serde::Serialize;

use super::message::history_entry;
use super::{Attempt, Sender, http, sign};
use crate::config::{Channel, WebhookChannel};
use crate::store::{Delivery, LeadReader};
use leadhook_shared::{Activity, Lead};

/// The `type` of `leadhook-server channels test`'s request.
pub const TEST_TYPE: &str = "leadhook.test";

/// The body of every outgoing webhook.
#[derive(Serialize)]
struct Body<'a, D> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: D,
}

#[derive(Serialize)]
struct Data<'a> {
    status: &'a str,
    lead: Option<Lead>,
    change: Option<Activity>,
}

/// The `webhook-id` of a delivery: the same for each of its attempts.
pub fn webhook_id(delivery_id: i64) -> String {
    format!("msg_leadhook_{delivery_id}")
}

pub struct WebhookSender {
    client: reqwest::Client,
    url: reqwest::Url,
    key: SecretBox<Vec<u8>>,
}

impl WebhookSender {
    pub fn new(
        channel: &Channel,
        webhook: &WebhookChannel,
    ) -> Result<WebhookSender, reqwest::Error> {
        Ok(WebhookSender {
            client: http::client(channel.timeout)?,
            url: webhook.url.clone(),
            key: SecretBox::new(Box::new(webhook.key.expose_secret().clone())),
        })
    }
}

#[async_trait::async_trait]
impl Sender for WebhookSender {
    /// One attempt: the body as of now, signed now.
    async fn send(&self, delivery: &Delivery, leads: &dyn LeadReader) -> Attempt {
        let lead = match leads.get(delivery.lead_id).await {
            Ok(lead) => lead,
            Err(error) => return Attempt::Failed(format!("cannot read the lead: {error}")),
        };
        let change = match history_entry(delivery, leads).await {
            Ok(change) => change,
            Err(reason) => return Attempt::Failed(reason),
        };
        let body = Body {
            kind: &delivery.event_type,
            timestamp: delivery.at,
            data: Data {
                status: &delivery.stage,
                lead,
                change,
            },
        };
        self.post(&webhook_id(delivery.id), &body).await
    }

    /// A signed request whose `type` is [`TEST_TYPE`], about no lead, with an id of its own.
    async fn test(&self, channel: &str) -> Attempt {
        let now = chrono::Utc::now();
        let body = Body {
            kind: TEST_TYPE,
            timestamp: now,
            data: serde_json::json!({"channel": channel}),
        };
        let id = format!("msg_leadhook_test_{}", now.timestamp_micros());
        self.post(&id, &body).await
    }
}

impl WebhookSender {
    /// One attempt of `body` as message `id`, signed now.
    async fn post<D: Serialize + Sync>(&self, id: &str, body: &Body<'_, D>) -> Attempt {
        let body = match serde_json::to_vec(body) {
            Ok(body) => body,
            Err(error) => return Attempt::Failed(format!("cannot write the body: {error}")),
        };
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign::signature(self.key.expose_secret(), id, timestamp, &body);
        let request = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        http::attempt(request).await
    }
}
