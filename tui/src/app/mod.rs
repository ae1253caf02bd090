//! The dashboard's state and its update step.
//!
//! [`App::update`] turns one [`Msg`] (a key, a clock tick, a poll result, the answer to a
//! request) into a new state and at most one [`Effect`] for the runtime to carry out. Nothing
//! here touches the terminal, the network or the clock, so it is tested directly.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, Utc};
use leadhook_shared::{NewManualLead, SyncReport};

pub use self::details::{DETAIL_CACHE_LEADS, Detail, Details, SUBMISSIONS_WHOLE};
pub use self::follow_ups::{
    AttemptForm, DEFAULT_WHAT, DueCounts, DueOf, FollowUps, NextStepField, NextStepForm,
};
pub use self::insights::InsightsView;
pub use self::messages::{Effect, Msg};
pub use self::mode::{LeadForm, Mode, Pane};
pub use self::paging::PagingForm;
pub use self::people::PersonChange;
pub use self::team::{LeadActivity, WorkQueueView};
use crate::audience::{self, Happening};
use crate::client::{ChannelTrouble, MetaFeedback};
use crate::client_error::ClientError;
use crate::hyperlink::ScreenLink;
use crate::input::TextInput;
use crate::leads::{Key, LeadRow, Leads};
use crate::notify::Notice;
use crate::poller::PollEvent;
use crate::reach::Locality;

/// New leads arriving within this window share one notification.
pub const BATCH_WINDOW: Duration = Duration::milliseconds(500);
const TOAST_TIME: Duration = Duration::seconds(6);
pub(super) const LONG_TOAST_TIME: Duration = Duration::seconds(15);
/// More would cover the table; the oldest goes first.
const MAX_TOASTS: usize = 2;

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

