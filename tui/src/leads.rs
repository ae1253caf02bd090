//! Every loaded lead, kept sorted newest first, plus the filtered rows the table shows.
//!
//! Built to stay fast with 100,000 leads: a change is merged with a binary-search insert rather
//! than a re-sort, narrowing a search only scans the rows already shown, and the header's
//! "today" / "7 days" / per-hour counts are binary searches over the sorted order.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use leadhook_shared::{Lead, LeadStatus};

use crate::team_stats::TeamStats;

/// Where a lead sits in the newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub created_at: DateTime<Utc>,
    pub id: i64,
}

impl Key {
    fn of(lead: &Lead) -> Key {
        Key {
            created_at: lead.meta.created_at,
            id: lead.id,
        }
    }
}

impl Ord for Key {
    /// Newest first; the higher id first between leads created at the same instant.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .created_at
            .cmp(&self.created_at)
            .then(other.id.cmp(&self.id))
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Which leads the table shows: a status, a live search over name, phone and email, and `m`'s
/// "mine + unowned" for the rep named in `mine`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<LeadStatus>,
    pub query: String,
    pub mine: Option<String>,
}

impl Filter {
    fn matcher(&self) -> Matcher {
        let needle = self.query.trim().to_lowercase();
        let phone_like = !needle.is_empty()
            && needle
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let digits = if phone_like {
            needle.chars().filter(char::is_ascii_digit).collect()
        } else {
            String::new()
        };
        Matcher {
            status: self.status,
            mine: self.mine.clone(),
            needle,
            digits,
        }
    }

    /// True when every lead this filter shows is also shown by `wider`.
    fn narrows(&self, wider: &Filter) -> bool {
        (wider.status.is_none() || wider.status == self.status)
            && (wider.mine.is_none() || wider.mine == self.mine)
            && self
                .query
                .trim()
                .to_lowercase()
                .contains(&wider.query.trim().to_lowercase())
    }

    /// A search or status filter is on (`Esc` clears them; "mine" stays until `m`).
    pub fn is_active(&self) -> bool {
        self.status.is_some() || !self.query.trim().is_empty()
    }
}

struct Matcher {
    status: Option<LeadStatus>,
    mine: Option<String>,
    needle: String,
    /// The needle's digits when it looks like a phone number ("555 12-34"), else empty.
    digits: String,
}

impl Matcher {
    fn matches(&self, entry: &Entry) -> bool {
        if self
            .status
            .is_some_and(|status| status != entry.lead.status)
        {
            return false;
        }
        if let Some(mine) = &self.mine
            && entry.lead.owner.as_ref().is_some_and(|owner| owner != mine)
        {
            return false;
        }
        self.needle.is_empty()
            || entry.haystack.contains(&self.needle)
            || (!self.digits.is_empty() && entry.phone_digits.contains(&self.digits))
    }
}

struct Entry {
    lead: Lead,
    /// Lowercased name, phone and email, so a search never allocates per lead.
    haystack: String,
    phone_digits: String,
}

impl Entry {
    fn new(lead: Lead) -> Entry {
        let phone_digits = lead
            .meta
            .phone
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let haystack = [&lead.meta.name, &lead.meta.phone, &lead.meta.email]
            .into_iter()
            .flatten()
            .map(|text| text.to_lowercase())
            .collect::<Vec<_>>()
            .join("\n");
        Entry {
            lead,
            haystack,
            phone_digits,
        }
    }
}

/// Up to this many changes are inserted one by one; more are appended and sorted.
const SMALL_BATCH: usize = 32;

#[derive(Default)]
pub struct Leads {
    entries: HashMap<i64, Entry>,
    /// Every lead, newest first.
    order: Vec<Key>,
    by_status: HashMap<LeadStatus, usize>,
    team: TeamStats,
    filter: Filter,
    /// The leads matching `filter`, newest first.
    visible: Vec<Key>,
}

impl Leads {
    /// Adds a lead, or replaces the one with the same id. Returns true if the id is new.
    pub fn upsert(&mut self, lead: Lead) -> bool {
        let key = Key::of(&lead);
        let status = lead.status;
        let entry = Entry::new(lead);
        let matches = self.filter.matcher().matches(&entry);
        // The old copy leaves the figures before the new one joins: both may count the same.
        let old = self.entries.remove(&key.id);
        if let Some(old) = &old {
            self.team.remove(&old.lead);
            let old_key = Key::of(&old.lead);
            remove_sorted(&mut self.order, old_key);
            remove_sorted(&mut self.visible, old_key);
            if let Some(count) = self.by_status.get_mut(&old.lead.status) {
                *count = count.saturating_sub(1);
            }
        }
        self.team.add(&entry.lead);
        self.entries.insert(key.id, entry);
        insert_sorted(&mut self.order, key);
        if matches {
            insert_sorted(&mut self.visible, key);
        }
        *self.by_status.entry(status).or_default() += 1;
        old.is_none()
    }

