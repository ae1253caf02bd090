//! The dashboard's state and its update step.
//!
//! [`App::update`] turns one [`Msg`] (a key, a clock tick, a poll result, the answer to a
//! request) into a new state and at most one [`Effect`] for the runtime to carry out. Nothing
//! here touches the terminal, the network or the clock, so it is tested directly.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use crossterm::event::KeyEvent;
use leadhook_shared::{Activity, Lead, LeadPatch, Me, NewManualLead, Rep, SyncReport};

pub use self::mode::{LeadForm, Mode, Pane};
pub use self::team::{LeadActivity, Team};
use crate::audience::{self, Happening};
use crate::client_error::ClientError;
use crate::input::TextInput;
use crate::leads::{Filter, Key, Leads};
use crate::notify::Notice;
use crate::poller::PollEvent;

/// New leads arriving within this window share one notification.
pub const BATCH_WINDOW: Duration = Duration::milliseconds(500);
const TOAST_TIME: Duration = Duration::seconds(6);
const LONG_TOAST_TIME: Duration = Duration::seconds(15);
/// More would cover the table; the oldest goes first.
const MAX_TOASTS: usize = 2;

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The clock moved on: the only way "now" enters the app.
    Tick(DateTime<Utc>),
    Poll(PollEvent),
    Saved {
        id: i64,
        result: Result<Lead, ClientError>,
    },
    Created(Result<Lead, ClientError>),
    Synced(Result<SyncReport, ClientError>),
    Exported(Result<(PathBuf, usize), String>),
    /// `GET /api/reps/me` answered.
    Me(Result<Me, ClientError>),
    /// `PUT /api/reps/me` answered.
    Availability(Result<Me, ClientError>),
    Reps(Result<Vec<Rep>, ClientError>),
    Activity {
        id: i64,
        result: Result<Vec<Activity>, ClientError>,
    },
}

/// Work the app wants done outside itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Poll now.
    Refresh,
    Save {
        id: i64,
        patch: LeadPatch,
    },
    Create(NewManualLead),
    Sync,
    Export(Vec<Lead>),
    Notify(Notice),
    Claim {
        id: i64,
    },
    Release {
        id: i64,
    },
    LoadMe,
    SetAvailable(bool),
    LoadReps,
    LoadActivity(i64),
    /// Put this text on the user's clipboard (OSC 52).
    Copy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Online {
        push: bool,
    },
    Down {
        error: ClientError,
        retry_at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub level: Level,
    pub until: DateTime<Utc>,
}

/// The rows the table last showed; rendering keeps it current so paging knows its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    pub offset: usize,
    pub height: usize,
}

pub struct App {
    pub now: DateTime<Utc>,
    /// The user's UTC offset, for "today" and for the times in the detail pane.
    pub tz: FixedOffset,
    pub server: String,
    pub leads: Leads,
    selected: Option<Key>,
    /// The user moved the selection: stop pinning it to the newest lead during the first load.
    moved: bool,
    pub mode: Mode,
    pub search: TextInput,
    pub connection: Connection,
    pub last_ok: Option<DateTime<Utc>>,
    /// The first load has finished.
    pub loaded: bool,
    unseen: HashSet<i64>,
    pending_new: Vec<i64>,
    pending_since: Option<DateTime<Utc>>,
    /// The lead the user is adding, until the server answers: when it comes back through the
    /// poller first, it is the user's own and no news.
    creating: Option<NewManualLead>,
    /// Leads as they were before a change still in flight, to put back if it fails, and what
    /// the change was ("save", "claim"...).
    before_save: HashMap<i64, (Lead, &'static str)>,
    pub team: Team,
    pub toasts: Vec<Toast>,
    pub sync_started: Option<DateTime<Utc>>,
    pub viewport: Cell<Viewport>,
}

impl App {
    pub fn new(server: &str, now: DateTime<Utc>, tz: FixedOffset) -> App {
        App {
            now,
            tz,
            server: server.to_string(),
            leads: Leads::default(),
            selected: None,
            moved: false,
            mode: Mode::START,
            search: TextInput::default(),
            connection: Connection::Connecting,
            last_ok: None,
            loaded: false,
            unseen: HashSet::new(),
            pending_new: Vec::new(),
            pending_since: None,
            creating: None,
            before_save: HashMap::new(),
            team: Team::default(),
            toasts: Vec::new(),
            sync_started: None,
            viewport: Cell::new(Viewport {
                offset: 0,
                height: 10,
            }),
        }
    }

