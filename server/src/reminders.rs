//! Reminders: when a lead's next step falls due, a `reminder` event goes out on `/api/events`,
//! once per step. The "reminded" mark lives in the store and is taken by a conditional update on
//! the step's time ([`crate::store::ReminderMarks`]), so across restarts and replicas one server
//! takes it, and a step moved, cleared or closed before its time is never announced. Every server
//! then announces the marks taken recently, by itself or another replica, to its own dashboards,
//! once each.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use leadhook_shared::Reminder;

use crate::announce_once::{ANNOUNCE_LIMIT, AnnouncedMarks, DueCheck};
use crate::clock::Clock;
use crate::feed::LiveFeed;
use crate::store::{ReminderMarks, StoreError};
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

#[async_trait]
impl DueCheck for Reminders {
    const LOOKS_FOR: &'static str = "due follow-ups";

    /// Takes the marks of the steps that fell due, then announces the marks taken recently by
    /// any server.
    async fn check(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let due = self
            .marks
            .due_for_reminder(now - HORIZON, now, BATCH)
            .await?;
        for lead in &due {
            if let Some(step) = &lead.next_step {
                self.leads.take_reminder(lead, step.at, now).await?;
            }
        }
        let since = self.announced.window_start(now);
        for reminded in self.marks.reminded_since(since, ANNOUNCE_LIMIT).await? {
            let Some(reminder) = Reminder::of(&reminded.lead) else {
                continue;
            };
            if self
                .announced
                .first_time((reminder.lead_id, reminder.at), reminded.at)
            {
                self.feed.announce_reminder(reminder);
            }
        }
        Ok(())
    }
}
