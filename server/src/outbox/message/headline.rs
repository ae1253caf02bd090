//! The headline of each event: one line, the whole news. The follow-up and people events tell of
//! the change itself (the step set, the call's outcome, whose person), read from the history row
//! that queued them; the others from the lead as it is now.

use leadhook_shared::{Activity, CallOutcome, NextStep};

use super::clean;
use crate::store::{Delivery, EventType};

/// The lead's parts every headline names, each already [`clean`].
pub(super) struct About<'a> {
    /// "Jane Doe", "(erased)" or "(no name)".
    pub name: &'a str,
    /// " (Spring Promo)": the campaign, else the form; empty when neither is known.
    pub source: &'a str,
    pub owner: Option<&'a str>,
}

impl About<'_> {
    /// Whether `event`'s headline reads the history row that queued it.
    pub fn tells_of_the_change(event: Option<EventType>) -> bool {
        !matches!(
            event,
            None | Some(
                EventType::Created
                    | EventType::Assigned
                    | EventType::StatusChanged
                    | EventType::Escalated
            )
        )
    }

    /// `entry` is the history row that queued `delivery` (`None` once it is gone).
    pub fn headline(&self, delivery: &Delivery, entry: Option<&Activity>) -> String {
        let About {
            name,
            source,
            owner,
        } = self;
        let new = || entry.and_then(|row| row.new.as_deref()).map(clean);
        let old = || entry.and_then(|row| row.old.as_deref()).map(clean);
        let by = entry
            .map(|row| format!(" by {}", clean(&row.actor)))
            .unwrap_or_default();
        let Some(event) = EventType::read(&delivery.event_type) else {
            return format!(
                "Lead update ({}): {name}{source}",
                clean(&delivery.event_type)
            );
        };
        match event {
            EventType::Created => match owner {
                Some(owner) => format!("New lead: {name}{source} assigned to {owner}"),
                None => format!("New lead: {name}{source}"),
            },
            EventType::Assigned => match owner {
                Some(owner) => format!("Lead assigned: {name}{source} to {owner}"),
                None => format!("Lead unassigned: {name}{source}"),
            },
            EventType::Escalated => match owner {
                Some(owner) => {
                    format!("Waiting too long: {name}{source}, not called yet by {owner}")
                }
                None => format!("Waiting too long: {name}{source}, nobody has it yet"),
            },
            EventType::StatusChanged => format!(
                "Lead status: {name}{source} is now {}",
                clean(&delivery.stage)
            ),
            EventType::NextStepChanged => match entry.and_then(|row| row.new.as_deref()) {
                Some(step) => format!("Next step for {name}{source}{by}: {}", step_text(step)),
                None => format!("Next step cleared for {name}{source}{by}"),
            },
            EventType::AttemptLogged => format!(
                "Call attempt on {name}{source}{by}: {}",
                clean(&CallOutcome::read_history_text(
                    entry.and_then(|row| row.new.as_deref()).unwrap_or("—")
                ))
            ),
            EventType::FollowUpDue => {
                let step = entry
                    .and_then(|row| row.new.as_deref())
                    .map(|step| format!(": {}", step_text(step)))
                    .unwrap_or_default();
                match owner {
                    Some(owner) => format!("Follow-up due for {owner}: {name}{source}{step}"),
                    None => format!("Follow-up due: {name}{source}{step}"),
                }
            }
            EventType::SubmittedAgain => match new().as_deref().map(new_submission) {
                Some((lead, Some(form))) => format!("{name} submitted again ({form}), lead {lead}"),
                Some((lead, None)) => format!("{name} submitted again, lead {lead}"),
                None => format!("{name} submitted again"),
            },
            EventType::Linked => format!(
                "Same person: {name}{source} and lead {}",
                new().unwrap_or_else(|| "?".into())
            ),
            EventType::Unlinked => format!(
                "Link undone{by}: {name}{source} is a person of its own again (was {})",
                old().unwrap_or_else(|| "?".into())
            ),
            EventType::JunkCleared => format!(
                "Not junk after all{by}: {name}{source} (was: {})",
                old().unwrap_or_else(|| "?".into())
            ),
        }
    }
}

