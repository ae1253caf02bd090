//! The first message as an SMS through a Twilio-style API (`POST …/Messages.json`, a form with
//! `To`, `From` or `MessagingServiceSid`, `Body`, `StatusCallback`; HTTP basic auth).

use std::time::Duration;

use leadhook_shared::Lead;
use secrecy::ExposeSecret;
use serde_json::Value;

use super::{Content, Provider, Said, Sent, failed_request, lead_value, read_answer};
use crate::config::{BodyPart, FirstRules, SmsChannel, SmsSender};
use crate::outbox::http;
use crate::store::{MessageChannel, OptOutSource};

/// Twilio's error for a number that opted out (texted STOP).
const OPTED_OUT: i64 = 21610;

pub struct Sms {
    client: reqwest::Client,
    channel: SmsChannel,
}

impl Sms {
    pub fn new(channel: SmsChannel, timeout: Duration) -> Result<Sms, reqwest::Error> {
        Ok(Sms {
            client: http::client(timeout)?,
            channel,
        })
    }

    /// The text for `lead`.
    pub fn text(&self, lead: &Lead) -> String {
        self.channel
            .body
            .iter()
            .map(|part| match part {
                BodyPart::Text(text) => text.clone(),
                BodyPart::Value(value) => lead_value(*value, lead, &self.channel.business_name),
            })
            .collect()
    }

    /// The form's fields for `lead`, to `e164`.
    pub fn form(&self, e164: &str, lead: &Lead) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", e164.to_string()), ("Body", self.text(lead))];
        form.push(match &self.channel.sender {
            SmsSender::From(from) => ("From", from.clone()),
            SmsSender::MessagingService(sid) => ("MessagingServiceSid", sid.clone()),
        });
        if let Some(callback) = &self.channel.status_callback {
            form.push(("StatusCallback", callback.to_string()));
        }
        form
    }
}

/// What the API's answer says of the message.
pub fn read(answer: &http::Answer) -> Sent {
    let body: Value = serde_json::from_str(&answer.text).unwrap_or(Value::Null);
    let said = Said {
        provider: "the SMS API",
        id: body["sid"].as_str().map(str::to_string),
        code: body["code"].as_i64(),
        message: body["message"].as_str().unwrap_or_default(),
        opted_out: (OPTED_OUT, OptOutSource::Twilio21610),
    };
    read_answer(answer, said)
}

#[async_trait::async_trait]
impl Provider for Sms {
    fn channel(&self) -> MessageChannel {
        MessageChannel::Sms
    }

    fn rules(&self) -> &FirstRules {
        &self.channel.rules
    }

    fn content(&self, lead: &Lead) -> Content {
        Content {
            body: Some(self.text(lead)),
            template: None,
        }
    }

    async fn deliver(&self, e164: &str, lead: &Lead) -> Sent {
        let request = self
            .client
            .post(self.channel.messages_url.clone())
            .basic_auth(
                &self.channel.account_sid,
                Some(self.channel.auth_token.expose_secret()),
            )
            .form(&self.form(e164, lead));
        match http::answer(request).await {
            Ok(answer) => read(&answer),
            Err(error) => failed_request(error),
        }
    }
}
