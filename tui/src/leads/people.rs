//! People: a lead and the later submissions of the same person (`repeat_of`), shown as one row.
//!
//! Only later submissions are indexed (by their person), so a list where nobody submitted twice
//! costs nothing more. Links are never chained on the server, so a lead's person is known from
//! the lead alone; while a merge's leads arrive one by one a person may briefly have no first
//! lead in the list, and is shown by its submissions.

use rustc_hash::FxHashMap;

use super::{Entry, Key, LeadRow, Leads, add_keys, remove_keys};

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

impl PersonView {
    /// A person with nothing in the list.
    const NONE: PersonView = PersonView {
        row: None,
        any: false,
        real: false,
    };
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

    fn has_repeats(&self, person: i64) -> bool {
        self.repeats.contains_key(&person)
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
    /// The people `rows` touch beyond a new lead alone, sorted: a repeat's person, a known
    /// lead's person before and after, a lead others repeat. Most of a first load is new leads
    /// alone, which [`Leads::regroup`] shows without looking people up.
    pub(super) fn people_touched(&self, rows: &[LeadRow]) -> Vec<i64> {
        let mut persons = Vec::new();
        for row in rows {
            let known = self.get(row.id).map(LeadRow::person_id);
            if row.repeat_of.is_some() || known.is_some() || self.people.has_repeats(row.id) {
                persons.push(row.person_id());
                persons.extend(known);
            }
        }
        persons.sort_unstable();
        persons.dedup();
        persons
    }

    /// Takes `persons` out of the table as `before` showed them and puts them back as they
    /// are; the entries at `touched` that are not among them are new leads alone, which
    /// nothing showed before.
    pub(super) fn regroup(&mut self, persons: &[i64], before: &[PersonView], touched: &[usize]) {
        let after: Vec<PersonView> = persons.iter().map(|id| self.person(*id)).collect();
        let alone: Vec<PersonView> = touched
            .iter()
            .map(|&at| &self.entries[at])
            .filter(|entry| {
                entry.row.repeat_of.is_none() && persons.binary_search(&entry.row.id).is_err()
            })
            .map(|entry| self.alone(entry))
            .collect();
        let unseen = std::iter::repeat(&PersonView::NONE);
        for (before, after) in before.iter().chain(unseen).zip(after.iter().chain(&alone)) {
            self.people.count(before, after);
        }
        remove_keys(
            &mut self.visible,
            before.iter().filter_map(|view| view.row).collect(),
        );
        add_keys(
            &mut self.visible,
            after
                .iter()
                .chain(&alone)
                .filter_map(|view| view.row)
                .collect(),
        );
    }

    /// How a lead that is its person's only submission shows.
    fn alone(&self, entry: &Entry) -> PersonView {
        let shown = self.matcher.eligible(entry) && self.matcher.matches(entry);
        PersonView {
            row: shown.then(|| entry.row.key()),
            any: true,
            real: entry.row.junk().is_none(),
        }
    }

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
        let mut view = PersonView::NONE;
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
