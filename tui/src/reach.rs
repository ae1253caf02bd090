//! Reaching the selected lead from the dashboard: the `tel:`, `https://wa.me/` and `mailto:`
//! addresses of its phone and e-mail (the details' terminal hyperlinks, and `o`, `w` and `e`),
//! whether the system's opener can reach the rep here, and that opener.
//!
//! Lead text is written by strangers, so an address is built only from parts checked here: the
//! E.164 digits the server read from the phone, and an e-mail address of plain address
//! characters, percent-encoded. Whatever else the lead holds never reaches a URL, the terminal
//! or a launcher's command line.

use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum;
use serde::Deserialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::app::Msg;
use crate::leads::LeadRow;

/// Digits of the longest E.164 number (ITU-T E.164: at most 15 after the `+`).
const E164_MAX_DIGITS: usize = 15;
/// The shortest: a country code and at least one more digit.
const E164_MIN_DIGITS: usize = 2;
/// RFC 5321: at most 64 octets before the `@`, 254 in all, 63 in a domain label.
const LOCAL_PART_MAX: usize = 64;
const ADDRESS_MAX: usize = 254;
const LABEL_MAX: usize = 63;
/// How long the opener's launcher (xdg-open, `open`) is watched for a failure; one still
/// running then has handed the address over and is left to finish.
pub const OPENER_WAIT: Duration = Duration::from_secs(5);

/// Where `o`, `w` and `e` reach the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Phone,
    WhatsApp,
    Email,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::WhatsApp => "WhatsApp",
            Channel::Email => "e-mail",
        }
    }

    /// The address of `lead` on this channel, or why there is none.
    pub fn url(self, lead: &LeadRow) -> Result<String, NoAddress> {
        match self {
            Channel::Phone | Channel::WhatsApp => {
                let e164 = lead.phone_e164.as_deref().ok_or(if lead.phone.is_some() {
                    NoAddress::InvalidPhone
                } else {
                    NoAddress::NoPhone
                })?;
                let url = if self == Channel::Phone {
                    tel_url(e164)
                } else {
                    whatsapp_url(e164)
                };
                url.ok_or(NoAddress::InvalidPhone)
            }
            Channel::Email => {
                let email = lead.email.as_deref().ok_or(NoAddress::NoEmail)?;
                mailto_url(email).ok_or(NoAddress::InvalidEmail)
            }
        }
    }
}

/// Why a lead cannot be reached on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAddress {
    NoPhone,
    InvalidPhone,
    NoEmail,
    InvalidEmail,
}

impl NoAddress {
    pub fn describe(self) -> &'static str {
        match self {
            NoAddress::NoPhone => "has no phone number",
            NoAddress::InvalidPhone => "has no valid phone number (y copies it as typed)",
            NoAddress::NoEmail => "has no e-mail address",
            NoAddress::InvalidEmail => "has no usable e-mail address (y copies it as typed)",
        }
    }
}

/// The digits of `e164` when it is `+` and 2 to 15 digits, the first not 0.
pub fn e164_digits(e164: &str) -> Option<&str> {
    let digits = e164.strip_prefix('+')?;
    let plausible = (E164_MIN_DIGITS..=E164_MAX_DIGITS).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    plausible.then_some(digits)
}

/// `tel:+15551234567` (RFC 3966's global number).
pub fn tel_url(e164: &str) -> Option<String> {
    e164_digits(e164).map(|digits| format!("tel:+{digits}"))
}

/// `https://wa.me/15551234567`: WhatsApp's click-to-chat link, the number without `+`.
pub fn whatsapp_url(e164: &str) -> Option<String> {
    e164_digits(e164).map(|digits| format!("https://wa.me/{digits}"))
}

/// `mailto:` for `email` when it is a plausible address, every character but letters, digits
/// and `-._~` percent-encoded (RFC 6068), so `?`, `&`, `%` or `#` in it cannot add headers.
pub fn mailto_url(email: &str) -> Option<String> {
    let (local, domain) = plausible_email(email)?;
    Some(format!("mailto:{}@{}", percent(local), percent(domain)))
}

/// The local part and domain of `email` (blanks around it ignored) when it is a plain address:
/// one `@`, a dot-atom local part (RFC 5322's atext; letters of any script), a domain of two or
/// more labels of letters, digits and inner hyphens, the last not all digits; RFC 5321's lengths.
pub fn plausible_email(email: &str) -> Option<(&str, &str)> {
    let email = email.trim();
    if email.len() > ADDRESS_MAX {
        return None;
    }
    let (local, domain) = email.split_once('@')?;
    let local_ok = (1..=LOCAL_PART_MAX).contains(&local.len())
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c))
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=LABEL_MAX).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|top| !top.chars().all(|c| c.is_ascii_digit()));
    (local_ok && domain_ok).then_some((local, domain))
}

