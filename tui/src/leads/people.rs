//! People: a lead and the later submissions of the same person (`repeat_of`), shown as one row.
//!
//! Only later submissions are indexed (by their person), so a list where nobody submitted twice
//! costs nothing more. Links are never chained on the server, so a lead's person is known from
//! the lead alone; while a merge's leads arrive one by one a person may briefly have no first
//! lead in the list, and is shown by its submissions.

use rustc_hash::FxHashMap;

use super::{Entry, Key, LeadRow, Leads};

/// How one person stands under the current filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PersonView {
    /// The person's row, when the table shows it: its newest submission that counts.
    pub(super) row: Option<Key>,
    /// Some submission is in the list.
    any: bool,
    /// Some submission is in the list and not junk.
    real: bool,
}

#[derive(Debug, Default)]
pub(super) struct People {
    /// Later submissions, by the id of their person's first lead.
    repeats: FxHashMap<i64, Vec<i64>>,
    /// People with a submission in the list.
    any: usize,
    /// People with a submission in the list that is not junk.
    real: usize,
}

impl People {
    pub(super) fn add(&mut self, row: &LeadRow) {
        if let Some(person) = row.repeat_of {
            self.repeats.entry(person).or_default().push(row.id);
        }
    }

    pub(super) fn remove(&mut self, row: &LeadRow) {
        let Some(person) = row.repeat_of else {
            return;
        };
        if let Some(ids) = self.repeats.get_mut(&person) {
            ids.retain(|id| *id != row.id);
            if ids.is_empty() {
                self.repeats.remove(&person);
            }
        }
    }

    fn repeats(&self, person: i64) -> &[i64] {
        self.repeats.get(&person).map_or(&[], Vec::as_slice)
    }

    /// Keeps the counts as a person goes from `before` to `after`.
    pub(super) fn count(&mut self, before: &PersonView, after: &PersonView) {
        let step = |count: &mut usize, was: bool, is: bool| match (was, is) {
            (false, true) => *count += 1,
            (true, false) => *count = count.saturating_sub(1),
            _ => {}
        };
        step(&mut self.any, before.any, after.any);
        step(&mut self.real, before.real, after.real);
    }

    /// The rows of the table without a search: every person when junk is shown, else those
    /// with a submission that is not junk.
    pub(super) fn shown(&self, junk: bool) -> usize {
        if junk { self.any } else { self.real }
    }
}

impl Leads {
    /// The submissions of person `person` in the list, in no order.
    fn members(&self, person: i64) -> impl Iterator<Item = &Entry> {
        let first = self
            .entry_of(person)
            .filter(|entry| entry.row.repeat_of.is_none());
        let repeats = self.people.repeats(person);
        first
            .into_iter()
            .chain(repeats.iter().filter_map(|id| self.entry_of(*id)))
    }

    /// How person `person` shows under the filter: as its newest submission that counts (junk
    /// only while junk is shown), when any submission that counts matches.
    pub(super) fn person(&self, person: i64) -> PersonView {
        let mut view = PersonView {
            row: None,
            any: false,
            real: false,
        };
        let mut matched = false;
        for entry in self.members(person) {
            view.any = true;
            view.real |= entry.row.junk().is_none();
            if !self.matcher.eligible(entry) {
                continue;
            }
            let key = entry.row.key();
            // Newest first: the least key is the newest.
            view.row = Some(view.row.map_or(key, |row| row.min(key)));
            matched |= self.matcher.matches(entry);
        }
        if !matched {
            view.row = None;
        }
        view
    }

    /// The submissions of the person of lead `id` that the table counts (junk only while it is
    /// shown), newest first; the lead alone when it is its person's only one.
    pub fn submissions(&self, id: i64) -> Vec<&LeadRow> {
        let Some(lead) = self.get(id) else {
            return Vec::new();
        };
        let mut rows: Vec<&Entry> = self
            .members(lead.person_id())
            .filter(|entry| self.matcher.eligible(entry))
            .collect();
        rows.sort_by_key(|entry| entry.row.key());
        rows.into_iter().map(|entry| &entry.row).collect()
    }
}
