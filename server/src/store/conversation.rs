//! A lead's conversation with the business (WhatsApp, SMS): the messages sent to the person and
//! theirs back, the numbers that opted out, and the rule that a person gets the first message at
//! most once.
//!
//! **At most once.** [`Conversations::first_message_start`] is the one statement that both
//! claims the person's first message on a channel (a unique row per person and per number) and
//! marks the send as started (`sending`), before any request leaves. Two replicas racing for two
//! submissions of one person both try the insert; one gets the row. A row found `sending` by the
//! same delivery again means the server stopped mid-send: it becomes `unknown` and is never sent
//! again (the rep decides).
//!
//! **Opt-outs** are keyed by [`NumberHash`], not by the number or a lead, so they survive the
//! person's erasure (which removes their messages: a trigger on `leads.erased_at`, both stores).

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::StoreError;

/// Longest message body or error text kept (characters).
pub const MESSAGE_TEXT_LIMIT: usize = 4096;

/// Most messages [`Conversations::messages_of_lead`] returns.
pub const CONVERSATION_LIMIT: u32 = 500;

macro_rules! spelled {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* #[serde(rename = $text)] $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The one spelling, as both stores keep it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn read(text: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.as_str() == text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled!(
    /// Where a message goes or came from.
    MessageChannel {
        WhatsApp => "whatsapp",
        Sms => "sms",
    }
);

spelled!(
    /// To the person (`out`) or from them (`in`).
    Direction {
        Out => "out",
        In => "in",
    }
);

spelled!(
    /// Where a message stands.
    MessageStatus {
        /// The send started and its outcome is not known yet (the at-most-once mark).
        Sending => "sending",
        /// Known not taken by the provider (a 429, a 5xx without a message id): sent again later.
        Queued => "queued",
        /// The provider took it (it has the provider's id).
        Sent => "sent",
        Delivered => "delivered",
        Read => "read",
        /// Will never arrive (with the provider's error).
        Failed => "failed",
        /// The server stopped mid-send: it may or may not have gone out. Never sent again.
        Unknown => "unknown",
        /// A message from the person.
        Received => "received",
    }
);

impl MessageStatus {
    /// How far along a status is: a provider's late or repeated status never moves a message
    /// back (a `delivered` that arrives after `read`).
    pub fn rank(self) -> u8 {
        match self {
            MessageStatus::Sending | MessageStatus::Queued => 0,
            MessageStatus::Unknown => 1,
            MessageStatus::Sent => 2,
            MessageStatus::Delivered => 3,
            MessageStatus::Read | MessageStatus::Failed | MessageStatus::Received => 4,
        }
    }
}

spelled!(
    /// How a number came to opt out.
    OptOutSource {
        /// The person texted STOP (or another opt-out keyword).
        Keyword => "keyword",
        /// Twilio refused a send: the number had opted out (error 21610).
        Twilio21610 => "twilio_21610",
        /// WhatsApp refused a send: the person stopped marketing messages (error 131050).
        WhatsApp131050 => "whatsapp_131050",
        /// WhatsApp's webhook reported a marketing opt-out.
        MarketingOptOut => "marketing_opt_out",
        /// An operator or rep recorded it.
        Manual => "manual",
    }
);

/// A phone number as the opt-outs and the once-per-number rule know it: SHA-256 of the E.164
/// number under a fixed prefix, in hex. Deliberately without a server key: a key that is lost,
/// rotated or differs between replicas would silently turn every opt-out off, the one failure
/// this list must never have; and no key makes a hash of a phone number (about 10^10 candidates
/// per country) safe from a search anyway. What it gives is that the store holds no readable
/// number once the person is erased, and nothing that links the opt-out to the erased lead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NumberHash(String);

impl NumberHash {
    /// The hash of `e164` (`+` and digits, as `phone_e164` holds it; a leading `+` is optional).
    pub fn of(e164: &str) -> NumberHash {
        let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
        let digest = Sha256::digest(format!("leadhook-number:v1:+{digits}").as_bytes());
        NumberHash(hex::encode(digest))
    }

    /// As stored.
    pub fn from_stored(hex: String) -> NumberHash {
        NumberHash(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a provider's status did to its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusApplied {
    pub message_id: i64,
    pub lead_id: i64,
    /// `false` when the message already stood at that status or beyond (a provider's repeat, or
    /// a late `sent` after `delivered`): nothing changed, and nothing goes in the history.
    pub changed: bool,
}

/// One message of a lead's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationMessage {
    pub id: i64,
    pub lead_id: i64,
    pub channel: MessageChannel,
    pub direction: Direction,
    /// WhatsApp's `wamid…` or Twilio's message SID, once the provider gave one.
    pub provider_id: Option<String>,
    pub status: MessageStatus,
    /// The text (an SMS, or the person's reply).
    pub body: Option<String>,
    /// The WhatsApp template's name, for a template message.
    pub template: Option<String>,
    /// The provider's error, or why the message is `unknown`.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The first message to a lead's person, about to be sent by outbox delivery `delivery_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstMessage {
    pub lead_id: i64,
    /// [`leadhook_shared::Lead::person_id`]: one first message per person and channel.
    pub person_id: i64,
    /// And one per number and channel.
    pub number: NumberHash,
    pub channel: MessageChannel,
    pub delivery_id: i64,
    pub body: Option<String>,
    pub template: Option<String>,
}

/// What [`Conversations::first_message_start`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FirstStart {
    /// Marked `sending`: send now (message id). Also a retry of this delivery's own `queued` one.
    Started(i64),
    /// This delivery's own send was started and never settled (the server stopped mid-send):
    /// now `unknown`, with a history row. Do not send.
    Unknown(i64),
    /// The person or the number already has a first message on this channel (of that lead).
    AlreadyMessaged { lead_id: i64 },
    /// The number opted out of this channel.
    OptedOut(OptOutSource),
}

