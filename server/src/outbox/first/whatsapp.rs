//! The first message as a WhatsApp template through the Cloud API
//! (`POST /<version>/<phone_number_id>/messages`, bearer token): the template's body parameters
//! are values of the lead, each on one line (the API refuses newlines and tabs in them).

use std::time::Duration;

use leadhook_shared::Lead;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{Content, Provider, Said, Sent, failed_request, lead_value, read_answer};
use crate::config::{FirstRules, WhatsAppChannel};
use crate::outbox::http;
use crate::store::{MessageChannel, OptOutSource};

/// WhatsApp's error for a person who stopped marketing messages.
const OPTED_OUT: i64 = 131050;

pub struct WhatsApp {
    client: reqwest::Client,
    channel: WhatsAppChannel,
}

impl WhatsApp {
    pub fn new(channel: WhatsAppChannel, timeout: Duration) -> Result<WhatsApp, reqwest::Error> {
        Ok(WhatsApp {
            client: http::client(timeout)?,
            channel,
        })
    }

    /// The request's body for `lead`, to `e164`.
    pub fn body(&self, e164: &str, lead: &Lead) -> Value {
        let parameters: Vec<Value> = self
            .channel
            .parameters
            .iter()
            .map(|value| {
                json!({"type": "text",
                       "text": lead_value(*value, lead, &self.channel.business_name)})
            })
            .collect();
        let mut template = json!({
            "name": self.channel.template,
            "language": {"code": self.channel.language},
        });
        if !parameters.is_empty() {
            template["components"] = json!([{"type": "body", "parameters": parameters}]);
        }
        json!({
            "messaging_product": "whatsapp",
            "to": e164.trim_start_matches('+'),
            "type": "template",
            "template": template,
        })
    }
}

/// What the API's answer says of the message.
pub fn read(answer: &http::Answer) -> Sent {
    let body: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
    let said = Said {
        provider: "WhatsApp",
        id: body["messages"][0]["id"].as_str().map(str::to_string),
        code: body["error"]["code"].as_i64(),
        message: body["error"]["message"].as_str().unwrap_or_default(),
        opted_out: (OPTED_OUT, OptOutSource::WhatsApp131050),
    };
    read_answer(answer, said)
}

#[async_trait::async_trait]
impl Provider for WhatsApp {
    fn channel(&self) -> MessageChannel {
        MessageChannel::WhatsApp
    }

    fn rules(&self) -> &FirstRules {
        &self.channel.rules
    }

    fn content(&self, _lead: &Lead) -> Content {
        Content {
            body: None,
            template: Some(self.channel.template.clone()),
        }
    }

    async fn deliver(&self, e164: &str, lead: &Lead) -> Sent {
        let request = self
            .client
            .post(self.channel.messages_url.clone())
            .bearer_auth(self.channel.token.expose_secret())
            .json(&self.body(e164, lead));
        match http::answer(request).await {
            Ok(answer) => read(&answer),
            Err(error) => failed_request(error),
        }
    }
}
