//! A lead's history under its details: who did what and when, each kind of change in words.

use chrono::{DateTime, Utc};
use leadhook_shared::{
    Activity, ActivityKind, CallOutcome, DeliveryState, LeadDelivery, NextStep, Tz, show_due,
};
use ratatui::style::Style;
use ratatui::text::Span;

use super::detail::Page;
use crate::app::App;
use crate::sanitize;
use crate::theme;

/// The lead's conversation, then its history, oldest first, once the server has sent it.
pub(super) fn activity(app: &App, lead: i64, page: &mut Page) {
    super::conversation::conversation(app, lead, page);
    page.heading("Activity");
    let Some(history) = app.team.activity.as_ref().filter(|a| a.lead == lead) else {
        page.text(Span::raw(""), "loading…", theme::LABEL);
        return;
    };
    if let Some(error) = &history.error {
        page.text(Span::raw(""), &format!("not loaded: {error}"), theme::ERROR);
    } else if history.entries.is_empty() {
        let text = if history.loading {
            "loading…"
        } else {
            "none"
        };
        page.text(Span::raw(""), text, theme::LABEL);
    }
    for entry in &history.entries {
        let when = entry.at.with_timezone(&app.tz).format("%m-%d %H:%M ");
        let who = Span::styled(format!("{when}{:<10} ", entry.actor), theme::LABEL);
        page.text(who, &change(entry, app.now, app.zone()), theme::VALUE);
    }
    if !history.deliveries.is_empty() {
        page.heading("Sent to");
    }
    for delivery in &history.deliveries {
        let when = delivery
            .done_at
            .unwrap_or(delivery.queued_at)
            .with_timezone(&app.tz)
            .format("%m-%d %H:%M ");
        let channel = Span::styled(
            format!(
                "{when}{:<10} ",
                sanitize::screen(delivery.destination_label())
            ),
            theme::LABEL,
        );
        let (text, style) = delivered(delivery);
        page.text(channel, &text, style);
    }
}

/// "lead.created: sent", "lead.created: failed, gave up…", "lead.assigned: retrying (3
/// attempts): timed out".
fn delivered(delivery: &LeadDelivery) -> (String, Style) {
    let event = &delivery.event_type;
    let reason = delivery.reason.as_deref().unwrap_or("no reason given");
    match delivery.state {
        DeliveryState::Sent => (format!("{event}: sent"), theme::OK),
        DeliveryState::Failed => (format!("{event}: not delivered, {reason}"), theme::ERROR),
        DeliveryState::Dropped => (format!("{event}: not sent, {reason}"), theme::LABEL),
        DeliveryState::Queued if delivery.reason.is_some() => (
            format!(
                "{event}: retrying ({} attempts): {reason}",
                delivery.attempts
            ),
            theme::WARN,
        ),
        DeliveryState::Queued => (format!("{event}: on its way"), theme::VALUE),
        DeliveryState::Other => (format!("{event}: {reason}"), theme::LABEL),
    }
}

/// "status New Lead → Contacted", "claimed", "assigned alice → bob", "no answer — busy".
fn change(entry: &Activity, now: DateTime<Utc>, zone: Tz) -> String {
    let value = |value: &Option<String>| value.clone().unwrap_or_else(|| "unowned".to_string());
    match entry.kind {
        ActivityKind::Stored => "stored".to_string(),
        ActivityKind::Redelivered => "delivered again by Meta".to_string(),
        ActivityKind::Status => format!(
            "status {} → {}",
            entry.old.as_deref().unwrap_or("—"),
            entry.new.as_deref().unwrap_or("—")
        ),
        ActivityKind::Notes => "notes changed".to_string(),
        ActivityKind::Claim => "claimed".to_string(),
        ActivityKind::Release => "released".to_string(),
        ActivityKind::Assign => format!("assigned {} → {}", value(&entry.old), value(&entry.new)),
        // The reason is what the admin typed (a request's reference); `Page::text` neutralises it.
        ActivityKind::Erase => match &entry.new {
            Some(reason) => format!("erased: {reason}"),
            None => "erased".to_string(),
        },
        ActivityKind::Exported => "exported".to_string(),
        ActivityKind::NextStep => match &entry.new {
            Some(step) => format!("set next step: {}", next_step_text(step, now, zone)),
            None => "cleared the next step".to_string(),
        },
        ActivityKind::Attempt => {
            CallOutcome::read_history_text(entry.new.as_deref().unwrap_or("—"))
        }
        ActivityKind::Linked => format!(
            "linked: the same person as {}",
            entry.new.as_deref().unwrap_or("—")
        ),
        ActivityKind::SubmittedAgain => format!(
            "the person submitted again: {}",
            entry.new.as_deref().unwrap_or("—")
        ),
        ActivityKind::Unlinked => format!(
            "link to {} undone: a person of its own",
            entry.old.as_deref().unwrap_or("—")
        ),
        ActivityKind::JunkCleared => format!(
            "junk flag cleared (was: {})",
            entry.old.as_deref().unwrap_or("—")
        ),
        ActivityKind::Escalated => format!(
            "escalated: waiting too long (level {})",
            entry.new.as_deref().unwrap_or("—")
        ),
        ActivityKind::Reminded => match &entry.new {
            Some(step) => format!("follow-up due: {}", next_step_text(step, now, zone)),
            None => "follow-up due".to_string(),
        },
        ActivityKind::Message => entry
            .new
            .clone()
            .unwrap_or_else(|| "first message".to_string()),
        ActivityKind::Other => "changed (update leadhook to see how)".to_string(),
    }
}

