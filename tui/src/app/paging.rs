//! `P`: the rep's own phone settings, the ntfy topic their phone subscribes to and the quiet
//! hours in which pages wait (in the rep's time zone), sent with `PUT /api/reps/me`. The values
//! are checked here with the server's own rules ([`leadhook_shared::paging`]) before they go,
//! and the server's refusal is shown in the popup if it still refuses.

use crossterm::event::KeyEvent;
use leadhook_shared::{Me, MeUpdate, QuietHours, check_ntfy_topic};

use super::{App, Effect, Level, Mode};
use crate::client_error::ClientError;
use crate::input::TextInput;
use crate::keys::{self, PagingAction};

/// The popup of `P`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PagingForm {
    pub inputs: [TextInput; 2],
    pub focus: usize,
    pub error: Option<String>,
    pub saving: bool,
}

impl PagingForm {
    pub const LABELS: [&str; 2] = ["ntfy topic", "Quiet hours"];

    fn for_me(me: Option<&Me>) -> PagingForm {
        let topic = me.and_then(|me| me.ntfy_topic.clone()).unwrap_or_default();
        let quiet = me
            .and_then(|me| me.quiet_hours)
            .map(|hours| hours.to_string())
            .unwrap_or_default();
        PagingForm {
            inputs: [TextInput::new(&topic), TextInput::new(&quiet)],
            ..PagingForm::default()
        }
    }

    /// The update to send: both fields, an empty one clearing its setting.
    fn to_update(&self) -> Result<MeUpdate, String> {
        let [topic, quiet] = self.inputs.each_ref().map(|input| input.value().trim());
        if !topic.is_empty() {
            check_ntfy_topic(topic).map_err(|e| e.to_string())?;
        }
        if !quiet.is_empty() {
            quiet.parse::<QuietHours>().map_err(|e| e.to_string())?;
        }
        Ok(MeUpdate {
            ntfy_topic: Some(topic.to_string()),
            quiet_hours: Some(quiet.to_string()),
            ..MeUpdate::default()
        })
    }
}

impl App {
    pub(super) fn open_paging(&mut self) {
        self.mode = Mode::Paging(PagingForm::for_me(self.team.me.as_ref()));
    }

    pub(super) fn paging_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let Mode::Paging(form) = &mut self.mode else {
            return None;
        };
        let fields = PagingForm::LABELS.len();
        match keys::PAGING.action_for(&key) {
            Some(PagingAction::Cancel) => self.mode = Mode::START,
            Some(PagingAction::NextField) => form.focus = (form.focus + 1) % fields,
            Some(PagingAction::PreviousField) => form.focus = (form.focus + fields - 1) % fields,
            Some(PagingAction::Save) if form.saving => {}
            Some(PagingAction::Save) => match form.to_update() {
                Ok(update) => {
                    form.saving = true;
                    form.error = None;
                    return Some(Effect::SetPaging(update));
                }
                Err(message) => form.error = Some(message),
            },
            None => {
                form.inputs[form.focus].handle(&key);
            }
        }
        None
    }

    pub(super) fn on_paging_saved(&mut self, result: Result<Me, ClientError>) {
        match result {
            Ok(me) => {
                self.take_me(me);
                if matches!(self.mode, Mode::Paging(_)) {
                    self.mode = Mode::START;
                }
                self.toast("Phone settings saved.".to_string(), Level::Success);
            }
            Err(err) => match &mut self.mode {
                Mode::Paging(form) => {
                    form.saving = false;
                    form.error = Some(err.to_string());
                }
                _ => self.toast(
                    format!("Could not save your phone settings: {err}"),
                    Level::Error,
                ),
            },
        }
    }
}