    /// Merges a page of leads; returns the ids that were not known before, in page order.
    ///
    /// A big page (the first load) is appended and the order re-sorted once, instead of one
    /// insert per lead: the first load comes oldest first, so each insert would land at the
    /// front of the newest-first order and move everything behind it.
    pub fn merge(&mut self, leads: Vec<Lead>) -> Vec<i64> {
        if leads.len() <= SMALL_BATCH {
            return leads
                .into_iter()
                .filter_map(|lead| {
                    let id = lead.id;
                    self.upsert(lead).then_some(id)
                })
                .collect();
        }
        let mut new_ids = Vec::new();
        let mut replaced = HashMap::new();
        let mut touched = Vec::with_capacity(leads.len());
        for lead in leads {
            let id = lead.id;
            *self.by_status.entry(lead.status).or_default() += 1;
            let old = self.entries.remove(&id);
            if let Some(old) = &old {
                self.team.remove(&old.lead);
            }
            self.team.add(&lead);
            self.entries.insert(id, Entry::new(lead));
            match old {
                Some(old) => {
                    if let Some(count) = self.by_status.get_mut(&old.lead.status) {
                        *count = count.saturating_sub(1);
                    }
                    replaced.entry(id).or_insert_with(|| Key::of(&old.lead));
                }
                None => new_ids.push(id),
            }
            touched.push(id);
        }
        let matcher = self.filter.matcher();
        let mut in_order = Vec::with_capacity(touched.len());
        let mut in_view = Vec::new();
        for entry in touched.iter().filter_map(|id| self.entries.get(id)) {
            let key = Key::of(&entry.lead);
            in_order.push(key);
            if matcher.matches(entry) {
                in_view.push(key);
            }
        }
        if !replaced.is_empty() {
            let gone: HashSet<Key> = replaced.into_values().collect();
            self.order.retain(|key| !gone.contains(key));
            self.visible.retain(|key| !gone.contains(key));
        }
        for (keys, added) in [(&mut self.order, in_order), (&mut self.visible, in_view)] {
            keys.extend(added);
            // Stable sort: merging one long sorted run with a short one is linear.
            keys.sort();
            keys.dedup();
        }
        new_ids
    }