/// A number's opt-out of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    pub channel: MessageChannel,
    pub source: OptOutSource,
    pub at: DateTime<Utc>,
}

/// The conversations of leads (see the module). Written by the outbox's first-message senders
/// and the providers' webhooks directly, like the outbox's own settling: a message is not a
/// change of the lead, and its history rows (`message`) queue no event.
#[async_trait]
pub trait Conversations: Send + Sync {
    /// Claims the person's first message on `first.channel` and marks it `sending`, in one
    /// statement, unless the number opted out of the channel (checked in the same transaction).
    async fn first_message_start(&self, first: &FirstMessage) -> Result<FirstStart, StoreError>;

    /// The provider took message `id` (its id and status, usually `sent`).
    async fn message_accepted(
        &self,
        id: i64,
        provider_id: &str,
        status: MessageStatus,
    ) -> Result<(), StoreError>;

    /// Message `id` is known not to have been taken and will be tried again (`queued`).
    async fn message_retry(&self, id: i64, error: &str) -> Result<(), StoreError>;

    /// Message `id` will never go out (`failed`, with the error), with a history row.
    async fn message_failed(&self, id: i64, error: &str) -> Result<(), StoreError>;

    /// A provider's later status for its message `provider_id` (a webhook or status callback):
    /// applied unless it would move the message back ([`MessageStatus::rank`]) or leave it where
    /// it stands. `None` when no message has that provider id.
    async fn message_status(
        &self,
        channel: MessageChannel,
        provider_id: &str,
        status: MessageStatus,
        error: Option<&str>,
    ) -> Result<Option<StatusApplied>, StoreError>;

    /// A message from the person to lead `lead_id`; a provider id seen before is not stored
    /// twice (`None`: a re-delivery).
    async fn message_received(
        &self,
        lead_id: i64,
        channel: MessageChannel,
        provider_id: &str,
        number: &NumberHash,
        body: &str,
    ) -> Result<Option<i64>, StoreError>;

    /// Writes a `message` history row for lead `lead_id` (a first message skipped, and why).
    async fn message_note(&self, lead_id: i64, text: &str) -> Result<(), StoreError>;

    /// Lead `lead_id`'s conversation, oldest first, at most [`CONVERSATION_LIMIT`].
    async fn messages_of_lead(&self, lead_id: i64) -> Result<Vec<ConversationMessage>, StoreError>;

    /// The lead last messaged at `number` on `channel` (where a reply from it belongs).
    async fn lead_of_number(
        &self,
        channel: MessageChannel,
        number: &NumberHash,
    ) -> Result<Option<i64>, StoreError>;

    /// Records that `number` opted out of `channel` (a repeat keeps the first record).
    async fn opt_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
        source: OptOutSource,
    ) -> Result<(), StoreError>;

    /// The number opted back in: `true` when it had opted out.
    async fn opt_in(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<bool, StoreError>;

    async fn opted_out(
        &self,
        number: &NumberHash,
        channel: MessageChannel,
    ) -> Result<Option<OptOut>, StoreError>;

    /// How many messages stand at each (channel, direction, status).
    async fn message_figures(
        &self,
    ) -> Result<BTreeMap<(MessageChannel, Direction, MessageStatus), u64>, StoreError>;
}

/// Why a first message is `unknown`.
pub const UNSETTLED: &str =
    "the server stopped while sending it: it may or may not have arrived; not sent again";

/// The history row of a first message whose fate is unknown.
pub fn unknown_note(channel: MessageChannel) -> String {
    format!("{channel} first message: unknown ({UNSETTLED})")
}

/// The history row of a message that will never arrive.
pub fn failed_note(error: &str) -> String {
    format!("first message failed: {error}")
}

/// A text as a message row keeps it.
pub fn message_text(text: &str) -> String {
    text.chars().take(MESSAGE_TEXT_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_read_back() {
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::read(status.as_str()), Some(*status));
        }
        assert_eq!(
            MessageChannel::read("whatsapp"),
            Some(MessageChannel::WhatsApp)
        );
        assert_eq!(
            OptOutSource::read("twilio_21610"),
            Some(OptOutSource::Twilio21610)
        );
        assert_eq!(MessageStatus::read("bounced"), None);
    }

    #[test]
    fn a_number_hashes_the_same_however_written() {
        assert_eq!(
            NumberHash::of("+4915112345678"),
            NumberHash::of("4915112345678")
        );
        assert_ne!(
            NumberHash::of("+4915112345678"),
            NumberHash::of("+4915112345679")
        );
        assert_eq!(NumberHash::of("+1").as_str().len(), 64);
    }
}
