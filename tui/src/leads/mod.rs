//! Every loaded lead, kept sorted newest first, plus the filtered rows the table shows.
//!
//! Built to stay fast with 100,000 leads: a change is merged with a binary-search insert rather
//! than a re-sort, narrowing a search only scans the rows already shown, and the header's
//! "today" / "7 days" / per-hour counts are binary searches over the sorted order. And small:
//! each lead is a [`LeadRow`] (no form answers but those the answer columns read), its form name
//! and owner shared with every other lead that names them.
//!
//! The table shows people, not submissions: a lead and its later submissions ([`people`]) are
//! one row, and only the people a change touches are regrouped.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use leadhook_shared::LeadStatus;
use leadhook_shared::answer_columns::AnswerColumns;
use rustc_hash::{FxHashMap, FxHashSet};

pub use self::filter::Filter;
use self::filter::{Entry, Matcher};
use self::people::{People, PersonView};
use self::row::Interner;
pub use self::row::LeadRow;
use crate::team_stats::TeamStats;

mod answers;
mod filter;
mod people;
mod row;
mod search;

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
    /// The server's answer columns, once `/api/reps/me` told them: each row keeps only the
    /// answers they read. Until then rows are kept as they came (the list's rows hold only those
    /// answers already).
    columns: Option<AnswerColumns>,
    /// Every lead, newest first.
    order: Vec<Key>,
    /// How many leads have each status, by `status as usize`.
    by_status: [usize; LeadStatus::ALL.len()],
    team: TeamStats,
    /// The ids of the leads with a next step: the due view and the header's counts read only
    /// these, not every lead on each frame.
    with_next_step: FxHashSet<i64>,
    /// Later submissions by person, and how many people there are.
    people: People,
    /// Leads flagged junk and not cleared.
    junk: usize,
    filter: Filter,
    matcher: Matcher,
    /// One row per person matching `filter`: the person's newest submission, newest first.
    visible: Vec<Key>,
}

impl Leads {
    /// Adds a lead, or replaces the one with the same id. Returns true if the id is new.
    pub fn upsert(&mut self, row: LeadRow) -> bool {
        !self.merge(vec![row]).is_empty()
    }

    /// Merges a page of leads; returns the ids that were not known before, in page order.
    ///
    /// The rows of the people the page touches are taken out and put back as they are now. A
    /// big page (the first load) is appended and the order re-sorted once, instead of one
    /// insert per lead: the first load comes oldest first, so each insert would land at the
    /// front of the newest-first order and move everything behind it.
    pub fn merge(&mut self, rows: Vec<LeadRow>) -> Vec<i64> {
        let persons = self.people_touched(&rows);
        let before: Vec<PersonView> = persons.iter().map(|id| self.person(*id)).collect();

        let mut new_ids = Vec::new();
        let mut replaced = FxHashMap::default();
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
        // A lead twice in the page is touched twice: its last copy counts, the key deduplicated.
        let in_order = touched
            .iter()
            .map(|&at| self.entries[at].row.key())
            .collect();
        remove_keys(&mut self.order, replaced.into_values().collect());
        add_keys(&mut self.order, in_order);
        touched.sort_unstable();
        touched.dedup();
        self.regroup(&persons, &before, &touched);
        new_ids
    }

    /// Forgets a lead the server no longer shows this rep (it was given to another rep, with
    /// `LEADHOOK_VISIBILITY=own`). False when it was not known.
    pub fn remove(&mut self, id: i64) -> bool {
        let Some(person) = self.get(id).map(LeadRow::person_id) else {
            return false;
        };
        let before = self.person(person);
        let Some(at) = self.index.remove(&id) else {
            return false;
        };
        let entry = self.entries.swap_remove(at);
        if let Some(moved) = self.entries.get(at) {
            self.index.insert(moved.row.id, at);
        }
        self.forget(&entry.row);
        remove_sorted(&mut self.order, entry.row.key());
        self.regroup(&[person], &[before], &[]);
        true
    }

    /// `row` with only the answers the columns read and its strings shared, ready to search.
    fn entry(&mut self, mut row: LeadRow) -> Entry {
        if let Some(columns) = &self.columns {
            row.answers.retain_read(columns, row.form_id.as_deref());
        }
        self.strings.share(&mut row);
        Entry::new(row)
    }

    /// Stores `entry` in the figures and the entries; returns where, and the copy it replaces.
    /// The old copy leaves the figures before the new one joins: both may count the same.
    fn put(&mut self, entry: Entry) -> (usize, Option<Entry>) {
        let next = self.entries.len();
        let at = *self.index.entry(entry.row.id).or_insert(next);
        let old = if at < next {
            Some(std::mem::replace(&mut self.entries[at], entry))
        } else {
            self.entries.push(entry);
            None
        };
        if let Some(old) = &old {
            self.forget(&old.row);
        }
        let row = &self.entries[at].row;
        // Junk is in no one's queue: it waits for nobody and has no status worth counting.
        if row.junk().is_none() {
            self.team.add(row);
            self.by_status[row.status as usize] += 1;
        } else {
            self.junk += 1;
        }
        if row.next_step.is_some() {
            self.with_next_step.insert(row.id);
        }
        self.people.add(row);
        (at, old)
    }