    pub fn get(&self, id: i64) -> Option<&Lead> {
        self.entries.get(&id).map(|entry| &entry.lead)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn count_with_status(&self, status: LeadStatus) -> usize {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// How many leads were created at or after `since`.
    pub fn created_since(&self, since: DateTime<Utc>) -> usize {
        self.order.partition_point(|key| key.created_at >= since)
    }

    /// Who waits, today's speed to lead and each owner's open leads.
    pub fn team(&self) -> &TeamStats {
        &self.team
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Changes the filter. A narrower search only rescans the rows already visible.
    pub fn set_filter(&mut self, filter: Filter) {
        if filter == self.filter {
            return;
        }
        let matcher = filter.matcher();
        let source = if filter.narrows(&self.filter) {
            &self.visible
        } else {
            &self.order
        };
        let visible = source
            .iter()
            .filter(|key| {
                self.entries
                    .get(&key.id)
                    .is_some_and(|entry| matcher.matches(entry))
            })
            .copied()
            .collect();
        self.visible = visible;
        self.filter = filter;
    }

    /// The leads the table shows, newest first.
    pub fn visible(&self) -> &[Key] {
        &self.visible
    }

    pub fn visible_lead(&self, index: usize) -> Option<&Lead> {
        self.visible.get(index).and_then(|key| self.get(key.id))
    }

    /// The row of `key`, or where it would be.
    pub fn position(&self, key: Key) -> Result<usize, usize> {
        self.visible.binary_search(&key)
    }
}

fn insert_sorted(keys: &mut Vec<Key>, key: Key) {
    if let Err(at) = keys.binary_search(&key) {
        keys.insert(at, key);
    }
}

fn remove_sorted(keys: &mut Vec<Key>, key: Key) {
    if let Ok(at) = keys.binary_search(&key) {
        keys.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{lead as test_lead, now as fixed_now};

    fn ids(leads: &Leads) -> Vec<i64> {
        leads.visible().iter().map(|key| key.id).collect()
    }

    #[test]
    fn keeps_newest_first_and_replaces_by_id() {
        let mut leads = Leads::default();
        assert!(leads.upsert(test_lead(1, "Ann", 30)));
        assert!(leads.upsert(test_lead(2, "Bob", 10)));
        assert!(leads.upsert(test_lead(3, "Cy", 20)));
        assert_eq!(ids(&leads), [2, 3, 1]);

        let mut contacted = test_lead(3, "Cy", 20);
        contacted.status = LeadStatus::Contacted;
        assert!(!leads.upsert(contacted));
        assert_eq!(leads.len(), 3);
        assert_eq!(leads.count_with_status(LeadStatus::NewLead), 2);
        assert_eq!(leads.count_with_status(LeadStatus::Contacted), 1);
    }

    #[test]
    fn filter_by_status_and_search_then_merge_keeps_it_applied() {
        let mut leads = Leads::default();
        for (id, name) in [(1, "Jane Doe"), (2, "John Roe"), (3, "Janet Poe")] {
            leads.upsert(test_lead(id, name, id * 10));
        }
        leads.set_filter(Filter {
            status: None,
            query: "jan".into(),
            ..Filter::default()
        });
        assert_eq!(ids(&leads), [1, 3]);
        leads.upsert(test_lead(4, "Jan Smith", 1));
        leads.upsert(test_lead(5, "Bo", 2));
        assert_eq!(ids(&leads), [4, 1, 3]);

        leads.set_filter(Filter {
            status: Some(LeadStatus::Contacted),
            query: "jan".into(),
            ..Filter::default()
        });
        assert!(ids(&leads).is_empty());
    }

    #[test]
    fn phone_search_ignores_formatting() {
        let mut leads = Leads::default();
        let mut lead = test_lead(1, "Ann", 1);
        lead.meta.phone = Some("+1 (555) 123-4567".into());
        leads.upsert(lead);
        leads.upsert(test_lead(2, "Bob", 2));
        for query in ["5551234", "555 123", "(555) 123-45"] {
            leads.set_filter(Filter {
                status: None,
                query: query.into(),
                ..Filter::default()
            });
            assert_eq!(ids(&leads), [1], "{query}");
        }
    }

    #[test]
    fn narrowing_a_search_gives_the_same_rows_as_a_full_scan() {
        let names = ["Jane", "Janet", "Jan", "Bob", "janine", "Ajax"];
        let mut narrowed = Leads::default();
        for (id, name) in names.iter().enumerate() {
            narrowed.upsert(test_lead(id as i64, name, id as i64));
        }
        for query in ["j", "ja", "jan", "jane", "janet"] {
            narrowed.set_filter(Filter {
                status: None,
                query: query.into(),
                ..Filter::default()
            });
            let mut fresh = Leads::default();
            for (id, name) in names.iter().enumerate() {
                fresh.upsert(test_lead(id as i64, name, id as i64));
            }
            fresh.set_filter(narrowed.filter().clone());
            assert_eq!(ids(&narrowed), ids(&fresh), "{query}");
        }
    }

    #[test]
    fn counts_by_creation_time() {
        let mut leads = Leads::default();
        for minutes in [5, 90, 60 * 30] {
            leads.upsert(test_lead(minutes, "x", minutes));
        }
        let now = fixed_now();
        assert_eq!(leads.created_since(now - chrono::Duration::hours(1)), 1);
        assert_eq!(leads.created_since(now - chrono::Duration::days(1)), 2);
        assert_eq!(leads.created_since(now - chrono::Duration::days(7)), 3);
    }

    #[test]
    fn a_big_page_merges_like_one_by_one_upserts() {
        let page = |ids: std::ops::Range<i64>| {
            ids.map(|id| {
                let mut lead = test_lead(id, &format!("Person {id}"), (id * 7) % 500);
                if id % 3 == 0 {
                    lead.status = LeadStatus::Won;
                }
                lead
            })
            .collect::<Vec<_>>()
        };
        let filter = Filter {
            status: Some(LeadStatus::Won),
            query: "person 1".into(),
            ..Filter::default()
        };
        let mut bulk = Leads::default();
        bulk.set_filter(filter.clone());
        let mut single = Leads::default();
        single.set_filter(filter);
        // Overlapping pages: ids 50..100 come back, some with another status.
        let mut second = page(50..200);
        for lead in &mut second[..20] {
            lead.status = LeadStatus::Lost;
        }
        for batch in [page(0..100), second] {
            let new_in_bulk = bulk.merge(batch.clone());
            let new_one_by_one: Vec<i64> = batch
                .into_iter()
                .filter_map(|lead| {
                    let id = lead.id;
                    single.upsert(lead).then_some(id)
                })
                .collect();
            assert_eq!(new_in_bulk, new_one_by_one);
        }
        assert_eq!(bulk.order, single.order);
        assert_eq!(ids(&bulk), ids(&single));
        for status in LeadStatus::ALL {
            assert_eq!(
                bulk.count_with_status(status),
                single.count_with_status(status)
            );
        }
    }

    #[test]
    fn hundred_thousand_leads_load_and_search_quickly() {
        let started = std::time::Instant::now();
        let mut leads = Leads::default();
        // The first load: pages of 1000, oldest first, each lead newer than all before it.
        for page in 0..100 {
            let batch = (page * 1000..(page + 1) * 1000)
                .map(|id| test_lead(id, &format!("Person {id}"), 200_000 - id))
                .collect();
            leads.merge(batch);
        }
        assert_eq!(leads.len(), 100_000);
        assert_eq!(leads.visible()[0].id, 99_999);
        leads.upsert(test_lead(200_000, "Newest", 0));
        leads.set_filter(Filter {
            status: None,
            query: "person 9999".into(),
            ..Filter::default()
        });
        assert_eq!(leads.visible().len(), 11);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
    }
}