/// RFC 3986 percent-encoding of everything but unreserved characters, UTF-8 byte by byte.
fn percent(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `LEADHOOK_OPEN`: whether `o`, `w` and `e` use the system's opener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpenMode {
    /// When the dashboard runs in a graphical session on this computer, not over SSH
    #[default]
    Auto,
    /// Always (an SSH session with a forwarded display, say)
    On,
    /// Never: the keys say so, and y copies instead
    Off,
}

/// Whether the opener would reach the rep: a phone app or browser opened on another machine
/// (the one the dashboard runs on over SSH) helps nobody.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locality {
    Local,
    Remote(NotHere),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotHere {
    Ssh,
    NoGraphicalSession,
    TurnedOff,
}

impl NotHere {
    pub fn describe(self) -> &'static str {
        match self {
            NotHere::Ssh => "the dashboard runs over SSH, where an app would open on that machine",
            NotHere::NoGraphicalSession => {
                "there is no graphical session here (DISPLAY and WAYLAND_DISPLAY are unset)"
            }
            NotHere::TurnedOff => "LEADHOOK_OPEN is off",
        }
    }
}

/// What locality is judged by, read from the environment once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Surroundings {
    /// SSH_CONNECTION, SSH_CLIENT or SSH_TTY is set.
    pub ssh: bool,
    /// A desktop to open things on: macOS and Windows always; elsewhere DISPLAY or
    /// WAYLAND_DISPLAY, or WSL (whose opener hands the address to Windows).
    pub desktop: bool,
}

impl Surroundings {
    pub fn of_this_process() -> Surroundings {
        let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
        Surroundings {
            ssh: ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
                .into_iter()
                .any(set),
            desktop: cfg!(any(target_os = "macos", windows))
                || ["DISPLAY", "WAYLAND_DISPLAY", "WSL_DISTRO_NAME"]
                    .into_iter()
                    .any(set),
        }
    }
}

/// Whether `o`, `w` and `e` open anything, by `mode` and where the dashboard runs.
pub fn locality(mode: OpenMode, here: Surroundings) -> Locality {
    match mode {
        OpenMode::On => Locality::Local,
        OpenMode::Off => Locality::Remote(NotHere::TurnedOff),
        OpenMode::Auto if here.ssh => Locality::Remote(NotHere::Ssh),
        OpenMode::Auto if !here.desktop => Locality::Remote(NotHere::NoGraphicalSession),
        OpenMode::Auto => Locality::Local,
    }
}

