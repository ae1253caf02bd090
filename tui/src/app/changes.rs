//! The changes a rep makes to leads: shown at once, sent to the server, undone if it refuses.

use leadhook_shared::{Lead, LeadPatch, NewManualLead};

use super::{App, Effect, Level, Mode};
use crate::client_error::ClientError;
use crate::leads::LeadRow;

impl App {
    /// Applies `patch` at once and asks the runtime to save it; a failed save is undone.
    pub(super) fn save(&mut self, id: i64, patch: LeadPatch) -> Option<Effect> {
        let applied = patch.clone();
        self.change(
            id,
            "save",
            move |lead| {
                if let Some(status) = applied.status {
                    lead.status = status;
                }
                if let Some(notes) = applied.notes {
                    lead.notes = (!notes.is_empty()).then(|| notes.into());
                }
                if let Some(owner) = applied.owner {
                    lead.owner = owner.map(Into::into);
                }
            },
            Effect::Save { id, patch },
        )
    }

    /// Shows `apply`'s change to lead `id` at once and asks for `effect`, which answers with
    /// [`Msg::Saved`]; if that fails the lead is put back and a toast says "Could not {verb}".
    pub(super) fn change(
        &mut self,
        id: i64,
        verb: &'static str,
        apply: impl FnOnce(&mut LeadRow),
        effect: Effect,
    ) -> Option<Effect> {
        let current = self.leads.get(id)?.clone();
        let mut changed = current.clone();
        apply(&mut changed);
        self.before_save.entry(id).or_insert((current, verb));
        self.leads.upsert(changed);
        self.settle_selection();
        Some(effect)
    }

    pub(super) fn on_saved(&mut self, id: i64, result: Result<Lead, ClientError>) {
        let before = self.before_save.remove(&id);
        match (result, before) {
            (Ok(lead), _) => {
                self.leads.upsert(LeadRow::from(&lead));
                self.details.keep(lead);
            }
            (Err(err), before) => {
                let (name, verb) = before.as_ref().map_or_else(
                    || (format!("lead #{id}"), "save"),
                    |(lead, verb)| (lead.display_name(), *verb),
                );
                if let Some((before, _)) = before {
                    self.leads.upsert(before);
                }
                self.toast(format!("Could not {verb} {name}: {err}"), Level::Error);
            }
        }
        self.settle_selection();
    }

    pub(super) fn on_created(&mut self, result: Result<Lead, ClientError>) {
        self.creating = None;
        match result {
            Ok(lead) => {
                let name = lead.display_name();
                self.unseen.remove(&lead.id);
                self.pending_new.retain(|id| *id != lead.id);
                let row = LeadRow::from(&lead);
                self.selected = Some(row.key());
                self.leads.upsert(row);
                self.details.keep(lead);
                if matches!(self.mode, Mode::NewLead(_)) {
                    self.mode = Mode::START;
                }
                self.toast(format!("Added {name}"), Level::Success);
                self.settle_selection();
            }
            Err(err) => match &mut self.mode {
                Mode::NewLead(form) => {
                    form.saving = false;
                    form.error = Some(err.to_string());
                }
                _ => self.toast(format!("Could not add the lead: {err}"), Level::Error),
            },
        }
    }
}

/// Whether `lead` is the one the user just submitted through the form.
pub(super) fn is_own(lead: &LeadRow, own: &NewManualLead) -> bool {
    lead.is_manual
        && lead.name.as_deref() == Some(own.name.as_str())
        && lead.phone.as_deref() == own.phone.as_deref()
        && lead.email.as_deref() == own.email.as_deref()
}