/// The help's scroll position; drawing sets `max` from the lines that do not fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HelpScroll {
    pub at: u16,
    pub max: u16,
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
    before_save: HashMap<i64, (LeadRow, &'static str)>,
    /// The leads the detail pane showed last, whole.
    pub details: Details,
    pub team: WorkQueueView,
    pub toasts: Vec<Toast>,
    pub sync_started: Option<DateTime<Utc>>,
    pub viewport: Cell<Viewport>,
    /// How far the help is scrolled, and (kept by drawing) how far it can be.
    pub help_scroll: Cell<HelpScroll>,
    /// What the server last said about sending lead stages to Meta, when it does.
    pub meta_feedback: Option<MetaFeedback>,
    /// The server's channels that are retrying or have dead letters.
    pub troubled_channels: Vec<ChannelTrouble>,
    /// Next steps, reminders, the rep's zone and the follow-up figures.
    pub follow_ups: FollowUps,
    /// The person `M` marked, to merge with the next person `M` is pressed on.
    merge_mark: Option<i64>,
    /// The manager's insights of `I`.
    pub insights: InsightsView,
    /// Whether `o`, `w` and `e` may use the system's opener here.
    pub locality: Locality,
    /// Where the last frame drew linked text; drawing keeps it, the runtime writes the links.
    pub screen_links: RefCell<Vec<ScreenLink>>,
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
            details: Details::default(),
            team: WorkQueueView::default(),
            toasts: Vec::new(),
            sync_started: None,
            viewport: Cell::new(Viewport {
                offset: 0,
                height: 10,
            }),
            help_scroll: Cell::default(),
            meta_feedback: None,
            troubled_channels: Vec::new(),
            follow_ups: FollowUps::default(),
            merge_mark: None,
            insights: InsightsView::default(),
            locality: Locality::Local,
            screen_links: RefCell::default(),
        }
    }

    /// One step. When the message itself wants nothing done, the dashboard may still need the
    /// open lead whole, the rep, the reps or the open lead's history; the clock ticks often
    /// enough to ask in turn.
    pub fn update(&mut self, msg: Msg) -> Option<Effect> {
        self.step(msg)
            .or_else(|| self.detail_wanted())
            .or_else(|| self.team_wanted())
            .or_else(|| self.activity_wanted())
            .or_else(|| self.zone_wanted())
            .or_else(|| self.catch_up_wanted())
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
            Msg::Detail { id, result } => {
                self.on_detail(id, result);
                None
            }
            Msg::Saved { id, result } => {
                self.on_saved(id, result);
                None
            }
            Msg::Created(result) => {
                self.on_created(result);
                None
            }
            Msg::Synced(result) => self.on_synced(result),
            Msg::OutboundFeedback(result) => {
                // A failed ask keeps the last answer; the connection line tells of the outage.
                if let Ok(feedback) = result {
                    self.meta_feedback = feedback.meta.filter(|feedback| feedback.enabled);
                    self.troubled_channels = feedback.troubled;
                }
                None
            }
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
            Msg::PagingSaved(result) => {
                self.on_paging_saved(result);
                None
            }
            Msg::Reps(result) => {
                self.on_reps(result);
                None
            }
            Msg::Activity { id, result } => {
                self.on_activity(id, result);
                None
            }
            Msg::Deliveries { id, result } => {
                self.on_deliveries(id, result);
                None
            }
            Msg::Conversation { id, result } => {
                self.on_conversation(id, result);
                None
            }
            Msg::TimeZoneSet(result) => {
                self.on_time_zone_set(result);
                None
            }
            Msg::Attempted {
                id,
                outcome,
                result,
            } => {
                self.on_attempted(id, outcome, result);
                None
            }
            Msg::Stats(result) => {
                // A failed ask keeps the last figures, as with the Conversions API state.
                self.follow_ups.stats = result.ok().or(self.follow_ups.stats.take());
                None
            }
            Msg::Person { id, change, result } => {
                self.on_person(id, change, result);
                None
            }
            Msg::Insights { params, result } => {
                self.on_insights(params, result);
                None
            }
            Msg::Opened {
                channel,
                url,
                result,
            } => {
                self.on_opened(channel, &url, result);
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

    pub fn selected_lead(&self) -> Option<&LeadRow> {
        self.leads.visible_lead(self.selected_index()?)
    }

    /// A lead that arrived while the dashboard was open and has not been selected yet.
    pub fn is_unseen(&self, id: i64) -> bool {
        self.unseen.contains(&id)
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

    fn on_poll(&mut self, event: PollEvent<LeadRow>) -> Option<Effect> {
        match event {
            PollEvent::Leads { leads, first_load } => {
                for row in &leads {
                    self.details.changed(row.id, row.updated_at);
                }
                let assigned = self.assigned_to_me(&leads);
                // Detected by id: a known id coming back is an update, never a new lead.
                let mut new_ids = self.leads.merge(leads);
                if !first_load {
                    // Junk is news to nobody; the user's own new lead neither.
                    let (leads, own) = (&self.leads, self.creating.as_ref());
                    new_ids.retain(|id| {
                        leads.get(*id).is_some_and(|lead| {
                            lead.junk().is_none()
                                && !own.is_some_and(|own| changes::is_own(lead, own))
                        })
                    });
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
                let before = std::mem::replace(&mut self.connection, Connection::Online { push });
                self.on_connected(&before, push);
                self.last_ok = Some(at);
                self.loaded = true;
                None
            }
            PollEvent::Failed { error, retry_at } => {
                self.connection = Connection::Down { error, retry_at };
                None
            }
            PollEvent::Escalation(escalation) => self.on_escalation(&escalation),
            PollEvent::Reminder(reminder) => self.on_reminder(&reminder),
            PollEvent::Reply(reply) => self.on_reply(&reply),
            PollEvent::Hidden(id) => {
                if self.leads.remove(id) {
                    self.settle_selection();
                }
                None
            }
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
        let leads: Vec<&LeadRow> = ids
            .iter()
            .rev()
            .filter_map(|id| self.leads.get(*id))
            .filter(|lead| {
                let owner = lead.owner.as_deref();
                audience::tells(viewer, Happening::NewLead { owner, by: None })
            })
            .collect();
        let notice = match leads[..] {
            [lead] if lead.repeat_of.is_some() => Notice::submitted_again(lead),
            _ => Notice::new_leads(&leads)?,
        };
        self.toast(notice.line(), Level::Info);
        Some(Effect::Notify(notice))
    }

    /// Opens the help over the current pane, scrolled to its top.
    fn open_help(&mut self) {
        self.help_scroll.set(HelpScroll::default());
        self.mode = Mode::Help {
            under: self.mode.pane(),
        };
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

/// "1 lead", "2 leads".
pub fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

mod changes;
mod details;
#[cfg(test)]
mod due_tests;
mod follow_up_keys;
#[cfg(test)]
mod follow_up_tests;
mod follow_ups;
mod insights;
#[cfg(test)]
mod insights_tests;
mod messages;
mod mode;
#[cfg(test)]
mod notify_tests;
mod on_key;
mod paging;
mod people;
#[cfg(test)]
mod people_tests;
mod reach;
mod replies;
mod selection;
mod team;
#[cfg(test)]
mod team_tests;
#[cfg(test)]
mod tests;
