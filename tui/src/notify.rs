//! Desktop notifications for new leads, batched, and never fatal.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use leadhook_shared::{Escalation, Reminder, Reply};

use crate::leads::LeadRow;
use crate::sanitize;

/// Most characters of a reply a toast or notification shows.
pub const REPLY_SHOWN: usize = 120;

/// What to tell the user about a batch of new leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub summary: String,
    pub body: String,
}

impl Notice {
    /// One notice for a burst: "New lead" with who and which form, or "5 new leads".
    pub fn new_leads(leads: &[&LeadRow]) -> Option<Notice> {
        Notice::about(leads, "New lead", |count| format!("{count} new leads"))
    }

    /// A person who had submitted before did again: "Jane Doe submitted again (Spring Promo)".
    pub fn submitted_again(lead: &LeadRow) -> Notice {
        let form = match (&lead.form_name, lead.is_manual) {
            (_, true) => " (by hand)".to_string(),
            (Some(form), false) => format!(" ({form})"),
            (None, false) => String::new(),
        };
        Notice {
            summary: format!("{} submitted again{form}", lead.display_name()),
            body: String::new(),
        }
    }

    /// Leads someone else gave to this rep: "Assigned to you", or "3 leads assigned to you".
    pub fn assigned(leads: &[&LeadRow]) -> Option<Notice> {
        Notice::about(leads, "Assigned to you", |count| {
            format!("{count} leads assigned to you")
        })
    }

    /// "Waiting 5 min" with who and which form.
    pub fn escalation(escalation: &Escalation) -> Notice {
        let waited = escalation.threshold_secs / 60;
        Notice {
            summary: format!("Waiting {waited} min"),
            body: match &escalation.form_name {
                Some(form) => format!("{} ({form})", escalation.name),
                None => escalation.name.clone(),
            },
        }
    }

    /// "Jane Doe replied: Tomorrow at 10 is better": the person's words on one line, cut to
    /// [`REPLY_SHOWN`] characters (a stranger's text: controls and bidi marks neutralised).
    pub fn reply(reply: &Reply) -> Notice {
        let text = sanitize::screen(&reply.text);
        let mut body: String = text.chars().take(REPLY_SHOWN).collect();
        if text.chars().count() > REPLY_SHOWN {
            body.push('…');
        }
        Notice {
            summary: format!("{} replied", sanitize::screen(&reply.name)),
            body,
        }
    }

    /// "Follow-up due" with who and what to do: "Jane Doe — Call back".
    pub fn reminder(reminder: &Reminder) -> Notice {
        Notice {
            summary: "Follow-up due".to_string(),
            body: format!("{} — {}", reminder.name, reminder.what),
        }
    }

    /// "2 follow-ups due while you were away" naming the first few leads, soonest due first.
    pub fn due_while_away(names: &[String]) -> Option<Notice> {
        const NAMED: usize = 3;
        if names.is_empty() {
            return None;
        }
        let mut body = names
            .iter()
            .take(NAMED)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > NAMED {
            body.push_str(&format!(" and {} more", names.len() - NAMED));
        }
        let summary = if names.len() == 1 {
            "1 follow-up due while you were away".to_string()
        } else {
            format!("{} follow-ups due while you were away", names.len())
        };
        Some(Notice { summary, body })
    }

    /// "{one}" naming the lead and its form, or `count(n)` naming the first few.
    fn about(leads: &[&LeadRow], one: &str, count: impl Fn(usize) -> String) -> Option<Notice> {
        match leads {
            [] => None,
            [lead] => Some(Notice {
                summary: one.to_string(),
                body: match (&lead.form_name, lead.is_manual) {
                    (_, true) => format!("{} — added by hand", lead.display_name()),
                    (Some(form), false) => format!("{} — {form} form", lead.display_name()),
                    (None, false) => lead.display_name(),
                },
            }),
            many => {
                const NAMED: usize = 3;
                let mut body = many
                    .iter()
                    .take(NAMED)
                    .map(|lead| lead.display_name())
                    .collect::<Vec<_>>()
                    .join(", ");
                if many.len() > NAMED {
                    body.push_str(&format!(" and {} more", many.len() - NAMED));
                }
                Some(Notice {
                    summary: count(many.len()),
                    body,
                })
            }
        }
    }

    /// One line for a toast: "New lead: Jane Doe — Spring Promo form", "Waiting 5 min: Jane
    /// Doe (Spring Promo)", and the summary alone for a burst ("5 new leads") or a notice
    /// without a body ("Jane Doe submitted again (Spring Promo)").
    pub fn line(&self) -> String {
        if self.summary.starts_with(|c: char| c.is_ascii_digit()) || self.body.is_empty() {
            self.summary.clone()
        } else {
            format!("{}: {}", self.summary, self.body)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("desktop notification failed: {0}")]
pub struct NotifyError(pub String);

/// Shows a notice outside the terminal. Blocking: call it off the async workers.
pub trait Notifier: Send + Sync + 'static {
    fn notify(&self, notice: &Notice) -> Result<(), NotifyError>;
}

/// The desktop's notification daemon, through D-Bus (notify-rust). Most daemons render body
/// markup (links, images), so lead text is escaped for it.
pub struct DesktopNotifier;

impl Notifier for DesktopNotifier {
    fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        notify_rust::Notification::new()
            .appname("leadhook")
            .summary(&sanitize::notification(&notice.summary))
            .body(&sanitize::notification(&notice.body))
            .show()
            .map(drop)
            .map_err(|err| NotifyError(err.to_string()))
    }
}

