//! Follow-ups: the forms of a lead's next step (`F`) and of a call attempt (`t`), the due view's
//! rows (`D`) and the header's counts, reminders and the catch-up on what fell due while the
//! dashboard was closed, and the rep's time zone, which every typed and shown due time is read
//! in. Their keys are in [`super::follow_up_keys`].

use std::collections::HashSet;

use chrono::{DateTime, Days, Utc};
use leadhook_shared::{
    CallOutcome, Me, NextStep, QuickChoice, Reminder, Stats, Tz, parse_due, parse_zone,
    quick_choices,
};

use super::{App, Connection, Effect, LONG_TOAST_TIME, Level, Pane};
use crate::audience::{self, Happening};
use crate::client_error::ClientError;
use crate::input::TextInput;
use crate::leads::LeadRow;
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
    pub(super) const ALL: [NextStepField; 3] = [
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
            what: TextInput::suggesting(what),
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

    pub(super) fn move_focus(&mut self, by: usize) {
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
    /// This computer's IANA zone; `found` when it was read, not the UTC fallback.
    pub fn with_local_zone(mut self, zone: Tz, found: bool) -> App {
        self.follow_ups.local_zone = zone;
        self.follow_ups.local_zone_known = found;
        self
    }

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
            if step.is_due(self.now) {
                counts.overdue += 1;
            } else if step.at < tomorrow {
                counts.today += 1;
            }
        }
        counts
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
            Ok(me) => self.take_me(me),
            // A server from before time zones knows only `available`: times stay in this
            // computer's zone, and nothing is wrong on the rep's side.
            Err(ClientError::Rejected { code, message }) if code == "validation_failed" => {
                tracing::warn!(
                    "the server keeps no time zones ({message}); update leadhook-server so \
                     follow-up times follow the rep"
                );
            }
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
