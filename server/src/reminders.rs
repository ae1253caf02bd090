//! Reminders: when a lead's next step falls due, a `reminder` event goes out on `/api/events`,
//! once per step. The "reminded" mark lives in the store and is taken by a conditional update on
//! the step's time ([`crate::store::ReminderMarks`]), so across restarts and replicas one server
//! takes it, and a step moved, cleared or closed before its time is never announced. A server
//! announces the marks it takes at once, and the marks another replica took at its next check, to
//! its own dashboards, once each. Each check is one read of the store.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use leadhook_shared::{Lead, Reminder};

use crate::announce_once::{ANNOUNCE_LIMIT, AnnouncedMarks, DueCheck};
use crate::clock::Clock;
use crate::feed::LiveFeed;
use crate::store::{ReminderMarks, ReminderQuery, StoreError};
use crate::writer::LeadWriter;

/// Most reminders taken per check; the rest follow at the next check.
const BATCH: u32 = 100;
/// Steps that fell due longer ago than this (the server was down) are not announced: the
/// dashboard lists them as overdue, and a restart after a week away should not ring for each.
const HORIZON: TimeDelta = TimeDelta::days(1);

pub struct Reminders {
    marks: Arc<dyn ReminderMarks>,
    /// Takes the marks, so the store's health is recorded like any write's.
    leads: LeadWriter,
    feed: LiveFeed,
    clock: Arc<dyn Clock>,
    /// Reminders already announced here, by (lead, the step's time).
    announced: AnnouncedMarks<(i64, DateTime<Utc>)>,
}

impl Reminders {
    pub fn new(
        marks: Arc<dyn ReminderMarks>,
        leads: LeadWriter,
        feed: LiveFeed,
        clock: Arc<dyn Clock>,
    ) -> Reminders {
        Reminders {
            marks,
            leads,
            feed,
            announced: AnnouncedMarks::new(clock.now()),
            clock,
        }
    }
}

impl Reminders {
    /// Tells this server's dashboards of `lead`'s reminder, taken at `taken_at`, unless they
    /// heard of it already.
    fn announce(&mut self, lead: &Lead, taken_at: DateTime<Utc>) {
        let Some(reminder) = Reminder::of(lead) else {
            return;
        };
        if self
            .announced
            .first_time((reminder.lead_id, reminder.at), taken_at)
        {
            self.feed.announce_reminder(reminder);
        }
    }
}

#[async_trait]
impl DueCheck for Reminders {
    const LOOKS_FOR: &'static str = "due follow-ups";

    /// One read of the store: announces the reminders other servers took recently, then takes
    /// (and announces) the marks of the steps that fell due.
    async fn check(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let query = ReminderQuery {
            due_after: now - HORIZON,
            due_before: now,
            due_limit: BATCH,
            marked_after: self.announced.window_start(now),
            marked_limit: ANNOUNCE_LIMIT,
        };
        let check = self.marks.reminder_check(&query).await?;
        for reminded in check.marked {
            self.announce(&reminded.lead, reminded.at);
        }
        // A mark taken here is announced now; the next check reads it back and skips it.
        for lead in check.due {
            if let Some(step) = &lead.next_step
                && self.leads.take_reminder(&lead, step.at, now).await?
            {
                self.announce(&lead, now);
            }
        }
        Ok(())
    }
}
