//! Escalation: a lead still `New Lead` after `LEADHOOK_ESCALATE_AFTER`, and again after 30
//! minutes, raises an `escalation` event on `/api/events`. The "escalated to level N" mark lives in
//! the store and is taken by a conditional update, so each lead is escalated once per threshold,
//! across restarts and replicas alike. Every server then announces the marks taken recently, by
//! itself or another replica, to its own dashboards, once each.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;

use crate::announce_once::{ANNOUNCE_LIMIT, AnnouncedMarks, DueCheck};
use crate::clock::Clock;
use crate::config::QueueConfig;
use crate::feed::LiveFeed;
use crate::store::{EscalationMarks, StoreError};
use crate::writer::LeadWriter;

/// Most leads escalated per threshold per check; the rest follow at the next check.
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

#[async_trait]
impl DueCheck for Escalator {
    const LOOKS_FOR: &'static str = "waiting leads";

    /// Takes the marks of every lead that has crossed a threshold since it was last escalated,
    /// then announces the marks taken recently by any server. A lead past several thresholds (the
    /// server was down) is escalated for the longest one only: longest first, and taking that mark
    /// takes the shorter ones with it.
    async fn check(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        for (index, threshold) in self.thresholds.iter().enumerate().rev() {
            let level = u8::try_from(index + 1).unwrap_or(u8::MAX);
            let Ok(age) = TimeDelta::from_std(*threshold) else {
                continue;
            };
            let due = self
                .marks
                .due_for_escalation(now - HORIZON, now - age, level, BATCH)
                .await?;
            for lead in &due {
                self.leads.take_escalation(lead, level, now).await?;
            }
        }
        let since = self.announced.window_start(now);
        let recent = self.marks.escalated_since(since, ANNOUNCE_LIMIT).await?;
        for escalated in recent {
            let Some(threshold) = self
                .thresholds
                .get(usize::from(escalated.level).wrapping_sub(1))
            else {
                continue;
            };
            let key = (escalated.lead.id, escalated.level);
            if self.announced.first_time(key, escalated.at) {
                self.feed
                    .announce_escalation(&escalated.lead, *threshold, now);
            }
        }
        Ok(())
    }
}