/// Hands an address to whatever the system opens it with. Behind a trait so the runtime can be
/// tested without launching anything.
pub trait Opener: Send + Sync {
    /// Blocks until the launcher handed the address on, failed, or [`OPENER_WAIT`] passed.
    fn open(&self, url: &str) -> Result<(), OpenError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OpenError(pub String);

/// The `open` crate: xdg-open (then gio, gnome-open, kde-open, wslview) on Linux, `open` on
/// macOS, the shell on Windows; their output goes nowhere, so nothing reaches the screen.
pub struct SystemOpener;

impl Opener for SystemOpener {
    fn open(&self, url: &str) -> Result<(), OpenError> {
        open::that_detached_with_timeout(url, OPENER_WAIT).map_err(|err| OpenError(err.to_string()))
    }
}

/// Hands `url` to `opener` on a thread of its own, so the dashboard never waits for the
/// launcher (up to [`OPENER_WAIT`]) and does not wait for it when quitting either; the outcome
/// comes back on `results` as [`Msg::Opened`].
pub fn open_aside(
    opener: Arc<dyn Opener>,
    channel: Channel,
    url: String,
    results: UnboundedSender<Msg>,
) {
    let spawned = std::thread::Builder::new()
        .name("opener".into())
        .spawn(move || {
            let result = opener.open(&url);
            // A closed channel means the dashboard is quitting.
            let _ = results.send(Msg::Opened {
                channel,
                url,
                result,
            });
        });
    if let Err(err) = spawned {
        tracing::warn!("could not start the opener's thread: {err}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::fixtures::row;

    /// An opener that launches nothing: it keeps the addresses and fails as told.
    #[derive(Default)]
    struct RecordingOpener {
        opened: Mutex<Vec<String>>,
        fail: bool,
    }

    impl Opener for RecordingOpener {
        fn open(&self, url: &str) -> Result<(), OpenError> {
            if let Ok(mut opened) = self.opened.lock() {
                opened.push(url.to_string());
            }
            if self.fail {
                return Err(OpenError("no method available for opening it".into()));
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_opener_runs_aside_and_its_outcome_comes_back() {
        for fail in [true, false] {
            let opener = Arc::new(RecordingOpener {
                fail,
                ..RecordingOpener::default()
            });
            let (results_tx, mut results) = tokio::sync::mpsc::unbounded_channel();
            let url = "https://wa.me/15550000001".to_string();
            open_aside(opener.clone(), Channel::WhatsApp, url.clone(), results_tx);
            let msg = tokio::time::timeout(Duration::from_secs(10), results.recv())
                .await
                .expect("the opener answers")
                .expect("a message");
            let Msg::Opened {
                channel,
                url: opened_url,
                result,
            } = msg
            else {
                panic!("{msg:?}");
            };
            assert_eq!(
                (channel, opened_url.as_str()),
                (Channel::WhatsApp, url.as_str())
            );
            assert_eq!(result.is_err(), fail);
            let opened = opener
                .opened
                .lock()
                .map(|urls| urls.clone())
                .unwrap_or_default();
            assert_eq!(opened, [url]);
        }
    }

    #[test]
    fn phone_links_take_only_e164_digits() {
        assert_eq!(tel_url("+15551234567").as_deref(), Some("tel:+15551234567"));
        assert_eq!(
            whatsapp_url("+4930123456").as_deref(),
            Some("https://wa.me/4930123456")
        );
        for hostile in [
            "15551234567",
            "+",
            "+0123456",
            "+1555 123",
            "+1555123456789012",
            "+1555\x1b]8;;x\x07",
            "+1555/../evil",
            "+١٢٣٤٥٦٧",
            "+15551234567\n",
        ] {
            assert_eq!(tel_url(hostile), None, "{hostile:?}");
            assert_eq!(whatsapp_url(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn mailto_encodes_everything_but_plain_characters() {
        assert_eq!(
            mailto_url(" jane.doe@example.com ").as_deref(),
            Some("mailto:jane.doe@example.com")
        );
        assert_eq!(
            mailto_url("o'brien+leads@example.co.uk").as_deref(),
            Some("mailto:o%27brien%2Bleads@example.co.uk")
        );
        // `?` and `&` are allowed before the @ but would start headers unencoded.
        assert_eq!(
            mailto_url("a?cc=boss&b=1@example.com").as_deref(),
            Some("mailto:a%3Fcc%3Dboss%26b%3D1@example.com")
        );
        assert_eq!(
            mailto_url("josé@bücher.de").as_deref(),
            Some("mailto:jos%C3%A9@b%C3%BCcher.de")
        );
    }

    #[test]
    fn implausible_addresses_get_no_link() {
        for hostile in [
            "",
            "jane",
            "@example.com",
            "jane@",
            "jane@localhost",
            "jane@@example.com",
            "a@b@example.com",
            "jane@exa mple.com",
            "jane doe@example.com",
            ".jane@example.com",
            "ja..ne@example.com",
            "jane@-example.com",
            "jane@example.123",
            "\"jane\"@example.com",
            "jane@example.com\x1b]8;;https://evil\x1b\\",
            "jane@example.com\x07",
            "jane\u{202e}@example.com",
            "<jane@example.com>",
            "jane@example.com?subject=x",
        ] {
            assert_eq!(mailto_url(hostile), None, "{hostile:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(mailto_url(&long_local), None);
        let long = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        assert_eq!(mailto_url(&long), None);
    }

    #[test]
    fn a_lead_says_why_it_cannot_be_reached() {
        let mut lead = row(1, "Ann", 0);
        lead.phone = Some("<test lead: dummy data for phone_number>".into());
        lead.phone_e164 = None;
        lead.phone_invalid = true;
        lead.email = Some("not an address".into());
        assert_eq!(Channel::Phone.url(&lead), Err(NoAddress::InvalidPhone));
        assert_eq!(Channel::WhatsApp.url(&lead), Err(NoAddress::InvalidPhone));
        assert_eq!(Channel::Email.url(&lead), Err(NoAddress::InvalidEmail));
        lead.phone = None;
        lead.email = None;
        assert_eq!(Channel::Phone.url(&lead), Err(NoAddress::NoPhone));
        assert_eq!(Channel::Email.url(&lead), Err(NoAddress::NoEmail));
        // A server's E.164 that is not one is refused too.
        lead.phone_e164 = Some("+1\x1b[2J".into());
        assert_eq!(Channel::Phone.url(&lead), Err(NoAddress::InvalidPhone));
    }

    #[test]
    fn locality_follows_the_switch_then_ssh_then_the_desktop() {
        let here = |ssh, desktop| Surroundings { ssh, desktop };
        assert_eq!(locality(OpenMode::Auto, here(false, true)), Locality::Local);
        assert_eq!(
            locality(OpenMode::Auto, here(true, true)),
            Locality::Remote(NotHere::Ssh)
        );
        assert_eq!(
            locality(OpenMode::Auto, here(false, false)),
            Locality::Remote(NotHere::NoGraphicalSession)
        );
        assert_eq!(locality(OpenMode::On, here(true, false)), Locality::Local);
        assert_eq!(
            locality(OpenMode::Off, here(false, true)),
            Locality::Remote(NotHere::TurnedOff)
        );
    }
}
