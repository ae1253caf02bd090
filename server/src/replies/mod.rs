//! The conversation's way back: what WhatsApp's webhooks ([`whatsapp`]) and Twilio's callbacks
//! ([`twilio`]) report is applied here, before the provider gets its 2xx (a report that was
//! answered is stored; one that was not is sent again by the provider). A status moves the
//! message found by its provider id and writes a history row; an error that means the number
//! opted out records the opt-out; the person's message is stored in the conversation of the lead
//! it answers, written to its history and announced on the live feed as a `reply` event.

mod keywords;
pub mod twilio;
pub mod whatsapp;

use std::sync::Arc;

use chrono::Utc;
use leadhook_shared::Reply;

use crate::feed::LiveFeed;
use crate::metrics::Metrics;
use crate::store::{
    Conversations, LeadReader, MessageChannel, MessageStatus, NumberHash, OptOutSource,
    ReplyRouting, StoreError,
};
pub use keywords::{Keyword, keyword};

/// WhatsApp's error for a person who stopped marketing messages.
pub const WHATSAPP_OPTED_OUT: i64 = 131050;
/// Twilio's error for a send to a number that opted out.
pub const TWILIO_OPTED_OUT: i64 = 21610;

/// A provider's error of a failed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub code: i64,
    pub title: String,
}

impl ProviderError {
    fn opt_out(&self, channel: MessageChannel) -> Option<OptOutSource> {
        match (channel, self.code) {
            (MessageChannel::WhatsApp, WHATSAPP_OPTED_OUT) => Some(OptOutSource::WhatsApp131050),
            (MessageChannel::Sms, TWILIO_OPTED_OUT) => Some(OptOutSource::Twilio21610),
            _ => None,
        }
    }
}

/// A provider's report of one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub channel: MessageChannel,
    pub provider_id: String,
    pub status: MessageStatus,
    pub error: Option<ProviderError>,
    /// The number the message went to (E.164, `+` optional), when the provider says.
    pub recipient: Option<String>,
}

/// A message from the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub channel: MessageChannel,
    pub provider_id: String,
    /// E.164 digits, `+` optional.
    pub from: String,
    pub text: String,
}

/// Applies providers' reports to the store and tells the reps; cheap to clone.
#[derive(Clone)]
pub struct Replies {
    conversations: Arc<dyn Conversations>,
    routing: Arc<dyn ReplyRouting>,
    reader: Arc<dyn LeadReader>,
    feed: LiveFeed,
    metrics: Arc<Metrics>,
}

impl Replies {
    pub fn new(
        conversations: Arc<dyn Conversations>,
        routing: Arc<dyn ReplyRouting>,
        reader: Arc<dyn LeadReader>,
        feed: LiveFeed,
        metrics: Arc<Metrics>,
    ) -> Replies {
        Replies {
            conversations,
            routing,
            reader,
            feed,
            metrics,
        }
    }

    /// The conversations, for the API's reads.
    pub fn conversations(&self) -> &dyn Conversations {
        self.conversations.as_ref()
    }