    /// Takes `row` out of the figures.
    fn forget(&mut self, row: &LeadRow) {
        if row.junk().is_none() {
            self.team.remove(row);
            let count = &mut self.by_status[row.status as usize];
            *count = count.saturating_sub(1);
        } else {
            self.junk = self.junk.saturating_sub(1);
        }
        self.with_next_step.remove(&row.id);
        self.people.remove(row);
    }

    pub fn get(&self, id: i64) -> Option<&LeadRow> {
        self.index.get(&id).map(|&at| &self.entries[at].row)
    }

    fn entry_of(&self, id: i64) -> Option<&Entry> {
        self.index.get(&id).map(|&at| &self.entries[at])
    }

    /// Every lead, each submission counted.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The rows the table shows without a search or status filter: one per person, junk
    /// counted only while it is shown.
    pub fn people(&self) -> usize {
        self.people.shown(self.filter.junk)
    }

    /// Leads flagged junk (and not cleared): hidden unless the filter shows junk.
    pub fn junk(&self) -> usize {
        self.junk
    }

    /// How many leads that are not junk have `status`.
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

    /// Who waits, today's speed to lead and each owner's open leads (junk left out).
    pub fn team(&self) -> &TeamStats {
        &self.team
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The server's answer columns (none until `/api/reps/me` told them).
    pub fn answer_columns(&self) -> &AnswerColumns {
        static NONE: AnswerColumns = AnswerColumns(Vec::new());
        self.columns.as_ref().unwrap_or(&NONE)
    }

    /// Takes the server's answer columns: every row drops the answers they do not read (an
    /// answer dropped before is not read again), and the search reads its terms anew.
    pub fn set_answer_columns(&mut self, columns: AnswerColumns) {
        if self.columns.as_ref() == Some(&columns) {
            return;
        }
        for entry in &mut self.entries {
            let row = &mut entry.row;
            row.answers.retain_read(&columns, row.form_id.as_deref());
            self.strings.share(row);
        }
        self.columns = Some(columns);
        self.matcher = self.filter.matcher(self.answer_columns());
        self.rescan(false);
    }

    /// Changes the filter. A narrower search only rescans the rows already visible.
    pub fn set_filter(&mut self, filter: Filter) {
        if filter == self.filter {
            return;
        }
        let narrower = filter.narrows(&self.filter, self.answer_columns());
        self.matcher = filter.matcher(self.answer_columns());
        self.filter = filter;
        self.rescan(narrower);
    }

    /// Finds the visible rows again: among those already visible when the filter only narrowed.
    fn rescan(&mut self, narrower: bool) {
        let source = if narrower { &self.visible } else { &self.order };
        let visible = source
            .iter()
            .filter(|key| {
                self.entry_of(key.id)
                    .is_some_and(|entry| self.person(entry.row.person_id()).row == Some(**key))
            })
            .copied()
            .collect();
        self.visible = visible;
    }

    /// The rows the table shows, newest first: each the newest submission of its person.
    pub fn visible(&self) -> &[Key] {
        &self.visible
    }

    pub fn visible_lead(&self, index: usize) -> Option<&LeadRow> {
        self.visible.get(index).and_then(|key| self.get(key.id))
    }

    /// The row of `key`, or of the person whose submission it is, or where it would be.
    pub fn position(&self, key: Key) -> Result<usize, usize> {
        self.visible.binary_search(&key).or_else(|at| {
            self.get(key.id)
                .and_then(|lead| self.person(lead.person_id()).row)
                .and_then(|row| self.visible.binary_search(&row).ok())
                .ok_or(at)
        })
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

/// Adds `added` to the sorted `keys`: one by one when they are few, else merged.
fn add_keys(keys: &mut Vec<Key>, added: Vec<Key>) {
    if added.len() <= SMALL_BATCH {
        for key in added {
            insert_sorted(keys, key);
        }
    } else {
        merge_sorted(keys, added);
    }
}

/// Takes `gone` out of the sorted `keys`: one by one when they are few, else in one pass.
fn remove_keys(keys: &mut Vec<Key>, gone: Vec<Key>) {
    if gone.len() <= SMALL_BATCH {
        for key in gone {
            remove_sorted(keys, key);
        }
    } else {
        let gone: FxHashSet<Key> = gone.into_iter().collect();
        keys.retain(|key| !gone.contains(key));
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
mod column_tests;
#[cfg(test)]
mod tests;
