//! Keys, mode by mode: each mode asks its own table in [`crate::keys`] what a key means.

use crossterm::event::{KeyEvent, KeyEventKind};
use leadhook_shared::{Action, LeadPatch, LeadStatus};

use super::{App, DueOf, Effect, LeadForm, Level, Mode, Pane};
use crate::input::TextInput;
use crate::keys::{
    self, DetailAction, FormAction, HelpAction, ListAction, NotesAction, SearchAction,
};
use crate::leads::Filter;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Option<Effect> {
        if key.kind != KeyEventKind::Press {
            return None;
        }
        if keys::is_interrupt(&key) {
            return Some(Effect::Quit);
        }
        match &mut self.mode {
            Mode::Browse(Pane::List) => self.list_key(&key),
            Mode::Browse(Pane::Due { .. }) => self.due_key(&key),
            Mode::Browse(Pane::Insights) => self.insights_key(&key),
            Mode::Browse(Pane::Detail { scroll }) => match keys::DETAIL.action_for(&key) {
                Some(DetailAction::ScrollDown) => {
                    *scroll = scroll.saturating_add(1);
                    None
                }
                Some(DetailAction::ScrollUp) => {
                    *scroll = scroll.saturating_sub(1);
                    None
                }
                Some(DetailAction::Close) => {
                    let back = self.follow_ups.due_return.take().unwrap_or(Pane::List);
                    self.mode = Mode::Browse(back);
                    None
                }
                None => self.list_key(&key),
            },
            Mode::Search => {
                self.search_key(key);
                None
            }
            Mode::Help { under } => {
                let mut scroll = self.help_scroll.get();
                match keys::HELP.action_for(&key) {
                    Some(HelpAction::Close) => self.mode = Mode::Browse(*under),
                    Some(HelpAction::Down) => scroll.at = (scroll.at + 1).min(scroll.max),
                    Some(HelpAction::Up) => scroll.at = scroll.at.saturating_sub(1),
                    None => {}
                }
                self.help_scroll.set(scroll);
                None
            }
            Mode::NewLead(_) => self.form_key(key),
            Mode::Paging(_) => self.paging_key(key),
            Mode::Notes { .. } => self.notes_key(key),
            Mode::Assign { .. } => self.picker_key(keys::PICKER.action_for(&key)),
            Mode::NextStep { .. } => self.next_step_key(&key),
            Mode::Attempt { .. } => self.attempt_key(&key),
            Mode::ConfirmMerge { .. } => self.confirm_key(keys::CONFIRM.action_for(&key)),
            Mode::Unlink { .. } => self.unlink_key(keys::UNLINK.action_for(&key)),
        }
    }

    fn list_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        let binding = keys::LIST.pressed(key)?;
        let role = self.team.role();
        if let Some(action) = binding.needs.filter(|action| !role.may(*action)) {
            self.refuse(binding.label, action);
            return None;
        }
        self.act(binding.action)
    }

    /// A toast saying the rep's role may not use the key `label`.
    pub(super) fn refuse(&mut self, label: &str, action: Action) {
        let role = self.team.role();
        self.toast(
            format!(
                "{label}: your role ({role}) may not {}; that needs the {} role.",
                action.describe(),
                action.least_role()
            ),
            Level::Error,
        );
    }

    fn act(&mut self, action: ListAction) -> Option<Effect> {
        let page = self.viewport.get().height.max(1) as isize;
        match action {
            ListAction::Down => self.move_by(1),
            ListAction::Up => self.move_by(-1),
            ListAction::PageDown => self.move_by(page),
            ListAction::PageUp => self.move_by(-page),
            ListAction::Top => self.move_to(0),
            ListAction::Bottom => self.move_to(usize::MAX),
            ListAction::OpenDetail => self.mode = Mode::Browse(Pane::Detail { scroll: 0 }),
            ListAction::Search => self.mode = Mode::Search,
            ListAction::CycleFilter => {
                let status = match self.leads.filter().status {
                    None => Some(LeadStatus::ALL[0]),
                    Some(current) => LeadStatus::ALL
                        .iter()
                        .skip_while(|status| **status != current)
                        .nth(1)
                        .copied(),
                };
                self.set_filter(Filter {
                    status,
                    ..self.leads.filter().clone()
                });
            }
            ListAction::SetStatus(status) => {
                let lead = self.selected_lead()?;
                if lead.status != status {
                    let id = lead.id;
                    return self.save(
                        id,
                        LeadPatch {
                            status: Some(status),
                            ..LeadPatch::default()
                        },
                    );
                }
            }
            ListAction::NewLead => self.mode = Mode::NewLead(LeadForm::default()),
            ListAction::EditNotes => {
                let lead = self.selected_lead()?;
                self.mode = Mode::Notes {
                    id: lead.id,
                    input: TextInput::new(lead.notes.as_deref().unwrap_or_default()),
                    under: self.mode.pane(),
                };
            }
            ListAction::Claim => return self.claim(),
            ListAction::Release => return self.release(),
            ListAction::Assign => return self.open_assign(),
            ListAction::ToggleMine => self.toggle_mine(),
            ListAction::ToggleAvailable => return self.toggle_available(),
            ListAction::Paging => self.open_paging(),
            ListAction::Copy => return self.copy_contact(),
            ListAction::Reach(channel) => return self.reach(channel),
            ListAction::Sync => {
                if self.sync_started.is_some() {
                    self.toast("A sync is already running.".to_string(), Level::Info);
                } else {
                    self.sync_started = Some(self.now);
                    return Some(Effect::Sync);
                }
            }
            ListAction::Refresh => {
                self.details.retry();
                return Some(Effect::Refresh);
            }
            ListAction::Export => {
                if self.leads.visible().is_empty() {
                    self.toast("No leads to export.".to_string(), Level::Info);
                } else {
                    // A person's row stands for every submission it shows.
                    let leads = &self.leads;
                    let ids = leads
                        .visible()
                        .iter()
                        .flat_map(|key| leads.submissions(key.id))
                        .map(|lead| lead.id)
                        .collect();
                    return Some(Effect::Export(ids));
                }
            }
            ListAction::NextStep => return self.open_next_step(),
            ListAction::Attempt => return self.open_attempt(),
            ListAction::DueView => {
                self.follow_ups.due_return = None;
                self.mode = Mode::Browse(Pane::Due {
                    at: 0,
                    whose: DueOf::Mine,
                });
            }
            ListAction::ToggleJunk => self.toggle_junk(),
            ListAction::ClearJunk => return self.clear_junk(),
            ListAction::Merge => return self.merge(),
            ListAction::Unlink => return self.open_unlink(),
            ListAction::Insights => return self.open_insights(),
            ListAction::Help => self.open_help(),
            ListAction::Back => {
                if self.leads.filter().is_active() {
                    self.search = TextInput::default();
                    self.set_filter(Filter {
                        mine: self.leads.filter().mine.clone(),
                        ..Filter::default()
                    });
                } else {
                    return Some(Effect::Quit);
                }
            }
            ListAction::Quit => return Some(Effect::Quit),
        }
        None
    }

    fn search_key(&mut self, key: KeyEvent) {
        match keys::SEARCH.action_for(&key) {
            Some(SearchAction::Clear) => {
                self.search = TextInput::default();
                self.set_query(String::new());
                self.mode = Mode::START;
            }
            Some(SearchAction::Keep) => self.mode = Mode::START,
            Some(SearchAction::Down) => self.move_by(1),
            Some(SearchAction::Up) => self.move_by(-1),
            None => {
                if self.search.handle(&key) {
                    self.set_query(self.search.value().to_string());
                }
            }
        }
    }

    fn form_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let Mode::NewLead(form) = &mut self.mode else {
            return None;
        };
        let fields = LeadForm::LABELS.len();
        match keys::FORM.action_for(&key) {
            Some(FormAction::Cancel) => self.mode = Mode::START,
            Some(FormAction::NextField) => form.focus = (form.focus + 1) % fields,
            Some(FormAction::PreviousField) => form.focus = (form.focus + fields - 1) % fields,
            Some(FormAction::Save) if form.saving => {}
            Some(FormAction::Save) => match form.to_new_lead() {
                Ok(lead) => {
                    form.saving = true;
                    form.error = None;
                    self.creating = Some(lead.clone());
                    return Some(Effect::Create(lead));
                }
                Err(message) => form.error = Some(message),
            },
            None => {
                form.inputs[form.focus].handle(&key);
            }
        }
        None
    }

    fn notes_key(&mut self, key: KeyEvent) -> Option<Effect> {
        let Mode::Notes { id, input, under } = &mut self.mode else {
            return None;
        };
        match keys::NOTES.action_for(&key) {
            Some(NotesAction::Cancel) => self.mode = Mode::Browse(*under),
            Some(NotesAction::Save) => {
                let (id, notes) = (*id, input.value().trim().to_string());
                self.mode = Mode::Browse(*under);
                return self.save(
                    id,
                    LeadPatch {
                        notes: Some(notes),
                        ..LeadPatch::default()
                    },
                );
            }
            None => {
                input.handle(&key);
            }
        }
        None
    }
}
