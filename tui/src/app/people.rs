//! One person, one row: junk shown or hidden (`H`), a junk flag cleared (`C`), two people
//! merged into one (`M` on each, then a confirmation) and a wrong link undone (`U`).

use leadhook_shared::Lead;

use super::{App, Effect, Level, Mode};
use crate::client_error::ClientError;
use crate::keys::{ConfirmAction, UnlinkAction};
use crate::leads::{Filter, LeadRow};

/// A change to a lead's person or junk flag, sent to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonChange {
    /// `PUT /api/leads/{id}/person`: the lead (and its submissions) join `same_as`'s person.
    Merge { same_as: i64 },
    /// `DELETE /api/leads/{id}/person`: the lead is a person of its own again.
    Unlink,
    /// `DELETE /api/leads/{id}/junk`: the lead is real after all.
    ClearJunk,
}

impl PersonChange {
    /// How a failure names the change: "Could not merge Jane Doe: …".
    fn verb(self) -> &'static str {
        match self {
            PersonChange::Merge { .. } => "merge",
            PersonChange::Unlink => "undo the link of",
            PersonChange::ClearJunk => "clear the junk flag of",
        }
    }
}

impl App {
    /// `H`: junk shown (dimmed, with its reason) or hidden again.
    pub(super) fn toggle_junk(&mut self) {
        self.set_filter(Filter {
            junk: !self.leads.filter().junk,
            ..self.leads.filter().clone()
        });
    }

    /// `C`: the selected lead is no junk; shown at once, sent to the server.
    pub(super) fn clear_junk(&mut self) -> Option<Effect> {
        let lead = self.selected_lead()?;
        let (id, name) = (lead.id, lead.display_name());
        if lead.junk().is_none() {
            self.toast(format!("{name} is not flagged as junk."), Level::Info);
            return None;
        }
        let now = self.now;
        self.person_change(
            id,
            |lead| lead.junk_cleared_at = Some(now),
            PersonChange::ClearJunk,
        )
    }

    /// `M`: marks the selected person; on another person, asks whether the two are one.
    pub(super) fn merge(&mut self) -> Option<Effect> {
        let lead = self.selected_lead()?;
        let (person, name) = (lead.person_id(), lead.display_name());
        match self.merge_mark {
            None => {
                self.merge_mark = Some(person);
                self.toast(
                    format!("Marked {name}: select the same person's other lead and press M."),
                    Level::Info,
                );
            }
            Some(marked) if marked == person => {
                self.merge_mark = None;
                self.toast(format!("Unmarked {name}."), Level::Info);
            }
            Some(marked) => {
                // The person who came first stays; the later one joins it.
                let (id, into) = match (self.leads.get(marked), self.leads.get(person)) {
                    (Some(a), Some(b)) if (b.created_at, b.id) < (a.created_at, a.id) => {
                        (marked, person)
                    }
                    (Some(_), Some(_)) => (person, marked),
                    _ => {
                        self.merge_mark = None;
                        self.toast(
                            format!("Lead #{marked} is no longer in the list; mark it again."),
                            Level::Error,
                        );
                        return None;
                    }
                };
                self.mode = Mode::ConfirmMerge {
                    id,
                    into,
                    under: self.mode.pane(),
                };
            }
        }
        None
    }

    pub(super) fn confirm_key(&mut self, action: Option<ConfirmAction>) -> Option<Effect> {
        let Mode::ConfirmMerge { id, into, under } = self.mode else {
            return None;
        };
        match action? {
            ConfirmAction::No => self.mode = Mode::Browse(under),
            ConfirmAction::Yes => {
                self.mode = Mode::Browse(under);
                self.merge_mark = None;
                return self.person_change(
                    id,
                    |lead| lead.repeat_of = Some(into),
                    PersonChange::Merge { same_as: into },
                );
            }
        }
        None
    }

    /// The submissions of the person of lead `id` whose link can be undone, newest first.
    pub fn linked(&self, id: i64) -> Vec<&LeadRow> {
        let mut rows = self.leads.submissions(id);
        rows.retain(|lead| lead.repeat_of.is_some());
        rows
    }

    /// `U`: the selected person's linked submissions, to undo the link of one.
    pub(super) fn open_unlink(&mut self) -> Option<Effect> {
        let lead = self.selected_lead()?;
        let (id, name) = (lead.id, lead.display_name());
        if self.linked(id).is_empty() {
            self.toast(
                format!("{name} has no other submission linked to it."),
                Level::Info,
            );
            return None;
        }
        self.mode = Mode::Unlink {
            id,
            at: 0,
            under: self.mode.pane(),
        };
        None
    }

    pub(super) fn unlink_key(&mut self, action: Option<UnlinkAction>) -> Option<Effect> {
        let Mode::Unlink { id, at, under } = self.mode else {
            return None;
        };
        let linked: Vec<i64> = self.linked(id).iter().map(|lead| lead.id).collect();
        let last = linked.len().saturating_sub(1);
        let stay = |at| Mode::Unlink { id, at, under };
        match action? {
            UnlinkAction::Down => self.mode = stay((at + 1).min(last)),
            UnlinkAction::Up => self.mode = stay(at.saturating_sub(1)),
            UnlinkAction::Cancel => self.mode = Mode::Browse(under),
            UnlinkAction::Unlink => {
                self.mode = Mode::Browse(under);
                let chosen = *linked.get(at.min(last))?;
                return self.person_change(
                    chosen,
                    |lead| lead.repeat_of = None,
                    PersonChange::Unlink,
                );
            }
        }
        None
    }

    /// Shows `apply` at once and sends `change`; a refusal puts the lead back.
    fn person_change(
        &mut self,
        id: i64,
        apply: impl FnOnce(&mut LeadRow),
        change: PersonChange,
    ) -> Option<Effect> {
        self.change(id, change.verb(), apply, Effect::Person { id, change })
    }

    /// The server answered a [`PersonChange`]: the lead as it is now and a toast, or the lead
    /// put back and the server's reason.
    pub(super) fn on_person(
        &mut self,
        id: i64,
        change: PersonChange,
        result: Result<Lead, ClientError>,
    ) {
        let done = result.as_ref().ok().map(|lead| {
            let name = lead.display_name();
            match change {
                PersonChange::Merge { same_as } => {
                    let other = self
                        .leads
                        .get(same_as)
                        .map_or_else(|| format!("lead #{same_as}"), LeadRow::display_name);
                    format!("Merged: {name} is the same person as {other}")
                }
                PersonChange::Unlink => format!("Undone: {name} is a person of its own again"),
                PersonChange::ClearJunk => format!("{name} is no longer junk"),
            }
        });
        self.on_saved(id, result);
        if let Some(done) = done {
            self.toast(done, Level::Success);
        }
    }

    /// The marked person's row when it is on screen: the table marks it.
    pub fn is_marked(&self, lead: &LeadRow) -> bool {
        self.merge_mark == Some(lead.person_id())
    }
}