/// Keeps every notice, for tests.
#[derive(Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<Notice>>,
}

impl RecordingNotifier {
    pub fn sent(&self) -> Vec<Notice> {
        self.sent
            .lock()
            .map(|sent| sent.clone())
            .unwrap_or_default()
    }
}

impl Notifier for RecordingNotifier {
    fn notify(&self, notice: &Notice) -> Result<(), NotifyError> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(notice.clone());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Desktop,
    /// The desktop refused (no D-Bus session, no daemon): the terminal bell rang instead.
    Bell,
}

/// Sends notices through a [`Notifier`], falling back to the terminal bell.
pub struct Notifications {
    notifier: Arc<dyn Notifier>,
    bell: Box<dyn Fn() + Send + Sync>,
    failed_before: AtomicBool,
}

impl Notifications {
    pub fn new(notifier: Arc<dyn Notifier>, bell: Box<dyn Fn() + Send + Sync>) -> Notifications {
        Notifications {
            notifier,
            bell,
            failed_before: AtomicBool::new(false),
        }
    }

    /// The desktop notifier with the real terminal bell as fallback.
    pub fn desktop() -> Notifications {
        Notifications::new(Arc::new(DesktopNotifier), Box::new(terminal_bell))
    }

    /// Shows `notice`. The first failure is logged; every failure rings the bell instead.
    pub async fn deliver(&self, notice: Notice) -> Delivery {
        let notifier = Arc::clone(&self.notifier);
        let shown = tokio::task::spawn_blocking(move || notifier.notify(&notice))
            .await
            .unwrap_or_else(|err| Err(NotifyError(err.to_string())));
        match shown {
            Ok(()) => Delivery::Desktop,
            Err(err) => {
                if !self.failed_before.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "{err}; using the terminal bell instead (pass --no-notify to silence)"
                    );
                }
                (self.bell)();
                Delivery::Bell
            }
        }
    }
}

fn terminal_bell() {
    let mut stdout = std::io::stdout();
    // A bell that cannot be written is not worth interrupting anyone for.
    let _ = stdout.write_all(b"\x07").and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::fixtures::{escalation, row as lead};

    struct Refusing;

    impl Notifier for Refusing {
        fn notify(&self, _: &Notice) -> Result<(), NotifyError> {
            Err(NotifyError(
                "org.freedesktop.DBus.Error.ServiceUnknown".into(),
            ))
        }
    }

    #[test]
    fn one_lead_names_person_and_form_and_a_burst_counts() {
        let jane = lead(1, "Jane Doe", 0);
        let notice = Notice::new_leads(&[&jane]).unwrap();
        assert_eq!(notice.line(), "New lead: Jane Doe — Spring Promo form");

        let burst: Vec<_> = (1..=5).map(|id| lead(id, &format!("P{id}"), 0)).collect();
        let notice = Notice::new_leads(&burst.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(notice.line(), "5 new leads");
        assert_eq!(notice.body, "P1, P2, P3 and 2 more");
        assert_eq!(Notice::new_leads(&[]), None);
    }

    #[test]
    fn escalations_and_assignments_read_as_one_line() {
        assert_eq!(
            Notice::escalation(&escalation()).line(),
            "Waiting 5 min: Lead 3 (Spring Promo)"
        );
        let (jane, bob) = (lead(1, "Jane Doe", 0), lead(2, "Bob", 0));
        let one = Notice::assigned(&[&jane]).unwrap();
        assert_eq!(one.line(), "Assigned to you: Jane Doe — Spring Promo form");
        let two = Notice::assigned(&[&jane, &bob]).unwrap();
        assert_eq!(two.line(), "2 leads assigned to you");
    }

    #[test]
    fn a_repeat_says_who_submitted_again_and_on_which_form() {
        let mut again = lead(19, "Jane Doe", 0);
        again.repeat_of = Some(12);
        let notice = Notice::submitted_again(&again);
        assert_eq!(notice.line(), "Jane Doe submitted again (Spring Promo)");
        again.is_manual = true;
        assert_eq!(
            Notice::submitted_again(&again).line(),
            "Jane Doe submitted again (by hand)"
        );
        again.form_name = None;
        again.is_manual = false;
        assert_eq!(
            Notice::submitted_again(&again).summary,
            "Jane Doe submitted again"
        );
    }

    #[tokio::test]
    async fn refused_notifications_ring_the_bell_and_keep_going() {
        let rings = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&rings);
        let notifications = Notifications::new(
            Arc::new(Refusing),
            Box::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        );
        let notice = Notice::new_leads(&[&lead(1, "Jane", 0)]).unwrap();
        assert_eq!(notifications.deliver(notice.clone()).await, Delivery::Bell);
        assert_eq!(notifications.deliver(notice).await, Delivery::Bell);
        assert_eq!(rings.load(Ordering::Relaxed), 2);
    }
}
