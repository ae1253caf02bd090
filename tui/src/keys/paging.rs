//! The key table of `P`, the rep's own phone settings (ntfy topic, quiet hours); other keys
//! edit the focused field. The list's `P` is in [`super::LIST`].

use crossterm::event::KeyCode;

use super::{KeyTable, hint, key};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingAction {
    NextField,
    PreviousField,
    Save,
    Cancel,
}

#[rustfmt::skip]
pub const PAGING: KeyTable<PagingAction> = KeyTable { title: "Phone", bindings: &[
    key(&[KeyCode::Tab, KeyCode::Down], "Tab ↓", PagingAction::NextField, "next field", hint("Tab", "next field")),
    key(&[KeyCode::BackTab, KeyCode::Up], "⇧Tab ↑", PagingAction::PreviousField, "previous field", None),
    key(&[KeyCode::Enter], "⏎", PagingAction::Save, "save (an empty field clears it)", hint("⏎", "save")),
    key(&[KeyCode::Esc], "Esc", PagingAction::Cancel, "cancel", hint("Esc", "cancel")),
]};
