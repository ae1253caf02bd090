//! The key tables of follow-ups: the popups of `F` and `t`, and the due view of `D`.

use crossterm::event::{KeyCode, KeyEvent};
use leadhook_shared::Action;

use super::{KeyTable, hint, key};

/// The next-step popup of `F`; other keys edit the focused field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStepAction {
    NextField,
    PreviousField,
    Save,
    Cancel,
}

#[rustfmt::skip]
pub const NEXT_STEP: KeyTable<NextStepAction> = KeyTable { title: "Next step", bindings: &[
    key(&[KeyCode::Tab], "Tab", NextStepAction::NextField, "next field", hint("Tab", "field")),
    key(&[KeyCode::BackTab], "⇧Tab", NextStepAction::PreviousField, "previous field", None),
    key(&[KeyCode::Enter], "⏎", NextStepAction::Save, "save", hint("⏎", "save")),
    key(&[KeyCode::Esc], "Esc", NextStepAction::Cancel, "cancel", hint("Esc", "cancel")),
]};

/// The quick choices of the next-step popup, while they have the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceAction {
    /// The choice of the digit pressed (see [`digit`]).
    Pick,
    Down,
    Up,
    /// Clear the lead's next step.
    Clear,
}

#[rustfmt::skip]
pub const CHOICES: KeyTable<ChoiceAction> = KeyTable { title: "Due time", bindings: &[
    key(&FOUR_DIGITS, "1-4", ChoiceAction::Pick, "pick", hint("1-4", "pick")),
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", ChoiceAction::Down, "next", None),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", ChoiceAction::Up, "previous", None),
    key(&[KeyCode::Char('d'), KeyCode::Delete], "d Del", ChoiceAction::Clear, "clear the step", hint("d", "clear")),
]};

/// The call-attempt popup of `t`; other keys edit the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptAction {
    /// Between the outcomes and the note.
    SwitchField,
    Down,
    Up,
    Send,
    Cancel,
}

#[rustfmt::skip]
pub const ATTEMPT: KeyTable<AttemptAction> = KeyTable { title: "Call", bindings: &[
    key(&[KeyCode::Tab, KeyCode::BackTab], "Tab", AttemptAction::SwitchField, "outcome/note", hint("Tab", "note")),
    key(&[KeyCode::Down], "↓", AttemptAction::Down, "next outcome", None),
    key(&[KeyCode::Up], "↑", AttemptAction::Up, "previous outcome", None),
    key(&[KeyCode::Enter], "⏎", AttemptAction::Send, "send", hint("⏎", "send")),
    key(&[KeyCode::Esc], "Esc", AttemptAction::Cancel, "cancel", hint("Esc", "cancel")),
]};

/// The outcomes of the call-attempt popup, while they have the focus: a digit picks one, by its
/// place in [`leadhook_shared::CallOutcome::ALL`] (see [`digit`]), and moves on to the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutcomeAction;

#[rustfmt::skip]
pub const OUTCOMES: KeyTable<OutcomeAction> = KeyTable { title: "Outcome", bindings: &[
    key(&FOUR_DIGITS, "1-4", OutcomeAction, "no answer, voicemail, talked, wrong number", hint("1-4", "outcome")),
]};

const FOUR_DIGITS: [KeyCode; 4] = [
    KeyCode::Char('1'),
    KeyCode::Char('2'),
    KeyCode::Char('3'),
    KeyCode::Char('4'),
];

/// Which of a popup's numbered rows `key` picks: '1' is 0.
pub fn digit(key: &KeyEvent) -> Option<usize> {
    match key.code {
        KeyCode::Char(c @ '1'..='9') => Some(c as usize - '1' as usize),
        _ => None,
    }
}

/// The due view of `D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueAction {
    Down,
    Up,
    Open,
    NextStep,
    Attempt,
    /// Whose follow-ups: mine, everyone's, each rep's.
    CycleWhose,
    Help,
    Back,
}

#[rustfmt::skip]
pub const DUE: KeyTable<DueAction> = KeyTable { title: "Due", bindings: &[
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", DueAction::Down, "next", hint("↑↓", "move")),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", DueAction::Up, "previous", None),
    key(&[KeyCode::Enter], "⏎", DueAction::Open, "details", hint("⏎", "details")),
    key(&[KeyCode::Char('F')], "F", DueAction::NextStep, "next step", hint("F", "follow up")).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('t')], "t", DueAction::Attempt, "call", hint("t", "call")).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('w')], "w", DueAction::CycleWhose, "whose: mine, all, each rep", hint("w", "whose")).needs(Action::SeeEveryLead),
    key(&[KeyCode::Char('?')], "?", DueAction::Help, "help", None),
    key(&[KeyCode::Esc, KeyCode::Char('D'), KeyCode::Char('q')], "Esc D q", DueAction::Back, "back", hint("Esc", "back")),
]};
