//! Follow-ups: a lead's next step (`F`), call attempts (`t`), the due view (`D`), reminders and
//! the catch-up on what fell due while the dashboard was closed, and the rep's time zone, which
//! every typed and shown due time is read in.

use std::collections::HashSet;

use chrono::{DateTime, Days, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::{
    Attempted, CallOutcome, LeadStatus, Me, NewAttempt, NextStep, QuickChoice, Reminder, Stats, Tz,
    parse_due, parse_zone, quick_choices, show_due,
};

use super::{App, Connection, Effect, LONG_TOAST_TIME, Level, Mode, Pane};
use crate::audience::{self, Happening};
use crate::client_error::ClientError;
use crate::input::TextInput;
use crate::keys::{self, AttemptAction, ChoiceAction, DueAction, NextStepAction, OutcomeAction};
use crate::leads::{Filter, LeadRow};
use crate::notify::Notice;

/// What a new next step says unless the rep types otherwise.
pub const DEFAULT_WHAT: &str = "Call back";

/// Whose follow-ups the due view lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DueOf {
    /// The rep's own and unowned leads.
    #[default]
    Mine,
    Everyone,
    /// The rep at this place in the team's reps.
    Rep(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStepField {
    Choices,
    Time,
    What,
}

impl NextStepField {
    const ALL: [NextStepField; 3] = [
        NextStepField::Choices,
        NextStepField::Time,
        NextStepField::What,
    ];
}

/// The popup of `F`: a quick choice or a typed time, and what to do then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStepForm {
    pub choices: Vec<QuickChoice>,
    pub chosen: usize,
    pub focus: NextStepField,
    pub time: TextInput,
    pub what: TextInput,
    /// Why the step cannot be saved, in one line.
    pub error: Option<String>,
}

impl NextStepForm {
    pub fn new(now: DateTime<Utc>, zone: Tz, what: &str) -> NextStepForm {
        NextStepForm {
            choices: quick_choices(now, zone),
            chosen: 0,
            focus: NextStepField::Choices,
            time: TextInput::default(),
            what: TextInput::new(what),
            error: None,
        }
    }

    /// The step to save: the typed time when there is one, else the chosen quick choice.
    pub fn step(&self, now: DateTime<Utc>, zone: Tz) -> Result<NextStep, String> {
        let typed = self.time.value().trim();
        let at = if typed.is_empty() {
            self.choices
                .get(self.chosen)
                .map(|choice| choice.at)
                .ok_or_else(|| {
                    "Type a time: 15:30, tue 10:00, +2h or 2026-12-14 09:00".to_string()
                })?
        } else {
            parse_due(typed, now, zone).map_err(|err| err.to_string())?
        };
        let what = self.what.value().trim();
        if what.is_empty() {
            return Err(format!("Say what to do next, e.g. {DEFAULT_WHAT}."));
        }
        Ok(NextStep {
            at,
            what: what.to_string(),
        })
    }

    fn move_focus(&mut self, by: usize) {
        let fields = NextStepField::ALL.len();
        let at = NextStepField::ALL
            .iter()
            .position(|field| *field == self.focus)
            .unwrap_or(0);
        self.focus = NextStepField::ALL[(at + by) % fields];
    }
}

/// The popup of `t`: how the call went and an optional note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptForm {
    /// Indexes [`CallOutcome::ALL`].
    pub outcome: usize,
    pub note: TextInput,
    pub note_focused: bool,
}

impl AttemptForm {
    pub fn outcome(&self) -> CallOutcome {
        CallOutcome::ALL[self.outcome.min(CallOutcome::ALL.len() - 1)]
    }
}

/// How an outcome reads on screen: "no answer".
pub fn outcome_text(outcome: CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::NoAnswer => "no answer",
        CallOutcome::LeftVoicemail => "left voicemail",
        CallOutcome::Talked => "talked",
        CallOutcome::WrongNumber => "wrong number",
    }
}

/// The rep's own follow-ups in the header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DueCounts {
    /// Due later today, not yet past.
    pub today: usize,
    /// Past their time.
    pub overdue: usize,
}

