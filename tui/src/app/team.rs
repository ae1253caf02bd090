//! The team's work queue on the dashboard: who the user is, the reps, owning leads, telling the
//! right rep, and the open lead's history.

use chrono::{DateTime, Duration, Utc};
use leadhook_shared::{
    Activity, Assignment, Conversation, Escalation, LeadDelivery, LeadPatch, Me, Rep, Role,
};

use super::{App, Effect, Level, Mode, Pane};
use crate::audience::{self, Happening, Viewer};
use crate::client_error::ClientError;
use crate::keys::PickerAction;
use crate::leads::{Filter, LeadRow};
use crate::notify::Notice;
use crate::sanitize;

/// How often the reps' availability is asked again, and "who am I" after a failure.
const REPS_REFRESH: Duration = Duration::seconds(30);
/// The longest text `y` copies: a phone number or an email address, not a stranger's essay.
pub const MAX_COPY_CHARS: usize = 254;

#[derive(Debug, Default)]
pub struct WorkQueueView {
    /// `None` until the server answers, and for a server without reps.
    pub me: Option<Me>,
    me_asked_at: Option<DateTime<Utc>>,
    /// The server has no `/api/reps`: an older leadhook-server.
    pub unsupported: bool,
    pub reps: Vec<Rep>,
    pub(super) reps_asked_at: Option<DateTime<Utc>>,
    /// The history of the lead whose details are open.
    pub activity: Option<LeadActivity>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadActivity {
    pub lead: i64,
    /// The lead's `updated_at` when its history was asked for: a newer change asks again.
    pub version: DateTime<Utc>,
    pub entries: Vec<Activity>,
    pub loading: bool,
    pub error: Option<String>,
    /// Where its events went beyond the terminal, newest first, once the server said.
    pub deliveries: Vec<LeadDelivery>,
    /// Its conversation with the person, once the server said (a server without them: `None`).
    pub conversation: Option<Conversation>,
}

impl WorkQueueView {
    pub fn assignment(&self) -> Option<Assignment> {
        self.me.as_ref().map(|me| me.assignment)
    }

    /// The rep's role, for the keys the dashboard offers. Until the server has said, every key
    /// is offered: the server decides in the end, and says so when it refuses.
    pub fn role(&self) -> Role {
        self.me.as_ref().map_or(Role::Admin, |me| me.role)
    }

    pub fn is_me(&self, name: &str) -> bool {
        self.me.as_ref().is_some_and(|me| me.name == name)
    }

    pub fn viewer(&self) -> Option<Viewer<'_>> {
        self.me.as_ref().map(|me| Viewer {
            name: &me.name,
            available: me.available,
        })
    }
}

impl App {
    /// The rep's name, or a toast saying why the work-queue keys do nothing yet.
    fn my_name(&mut self) -> Option<String> {
        if let Some(me) = &self.team.me {
            if me.assignment == Assignment::None {
                self.toast(
                    "This server gives leads no owners (LEADHOOK_ASSIGNMENT=none).".to_string(),
                    Level::Info,
                );
                return None;
            }
            return Some(me.name.clone());
        }
        let why = if self.team.unsupported {
            "This server has no reps; update leadhook-server to claim and assign leads."
        } else {
            "Still asking the server who you are; try again in a moment."
        };
        self.toast(why.to_string(), Level::Info);
        None
    }

    pub(super) fn claim(&mut self) -> Option<Effect> {
        let me = self.my_name()?;
        let lead = self.selected_lead()?;
        let (id, name) = (lead.id, lead.display_name());
        if lead.owner.as_deref() == Some(me.as_str()) {
            self.toast(format!("{name} is already yours."), Level::Info);
            return None;
        }
        self.change(
            id,
            "claim",
            |lead| lead.owner = Some(me.into()),
            Effect::Claim { id },
        )
    }

    pub(super) fn release(&mut self) -> Option<Effect> {
        self.my_name()?;
        let lead = self.selected_lead()?;
        let (id, name) = (lead.id, lead.display_name());
        if lead.owner.is_none() {
            self.toast(format!("{name} has no owner to release."), Level::Info);
            return None;
        }
        self.change(
            id,
            "release",
            |lead| lead.owner = None,
            Effect::Release { id },
        )
    }

    /// Opens the rep picker on the lead's owner, and asks for the reps afresh.
    pub(super) fn open_assign(&mut self) -> Option<Effect> {
        self.my_name()?;
        let lead = self.selected_lead()?;
        let at = self
            .team
            .reps
            .iter()
            .position(|rep| Some(rep.name.as_str()) == lead.owner.as_deref())
            .unwrap_or(0);
        self.mode = Mode::Assign {
            id: lead.id,
            at,
            under: self.mode.pane(),
        };
        self.team.reps_asked_at = Some(self.now);
        Some(Effect::LoadReps)
    }

