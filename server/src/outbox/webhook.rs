//! Outgoing webhooks, signed per Standard Webhooks: `webhook-id` is the delivery's (the same on
//! every attempt, so the receiver can drop repeats), `webhook-timestamp` is the attempt's,
//! `webhook-signature` signs both with the body. The body is versioned by its `type`:
//!
//! ```json
//! {"type": "lead.created", "timestamp": "2026-12-07T15:00:00Z",
//!  "data": {"status": "New Lead", "lead": {"id": 12, "leadgen_id": "…", "full_name": "…", …}}}
//! ```
//!
//! `timestamp` is when the event happened, `data.status` the status it left the lead in, and
//! `data.lead` the lead as `GET /api/leads/{id}` serves it at the time of the attempt (`null`
//! once it is gone). Lead text is escaped by serde; nothing in it can break out of its string.

use secrecy::{ExposeSecret, SecretBox};
use serde::Serialize;

use super::{Attempt, Sender, sign};
use crate::config::{Channel, WebhookChannel};
use crate::limits::CHANNEL_ANSWER_BYTES;
use crate::store::{Delivery, LeadReader};
use leadhook_shared::Lead;

/// The body of every outgoing webhook.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: chrono::DateTime<chrono::Utc>,
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    status: &'a str,
    lead: Option<Lead>,
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
        let client = reqwest::Client::builder()
            .timeout(channel.timeout)
            .connect_timeout(channel.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("leadhook/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookSender {
            client,
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
        let body = Body {
            kind: &delivery.event_type,
            timestamp: delivery.at,
            data: Data {
                status: &delivery.stage,
                lead,
            },
        };
        let body = match serde_json::to_vec(&body) {
            Ok(body) => body,
            Err(error) => return Attempt::Failed(format!("cannot write the body: {error}")),
        };
        let id = webhook_id(delivery.id);
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign::signature(self.key.expose_secret(), &id, timestamp, &body);
        let answer = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match answer {
            Ok(answer) if answer.status().is_success() => Attempt::Delivered,
            Ok(answer) => {
                let status = answer.status();
                let text = answer.text().await.unwrap_or_default();
                let text: String = text.chars().take(CHANNEL_ANSWER_BYTES).collect();
                Attempt::Failed(format!("the receiver answered {status}: {text}"))
            }
            // The URL may hold a token: never in a reason or a log.
            Err(error) if error.is_timeout() => Attempt::Failed("timed out".into()),
            Err(error) => Attempt::Failed(format!("{}", error.without_url())),
        }
    }
}