#[derive(Debug)]
pub struct FollowUps {
    /// This computer's zone, used until the server knows the rep's.
    pub local_zone: Tz,
    /// The local zone was found (not the UTC fallback), so it may be sent to the server.
    pub local_zone_known: bool,
    zone_sent: bool,
    /// The steps already told of, live or in a catch-up, by lead and due time.
    reminded: HashSet<(i64, DateTime<Utc>)>,
    /// The dashboard (re)connected: tell what fell due meanwhile once the rep is known.
    catch_up: bool,
    /// Where Esc from details opened in the due view goes back to.
    pub(super) due_return: Option<Pane>,
    /// `GET /api/stats`, asked now and then.
    pub stats: Option<Stats>,
}

impl Default for FollowUps {
    fn default() -> Self {
        FollowUps {
            local_zone: Tz::UTC,
            local_zone_known: false,
            zone_sent: false,
            reminded: HashSet::new(),
            catch_up: false,
            due_return: None,
            stats: None,
        }
    }
}

impl App {
    /// The zone due times are typed and shown in: the rep's on the server, else this computer's.
    pub fn zone(&self) -> Tz {
        self.team
            .me
            .as_ref()
            .and_then(|me| me.time_zone.as_deref())
            .and_then(|name| parse_zone(name).ok())
            .unwrap_or(self.follow_ups.local_zone)
    }

    /// The follow-ups `whose` lists, soonest first: overdue, then today, then later.
    pub fn due_rows(&self, whose: DueOf) -> Vec<&LeadRow> {
        let me = self.team.me.as_ref().map(|me| me.name.as_str());
        let rep = match whose {
            DueOf::Rep(at) => self.team.reps.get(at).map(|rep| rep.name.as_str()),
            DueOf::Mine | DueOf::Everyone => None,
        };
        let mut rows: Vec<&LeadRow> = self
            .leads
            .with_next_step()
            .filter(|lead| {
                let owner = lead.owner.as_deref();
                match whose {
                    DueOf::Mine => me.is_none() || owner.is_none() || owner == me,
                    DueOf::Everyone => true,
                    DueOf::Rep(_) => rep.is_some() && owner == rep,
                }
            })
            .collect();
        rows.sort_by_key(|lead| (lead.next_step.as_ref().map(|step| step.at), lead.id));
        rows
    }

    /// "mine + unowned", "everyone", "alice".
    pub fn due_whose_label(&self, whose: DueOf) -> String {
        match whose {
            DueOf::Mine => "mine + unowned".to_string(),
            DueOf::Everyone => "everyone".to_string(),
            DueOf::Rep(at) => self
                .team
                .reps
                .get(at)
                .map_or_else(|| "a rep".to_string(), |rep| rep.name.clone()),
        }
    }

    /// The rep's own follow-ups due later today and overdue (every one without reps).
    pub fn my_due_counts(&self) -> DueCounts {
        let me = self.team.me.as_ref().map(|me| me.name.as_str());
        let zone = self.zone();
        let tomorrow = self
            .now
            .with_timezone(&zone)
            .date_naive()
            .checked_add_days(Days::new(1))
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .and_then(|midnight| midnight.and_local_timezone(zone).earliest())
            .map_or(self.now, |midnight| midnight.with_timezone(&Utc));
        let mut counts = DueCounts::default();
        for lead in self.leads.with_next_step() {
            if me.is_some() && lead.owner.as_deref() != me {
                continue;
            }
            let Some(step) = &lead.next_step else {
                continue;
            };
            if step.at <= self.now {
                counts.overdue += 1;
            } else if step.at < tomorrow {
                counts.today += 1;
            }
        }
        counts
    }

