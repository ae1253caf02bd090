//! The work queue's figures, kept current lead by lead as changes merge, so the header reads them
//! without scanning every lead: who is waiting, today's speed to lead, open leads per owner.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use leadhook_shared::LeadStatus;
use leadhook_shared::team::median;

use crate::leads::LeadRow;

#[derive(Debug, Default)]
pub struct TeamStats {
    /// Leads still `New Lead`, by creation time.
    waiting: BTreeSet<(DateTime<Utc>, i64)>,
    /// (first contact, id) → speed to lead, by first contact.
    contacts: BTreeSet<(DateTime<Utc>, i64, Duration)>,
    /// Open leads (not won, lost or unqualified) per owner.
    open_owned: HashMap<Arc<str>, usize>,
}

fn is_open(status: LeadStatus) -> bool {
    !matches!(
        status,
        LeadStatus::Won | LeadStatus::Lost | LeadStatus::Unqualified
    )
}

impl TeamStats {
    pub fn add(&mut self, lead: &LeadRow) {
        if lead.status == LeadStatus::NewLead {
            self.waiting.insert((lead.created_at, lead.id));
        }
        if let (Some(at), Some(speed)) = (lead.first_contact_at, lead.speed_to_lead()) {
            self.contacts.insert((at, lead.id, speed));
        }
        if let Some(owner) = lead.owner.as_ref().filter(|_| is_open(lead.status)) {
            *self.open_owned.entry(Arc::clone(owner)).or_default() += 1;
        }
    }

    pub fn remove(&mut self, lead: &LeadRow) {
        self.waiting.remove(&(lead.created_at, lead.id));
        if let (Some(at), Some(speed)) = (lead.first_contact_at, lead.speed_to_lead()) {
            self.contacts.remove(&(at, lead.id, speed));
        }
        if let Some(owner) = lead.owner.as_ref().filter(|_| is_open(lead.status))
            && let Some(count) = self.open_owned.get_mut(&**owner)
        {
            *count = count.saturating_sub(1);
        }
    }

    /// How many leads are still `New Lead`, and when the oldest of them was created.
    pub fn waiting(&self) -> (usize, Option<DateTime<Utc>>) {
        (
            self.waiting.len(),
            self.waiting.first().map(|(created_at, _)| *created_at),
        )
    }

    /// The median speed to lead of the leads first contacted at or after `since`, as
    /// `/api/stats` computes it ([`median`]).
    pub fn median_speed_since(&self, since: DateTime<Utc>) -> Option<Duration> {
        let mut speeds: Vec<Duration> = self
            .contacts
            .range((since, i64::MIN, Duration::MIN)..)
            .map(|(_, _, speed)| *speed)
            .collect();
        speeds.sort_unstable();
        median(&speeds)
    }

    pub fn open_owned_by(&self, owner: &str) -> usize {
        self.open_owned.get(owner).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{now, row as lead};

    fn contacted(id: i64, minutes_ago: i64, after_minutes: i64, owner: &str) -> LeadRow {
        let mut lead = lead(id, "x", minutes_ago);
        lead.status = LeadStatus::Contacted;
        lead.owner = Some(owner.into());
        lead.first_contact_at = Some(lead.created_at + Duration::minutes(after_minutes));
        lead
    }

    #[test]
    fn figures_follow_adds_and_removes() {
        let mut stats = TeamStats::default();
        let waiting = lead(1, "Waiting", 40);
        stats.add(&waiting);
        stats.add(&lead(2, "Newer", 3));
        for lead in [
            contacted(3, 60, 2, "alice"),
            contacted(4, 60, 8, "alice"),
            contacted(5, 60 * 30, 1, "bob"),
        ] {
            stats.add(&lead);
        }
        assert_eq!(stats.waiting(), (2, Some(now() - Duration::minutes(40))));
        let today = now() - Duration::hours(15);
        // Reached after 2 and 8 minutes: nearest rank, as `/api/stats` says.
        assert_eq!(stats.median_speed_since(today), Some(Duration::minutes(2)));
        assert_eq!(stats.open_owned_by("alice"), 2);

        stats.remove(&waiting);
        let mut won = contacted(4, 60, 8, "alice");
        stats.remove(&won);
        won.status = LeadStatus::Won;
        stats.add(&won);
        assert_eq!(stats.waiting(), (1, Some(now() - Duration::minutes(3))));
        assert_eq!(stats.open_owned_by("alice"), 1);
        assert_eq!(stats.median_speed_since(today), Some(Duration::minutes(2)));
        assert_eq!(stats.median_speed_since(now()), None);
    }

    /// The same lead coming back (a pushed change, then the save's answer) used to be added
    /// before its old copy was removed, which took it out of the figures again.
    #[test]
    fn leads_seen_again_stay_counted_once() {
        let mut leads = crate::leads::Leads::default();
        let contacted = contacted(1, 60, 3, "alice");
        let waiting = lead(2, "Waiting", 10);
        for _ in 0..2 {
            leads.upsert(contacted.clone());
            leads.upsert(waiting.clone());
        }
        let page: Vec<LeadRow> = (0..40).map(|_| contacted.clone()).collect();
        leads.merge(page);
        let team = leads.team();
        assert_eq!(team.waiting(), (1, Some(now() - Duration::minutes(10))));
        let today = now() - Duration::hours(15);
        assert_eq!(team.median_speed_since(today), Some(Duration::minutes(3)));
        assert_eq!(team.open_owned_by("alice"), 1);
    }
}