    pub(super) fn picker_key(&mut self, action: Option<PickerAction>) -> Option<Effect> {
        let Mode::Assign { id, at, under } = &mut self.mode else {
            return None;
        };
        let last = self.team.reps.len().saturating_sub(1);
        match action? {
            PickerAction::Down => *at = (*at + 1).min(last),
            PickerAction::Up => *at = at.saturating_sub(1),
            PickerAction::Cancel => self.mode = Mode::Browse(*under),
            PickerAction::Choose => {
                let (id, rep) = (*id, self.team.reps.get(*at)?.name.clone());
                self.mode = Mode::Browse(*under);
                if self.leads.get(id)?.owner.as_deref() == Some(rep.as_str()) {
                    return None;
                }
                let patch = LeadPatch {
                    owner: Some(Some(rep.clone())),
                    ..LeadPatch::default()
                };
                return self.change(
                    id,
                    "assign",
                    |lead| lead.owner = Some(rep.into()),
                    Effect::Save { id, patch },
                );
            }
        }
        None
    }

    /// `m`: only my leads and unowned ones, or everyone's.
    pub(super) fn toggle_mine(&mut self) {
        let Some(me) = self.my_name() else {
            return;
        };
        let mine = match self.leads.filter().mine {
            Some(_) => None,
            None => Some(me),
        };
        self.set_filter(Filter {
            mine,
            ..self.leads.filter().clone()
        });
    }

    /// `A`: available or away, shown at once and sent to the server.
    pub(super) fn toggle_available(&mut self) -> Option<Effect> {
        self.my_name()?;
        let me = self.team.me.as_mut()?;
        me.available = !me.available;
        Some(Effect::SetAvailable(me.available))
    }

    /// `y`: the selected lead's phone (in E.164 when it is a valid number), else its email, to the
    /// clipboard.
    pub(super) fn copy_contact(&mut self) -> Option<Effect> {
        let lead = self.selected_lead()?;
        let filled = |value: Option<&str>| {
            value
                .map(sanitize::clipboard)
                .filter(|text| !text.is_empty())
        };
        let (what, text) = match (filled(lead.phone_to_copy()), filled(lead.email.as_deref())) {
            (Some(phone), _) => ("phone", phone),
            (None, Some(email)) => ("email", email),
            (None, None) => {
                let name = lead.display_name();
                self.toast(format!("{name} has no phone or email."), Level::Info);
                return None;
            }
        };
        if text.chars().count() > MAX_COPY_CHARS {
            self.toast(
                format!("The {what} is over {MAX_COPY_CHARS} characters; not copied."),
                Level::Error,
            );
            return None;
        }
        self.toast(format!("Copied {what} {text}"), Level::Success);
        Some(Effect::Copy(text))
    }

    /// Who the rep is, as the server said: also the answer columns the list keeps and shows.
    pub(super) fn take_me(&mut self, me: Me) {
        self.leads.set_answer_columns(me.answer_columns.clone());
        self.team.me = Some(me);
    }

    pub(super) fn on_me(&mut self, result: Result<Me, ClientError>) {
        match result {
            Ok(me) => self.take_me(me),
            Err(ClientError::NotFound(_)) => {
                self.team.unsupported = true;
                // A server from before reps names no columns: the rows keep no answers.
                self.leads.set_answer_columns(Default::default());
            }
            // Asked again once REPS_REFRESH has passed.
            Err(_) => {}
        }
    }

    pub(super) fn on_availability(&mut self, result: Result<Me, ClientError>) -> Option<Effect> {
        match result {
            Ok(me) => {
                self.take_me(me);
                None
            }
            Err(err) => {
                self.toast(
                    format!("Could not change your availability: {err}"),
                    Level::Error,
                );
                Some(Effect::LoadMe)
            }
        }
    }

    pub(super) fn on_reps(&mut self, result: Result<Vec<Rep>, ClientError>) {
        match result {
            Ok(reps) => {
                self.team.reps = reps;
                if let Mode::Assign { at, .. } = &mut self.mode {
                    *at = (*at).min(self.team.reps.len().saturating_sub(1));
                }
            }
            Err(err) if matches!(self.mode, Mode::Assign { .. }) => {
                self.toast(format!("Could not load the reps: {err}"), Level::Error);
            }
            Err(_) => {}
        }
    }

