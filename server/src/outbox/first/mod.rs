//! The person's first message (WhatsApp template, SMS): sent through the outbox on
//! `lead.created`, **at most once** per person, unlike the team's channels (at least once).
//!
//! For each delivery: the [`rules`] (form, junk and Meta test leads, a valid number, consent,
//! the send window in the person's zone: a message in their night is held until it opens), then
//! the store's [`Conversations::first_message_start`], which claims the person's first message
//! and marks it `sending` in one statement (or answers that the person or number was messaged
//! already, or opted out), and only then the request. What the provider answered settles it:
//!
//! - took it (an id): `sent`;
//! - certainly did not take it (no connection made, a 429, a 5xx that carries no message id,
//!   which the providers answer only before they accept a message): `queued`, tried again later
//!   (a 429 no sooner than its `Retry-After`);
//! - refused it (a 4xx: a template not approved, an invalid number, an opt-out, which is then
//!   recorded): `failed`, never tried again;
//! - anything else (a timeout, a connection broken after the request went): the fate is unknown.
//!   The message stays `sending` and the delivery is claimed again, when the start finds its own
//!   message still `sending` and makes it `unknown` with a history row, as after a crash
//!   mid-send. It is never sent again: the rep decides.
//!
//! Each skip is a dropped delivery with its reason and, when it says something about the lead, a
//! `message` history row.

mod rules;
mod sms;
mod whatsapp;
pub mod zones;

use std::sync::Arc;
use std::time::Duration;

use leadhook_shared::Lead;
use leadhook_shared::plain_text::one_line;

use super::{Attempt, Delivery, Sender, SenderError, http};
use crate::clock::Clock;
use crate::config::{FirstRules, LeadValue};
use crate::metrics::Metrics;
use crate::store::{
    Conversations, EventType, FirstMessage, FirstStart, LeadReader, MessageChannel, MessageStatus,
    NumberHash, OptOutSource,
};
pub use rules::{Decision, decide};
pub use sms::Sms;
pub use whatsapp::WhatsApp;

/// What a message says, as the message row keeps it.
pub struct Content {
    pub body: Option<String>,
    pub template: Option<String>,
}

/// What one request to the provider came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Sent {
    Accepted {
        id: String,
    },
    /// Certainly not taken; worth trying again (after `after`, for a 429).
    NotTaken {
        reason: String,
        after: Option<Duration>,
    },
    /// Refused for good; `opt_out` when the refusal says the number opted out.
    Refused {
        reason: String,
        opt_out: Option<OptOutSource>,
    },
    /// It may or may not have gone out.
    Unknown(String),
}

/// A provider of first messages: what it sends and how it reads the answer.
#[async_trait::async_trait]
pub trait Provider: Send + Sync {
    fn channel(&self) -> MessageChannel;
    fn rules(&self) -> &FirstRules;
    fn content(&self, lead: &Lead) -> Content;
    /// One request for `lead`'s first message to `e164`.
    async fn deliver(&self, e164: &str, lead: &Lead) -> Sent;
}

/// The value `value` of `lead`, on one line and short, as a message may carry it.
pub fn lead_value(value: LeadValue, lead: &Lead, business: &str) -> String {
    let text = match value {
        LeadValue::FirstName => lead
            .meta
            .name
            .as_deref()
            .and_then(|name| name.split_whitespace().next())
            .unwrap_or("there")
            .to_string(),
        LeadValue::FormName => lead
            .meta
            .form_name
            .clone()
            .unwrap_or_else(|| "your request".into()),
        LeadValue::Owner => lead.owner.clone().unwrap_or_else(|| "our team".into()),
        LeadValue::Business => business.to_string(),
    };
    let line: String = one_line(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let short: String = line.chars().take(60).collect();
    if short.is_empty() {
        "there".into()
    } else {
        short
    }
}

/// What a provider's answer holds beyond its status.
pub struct Said<'a> {
    /// "WhatsApp", "the SMS API".
    pub provider: &'a str,
    /// The message's id, when the provider gave one.
    pub id: Option<String>,
    /// The provider's error code and message.
    pub code: Option<i64>,
    pub message: &'a str,
    /// The error code that means the number opted out, and how the opt-out is recorded.
    pub opted_out: (i64, OptOutSource),
}

