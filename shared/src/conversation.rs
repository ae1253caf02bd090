//! A lead's conversation with the person on the wire: `GET /api/leads/{id}/messages`, the answer
//! a rep writes (`POST` there), and the `reply` event of `/api/events` ("Jane replied: …").
//! Statuses, channels and directions travel as the server's spellings (`whatsapp`, `in`,
//! `delivered`…), so a newer server's new status reads as text rather than failing.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long after the person's last message WhatsApp lets the business write free text.
pub const WHATSAPP_WINDOW: Duration = Duration::hours(24);

/// One message of `GET /api/leads/{id}/messages`, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEntry {
    pub id: i64,
    /// `whatsapp` or `sms`.
    pub channel: String,
    /// `out` (to the person) or `in` (theirs).
    pub direction: String,
    /// `sending`, `queued`, `sent`, `delivered`, `read`, `failed`, `unknown` or `received`.
    pub status: String,
    pub body: Option<String>,
    pub template: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ConversationEntry {
    pub fn is_from_person(&self) -> bool {
        self.direction == "in"
    }
}

/// `GET /api/leads/{id}/messages`: the conversation, and how an answer would go out now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub messages: Vec<ConversationEntry>,
    pub answer_mode: AnswerMode,
}

/// How an answer on WhatsApp goes out now: free text inside the 24-hour window after the
/// person's last message, the configured template outside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    FreeText,
    Template,
}

impl AnswerMode {
    /// The mode for a conversation whose person last wrote at `last_from_person`.
    pub fn at(last_from_person: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AnswerMode {
        match last_from_person {
            Some(at) if now - at < WHATSAPP_WINDOW => AnswerMode::FreeText,
            _ => AnswerMode::Template,
        }
    }

    /// The mode of `messages` (a lead's conversation) at `now`.
    pub fn of(messages: &[ConversationEntry], now: DateTime<Utc>) -> AnswerMode {
        let last = messages
            .iter()
            .filter(|message| message.is_from_person())
            .map(|message| message.created_at)
            .max();
        AnswerMode::at(last, now)
    }
}

/// The `reply` event of `/api/events`: the person answered. For the lead's owner, or the
/// available reps when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub lead_id: i64,
    /// The lead's display name.
    pub name: String,
    pub owner: Option<String>,
    pub channel: String,
    /// What the person wrote (stranger's text: neutralise before showing it).
    pub text: String,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(direction: &str, created_at: DateTime<Utc>) -> ConversationEntry {
        ConversationEntry {
            id: 1,
            channel: "whatsapp".into(),
            direction: direction.into(),
            status: "received".into(),
            body: Some("hi".into()),
            template: None,
            error: None,
            created_at,
            updated_at: created_at,
        }
    }

    #[test]
    fn free_text_only_within_a_day_of_the_persons_last_message() {
        let now = Utc::now();
        assert_eq!(AnswerMode::of(&[], now), AnswerMode::Template);
        let recent = [entry("in", now - Duration::hours(23))];
        assert_eq!(AnswerMode::of(&recent, now), AnswerMode::FreeText);
        let old = [entry("in", now - Duration::hours(25))];
        assert_eq!(AnswerMode::of(&old, now), AnswerMode::Template);
        // The business's own messages do not open the window.
        let ours = [entry("out", now - Duration::minutes(1))];
        assert_eq!(AnswerMode::of(&ours, now), AnswerMode::Template);
    }
}
