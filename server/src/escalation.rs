//! Escalation: a lead still `New Lead` after `LEADHOOK_ESCALATE_AFTER`, and again after 30
//! minutes, raises an `escalation` event on `/api/events`. The "escalated to level N" mark lives in
//! the store and is taken by a conditional update, so each lead is escalated once per threshold,
//! across restarts and replicas alike. A server announces the marks it takes at once, and the
//! marks another replica took at its next check, to its own dashboards, once each. Each check is
//! one read of the store (the leads due and the recent marks together).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use leadhook_shared::Lead;

use crate::announce_once::{ANNOUNCE_LIMIT, AnnouncedMarks, DueCheck};
use crate::clock::Clock;
use crate::config::QueueConfig;
use crate::feed::LiveFeed;
use crate::store::{EscalationMarks, EscalationQuery, StoreError};
use crate::writer::LeadWriter;

/// Most leads escalated per check; the rest follow at the next check.
const BATCH: u32 = 100;
/// Leads submitted longer ago than this are not escalated: a sweep that backfills a week of
/// missed leads should not ring every dashboard hundreds of times.
const HORIZON: TimeDelta = TimeDelta::days(1);

pub struct Escalator {
    marks: Arc<dyn EscalationMarks>,
    /// Takes the marks, so the store's health is recorded like any write's.
    leads: LeadWriter,
    feed: LiveFeed,
    clock: Arc<dyn Clock>,
    thresholds: Vec<Duration>,
    /// Marks already announced here, by (lead, level).
    announced: AnnouncedMarks<(i64, u8)>,
}

impl Escalator {
    pub fn new(
        marks: Arc<dyn EscalationMarks>,
        leads: LeadWriter,
        feed: LiveFeed,
        config: &QueueConfig,
    ) -> Escalator {
        Escalator {
            marks,
            leads,
            feed,
            announced: AnnouncedMarks::new(config.clock.now()),
            clock: Arc::clone(&config.clock),
            thresholds: config.escalation_thresholds(),
        }
    }
}

impl Escalator {
    /// Tells this server's dashboards of the mark (`lead`, `level`) taken at `taken_at`, unless
    /// they heard of it already.
    fn announce(&mut self, lead: &Lead, level: u8, taken_at: DateTime<Utc>, now: DateTime<Utc>) {
        let Some(threshold) = self.thresholds.get(usize::from(level).wrapping_sub(1)) else {
            return;
        };
        if self.announced.first_time((lead.id, level), taken_at) {
            self.feed.announce_escalation(lead, *threshold, now);
        }
    }
}

#[async_trait]
impl DueCheck for Escalator {
    const LOOKS_FOR: &'static str = "waiting leads";

    /// One read of the store: announces the marks other servers took recently, then takes (and
    /// announces) the marks of every lead that has crossed a threshold since it was last
    /// escalated. A lead past several thresholds (the server was down) is escalated for the
    /// longest one only; taking that mark takes the shorter ones with it.
    async fn check(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let query = EscalationQuery {
            created_after: now - HORIZON,
            due_before: self
                .thresholds
                .iter()
                .map(|threshold| now - TimeDelta::from_std(*threshold).unwrap_or(HORIZON))
                .collect(),
            due_limit: BATCH,
            marked_after: self.announced.window_start(now),
            marked_limit: ANNOUNCE_LIMIT,
        };
        let check = self.marks.escalation_check(&query).await?;
        for escalated in check.marked {
            self.announce(&escalated.lead, escalated.level, escalated.at, now);
        }
        // A mark taken here is announced now; the next check reads it back and skips it.
        for due in check.due {
            if self
                .leads
                .take_escalation(&due.lead, due.level, now)
                .await?
            {
                self.announce(&due.lead, due.level, now, now);
            }
        }
        Ok(())
    }
}