    /// The lead `F` and `t` work on: the due view's row, else the selected lead.
    fn follow_up_target(&self) -> Option<&LeadRow> {
        match self.mode.pane() {
            Pane::Due { at, whose } => {
                let rows = self.due_rows(whose);
                rows.get(at.min(rows.len().saturating_sub(1))).copied()
            }
            Pane::List | Pane::Detail { .. } => self.selected_lead(),
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
                return Some(Effect::Attempt { id, attempt });
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
        let mut text = format!("attempt {}: {}", lead.attempts, outcome_text(outcome));
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
            DueAction::Help => {
                self.mode = Mode::Help {
                    under: self.mode.pane(),
                }
            }
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

    /// Tells the server this computer's zone once, when the rep's differs or is unset.
    pub(super) fn zone_wanted(&mut self) -> Option<Effect> {
        if self.follow_ups.zone_sent || !self.follow_ups.local_zone_known {
            return None;
        }
        let me = self.team.me.as_ref()?;
        self.follow_ups.zone_sent = true;
        let local = self.follow_ups.local_zone.name();
        (me.time_zone.as_deref() != Some(local)).then(|| Effect::SetTimeZone(local.to_string()))
    }

    pub(super) fn on_time_zone_set(&mut self, result: Result<Me, ClientError>) {
        match result {
            Ok(me) => self.team.me = Some(me),
            Err(err) => {
                tracing::warn!("could not set the rep's time zone: {err}");
                self.toast(
                    format!(
                        "Could not tell the server your time zone ({}): {err}",
                        self.follow_ups.local_zone.name()
                    ),
                    Level::Error,
                );
            }
        }
    }

    /// A (re)connection: what fell due meanwhile is told once the rep is known.
    pub(super) fn on_connected(&mut self, before: &Connection, push: bool) {
        let reconnected = match before {
            Connection::Connecting | Connection::Down { .. } => true,
            Connection::Online { push: had_push } => push && !had_push,
        };
        if reconnected {
            self.follow_ups.catch_up = true;
        }
    }

    pub(super) fn on_reminder(&mut self, reminder: &Reminder) -> Option<Effect> {
        if !self
            .follow_ups
            .reminded
            .insert((reminder.lead_id, reminder.at))
        {
            return None;
        }
        let owner = reminder.owner.as_deref();
        if !audience::tells(self.team.viewer(), Happening::Reminder { owner }) {
            return None;
        }
        let notice = Notice::reminder(reminder);
        self.toast_for(notice.line(), Level::Info, LONG_TOAST_TIME);
        Some(Effect::Notify(notice))
    }

    /// One toast and notification for the rep's steps that fell due while the dashboard was
    /// closed or cut off, once it is loaded and knows who the rep is.
    pub(super) fn catch_up_wanted(&mut self) -> Option<Effect> {
        let rep_known = self.team.me.is_some() || self.team.unsupported;
        if !self.follow_ups.catch_up || !self.loaded || !rep_known {
            return None;
        }
        self.follow_ups.catch_up = false;
        let viewer = self.team.viewer();
        let mut due: Vec<(DateTime<Utc>, i64, String)> = self
            .leads
            .with_next_step()
            .filter_map(|lead| {
                let at = lead.next_step.as_ref()?.at;
                let owner = lead.owner.as_deref();
                let told = self.follow_ups.reminded.contains(&(lead.id, at));
                (at <= self.now && !told && audience::tells(viewer, Happening::Reminder { owner }))
                    .then(|| (at, lead.id, lead.display_name()))
            })
            .collect();
        due.sort();
        self.follow_ups
            .reminded
            .extend(due.iter().map(|(at, id, _)| (*id, *at)));
        let names: Vec<String> = due.into_iter().map(|(_, _, name)| name).collect();
        let notice = Notice::due_while_away(&names)?;
        // Unlike a burst of new leads, the names are the point: "2 follow-ups due while you
        // were away: Jane Doe, John Roe".
        self.toast_for(
            format!("{}: {}", notice.summary, notice.body),
            Level::Info,
            LONG_TOAST_TIME,
        );
        Some(Effect::Notify(notice))
    }
}

/// The list key that sets `status`: "6" for Lost.
fn status_key(status: LeadStatus) -> usize {
    LeadStatus::ALL
        .iter()
        .position(|each| *each == status)
        .map_or(0, |at| at + 1)
}
