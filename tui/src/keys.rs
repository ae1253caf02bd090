//! The key table of the lead list. It maps keys to [`Action`]s and feeds both the hint bar
//! and the help popup, so the three never drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leadhook_shared::LeadStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    ToggleDetail,
    ScrollDetailDown,
    ScrollDetailUp,
    Search,
    CycleFilter,
    SetStatus(LeadStatus),
    NewLead,
    EditNotes,
    Sync,
    Refresh,
    Export,
    Help,
    /// Close the details, else clear the search and filter, else quit.
    Back,
    Quit,
}

pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the help popup names the keys: "j ↓".
    pub label: &'static str,
    pub action: Action,
    pub description: &'static str,
    /// Shown in the hint bar as "keys text", in table order, as many as fit.
    pub hint: Option<Hint>,
}

pub struct Hint {
    pub keys: &'static str,
    pub text: &'static str,
}

const fn key(
    keys: &'static [KeyCode],
    label: &'static str,
    action: Action,
    description: &'static str,
    hint: Option<Hint>,
) -> Binding {
    Binding {
        keys,
        label,
        action,
        description,
        hint,
    }
}

const fn hint(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint { keys, text })
}

/// Every key of the lead list, in the order the help popup lists them.
#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", Action::Down, "next lead", None),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", Action::Up, "previous lead", None),
    key(&[KeyCode::Char('g'), KeyCode::Home], "g Home", Action::Top, "newest lead", None),
    key(&[KeyCode::Char('G'), KeyCode::End], "G End", Action::Bottom, "oldest lead", None),
    key(&[KeyCode::PageDown], "PgDn", Action::PageDown, "page down", None),
    key(&[KeyCode::PageUp], "PgUp", Action::PageUp, "page up", None),
    key(&[KeyCode::Char('?')], "?", Action::Help, "this help", hint("?", "help")),
    key(&[KeyCode::Enter], "Enter", Action::ToggleDetail, "show/hide details", hint("⏎", "details")),
    key(&[KeyCode::Char('J')], "J", Action::ScrollDetailDown, "scroll details down", None),
    key(&[KeyCode::Char('K')], "K", Action::ScrollDetailUp, "scroll details up", None),
    key(&[KeyCode::Char('/')], "/", Action::Search, "search name, phone, email", hint("/", "search")),
    key(&[KeyCode::Char('f')], "f", Action::CycleFilter, "cycle status filter", hint("f", "filter")),
    key(&[KeyCode::Char('1')], "1", Action::SetStatus(LeadStatus::NewLead), "mark as New Lead", hint("1-6", "status")),
    key(&[KeyCode::Char('2')], "2", Action::SetStatus(LeadStatus::Contacted), "mark as Contacted", None),
    key(&[KeyCode::Char('3')], "3", Action::SetStatus(LeadStatus::Qualified), "mark as Qualified", None),
    key(&[KeyCode::Char('4')], "4", Action::SetStatus(LeadStatus::Unqualified), "mark as Unqualified", None),
    key(&[KeyCode::Char('5')], "5", Action::SetStatus(LeadStatus::Won), "mark as Won", None),
    key(&[KeyCode::Char('6')], "6", Action::SetStatus(LeadStatus::Lost), "mark as Lost", None),
    key(&[KeyCode::Char('n')], "n", Action::NewLead, "add a lead by hand", hint("n", "new")),
    key(&[KeyCode::Char('N')], "N", Action::EditNotes, "edit notes", hint("N", "notes")),
    key(&[KeyCode::Char('s')], "s", Action::Sync, "sync from Facebook", hint("s", "sync")),
    key(&[KeyCode::Char('r')], "r", Action::Refresh, "refresh now", None),
    key(&[KeyCode::Char('x')], "x", Action::Export, "export shown leads to CSV", hint("x", "export")),
    key(&[KeyCode::Esc], "Esc", Action::Back, "close details / clear search", None),
    key(&[KeyCode::Char('q')], "q", Action::Quit, "quit (Ctrl-C anywhere)", hint("q", "quit")),
];

/// The action of a key pressed in the lead list.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return None;
    }
    BINDINGS
        .iter()
        .find(|binding| binding.keys.contains(&key.code))
        .map(|binding| binding.action)
}

/// Ctrl-C quits from every mode.
pub fn is_interrupt(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_set_statuses_in_order() {
        for (digit, status) in ('1'..='6').zip(LeadStatus::ALL) {
            let key = KeyEvent::from(KeyCode::Char(digit));
            assert_eq!(action_for(&key), Some(Action::SetStatus(status)));
        }
    }

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = Vec::new();
        for binding in BINDINGS {
            for code in binding.keys {
                assert!(!seen.contains(code), "{code:?} is bound twice");
                seen.push(*code);
            }
        }
    }

    #[test]
    fn shifted_letters_are_distinct_and_ctrl_is_not_a_letter() {
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(action_for(&shifted), Some(Action::Bottom));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(is_interrupt(&ctrl_c));
        assert_eq!(action_for(&ctrl_c), None);
    }
}