/// A `next_step` entry (`"2026-12-08T09:00:00Z Call back"`, see [`NextStep::history_text`])
/// as the rep reads it: "tomorrow 09:00 Call back". Text of another shape is shown as it is.
///
/// [`NextStep::history_text`]: leadhook_shared::NextStep::history_text
fn next_step_text(text: &str, now: DateTime<Utc>, zone: Tz) -> String {
    match NextStep::from_history_text(text) {
        Some(step) => format!("{} {}", show_due(step.at, now, zone), step.what),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::now;

    #[test]
    fn an_erasure_shows_its_reason() {
        let mut entry = Activity {
            id: 1,
            lead_id: 1,
            at: now(),
            actor: "alice".into(),
            kind: ActivityKind::Erase,
            old: None,
            new: None,
        };
        assert_eq!(change(&entry, now(), Tz::UTC), "erased");
        entry.new = Some("DSR-2026-041".into());
        assert_eq!(change(&entry, now(), Tz::UTC), "erased: DSR-2026-041");
    }

    #[test]
    fn links_and_cleared_junk_read_as_words() {
        let entry = |kind, old: Option<&str>, new: Option<&str>| Activity {
            id: 1,
            lead_id: 19,
            at: now(),
            actor: "alice".into(),
            kind,
            old: old.map(Into::into),
            new: new.map(Into::into),
        };
        let read = |entry: Activity| change(&entry, now(), Tz::UTC);
        assert_eq!(
            read(entry(ActivityKind::Linked, None, Some("#12 (same phone)"))),
            "linked: the same person as #12 (same phone)"
        );
        assert_eq!(
            read(entry(
                ActivityKind::SubmittedAgain,
                None,
                Some("#19 Spring Promo")
            )),
            "the person submitted again: #19 Spring Promo"
        );
        assert_eq!(
            read(entry(ActivityKind::Unlinked, Some("#12"), None)),
            "link to #12 undone: a person of its own"
        );
        assert_eq!(
            read(entry(
                ActivityKind::JunkCleared,
                Some("Meta test lead"),
                None
            )),
            "junk flag cleared (was: Meta test lead)"
        );
        assert_eq!(
            read(entry(ActivityKind::Escalated, None, Some("1"))),
            "escalated: waiting too long (level 1)"
        );
        assert_eq!(
            read(entry(
                ActivityKind::Message,
                None,
                Some("whatsapp first message not sent: quiet hours")
            )),
            "whatsapp first message not sent: quiet hours"
        );
    }

    #[test]
    fn follow_up_history_reads_as_words_in_the_reps_zone() {
        let mut entry = Activity {
            id: 1,
            lead_id: 1,
            at: now(),
            actor: "alice".into(),
            kind: ActivityKind::NextStep,
            old: None,
            new: Some("2026-03-11T08:00:00Z Call back".into()),
        };
        // 08:00 UTC is 09:00 in Berlin, the day after the fixed now.
        let berlin = Tz::Europe__Berlin;
        assert_eq!(
            change(&entry, now(), berlin),
            "set next step: tomorrow 09:00 Call back"
        );
        entry.new = None;
        assert_eq!(change(&entry, now(), berlin), "cleared the next step");
        entry.kind = ActivityKind::Attempt;
        entry.new = Some("no_answer: busy: try later".into());
        assert_eq!(change(&entry, now(), berlin), "no answer — busy: try later");
        entry.new = Some("talked".into());
        assert_eq!(change(&entry, now(), berlin), "talked");
        entry.new = Some("shouted".into());
        assert_eq!(change(&entry, now(), berlin), "shouted");
        entry.kind = ActivityKind::Reminded;
        entry.new = Some("2026-03-11T08:00:00Z Call back".into());
        assert_eq!(
            change(&entry, now(), berlin),
            "follow-up due: tomorrow 09:00 Call back"
        );
    }
}
