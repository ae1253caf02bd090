//! Every loaded lead, kept sorted newest first, plus the filtered rows the table shows.
//!
//! Built to stay fast with 100,000 leads: a change is merged with a binary-search insert rather
//! than a re-sort, narrowing a search only scans the rows already shown, and the header's
//! "today" / "7 days" / per-hour counts are binary searches over the sorted order. And small:
//! each lead is a [`LeadRow`] (no form answers), its form name and owner shared with every other
//! lead that names them.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use leadhook_shared::LeadStatus;
use rustc_hash::{FxHashMap, FxHashSet};

use self::row::Interner;
pub use self::row::LeadRow;
use crate::team_stats::TeamStats;

mod row;

/// Where a lead sits in the newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub created_at: DateTime<Utc>,
    pub id: i64,
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
        if self.status.is_some_and(|status| status != entry.row.status) {
            return false;
        }
        if let Some(mine) = &self.mine
            && entry
                .row
                .owner
                .as_deref()
                .is_some_and(|owner| owner != mine)
        {
            return false;
        }
        self.needle.is_empty()
            || entry.haystack.contains(&self.needle)
            || (!self.digits.is_empty() && entry.phone_digits.contains(&self.digits))
    }
}

struct Entry {
    row: LeadRow,
    /// Lowercased name, phone and email, so a search never allocates per lead.
    haystack: Box<str>,
    phone_digits: Box<str>,
}

impl Entry {
    /// The first load builds 100,000 of these, so each string is sized before it is filled.
    fn new(row: LeadRow) -> Entry {
        let phone = row.phone.as_deref().unwrap_or_default();
        let mut phone_digits =
            String::with_capacity(phone.bytes().filter(u8::is_ascii_digit).count());
        phone_digits.extend(phone.chars().filter(char::is_ascii_digit));
        let contact = [&row.name, &row.phone, &row.email];
        let mut haystack = String::with_capacity(
            contact
                .into_iter()
                .flatten()
                .map(|text| text.len() + 1)
                .sum(),
        );
        for text in contact.into_iter().flatten() {
            if !haystack.is_empty() {
                haystack.push('\n');
            }
            // ASCII, the usual case, is lowercased without a copy in between.
            if text.is_ascii() {
                haystack.extend(text.chars().map(|c| c.to_ascii_lowercase()));
            } else {
                haystack.push_str(&text.to_lowercase());
            }
        }
        let (haystack, phone_digits) = (haystack.into_boxed_str(), phone_digits.into_boxed_str());
        Entry {
            row,
            haystack,
            phone_digits,
        }
    }
}

/// Up to this many changes are inserted one by one; more are appended and sorted.
const SMALL_BATCH: usize = 32;

#[derive(Default)]
pub struct Leads {
    /// Every lead: a lead changes in place, and leaves only when the server hides it.
    entries: Vec<Entry>,
    /// Where each id sits in `entries`. (A map of the entries themselves would hold its spare
    /// slots at their full size.) Ids come from our server, so a fast hash is safe.
    index: FxHashMap<i64, usize>,
    strings: Interner,
    /// Every lead, newest first.
    order: Vec<Key>,
    /// How many leads have each status, by `status as usize`.
    by_status: [usize; LeadStatus::ALL.len()],
    team: TeamStats,
    /// The ids of the leads with a next step: the due view and the header's counts read only
    /// these, not every lead on each frame.
    with_next_step: FxHashSet<i64>,
    filter: Filter,
    /// The leads matching `filter`, newest first.
    visible: Vec<Key>,
}

impl Leads {
    /// Adds a lead, or replaces the one with the same id. Returns true if the id is new.
    pub fn upsert(&mut self, row: LeadRow) -> bool {
        let entry = self.entry(row);
        let key = entry.row.key();
        let matches = self.filter.matcher().matches(&entry);
        let (_, old) = self.put(entry);
        if let Some(old) = &old {
            let old_key = old.row.key();
            remove_sorted(&mut self.order, old_key);
            remove_sorted(&mut self.visible, old_key);
        }
        insert_sorted(&mut self.order, key);
        if matches {
            insert_sorted(&mut self.visible, key);
        }
        old.is_none()
    }

