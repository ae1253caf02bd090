//! The person wrote back: a toast and a desktop notification for the lead's owner (the available
//! reps when it has none), and the open lead's conversation asked again.

use chrono::{DateTime, Utc};
use leadhook_shared::Reply;

use super::{App, Effect, LONG_TOAST_TIME, Level};
use crate::audience::{self, Happening};
use crate::notify::Notice;

impl App {
    pub(super) fn on_reply(&mut self, reply: &Reply) -> Option<Effect> {
        if let Some(cached) = self
            .team
            .activity
            .as_mut()
            .filter(|cached| cached.lead == reply.lead_id)
        {
            // Not a change of the lead: make the details ask for its history and messages again.
            cached.version = DateTime::<Utc>::MIN_UTC;
        }
        let owner = reply.owner.as_deref();
        if !audience::tells(self.team.viewer(), Happening::Reply { owner }) {
            return None;
        }
        let notice = Notice::reply(reply);
        self.toast_for(notice.line(), Level::Info, LONG_TOAST_TIME);
        Some(Effect::Notify(notice))
    }
}

#[cfg(test)]
mod tests {
    use leadhook_shared::Reply;

    use crate::app::{Effect, Msg};
    use crate::fixtures::now;
    use crate::notify::Notice;
    use crate::poller::PollEvent;

    use super::super::follow_up_tests::{last_toast, settled};

    fn reply(owner: Option<&str>, text: &str) -> Reply {
        Reply {
            lead_id: 1,
            name: "Jane Doe".into(),
            owner: owner.map(str::to_string),
            channel: "whatsapp".into(),
            text: text.into(),
            at: now(),
        }
    }

    #[test]
    fn the_owner_hears_a_reply_as_a_toast_and_a_notification() {
        let mut app = settled();
        let told = app.update(Msg::Poll(PollEvent::Reply(reply(
            Some("alice"),
            "Tomorrow at 10 is better",
        ))));
        assert_eq!(
            told,
            Some(Effect::Notify(Notice {
                summary: "Jane Doe replied".into(),
                body: "Tomorrow at 10 is better".into(),
            }))
        );
        assert_eq!(
            last_toast(&app),
            "Jane Doe replied: Tomorrow at 10 is better"
        );
        // Bob's lead is not hers; an unowned one is for the available reps, she is one.
        let bobs = reply(Some("bob"), "hi");
        assert_eq!(app.update(Msg::Poll(PollEvent::Reply(bobs))), None);
        assert!(
            app.update(Msg::Poll(PollEvent::Reply(reply(None, "hi"))))
                .is_some()
        );
    }

    #[test]
    fn a_strangers_reply_is_neutralised_and_cut() {
        let mut app = settled();
        let hostile = format!("\u{1b}[2Jcall\u{202E}me\nnow {}", "x".repeat(300));
        app.update(Msg::Poll(PollEvent::Reply(reply(Some("alice"), &hostile))));
        let toast = last_toast(&app);
        assert!(
            toast.starts_with("Jane Doe replied: [2Jcallme now xxx"),
            "{toast}"
        );
        assert!(!toast.contains('\u{1b}') && !toast.contains('\u{202E}') && !toast.contains('\n'));
        assert!(
            toast.ends_with('…') && toast.chars().count() < 160,
            "{toast}"
        );
    }
}
