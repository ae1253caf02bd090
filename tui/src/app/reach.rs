//! `o`, `w` and `e`: the selected lead's phone, WhatsApp or e-mail handed to the system's
//! opener, when there is an address to open and the opener would open it where the rep sits;
//! otherwise the toast says why.

use super::{App, Effect, Level};
use crate::reach::{Channel, Locality, OpenError};

impl App {
    pub(super) fn reach(&mut self, channel: Channel) -> Option<Effect> {
        let lead = self.selected_lead()?;
        let name = lead.display_name();
        let url = match channel.url(lead) {
            Ok(url) => url,
            Err(why) => {
                let text = format!("No {}: {name} {}.", channel.name(), why.describe());
                self.toast(text, Level::Info);
                return None;
            }
        };
        if let Locality::Remote(why) = self.locality {
            let text = format!(
                "Not opening the {}: {}. Click the link in the details or copy it with y; \
                 LEADHOOK_OPEN=on opens anyway.",
                channel.name(),
                why.describe()
            );
            self.toast_for(text, Level::Info, super::LONG_TOAST_TIME);
            return None;
        }
        let text = format!("Opening {name}'s {}: {url}", channel.name());
        self.toast(text, Level::Success);
        Some(Effect::Open { channel, url })
    }

    pub(super) fn on_opened(&mut self, channel: Channel, url: &str, result: Result<(), OpenError>) {
        if let Err(err) = result {
            let scheme = url.split(':').next().unwrap_or(url);
            let text = format!(
                "Could not open the {} ({url}): {err}. Set a default app for {scheme} links \
                 (xdg-mime on Linux), or copy it with y.",
                channel.name()
            );
            self.toast_for(text, Level::Error, super::LONG_TOAST_TIME);
        }
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent};

    use leadhook_shared::Lead;

    use super::*;
    use crate::app::Msg;
    use crate::fixtures::{lead, loaded, now};
    use crate::reach::NotHere;

    fn ann() -> Lead {
        let mut ann = lead(1, "Ann", 0);
        ann.meta.phone_e164 = Some("+15550000001".into());
        ann
    }

    fn press(app: &mut App, key: char) -> Option<Effect> {
        app.update(Msg::Key(KeyEvent::from(KeyCode::Char(key))))
    }

    fn last_toast(app: &App) -> &str {
        app.toasts.last().map_or("", |toast| toast.text.as_str())
    }

    #[test]
    fn locally_each_key_opens_its_address() {
        let mut app = loaded(vec![ann()], now());
        let open = |channel, url: &str| {
            Some(Effect::Open {
                channel,
                url: url.into(),
            })
        };
        assert_eq!(
            press(&mut app, 'o'),
            open(Channel::Phone, "tel:+15550000001")
        );
        assert_eq!(
            press(&mut app, 'w'),
            open(Channel::WhatsApp, "https://wa.me/15550000001")
        );
        assert_eq!(
            press(&mut app, 'e'),
            open(Channel::Email, "mailto:ann@example.com")
        );
        assert!(
            last_toast(&app).starts_with("Opening Ann's e-mail"),
            "{}",
            last_toast(&app)
        );
    }

    #[test]
    fn not_local_says_why_and_opens_nothing() {
        let mut app = loaded(vec![ann()], now());
        app.locality = Locality::Remote(NotHere::Ssh);
        assert_eq!(press(&mut app, 'o'), None);
        let toast = last_toast(&app);
        assert!(
            toast.contains("over SSH") && toast.contains("LEADHOOK_OPEN=on"),
            "{toast}"
        );
        app.locality = Locality::Remote(NotHere::NoGraphicalSession);
        assert_eq!(press(&mut app, 'e'), None);
        assert!(last_toast(&app).contains("no graphical session"));
    }

    #[test]
    fn a_lead_without_a_valid_phone_gets_no_call() {
        let mut typed = lead(1, "Ann", 0);
        typed.meta.phone = Some("call me maybe".into());
        typed.meta.phone_invalid = true;
        let mut app = loaded(vec![typed], now());
        assert_eq!(press(&mut app, 'o'), None);
        assert_eq!(
            last_toast(&app),
            "No phone: Ann has no valid phone number (y copies it as typed)."
        );
        assert_eq!(press(&mut app, 'w'), None);
        assert!(last_toast(&app).starts_with("No WhatsApp: Ann has no valid phone"));
    }

    #[test]
    fn a_failed_opener_says_what_to_do() {
        let mut app = loaded(vec![ann()], now());
        app.update(Msg::Opened {
            channel: Channel::Phone,
            url: "tel:+15550000001".into(),
            result: Err(OpenError("xdg-open: no method available".into())),
        });
        let toast = &app.toasts[0];
        assert_eq!(toast.level, Level::Error);
        assert!(
            toast.text.contains("xdg-open: no method available")
                && toast.text.contains("default app for tel links"),
            "{}",
            toast.text
        );
        app.update(Msg::Opened {
            channel: Channel::Phone,
            url: "tel:+15550000001".into(),
            result: Ok(()),
        });
        assert_eq!(app.toasts.len(), 1, "success adds nothing");
    }
}