/// What an answer says of the message: see the module's list.
pub fn read_answer(answer: &http::Answer, said: Said<'_>) -> Sent {
    use reqwest::StatusCode;
    let reason = || {
        let message: String = one_line(said.message).chars().take(200).collect();
        match said.code {
            Some(code) => format!(
                "{} answered {} (error {code}): {message}",
                said.provider, answer.status
            ),
            None => format!("{} answered {}", said.provider, answer.status),
        }
    };
    match (answer.status, said.id) {
        (status, Some(id)) if status.is_success() => Sent::Accepted { id },
        (status, None) if status.is_success() => {
            Sent::Unknown(format!("{} answered without a message id", said.provider))
        }
        (StatusCode::TOO_MANY_REQUESTS, _) => Sent::NotTaken {
            reason: reason(),
            after: answer.retry_after,
        },
        // A token to fix: not taken, and sent once it is fixed (until the channel's expiry).
        (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => Sent::NotTaken {
            reason: reason(),
            after: None,
        },
        (status, None) if status.is_server_error() => Sent::NotTaken {
            reason: reason(),
            after: answer.retry_after,
        },
        (status, _) if status.is_client_error() => Sent::Refused {
            reason: reason(),
            opt_out: (said.code == Some(said.opted_out.0)).then_some(said.opted_out.1),
        },
        _ => Sent::Unknown(reason()),
    }
}

/// Reads a request's error: certainly not sent when no connection was made.
pub fn failed_request(error: reqwest::Error) -> Sent {
    if error.is_connect() && !error.is_timeout() {
        Sent::NotTaken {
            reason: http::without_url(error),
            after: None,
        }
    } else if error.is_timeout() {
        Sent::Unknown("no answer in time".into())
    } else {
        Sent::Unknown(http::without_url(error))
    }
}

/// The [`Sender`] of a [`Provider`].
pub struct FirstSender<P> {
    provider: P,
    conversations: Arc<dyn Conversations>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

impl<P: Provider> FirstSender<P> {
    pub fn new(
        provider: P,
        conversations: Option<Arc<dyn Conversations>>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Result<FirstSender<P>, SenderError> {
        Ok(FirstSender {
            provider,
            conversations: conversations.ok_or(SenderError::NoConversations)?,
            clock,
            metrics,
        })
    }

    fn count(&self, outcome: &'static str) {
        self.metrics
            .first_message(self.provider.channel().as_str(), outcome);
    }

    /// A skip: a history row when it says something about the lead, then the dropped delivery.
    async fn skip(&self, lead_id: i64, reason: String, noted: bool) -> Attempt {
        let channel = self.provider.channel();
        if noted {
            let note = format!("{channel} first message not sent: {reason}");
            if let Err(error) = self.conversations.message_note(lead_id, &note).await {
                return Attempt::Failed(format!("cannot write the history: {error}"));
            }
        }
        self.count("skipped");
        Attempt::Dropped(reason)
    }

    async fn settle(&self, id: i64, number: &NumberHash, sent: Sent) -> Attempt {
        let settled = match &sent {
            Sent::Accepted { id: provider_id } => {
                self.conversations
                    .message_accepted(id, provider_id, MessageStatus::Sent)
                    .await
            }
            Sent::NotTaken { reason, .. } => self.conversations.message_retry(id, reason).await,
            Sent::Refused { reason, opt_out } => {
                if let Some(source) = opt_out {
                    let channel = self.provider.channel();
                    if let Err(error) = self.conversations.opt_out(number, channel, *source).await {
                        tracing::warn!(%error, "first message: cannot record an opt-out");
                    }
                }
                self.conversations.message_failed(id, reason).await
            }
            Sent::Unknown(_) => Ok(()),
        };
        if let Err(error) = settled {
            // The message stays `sending`: the next claim makes it `unknown`, never sends it.
            tracing::warn!(%error, message_id = id, "first message: cannot settle");
        }
        match sent {
            Sent::Accepted { .. } => {
                self.count("sent");
                Attempt::Delivered
            }
            Sent::NotTaken { reason, after } => {
                self.count("retry");
                match after {
                    Some(after) => Attempt::Throttled { reason, after },
                    None => Attempt::Failed(reason),
                }
            }
            Sent::Refused { reason, .. } => {
                self.count("failed");
                Attempt::Rejected(reason)
            }
            Sent::Unknown(reason) => Attempt::Failed(format!("fate unknown: {reason}")),
        }
    }
}

#[async_trait::async_trait]
impl<P: Provider> Sender for FirstSender<P> {
    async fn send(&self, delivery: &Delivery, leads: &dyn LeadReader) -> Attempt {
        if delivery.event_type != EventType::Created.as_str() {
            return Attempt::Dropped("a first message goes only on lead.created".into());
        }
        let lead = match leads.get(delivery.lead_id).await {
            Ok(Some(lead)) => lead,
            Ok(None) => return Attempt::Dropped("the lead is gone".into()),
            Err(error) => return Attempt::Failed(format!("cannot read the lead: {error}")),
        };
        let e164 = match decide(&lead, self.provider.rules(), self.clock.now()) {
            Decision::Send(e164) => e164,
            Decision::Hold(until) => {
                self.count("held");
                return Attempt::Held(until);
            }
            Decision::Skip { reason, noted } => return self.skip(lead.id, reason, noted).await,
        };
        let content = self.provider.content(&lead);
        let number = NumberHash::of(&e164);
        let first = FirstMessage {
            lead_id: lead.id,
            person_id: lead.person_id(),
            number: number.clone(),
            channel: self.provider.channel(),
            delivery_id: delivery.id,
            body: content.body,
            template: content.template,
        };
        match self.conversations.first_message_start(&first).await {
            Err(error) => Attempt::Failed(format!("cannot start the first message: {error}")),
            Ok(FirstStart::Started(id)) => {
                let sent = self.provider.deliver(&e164, &lead).await;
                self.settle(id, &number, sent).await
            }
            Ok(FirstStart::Unknown(_)) => {
                self.count("unknown");
                Attempt::Rejected(crate::store::conversation::UNSETTLED.into())
            }
            // This delivery's own message was settled before its delivery was.
            Ok(FirstStart::AlreadyMessaged { lead_id }) if lead_id == lead.id => Attempt::Delivered,
            Ok(FirstStart::AlreadyMessaged { lead_id }) => {
                let reason = format!("the person was messaged already (lead #{lead_id})");
                self.skip(lead.id, reason, true).await
            }
            Ok(FirstStart::OptedOut(source)) => {
                let reason = format!("the number opted out ({source})");
                self.skip(lead.id, reason, true).await
            }
        }
    }

    async fn test(&self, _channel: &str) -> Attempt {
        Attempt::Dropped(
            "a first message goes only to a lead's person: `leadhook-server doctor` checks this \
             channel's setup"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests;
