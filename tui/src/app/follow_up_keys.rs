//! The keys of follow-ups: `F` (a lead's next step), `t` (a call attempt) and the due view of
//! `D`, and the answer to an attempt.

use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::{Attempted, CallOutcome, LeadStatus, NewAttempt, NextStep, show_due};

use super::follow_ups::{AttemptForm, DEFAULT_WHAT, DueOf, NextStepField, NextStepForm};
use super::{App, Effect, LONG_TOAST_TIME, Level, Mode, Pane};
use crate::client_error::ClientError;
use crate::input::TextInput;
use crate::keys::{self, AttemptAction, ChoiceAction, DueAction, NextStepAction, OutcomeAction};
use crate::leads::{Filter, LeadRow};

impl App {
    /// The lead `F` and `t` work on: the due view's row, else the selected lead.
    fn follow_up_target(&self) -> Option<&LeadRow> {
        match self.mode.pane() {
            Pane::Due { at, whose } => {
                let rows = self.due_rows(whose);
                rows.get(at.min(rows.len().saturating_sub(1))).copied()
            }
            Pane::List | Pane::Detail { .. } => self.selected_lead(),
            Pane::Insights => None,
        }
    }

    pub(super) fn open_next_step(&mut self) -> Option<Effect> {
        let lead = self.follow_up_target()?;
        let what = lead
            .next_step
            .as_ref()
            .map_or(DEFAULT_WHAT, |step| step.what.as_str());
        let form = NextStepForm::new(self.now, self.zone(), what);
        self.mode = Mode::NextStep {
            id: lead.id,
            form,
            under: self.mode.pane(),
        };
        None
    }

    pub(super) fn open_attempt(&mut self) -> Option<Effect> {
        let id = self.follow_up_target()?.id;
        self.mode = Mode::Attempt {
            id,
            form: AttemptForm::default(),
            under: self.mode.pane(),
        };
        None
    }