    /// One step. When the message itself wants nothing done, the dashboard may still need the
    /// rep, the reps or the open lead's history; the clock ticks often enough to ask in turn.
    pub fn update(&mut self, msg: Msg) -> Option<Effect> {
        self.step(msg)
            .or_else(|| self.team_wanted())
            .or_else(|| self.activity_wanted())
    }

    fn step(&mut self, msg: Msg) -> Option<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Tick(now) => {
                self.now = now;
                self.toasts.retain(|toast| toast.until > now);
                self.flush_new_leads()
            }
            Msg::Poll(event) => self.on_poll(event),
            Msg::Saved { id, result } => {
                self.on_saved(id, result);
                None
            }
            Msg::Created(result) => {
                self.on_created(result);
                None
            }
            Msg::Synced(result) => self.on_synced(result),
            Msg::Exported(result) => {
                match result {
                    Ok((path, count)) => self.toast_for(
                        format!("Exported {} to {}", plural(count, "lead"), path.display()),
                        Level::Success,
                        LONG_TOAST_TIME,
                    ),
                    Err(err) => self.toast(format!("Export failed: {err}"), Level::Error),
                }
                None
            }
            Msg::Me(result) => {
                self.on_me(result);
                None
            }
            Msg::Availability(result) => self.on_availability(result),
            Msg::Reps(result) => {
                self.on_reps(result);
                None
            }
            Msg::Activity { id, result } => {
                self.on_activity(id, result);
                None
            }
        }
    }

    pub fn selected_index(&self) -> Option<usize> {
        let last = self.leads.visible().len().checked_sub(1)?;
        let key = self.selected?;
        Some(match self.leads.position(key) {
            Ok(at) | Err(at) => at.min(last),
        })
    }

    pub fn selected_lead(&self) -> Option<&Lead> {
        self.leads.visible_lead(self.selected_index()?)
    }

    /// A lead that arrived while the dashboard was open and has not been selected yet.
    pub fn is_unseen(&self, id: i64) -> bool {
        self.unseen.contains(&id)
    }

    /// Applies `patch` at once and asks the runtime to save it; a failed save is undone.
    fn save(&mut self, id: i64, patch: LeadPatch) -> Option<Effect> {
        let applied = patch.clone();
        self.change(
            id,
            "save",
            move |lead| {
                if let Some(status) = applied.status {
                    lead.status = status;
                }
                if let Some(notes) = applied.notes {
                    lead.notes = Some(notes).filter(|notes| !notes.is_empty());
                }
                if let Some(owner) = applied.owner {
                    lead.owner = owner;
                }
            },
            Effect::Save { id, patch },
        )
    }

    /// Shows `apply`'s change to lead `id` at once and asks for `effect`, which answers with
    /// [`Msg::Saved`]; if that fails the lead is put back and a toast says "Could not {verb}".
    fn change(
        &mut self,
        id: i64,
        verb: &'static str,
        apply: impl FnOnce(&mut Lead),
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

    fn on_saved(&mut self, id: i64, result: Result<Lead, ClientError>) {
        let before = self.before_save.remove(&id);
        match (result, before) {
            (Ok(lead), _) => {
                self.leads.upsert(lead);
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

    fn on_created(&mut self, result: Result<Lead, ClientError>) {
        self.creating = None;
        match result {
            Ok(lead) => {
                let name = lead.display_name();
                self.unseen.remove(&lead.id);
                self.pending_new.retain(|id| *id != lead.id);
                self.selected = Some(Key {
                    created_at: lead.meta.created_at,
                    id: lead.id,
                });
                self.leads.upsert(lead);
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

    fn on_synced(&mut self, result: Result<SyncReport, ClientError>) -> Option<Effect> {
        self.sync_started = None;
        match result {
            Ok(report) => {
                let mut text = format!("Sync: {}", plural(report.inserted as usize, "new lead"));
                let level = match report.errors.first() {
                    None => Level::Success,
                    Some(first) => {
                        text.push_str(&format!(
                            ", {} ({first})",
                            plural(report.errors.len(), "error")
                        ));
                        Level::Error
                    }
                };
                self.toast_for(text, level, LONG_TOAST_TIME);
                Some(Effect::Refresh)
            }
            Err(ClientError::NotFound(_)) => {
                self.toast(
                    "Sync not supported by this server; update leadhook-server.".to_string(),
                    Level::Error,
                );
                None
            }
            Err(err) => {
                self.toast(format!("Sync failed: {err}"), Level::Error);
                None
            }
        }
    }

    fn on_poll(&mut self, event: PollEvent) -> Option<Effect> {
        match event {
            PollEvent::Leads { leads, first_load } => {
                let assigned = self.assigned_to_me(&leads);
                // Detected by id: a known id coming back is an update, never a new lead.
                let mut new_ids = self.leads.merge(leads);
                if let Some(own) = &self.creating {
                    let leads = &self.leads;
                    new_ids.retain(|id| !leads.get(*id).is_some_and(|lead| is_own(lead, own)));
                }
                if !first_load && !new_ids.is_empty() {
                    self.unseen.extend(&new_ids);
                    self.pending_new.extend(new_ids);
                    self.pending_since.get_or_insert(self.now);
                }
                self.settle_selection();
                self.tell_assigned(&assigned)
            }
            PollEvent::Synced { at, push } => {
                self.connection = Connection::Online { push };
                self.last_ok = Some(at);
                self.loaded = true;
                None
            }
            PollEvent::Failed { error, retry_at } => {
                self.connection = Connection::Down { error, retry_at };
                None
            }
            PollEvent::Escalation(escalation) => self.on_escalation(&escalation),
        }
    }

    /// Once the batch window has passed, one toast and one notification for the new leads.
    fn flush_new_leads(&mut self) -> Option<Effect> {
        let since = self.pending_since?;
        if self.now - since < BATCH_WINDOW {
            return None;
        }
        self.pending_since = None;
        let ids = std::mem::take(&mut self.pending_new);
        let viewer = self.team.viewer();
        let leads: Vec<&Lead> = ids
            .iter()
            .rev()
            .filter_map(|id| self.leads.get(*id))
            .filter(|lead| {
                let owner = lead.owner.as_deref();
                audience::tells(viewer, Happening::NewLead { owner, by: None })
            })
            .collect();
        let notice = Notice::new_leads(&leads)?;
        self.toast(notice.line(), Level::Info);
        Some(Effect::Notify(notice))
    }

    fn set_query(&mut self, query: String) {
        self.set_filter(Filter {
            query,
            ..self.leads.filter().clone()
        });
    }

    fn set_filter(&mut self, filter: Filter) {
        self.leads.set_filter(filter);
        self.settle_selection();
    }

    fn move_by(&mut self, delta: isize) {
        let Some(current) = self.selected_index() else {
            return;
        };
        self.move_to(current.saturating_add_signed(delta));
    }

    fn move_to(&mut self, index: usize) {
        let visible = self.leads.visible();
        let Some(last) = visible.len().checked_sub(1) else {
            return;
        };
        self.selected = Some(visible[index.min(last)]);
        self.moved = true;
        if let Mode::Browse(Pane::Detail { scroll }) = &mut self.mode {
            *scroll = 0;
        }
        self.settle_selection();
    }

    /// Keeps the selection on a visible lead (the same one when it can) and marks it seen.
    fn settle_selection(&mut self) {
        let pin_to_newest = self.selected.is_none() || (!self.loaded && !self.moved);
        let index = if pin_to_newest {
            Some(0)
        } else {
            self.selected_index()
        };
        if let Some(&key) = index.and_then(|index| self.leads.visible().get(index)) {
            self.selected = Some(key);
            self.unseen.remove(&key.id);
        }
    }

    fn toast(&mut self, text: String, level: Level) {
        self.toast_for(text, level, TOAST_TIME);
    }

    fn toast_for(&mut self, text: String, level: Level, time: Duration) {
        if self.toasts.len() >= MAX_TOASTS {
            self.toasts.remove(0);
        }
        self.toasts.push(Toast {
            text,
            level,
            until: self.now + time,
        });
    }
}

/// Whether `lead` is the one the user just submitted through the form.
fn is_own(lead: &Lead, own: &NewManualLead) -> bool {
    lead.is_manual
        && lead.meta.name.as_deref() == Some(own.name.as_str())
        && lead.meta.phone == own.phone
        && lead.meta.email == own.email
}

/// "1 lead", "2 leads".
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

mod mode;
mod on_key;
mod team;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;
