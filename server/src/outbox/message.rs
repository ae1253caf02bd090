//! What a chat message or an e-mail says about an event, worded once, here, from the delivery and
//! the lead as it is now: "New lead: Jane Doe (Spring Promo) assigned to alice". Each kind only
//! escapes it for its medium ([`escape_markup`] for Slack, Telegram and HTML mail; Teams puts it
//! in plain text runs). Every piece of lead text is one line here already: newlines, control,
//! bidirectional and line-separator characters are gone, and a long one is cut.

use std::borrow::Cow;

use leadhook_shared::Lead;
use leadhook_shared::plain_text::one_line;

use crate::limits::MESSAGE_FIELD_CHARS;
use crate::store::{Delivery, EventType, LeadReader};

/// An event, worded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// One line, the whole news: also the e-mail's subject.
    pub headline: String,
    /// Labelled lines under it, in order.
    pub details: Vec<(&'static str, String)>,
}

impl Message {
    /// The message for `delivery`, with its lead read now (a changed name shows the new one).
    pub async fn for_delivery(
        delivery: &Delivery,
        leads: &dyn LeadReader,
    ) -> Result<Message, String> {
        let lead = leads
            .get(delivery.lead_id)
            .await
            .map_err(|error| format!("cannot read the lead: {error}"))?;
        Ok(match lead {
            Some(lead) => Message::about(delivery, &lead),
            None => Message {
                headline: format!(
                    "Lead #{} ({}) is no longer stored",
                    delivery.lead_id,
                    clean(&delivery.event_type)
                ),
                details: Vec::new(),
            },
        })
    }

    fn about(delivery: &Delivery, lead: &Lead) -> Message {
        let name = match (&lead.meta.name, lead.erased_at) {
            (_, Some(_)) => "(erased)".to_string(),
            (Some(name), None) if !name.trim().is_empty() => clean(name),
            _ => "(no name)".to_string(),
        };
        let source = lead
            .meta
            .campaign_name
            .as_deref()
            .or(lead.meta.form_name.as_deref())
            .filter(|source| !source.trim().is_empty())
            .map(|source| format!(" ({})", clean(source)))
            .unwrap_or_default();
        let owner = lead.owner.as_deref().map(clean);
        let headline = match EventType::read(&delivery.event_type) {
            Some(EventType::Created) => match &owner {
                Some(owner) => format!("New lead: {name}{source} assigned to {owner}"),
                None => format!("New lead: {name}{source}"),
            },
            Some(EventType::Assigned) => match &owner {
                Some(owner) => format!("Lead assigned: {name}{source} to {owner}"),
                None => format!("Lead unassigned: {name}{source}"),
            },
            Some(EventType::StatusChanged) => format!(
                "Lead status: {name}{source} is now {}",
                clean(&delivery.stage)
            ),
            None => format!(
                "Lead update ({}): {name}{source}",
                clean(&delivery.event_type)
            ),
        };
        let mut details = Vec::new();
        let phone = lead.meta.phone_e164.as_ref().or(lead.meta.phone.as_ref());
        if let Some(phone) = phone.filter(|_| lead.erased_at.is_none()) {
            details.push(("Phone", clean(phone)));
        }
        if let Some(email) = lead
            .meta
            .email
            .as_ref()
            .filter(|_| lead.erased_at.is_none())
        {
            details.push(("E-mail", clean(email)));
        }
        details.push(("Status", clean(lead.status.as_str())));
        details.push(("Owner", owner.unwrap_or_else(|| "nobody yet".into())));
        details.push(("Lead", format!("#{}", lead.id)));
        Message { headline, details }
    }

    /// The message of `leadhook-server channels test`: plainly a test, about no lead.
    pub fn test(channel: &str) -> Message {
        Message {
            headline: format!("Test message from leadhook: the channel {channel} works"),
            details: vec![
                (
                    "Sent",
                    chrono::Utc::now()
                        .format("%Y-%m-%d %H:%M:%S UTC")
                        .to_string(),
                ),
                (
                    "Why",
                    "leadhook-server channels test; no lead is involved".into(),
                ),
            ],
        }
    }

    /// The message as plain text: the headline, then one `Label: value` line per detail.
    pub fn plain(&self) -> String {
        let mut text = self.headline.clone();
        for (label, value) in &self.details {
            text.push_str(&format!("\n{label}: {value}"));
        }
        text
    }
}

/// Lead text as one line without hazards, at most [`MESSAGE_FIELD_CHARS`] characters.
fn clean(text: &str) -> String {
    let line = one_line(text);
    let line = line.trim();
    if line.chars().count() <= MESSAGE_FIELD_CHARS {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MESSAGE_FIELD_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Text that a markup reads as text only: `&`, `<` and `>` as entities. Slack's mrkdwn (where
/// `<…>` makes links and mentions), Telegram's HTML parse mode and an HTML mail's text all take
/// exactly these.
pub fn escape_markup(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}
