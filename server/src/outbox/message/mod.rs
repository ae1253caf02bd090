//! What a chat message or an e-mail says about an event, worded once, here, from the delivery and
//! the lead as it is now: "New lead: Jane Doe (Spring Promo) assigned to alice". Each kind only
//! escapes it for its medium ([`escape_markup`] for Slack, Telegram and HTML mail; Teams puts it
//! in plain text runs). Every piece of lead text is one line here already: newlines, control,
//! bidirectional and line-separator characters are gone, and a long one is cut.

use std::borrow::Cow;

mod headline;

use leadhook_shared::plain_text::one_line;
use leadhook_shared::{Activity, Lead};

use crate::limits::MESSAGE_FIELD_CHARS;
use crate::store::{Delivery, EventType, LeadReader};
use headline::About;

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
        let entry = if About::tells_of_the_change(EventType::read(&delivery.event_type)) {
            history_entry(delivery, leads).await?
        } else {
            None
        };
        Ok(match lead {
            Some(lead) => Message::about(delivery, &lead, entry.as_ref()),
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

    fn about(delivery: &Delivery, lead: &Lead, entry: Option<&Activity>) -> Message {
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
        let about = About {
            name: &name,
            source: &source,
            owner: owner.as_deref(),
        };
        let headline = about.headline(delivery, entry);
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

/// The history row that queued `delivery` (the change it tells of), while the lead keeps it.
pub(super) async fn history_entry(
    delivery: &Delivery,
    leads: &dyn LeadReader,
) -> Result<Option<Activity>, String> {
    let history = leads
        .activity(delivery.lead_id)
        .await
        .map_err(|error| format!("cannot read the lead's history: {error}"))?;
    Ok(history
        .unwrap_or_default()
        .into_iter()
        .find(|row| row.id == delivery.activity_id))
}

/// Lead text as one line without hazards, at most [`MESSAGE_FIELD_CHARS`] characters.
pub(super) fn clean(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use leadhook_shared::lead::MetaFields;

    use super::*;

    pub(super) fn lead(name: &str, campaign: Option<&str>, owner: Option<&str>) -> Lead {
        let meta: MetaFields = serde_json::from_value(serde_json::json!({
            "name": name, "phone": "+1 202 555 0143", "phone_e164": "+12025550143",
            "email": "jane@example.com", "campaign_name": campaign, "form_name": "Form A",
            "created_at": "2026-12-07T10:00:00Z", "is_organic": false, "fields": {}
        }))
        .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        let mut lead = Lead::arrived(12, Some("1".into()), meta, at);
        lead.owner = owner.map(str::to_string);
        lead
    }

    pub(super) fn delivery(event_type: &str, stage: &str) -> Delivery {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap();
        Delivery {
            id: 1,
            destination: "sales".into(),
            event_type: event_type.into(),
            lead_id: 12,
            activity_id: 3,
            leadgen_id: Some("1".into()),
            stage: stage.into(),
            at,
            lead_created_at: at,
            queued_at: at,
            attempts: 1,
        }
    }

    #[test]
    fn each_event_is_worded_from_the_lead() {
        let jane = lead("Jane Doe", Some("Spring Promo"), Some("alice"));
        let created = Message::about(&delivery("lead.created", "New Lead"), &jane, None);
        assert_eq!(
            created.headline,
            "New lead: Jane Doe (Spring Promo) assigned to alice"
        );
        assert_eq!(
            created.plain(),
            "New lead: Jane Doe (Spring Promo) assigned to alice\nPhone: +12025550143\n\
             E-mail: jane@example.com\nStatus: New Lead\nOwner: alice\nLead: #12"
        );
        let unowned = lead("Jane Doe", None, None);
        let cases = [
            (
                "lead.created",
                "New Lead",
                &unowned,
                "New lead: Jane Doe (Form A)",
            ),
            (
                "lead.assigned",
                "New Lead",
                &jane,
                "Lead assigned: Jane Doe (Spring Promo) to alice",
            ),
            (
                "lead.assigned",
                "New Lead",
                &unowned,
                "Lead unassigned: Jane Doe (Form A)",
            ),
            (
                "lead.status_changed",
                "Contacted",
                &jane,
                "Lead status: Jane Doe (Spring Promo) is now Contacted",
            ),
            (
                "lead.escalated",
                "New Lead",
                &jane,
                "Waiting too long: Jane Doe (Spring Promo), not called yet by alice",
            ),
            (
                "lead.escalated",
                "New Lead",
                &unowned,
                "Waiting too long: Jane Doe (Form A), nobody has it yet",
            ),
            (
                "lead.deleted",
                "New Lead",
                &jane,
                "Lead update (lead.deleted): Jane Doe (Spring Promo)",
            ),
        ];
        for (event, stage, lead, expected) in cases {
            assert_eq!(
                Message::about(&delivery(event, stage), lead, None).headline,
                expected
            );
        }
    }

    #[test]
    fn lead_text_is_one_line_without_hazards_and_cut_when_long() {
        let hostile = lead(
            "Eve\n\rBcc: x@evil\u{7}\u{1b}[31m\u{202e}",
            Some(&"x".repeat(500)),
            None,
        );
        let message = Message::about(&delivery("lead.created", "New Lead"), &hostile, None);
        assert!(
            message
                .headline
                .starts_with("New lead: Eve  Bcc: x@evil[31m ("),
            "{}",
            message.headline
        );
        assert!(message.headline.ends_with("x…)"), "{}", message.headline);
        assert_eq!(
            message.headline.chars().filter(|c| *c == 'x').count(),
            MESSAGE_FIELD_CHARS - 1 + 1,
            "the campaign cut to the limit (and the x of x@evil)"
        );
        for line in message.plain().lines() {
            assert!(
                !line.chars().any(leadhook_shared::plain_text::is_hazard),
                "{line:?}"
            );
        }
    }

    #[test]
    fn markup_is_escaped_for_slack_telegram_and_html() {
        assert_eq!(
            escape_markup("<!channel> & <https://evil|x> <@U123>"),
            "&lt;!channel&gt; &amp; &lt;https://evil|x&gt; &lt;@U123&gt;"
        );
        assert!(matches!(escape_markup("Jane Doe"), Cow::Borrowed(_)));
    }
}