    /// A provider's status of one of our messages. A status of a message this store never sent
    /// (another deployment's, or one erased since) is counted and dropped.
    pub async fn status(&self, report: &StatusReport) -> Result<(), StoreError> {
        let channel = report.channel;
        let error = report
            .error
            .as_ref()
            .map(|error| format!("{} {}", error.code, error.title).trim().to_string());
        let found = self
            .conversations
            .message_status(
                channel,
                &report.provider_id,
                report.status,
                error.as_deref(),
            )
            .await?;
        self.metrics
            .conversation_event(channel.as_str(), status_event(report.status));
        let opt_out = report
            .error
            .as_ref()
            .and_then(|error| error.opt_out(channel));
        let Some(applied) = found else {
            tracing::debug!(%channel, "a status of a message this store does not hold");
            if let (Some(source), Some(number)) = (opt_out, &report.recipient) {
                self.opt_out(&NumberHash::of(number), channel, source)
                    .await?;
            }
            return Ok(());
        };
        let lead_id = applied.lead_id;
        // A provider's repeat, or a status older than the message's, changes nothing to tell.
        if applied.changed {
            let note = match &error {
                Some(error) => format!("{channel} message {}: {error}", report.status),
                None => format!("{channel} message {}", report.status),
            };
            self.conversations.message_note(lead_id, &note).await?;
        }
        if let Some(source) = opt_out {
            let number = match &report.recipient {
                Some(number) => Some(NumberHash::of(number)),
                None => self.number_of_lead(lead_id).await?,
            };
            if let Some(number) = number {
                self.opt_out(&number, channel, source).await?;
                self.conversations
                    .message_note(
                        lead_id,
                        &format!("{channel}: the number opted out ({source})"),
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// A message from the person: stored in the conversation of the lead it answers (the lead
    /// last messaged at that number on that channel, else the newest lead with that phone) and
    /// announced. On SMS an opt-out or opt-in keyword is also applied to the number.
    pub async fn inbound(&self, message: &Inbound) -> Result<Option<i64>, StoreError> {
        let channel = message.channel;
        let number = NumberHash::of(&message.from);
        let asked = match channel {
            MessageChannel::Sms => keyword(&message.text),
            MessageChannel::WhatsApp => None,
        };
        match asked {
            Some(Keyword::OptOut) => {
                self.opt_out(&number, channel, OptOutSource::Keyword)
                    .await?
            }
            Some(Keyword::OptIn) => {
                self.conversations.opt_in(&number, channel).await?;
                self.metrics.conversation_event(channel.as_str(), "opt_in");
            }
            None => {}
        }
        let Some(lead_id) = self.lead_answered(channel, &number, &message.from).await? else {
            tracing::info!(%channel, "a message from a number no lead has; not stored");
            return Ok(None);
        };
        let Some(id) = self
            .conversations
            .message_received(
                lead_id,
                channel,
                &message.provider_id,
                &number,
                &message.text,
            )
            .await?
        else {
            // Delivered again by the provider: stored and told the first time.
            return Ok(None);
        };
        self.metrics.conversation_event(channel.as_str(), "reply");
        let note = match asked {
            Some(Keyword::OptOut) => format!("{channel} reply: opted out by keyword"),
            Some(Keyword::OptIn) => format!("{channel} reply: opted back in by keyword"),
            None => format!("{channel} reply from the person"),
        };
        self.conversations.message_note(lead_id, &note).await?;
        self.announce(lead_id, channel, &message.text).await;
        Ok(Some(id))
    }

    async fn lead_answered(
        &self,
        channel: MessageChannel,
        number: &NumberHash,
        from: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(lead_id) = self.conversations.lead_of_number(channel, number).await? {
            return Ok(Some(lead_id));
        }
        let digits: String = from.chars().filter(char::is_ascii_digit).collect();
        self.routing
            .newest_lead_of_phone(&format!("+{digits}"))
            .await
    }

    async fn opt_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
        source: OptOutSource,
    ) -> Result<(), StoreError> {
        self.conversations.opt_out(number, channel, source).await?;
        self.metrics.conversation_event(channel.as_str(), "opt_out");
        Ok(())
    }

    async fn number_of_lead(&self, lead_id: i64) -> Result<Option<NumberHash>, StoreError> {
        let lead = self.reader.get(lead_id).await?;
        Ok(lead
            .and_then(|lead| lead.meta.phone_e164)
            .map(|e164| NumberHash::of(&e164)))
    }

    /// Tells the dashboards; the reply is stored whether or not this read works.
    async fn announce(&self, lead_id: i64, channel: MessageChannel, text: &str) {
        match self.reader.get(lead_id).await {
            Ok(Some(lead)) => self.feed.announce_reply(Reply {
                lead_id,
                name: lead.display_name(),
                owner: lead.owner.clone(),
                channel: channel.to_string(),
                text: text.to_string(),
                at: Utc::now(),
            }),
            Ok(None) => {}
            Err(error) => tracing::warn!(lead_id, "a stored reply was not announced: {error}"),
        }
    }
}

fn status_event(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Delivered => "delivered",
        MessageStatus::Read => "read",
        MessageStatus::Failed => "failed",
        _ => "sent",
    }
}