/// A step's history text as a message reads it: "Send the quote, 2026-12-08 09:00 UTC".
fn step_text(text: &str) -> String {
    match NextStep::from_history_text(text) {
        Some(step) => format!(
            "{}, {}",
            clean(&step.what),
            step.at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => clean(text),
    }
}

/// A `submitted_again` row's `new` (`"#45 Spring Promo"`, the form optional): the new lead and
/// its form.
fn new_submission(text: &str) -> (&str, Option<&str>) {
    match text.split_once(' ') {
        Some((lead, form)) if !form.trim().is_empty() => (lead, Some(form.trim())),
        _ => (text.trim(), None),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use leadhook_shared::ActivityKind;

    use super::super::Message;
    use super::super::tests::{delivery, lead};
    use super::*;

    fn row(kind: ActivityKind, actor: &str, old: Option<&str>, new: Option<&str>) -> Activity {
        Activity {
            id: 3,
            lead_id: 12,
            at: Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap(),
            actor: actor.into(),
            kind,
            old: old.map(str::to_string),
            new: new.map(str::to_string),
        }
    }

    #[test]
    fn follow_up_and_people_events_tell_of_the_change() {
        let jane = lead("Jane Doe", Some("Spring Promo"), Some("alice"));
        let unowned = lead("Jane Doe", None, None);
        let step = Some("2026-12-08T09:00:00Z Send the quote");
        let cases = [
            (
                "lead.next_step_changed",
                row(ActivityKind::NextStep, "alice", None, step),
                &jane,
                "Next step for Jane Doe (Spring Promo) by alice: Send the quote, 2026-12-08 09:00 UTC",
            ),
            (
                "lead.next_step_changed",
                row(ActivityKind::NextStep, "system", step, None),
                &jane,
                "Next step cleared for Jane Doe (Spring Promo) by system",
            ),
            (
                "lead.attempt_logged",
                row(
                    ActivityKind::Attempt,
                    "bob",
                    None,
                    Some("no_answer: busy tone"),
                ),
                &jane,
                "Call attempt on Jane Doe (Spring Promo) by bob: no answer — busy tone",
            ),
            (
                "lead.follow_up_due",
                row(ActivityKind::Reminded, "system", None, step),
                &jane,
                "Follow-up due for alice: Jane Doe (Spring Promo): Send the quote, 2026-12-08 09:00 UTC",
            ),
            (
                "lead.follow_up_due",
                row(ActivityKind::Reminded, "system", None, step),
                &unowned,
                "Follow-up due: Jane Doe (Form A): Send the quote, 2026-12-08 09:00 UTC",
            ),
            (
                "lead.submitted_again",
                row(
                    ActivityKind::SubmittedAgain,
                    "system",
                    None,
                    Some("#45 Spring Promo"),
                ),
                &jane,
                "Jane Doe submitted again (Spring Promo), lead #45",
            ),
            (
                "lead.submitted_again",
                row(ActivityKind::SubmittedAgain, "system", None, Some("#45")),
                &jane,
                "Jane Doe submitted again, lead #45",
            ),
            (
                "lead.linked",
                row(
                    ActivityKind::Linked,
                    "system",
                    None,
                    Some("#12 (same phone)"),
                ),
                &jane,
                "Same person: Jane Doe (Spring Promo) and lead #12 (same phone)",
            ),
            (
                "lead.unlinked",
                row(ActivityKind::Unlinked, "alice", Some("#12"), None),
                &jane,
                "Link undone by alice: Jane Doe (Spring Promo) is a person of its own again (was #12)",
            ),
            (
                "lead.junk_cleared",
                row(
                    ActivityKind::JunkCleared,
                    "alice",
                    Some("Meta test lead"),
                    None,
                ),
                &jane,
                "Not junk after all by alice: Jane Doe (Spring Promo) (was: Meta test lead)",
            ),
        ];
        for (event, entry, lead, expected) in cases {
            let message = Message::about(&delivery(event, "New Lead"), lead, Some(&entry));
            assert_eq!(message.headline, expected);
        }
    }

    #[test]
    fn a_change_gone_from_the_history_still_makes_a_headline() {
        let jane = lead("Jane Doe", Some("Spring Promo"), Some("alice"));
        let headline = |event| Message::about(&delivery(event, "New Lead"), &jane, None).headline;
        assert_eq!(
            headline("lead.attempt_logged"),
            "Call attempt on Jane Doe (Spring Promo): —"
        );
        assert_eq!(headline("lead.submitted_again"), "Jane Doe submitted again");
        assert_eq!(
            headline("lead.follow_up_due"),
            "Follow-up due for alice: Jane Doe (Spring Promo)"
        );
    }

    #[test]
    fn a_reps_text_in_the_change_is_one_line_without_hazards() {
        let jane = lead("Jane Doe", None, Some("alice"));
        let entry = row(
            ActivityKind::Attempt,
            "alice\n<!channel>",
            None,
            Some("talked: call\u{202e} back\nBcc: x@evil\u{1b}[31m"),
        );
        let message = Message::about(
            &delivery("lead.attempt_logged", "Contacted"),
            &jane,
            Some(&entry),
        );
        assert!(!message.headline.contains('\n'), "{}", message.headline);
        assert!(
            !message
                .headline
                .chars()
                .any(leadhook_shared::plain_text::is_hazard),
            "{:?}",
            message.headline
        );
        assert!(
            message
                .headline
                .contains("talked — call back Bcc: x@evil[31m"),
            "{}",
            message.headline
        );
    }

    #[test]
    fn only_the_new_events_read_the_history() {
        assert!(!About::tells_of_the_change(Some(EventType::Created)));
        assert!(!About::tells_of_the_change(None));
        assert!(About::tells_of_the_change(Some(EventType::AttemptLogged)));
        assert!(About::tells_of_the_change(Some(EventType::FollowUpDue)));
    }
}
