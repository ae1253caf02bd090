//! Which lead is selected: moving through the visible leads, and keeping the selection on one
//! when the search, the filter or the leads themselves change.

use super::{App, Mode, Pane};
use crate::leads::Filter;

impl App {
    pub(super) fn set_query(&mut self, query: String) {
        self.set_filter(Filter {
            query,
            ..self.leads.filter().clone()
        });
    }

    pub(super) fn set_filter(&mut self, filter: Filter) {
        self.leads.set_filter(filter);
        self.settle_selection();
    }

    pub(super) fn move_by(&mut self, delta: isize) {
        let Some(current) = self.selected_index() else {
            return;
        };
        self.move_to(current.saturating_add_signed(delta));
    }

    pub(super) fn move_to(&mut self, index: usize) {
        let visible = self.leads.visible();
        let Some(last) = visible.len().checked_sub(1) else {
            return;
        };
        self.selected = Some(visible[index.min(last)]);
        self.moved = true;
        if let Mode::Browse(Pane::Detail { scroll }) = &mut self.mode {
            *scroll = 0;
        }
        self.settle_selection();
    }

    /// Keeps the selection on a visible lead (the same one when it can) and marks it seen.
    pub(super) fn settle_selection(&mut self) {
        let pin_to_newest = self.selected.is_none() || (!self.loaded && !self.moved);
        let index = if pin_to_newest {
            Some(0)
        } else {
            self.selected_index()
        };
        if let Some(&key) = index.and_then(|index| self.leads.visible().get(index)) {
            self.selected = Some(key);
            self.unseen.remove(&key.id);
        }
    }
}
