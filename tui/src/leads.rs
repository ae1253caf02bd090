//! Every loaded lead, kept sorted newest first, plus the filtered rows the table shows.
//!
//! Built to stay fast with 100,000 leads: a change is merged with a binary-search insert rather
//! than a re-sort, narrowing a search only scans the rows already shown, and the header's
//! "today" / "7 days" / per-hour counts are binary searches over the sorted order.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use leadhook_shared::{Lead, LeadStatus};

/// Where a lead sits in the newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub created_at: DateTime<Utc>,
    pub id: i64,
}

impl Key {
    fn of(lead: &Lead) -> Key {
        Key {
            created_at: lead.created_at,
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

/// Which leads the table shows: a status and a live search over name, phone and email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub status: Option<LeadStatus>,
    pub query: String,
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
            needle,
            digits,
        }
    }

    /// True when every lead this filter shows is also shown by `wider`.
    fn narrows(&self, wider: &Filter) -> bool {
        (wider.status.is_none() || wider.status == self.status)
            && self
                .query
                .trim()
                .to_lowercase()
                .contains(&wider.query.trim().to_lowercase())
    }

    pub fn is_active(&self) -> bool {
        self.status.is_some() || !self.query.trim().is_empty()
    }
}

struct Matcher {
    status: Option<LeadStatus>,
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
            .phone
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let haystack = [&lead.name, &lead.phone, &lead.email]
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

#[derive(Default)]
pub struct Leads {
    entries: HashMap<i64, Entry>,
    /// Every lead, newest first.
    order: Vec<Key>,
    by_status: HashMap<LeadStatus, usize>,
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
        let old = self.entries.insert(key.id, entry);
        if let Some(old) = &old {
            let old_key = Key::of(&old.lead);
            remove_sorted(&mut self.order, old_key);
            remove_sorted(&mut self.visible, old_key);
            if let Some(count) = self.by_status.get_mut(&old.lead.status) {
                *count = count.saturating_sub(1);
            }
        }
        insert_sorted(&mut self.order, key);
        if matches {
            insert_sorted(&mut self.visible, key);
        }
        *self.by_status.entry(status).or_default() += 1;
        old.is_none()
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
        });
        assert_eq!(ids(&leads), [1, 3]);
        leads.upsert(test_lead(4, "Jan Smith", 1));
        leads.upsert(test_lead(5, "Bo", 2));
        assert_eq!(ids(&leads), [4, 1, 3]);

        leads.set_filter(Filter {
            status: Some(LeadStatus::Contacted),
            query: "jan".into(),
        });
        assert!(ids(&leads).is_empty());
    }

    #[test]
    fn phone_search_ignores_formatting() {
        let mut leads = Leads::default();
        let mut lead = test_lead(1, "Ann", 1);
        lead.phone = Some("+1 (555) 123-4567".into());
        leads.upsert(lead);
        leads.upsert(test_lead(2, "Bob", 2));
        for query in ["5551234", "555 123", "(555) 123-45"] {
            leads.set_filter(Filter {
                status: None,
                query: query.into(),
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
    fn hundred_thousand_leads_merge_and_search_quickly() {
        let mut leads = Leads::default();
        for id in 0..100_000 {
            leads.upsert(test_lead(id, &format!("Person {id}"), id % 50_000));
        }
        let started = std::time::Instant::now();
        leads.upsert(test_lead(200_000, "Newest", 0));
        leads.set_filter(Filter {
            status: None,
            query: "person 9999".into(),
        });
        assert_eq!(leads.visible().len(), 11);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