    /// Merges a page of leads; returns the ids that were not known before, in page order.
    ///
    /// A big page (the first load) is appended and the order re-sorted once, instead of one
    /// insert per lead: the first load comes oldest first, so each insert would land at the
    /// front of the newest-first order and move everything behind it.
    pub fn merge(&mut self, rows: Vec<LeadRow>) -> Vec<i64> {
        if rows.len() <= SMALL_BATCH {
            return rows
                .into_iter()
                .filter_map(|row| {
                    let id = row.id;
                    self.upsert(row).then_some(id)
                })
                .collect();
        }
        let mut new_ids = Vec::new();
        let mut replaced = HashMap::new();
        let mut touched = Vec::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            let entry = self.entry(row);
            let (at, old) = self.put(entry);
            match old {
                Some(old) => {
                    replaced.entry(id).or_insert_with(|| old.row.key());
                }
                None => new_ids.push(id),
            }
            touched.push(at);
        }
        let matcher = self.filter.matcher();
        let mut in_order = Vec::with_capacity(touched.len());
        let mut in_view = Vec::new();
        // A lead twice in the page is touched twice: its last copy counts, the key deduplicated.
        for entry in touched.iter().map(|&at| &self.entries[at]) {
            let key = entry.row.key();
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
        merge_sorted(&mut self.order, in_order);
        merge_sorted(&mut self.visible, in_view);
        new_ids
    }

    /// Forgets a lead the server no longer shows this rep (it was given to another rep, with
    /// `LEADHOOK_VISIBILITY=own`). False when it was not known.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some(at) = self.index.remove(&id) else {
            return false;
        };
        let entry = self.entries.swap_remove(at);
        if let Some(moved) = self.entries.get(at) {
            self.index.insert(moved.row.id, at);
        }
        self.team.remove(&entry.row);
        self.with_next_step.remove(&id);
        let count = &mut self.by_status[entry.row.status as usize];
        *count = count.saturating_sub(1);
        let key = entry.row.key();
        remove_sorted(&mut self.order, key);
        remove_sorted(&mut self.visible, key);
        true
    }

    /// `row` with its strings shared, ready to search.
    fn entry(&mut self, mut row: LeadRow) -> Entry {
        self.strings.share(&mut row);
        Entry::new(row)
    }

    /// Stores `entry` in the figures and the entries; returns where, and the copy it replaces.
    /// The old copy leaves the figures before the new one joins: both may count the same.
    fn put(&mut self, entry: Entry) -> (usize, Option<Entry>) {
        let next = self.entries.len();
        let at = *self.index.entry(entry.row.id).or_insert(next);
        let known = at < next;
        if known {
            let old = &self.entries[at].row;
            self.team.remove(old);
            let count = &mut self.by_status[old.status as usize];
            *count = count.saturating_sub(1);
        }
        self.team.add(&entry.row);
        if entry.row.next_step.is_some() {
            self.with_next_step.insert(entry.row.id);
        } else {
            self.with_next_step.remove(&entry.row.id);
        }
        self.by_status[entry.row.status as usize] += 1;
        if known {
            (at, Some(std::mem::replace(&mut self.entries[at], entry)))
        } else {
            self.entries.push(entry);
            (at, None)
        }
    }

    pub fn get(&self, id: i64) -> Option<&LeadRow> {
        self.index.get(&id).map(|&at| &self.entries[at].row)
    }

    fn entry_of(&self, id: i64) -> Option<&Entry> {
        self.index.get(&id).map(|&at| &self.entries[at])
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn count_with_status(&self, status: LeadStatus) -> usize {
        self.by_status[status as usize]
    }

    /// How many leads were created at or after `since`.
    pub fn created_since(&self, since: DateTime<Utc>) -> usize {
        self.order.partition_point(|key| key.created_at >= since)
    }

    /// Every lead with a next step, in no order.
    pub fn with_next_step(&self) -> impl Iterator<Item = &LeadRow> {
        self.with_next_step.iter().filter_map(|id| self.get(*id))
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
                self.entry_of(key.id)
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

    pub fn visible_lead(&self, index: usize) -> Option<&LeadRow> {
        self.visible.get(index).and_then(|key| self.get(key.id))
    }

    /// The row of `key`, or where it would be.
    pub fn position(&self, key: Key) -> Result<usize, usize> {
        self.visible.binary_search(&key)
    }
}

/// Adds `added`, in any order and with repeats, to the sorted `keys` that hold none of them.
/// A page of the first load lands wholly before or after the keys there (changes come oldest
/// first, and a lead's creation rarely lags its last change by much), which needs no re-sort.
fn merge_sorted(keys: &mut Vec<Key>, mut added: Vec<Key>) {
    added.sort_unstable();
    added.dedup();
    let (Some(first), Some(last)) = (added.first(), added.last()) else {
        return;
    };
    if keys.last().is_none_or(|end| end < first) {
        keys.extend(added);
    } else if keys.first().is_some_and(|start| last < start) {
        keys.splice(0..0, added);
    } else {
        keys.extend(added);
        // Stable sort: merging one long sorted run with a short one is linear.
        keys.sort();
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
mod tests;