    pub(super) fn next_step_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        let (now, zone) = (self.now, self.zone());
        let Mode::NextStep { id, form, under } = &mut self.mode else {
            return None;
        };
        let (id, under) = (*id, *under);
        if form.focus == NextStepField::Choices
            && let Some(action) = keys::CHOICES.action_for(key)
        {
            let last = form.choices.len().saturating_sub(1);
            match action {
                ChoiceAction::Pick => {
                    if let Some(at) = keys::digit(key).filter(|at| *at <= last) {
                        form.chosen = at;
                        form.time = TextInput::default();
                        form.error = None;
                    }
                }
                ChoiceAction::Down => form.chosen = (form.chosen + 1).min(last),
                ChoiceAction::Up => form.chosen = form.chosen.saturating_sub(1),
                ChoiceAction::Clear => {
                    self.mode = Mode::Browse(under);
                    return self.clear_next_step(id);
                }
            }
            return None;
        }
        match keys::NEXT_STEP.action_for(key) {
            Some(NextStepAction::NextField) => form.move_focus(1),
            Some(NextStepAction::PreviousField) => form.move_focus(NextStepField::ALL.len() - 1),
            Some(NextStepAction::Cancel) => self.mode = Mode::Browse(under),
            Some(NextStepAction::Save) => match form.step(now, zone) {
                Ok(step) => {
                    self.mode = Mode::Browse(under);
                    return self.set_next_step(id, step);
                }
                Err(error) => form.error = Some(error),
            },
            None => {
                // Typing on the choices starts a typed time: "+2h", "tue 10:00".
                if form.focus == NextStepField::Choices && matches!(key.code, KeyCode::Char(_)) {
                    form.focus = NextStepField::Time;
                }
                let input = match form.focus {
                    NextStepField::Time => &mut form.time,
                    NextStepField::What => &mut form.what,
                    NextStepField::Choices => return None,
                };
                if input.handle(key) {
                    form.error = None;
                }
            }
        }
        None
    }

    fn set_next_step(&mut self, id: i64, step: NextStep) -> Option<Effect> {
        let name = self.leads.get(id)?.display_name();
        let when = show_due(step.at, self.now, self.zone());
        self.toast(
            format!("Next step for {name}: {when} — {}", step.what),
            Level::Success,
        );
        let shown = Box::new(step.clone());
        self.change(
            id,
            "set the next step of",
            |lead| lead.next_step = Some(shown),
            Effect::SetNextStep { id, step },
        )
    }

    fn clear_next_step(&mut self, id: i64) -> Option<Effect> {
        let lead = self.leads.get(id)?;
        let name = lead.display_name();
        if lead.next_step.is_none() {
            self.toast(format!("{name} has no next step to clear."), Level::Info);
            return None;
        }
        self.toast(format!("Cleared the next step for {name}"), Level::Success);
        self.change(
            id,
            "clear the next step of",
            |lead| lead.next_step = None,
            Effect::ClearNextStep { id },
        )
    }

    pub(super) fn attempt_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        let Mode::Attempt { id, form, under } = &mut self.mode else {
            return None;
        };
        let last = CallOutcome::ALL.len() - 1;
        if !form.note_focused
            && keys::OUTCOMES.action_for(key) == Some(OutcomeAction)
            && let Some(outcome) = keys::digit(key)
        {
            form.outcome = outcome.min(last);
            form.note_focused = true;
            return None;
        }
        match keys::ATTEMPT.action_for(key) {
            Some(AttemptAction::SwitchField) => form.note_focused = !form.note_focused,
            Some(AttemptAction::Down) => form.outcome = (form.outcome + 1).min(last),
            Some(AttemptAction::Up) => form.outcome = form.outcome.saturating_sub(1),
            Some(AttemptAction::Cancel) => self.mode = Mode::Browse(*under),
            Some(AttemptAction::Send) => {
                let note = form.note.value().trim();
                let attempt = NewAttempt {
                    outcome: form.outcome(),
                    note: (!note.is_empty()).then(|| note.to_string()),
                };
                let id = *id;
                self.mode = Mode::Browse(*under);
                // In flight from here: the claim the server makes for it is this rep's own.
                let effect = Effect::Attempt { id, attempt };
                return self.change(id, "record the call on", |_| {}, effect);
            }
            None => {
                if !form.note_focused && matches!(key.code, KeyCode::Char(_)) {
                    form.note_focused = true;
                }
                if form.note_focused {
                    form.note.handle(key);
                }
            }
        }
        None
    }

    /// "attempt 3: no answer — next call tomorrow 09:00", or that the cadence ran out.
    pub(super) fn on_attempted(
        &mut self,
        id: i64,
        outcome: CallOutcome,
        result: Result<Attempted, ClientError>,
    ) {
        self.before_save.remove(&id);
        let attempted = match result {
            Ok(attempted) => attempted,
            Err(err) => {
                let name = self
                    .leads
                    .get(id)
                    .map_or_else(|| format!("lead #{id}"), LeadRow::display_name);
                self.toast(
                    format!("Could not record the call on {name}: {err}"),
                    Level::Error,
                );
                return;
            }
        };
        let lead = attempted.lead;
        let mut text = format!("attempt {}: {}", lead.attempts, outcome.label());
        match (&attempted.suggest, &lead.next_step) {
            (Some(statuses), _) => {
                let offered: Vec<String> = statuses
                    .iter()
                    .map(|status| format!("{status} ({})", status_key(*status)))
                    .collect();
                text.push_str(&format!(
                    " — the call cadence ran out: mark it {}",
                    offered.join(" or ")
                ));
            }
            (None, Some(step)) => {
                let next = if outcome.call_back() {
                    "next call"
                } else {
                    "next step"
                };
                let when = show_due(step.at, self.now, self.zone());
                text.push_str(&format!(" — {next} {when}"));
            }
            (None, None) => {}
        }
        self.leads.upsert(LeadRow::from(&lead));
        self.details.keep(lead);
        self.settle_selection();
        self.toast_for(text, Level::Success, LONG_TOAST_TIME);
    }

    pub(super) fn due_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        let Pane::Due { at, whose } = self.mode.pane() else {
            return None;
        };
        let binding = keys::DUE.pressed(key)?;
        let role = self.team.role();
        if let Some(action) = binding.needs.filter(|action| !role.may(*action)) {
            self.refuse(binding.label, action);
            return None;
        }
        let rows = self.due_rows(whose).len();
        let at = at.min(rows.saturating_sub(1));
        let stay = |at| Mode::Browse(Pane::Due { at, whose });
        match binding.action {
            DueAction::Down => self.mode = stay((at + 1).min(rows.saturating_sub(1))),
            DueAction::Up => self.mode = stay(at.saturating_sub(1)),
            DueAction::Open => {
                let id = self.due_rows(whose).get(at)?.id;
                self.select(id);
                self.follow_ups.due_return = Some(Pane::Due { at, whose });
                self.mode = Mode::Browse(Pane::Detail { scroll: 0 });
            }
            DueAction::NextStep => return self.open_next_step(),
            DueAction::Attempt => return self.open_attempt(),
            DueAction::CycleWhose => {
                let reps = self.team.reps.len();
                let whose = match whose {
                    DueOf::Mine => DueOf::Everyone,
                    DueOf::Everyone if reps > 0 => DueOf::Rep(0),
                    DueOf::Rep(at) if at + 1 < reps => DueOf::Rep(at + 1),
                    DueOf::Everyone | DueOf::Rep(_) => DueOf::Mine,
                };
                self.mode = Mode::Browse(Pane::Due { at: 0, whose });
            }
            DueAction::Help => self.open_help(),
            DueAction::Back => {
                self.follow_ups.due_return = None;
                self.mode = Mode::START;
            }
        }
        None
    }

    /// Selects lead `id` in the list, clearing the search and filter if they hide it.
    fn select(&mut self, id: i64) {
        let Some(key) = self.leads.get(id).map(LeadRow::key) else {
            return;
        };
        if self.leads.position(key).is_err() {
            self.search = TextInput::default();
            self.set_filter(Filter::default());
        }
        self.selected = Some(key);
        self.moved = true;
        self.settle_selection();
    }
}

/// The list key that sets `status`: "6" for Lost.
fn status_key(status: LeadStatus) -> usize {
    LeadStatus::ALL
        .iter()
        .position(|each| *each == status)
        .map_or(0, |at| at + 1)
}
