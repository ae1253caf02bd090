//! The key tables of people: confirming a merge, and choosing the submission whose link to undo.
//! The list's own keys for them (`H`, `C`, `M`, `U`) are in [`super::LIST`].

use crossterm::event::KeyCode;

use super::{KeyTable, hint, key};

/// The question before a merge or an undone link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmAction {
    Yes,
    No,
}

#[rustfmt::skip]
pub const CONFIRM: KeyTable<ConfirmAction> = KeyTable { title: "Confirm", bindings: &[
    key(&[KeyCode::Char('y'), KeyCode::Enter], "y ⏎", ConfirmAction::Yes, "yes", hint("y", "yes")),
    key(&[KeyCode::Char('n'), KeyCode::Esc, KeyCode::Char('q')], "n Esc", ConfirmAction::No, "no", hint("Esc", "no")),
]};

/// The submissions of `U`, the link of one to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkAction {
    Down,
    Up,
    Unlink,
    Cancel,
}

#[rustfmt::skip]
pub const UNLINK: KeyTable<UnlinkAction> = KeyTable { title: "Undo link", bindings: &[
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", UnlinkAction::Down, "next submission", hint("↑↓", "submission")),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", UnlinkAction::Up, "previous submission", None),
    key(&[KeyCode::Enter], "⏎", UnlinkAction::Unlink, "undo its link: another person", hint("⏎", "undo link")),
    key(&[KeyCode::Esc, KeyCode::Char('q')], "Esc q", UnlinkAction::Cancel, "cancel", hint("Esc", "cancel")),
]};