    /// Who the rep is once the server is reachable, then the reps every [`REPS_REFRESH`].
    pub(super) fn team_wanted(&mut self) -> Option<Effect> {
        if self.team.unsupported || !self.loaded {
            return None;
        }
        let due =
            |asked: Option<DateTime<Utc>>| asked.is_none_or(|at| self.now - at >= REPS_REFRESH);
        if self.team.me.is_none() {
            if !due(self.team.me_asked_at) {
                return None;
            }
            self.team.me_asked_at = Some(self.now);
            return Some(Effect::LoadMe);
        }
        if !due(self.team.reps_asked_at) {
            return None;
        }
        self.team.reps_asked_at = Some(self.now);
        Some(Effect::LoadReps)
    }

    /// The open lead's history, when the details show a lead whose history is not asked for.
    pub(super) fn activity_wanted(&mut self) -> Option<Effect> {
        if !matches!(self.mode.pane(), Pane::Detail { .. }) {
            return None;
        }
        let lead = self.selected_lead()?;
        let (lead, version) = (lead.id, lead.updated_at);
        match &mut self.team.activity {
            Some(cached) if cached.lead == lead => {
                if cached.loading || cached.version == version {
                    return None;
                }
                cached.version = version;
                cached.loading = true;
            }
            _ => {
                self.team.activity = Some(LeadActivity {
                    lead,
                    version,
                    entries: Vec::new(),
                    loading: true,
                    error: None,
                    deliveries: Vec::new(),
                    conversation: None,
                });
            }
        }
        Some(Effect::LoadActivity(lead))
    }

    /// A lead's deliveries; a server from before them (404) or an outage leaves them unshown.
    pub(super) fn on_deliveries(
        &mut self,
        id: i64,
        result: Result<Vec<LeadDelivery>, ClientError>,
    ) {
        if let (Some(cached), Ok(deliveries)) = (
            self.team
                .activity
                .as_mut()
                .filter(|cached| cached.lead == id),
            result,
        ) {
            cached.deliveries = deliveries;
        }
    }

    /// A lead's conversation; a server from before them (404) or an outage leaves it unshown.
    pub(super) fn on_conversation(&mut self, id: i64, result: Result<Conversation, ClientError>) {
        if let (Some(cached), Ok(conversation)) = (
            self.team
                .activity
                .as_mut()
                .filter(|cached| cached.lead == id),
            result,
        ) {
            cached.conversation = Some(conversation);
        }
    }

    pub(super) fn on_activity(&mut self, id: i64, result: Result<Vec<Activity>, ClientError>) {
        let Some(cached) = self
            .team
            .activity
            .as_mut()
            .filter(|cached| cached.lead == id)
        else {
            return;
        };
        cached.loading = false;
        match result {
            Ok(entries) => {
                cached.entries = entries;
                cached.error = None;
            }
            Err(ClientError::NotFound(_)) => {
                cached.error = Some("this server keeps no history; update leadhook-server".into());
            }
            Err(err) => cached.error = Some(err.to_string()),
        }
    }

    pub(super) fn on_escalation(&mut self, escalation: &Escalation) -> Option<Effect> {
        if !audience::tells(self.team.viewer(), Happening::Escalation) {
            return None;
        }
        let notice = Notice::escalation(escalation);
        self.toast(notice.line(), Level::Error);
        Some(Effect::Notify(notice))
    }

    /// Leads in `incoming` that a change not made here gives to this rep.
    pub(super) fn assigned_to_me(&self, incoming: &[LeadRow]) -> Vec<i64> {
        let Some(viewer) = self.team.viewer() else {
            return Vec::new();
        };
        incoming
            .iter()
            // Junk is news to nobody, whoever it is given to.
            .filter(|lead| lead.junk().is_none())
            .filter_map(|lead| {
                let known = self.leads.get(lead.id)?;
                let owner = lead.owner.as_deref()?;
                if known.owner.as_deref() == Some(owner) {
                    return None;
                }
                // A change in flight from here is this rep's own.
                let by = self
                    .before_save
                    .contains_key(&lead.id)
                    .then_some(viewer.name);
                audience::tells(Some(viewer), Happening::Assigned { owner, by }).then_some(lead.id)
            })
            .collect()
    }

    pub(super) fn tell_assigned(&mut self, ids: &[i64]) -> Option<Effect> {
        let leads: Vec<&LeadRow> = ids.iter().filter_map(|id| self.leads.get(*id)).collect();
        let notice = Notice::assigned(&leads)?;
        self.toast(notice.line(), Level::Info);
        Some(Effect::Notify(notice))
    }
}
