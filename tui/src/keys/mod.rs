//! One key table per mode of the dashboard. A table maps keys to its mode's actions and feeds
//! the key handling, the help popup and the hint bar alike, so the three never drift apart.
//! Ctrl-C quits from every mode and is in no table. A binding may need a permission of the
//! server's role table ([`leadhook_shared::access`]): a rep whose role lacks it does not see
//! the key in the help or the hints.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leadhook_shared::{Action, LeadStatus, Role};

use crate::reach::Channel;

pub use self::follow_ups::{
    ATTEMPT, AttemptAction, CHOICES, ChoiceAction, DUE, DueAction, NEXT_STEP, NextStepAction,
    OUTCOMES, OutcomeAction, digit,
};

pub use self::insights::{INSIGHTS, InsightsAction};
pub use self::paging::{PAGING, PagingAction};
pub use self::people::{CONFIRM, ConfirmAction, UNLINK, UnlinkAction};

mod follow_ups;
mod insights;
mod paging;
mod people;

pub struct Binding<A: 'static> {
    pub keys: &'static [KeyCode],
    /// How the help popup names the keys: "j ↓".
    pub label: &'static str,
    pub action: A,
    pub description: &'static str,
    /// Shown in the hint bar as "keys text", in table order, as many as fit.
    pub hint: Option<Hint>,
    /// What the server must allow the rep's role for this key to do anything.
    pub needs: Option<Action>,
}

impl<A> Binding<A> {
    const fn needs(mut self, action: Action) -> Self {
        self.needs = Some(action);
        self
    }

    pub fn allowed(&self, role: Role) -> bool {
        self.needs.is_none_or(|action| role.may(action))
    }
}

pub struct Hint {
    pub keys: &'static str,
    pub text: &'static str,
}

/// The keys of one mode.
pub struct KeyTable<A: 'static> {
    /// How the help popup heads the table.
    pub title: &'static str,
    pub bindings: &'static [Binding<A>],
}

impl<A: Copy> KeyTable<A> {
    /// The action of `key` in this mode. Keys with Ctrl or Alt are never in a table.
    pub fn action_for(&self, key: &KeyEvent) -> Option<A> {
        self.pressed(key).map(|binding| binding.action)
    }

    /// The binding of `key` in this mode, allowed or not.
    pub fn pressed(&self, key: &KeyEvent) -> Option<&Binding<A>> {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return None;
        }
        self.binding_for(key.code)
    }

    fn binding_for(&self, code: KeyCode) -> Option<&Binding<A>> {
        self.bindings
            .iter()
            .find(|binding| binding.keys.contains(&code))
    }

    /// The hints of the keys `role` may use.
    pub fn hints(&self, role: Role) -> impl Iterator<Item = &Hint> {
        self.bindings
            .iter()
            .filter(move |binding| binding.allowed(role))
            .filter_map(|binding| binding.hint.as_ref())
    }

    /// The hints of this table when `over` answers first: those whose keys all went to `over`
    /// are left out.
    pub fn hints_under<'a, B: Copy>(
        &'a self,
        over: &'a KeyTable<B>,
        role: Role,
    ) -> impl Iterator<Item = &'a Hint> {
        self.bindings
            .iter()
            .filter(move |binding| binding.allowed(role))
            .filter(|binding| {
                !binding
                    .keys
                    .iter()
                    .all(|code| over.binding_for(*code).is_some())
            })
            .filter_map(|binding| binding.hint.as_ref())
    }

    /// (label, description) of every binding `role` may use, for the help popup.
    pub fn entries(&self, role: Role) -> impl Iterator<Item = (&'static str, &'static str)> {
        self.bindings
            .iter()
            .filter(move |binding| binding.allowed(role))
            .map(|binding| (binding.label, binding.description))
    }
}

const fn key<A>(
    keys: &'static [KeyCode],
    label: &'static str,
    action: A,
    description: &'static str,
    hint: Option<Hint>,
) -> Binding<A> {
    Binding {
        keys,
        label,
        action,
        description,
        hint,
        needs: None,
    }
}

const fn hint(keys: &'static str, text: &'static str) -> Option<Hint> {
    Some(Hint { keys, text })
}

/// The lead list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAction {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    OpenDetail,
    Search,
    CycleFilter,
    SetStatus(LeadStatus),
    NewLead,
    EditNotes,
    Claim,
    Release,
    Assign,
    /// Show only my leads and unowned ones, or everyone's.
    ToggleMine,
    ToggleAvailable,
    /// The rep's own phone settings.
    Paging,
    /// Copy the phone (else the email) to the clipboard.
    Copy,
    /// Open the lead's phone, WhatsApp or e-mail with the system's opener.
    Reach(Channel),
    Sync,
    Refresh,
    Export,
    /// Set or clear the selected lead's next step.
    NextStep,
    /// Record a call attempt on the selected lead.
    Attempt,
    /// The due view: the rep's follow-ups, overdue first.
    DueView,
    /// Show junk too, or hide it again.
    ToggleJunk,
    /// Clear the selected lead's junk flag.
    ClearJunk,
    /// Mark the selected person, or merge the marked one with it.
    Merge,
    /// Undo the link of one of the selected person's submissions.
    Unlink,
    /// The manager's insights: which sources bring customers.
    Insights,
    Help,
    /// Clear the search and filter, else quit.
    Back,
    Quit,
}

#[rustfmt::skip]
pub const LIST: KeyTable<ListAction> = KeyTable { title: "Lead list", bindings: &[
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", ListAction::Down, "next lead", None),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", ListAction::Up, "previous lead", None),
    key(&[KeyCode::Char('g'), KeyCode::Home], "g Home", ListAction::Top, "newest lead", None),
    key(&[KeyCode::Char('G'), KeyCode::End], "G End", ListAction::Bottom, "oldest lead", None),
    key(&[KeyCode::PageDown], "PgDn", ListAction::PageDown, "page down", None),
    key(&[KeyCode::PageUp], "PgUp", ListAction::PageUp, "page up", None),
    key(&[KeyCode::Char('?')], "?", ListAction::Help, "this help", hint("?", "help")),
    key(&[KeyCode::Enter], "Enter", ListAction::OpenDetail, "show details", hint("⏎", "details")),
    key(&[KeyCode::Char('c')], "c", ListAction::Claim, "claim: make the lead mine", hint("c", "claim")),
    key(&[KeyCode::Char('u')], "u", ListAction::Release, "release: give the lead back", None),
    key(&[KeyCode::Char('a')], "a", ListAction::Assign, "assign to a rep", hint("a", "assign")).needs(Action::Assign),
    key(&[KeyCode::Char('m')], "m", ListAction::ToggleMine, "mine + unowned / everyone", hint("m", "mine")),
    key(&[KeyCode::Char('A')], "A", ListAction::ToggleAvailable, "toggle my availability", None),
    key(&[KeyCode::Char('P')], "P", ListAction::Paging, "my phone: ntfy, quiet hours", None),
    key(&[KeyCode::Char('y')], "y", ListAction::Copy, "copy phone (or email)", hint("y", "copy")),
    key(&[KeyCode::Char('o')], "o", ListAction::Reach(Channel::Phone), "call: open the phone app", None),
    key(&[KeyCode::Char('w')], "w", ListAction::Reach(Channel::WhatsApp), "open a WhatsApp chat", None),
    key(&[KeyCode::Char('e')], "e", ListAction::Reach(Channel::Email), "write an e-mail", None),
    key(&[KeyCode::Char('/')], "/", ListAction::Search, "search contact, column:value", hint("/", "search")),
    key(&[KeyCode::Char('f')], "f", ListAction::CycleFilter, "cycle status filter", hint("f", "filter")),
    key(&[KeyCode::Char('1')], "1", ListAction::SetStatus(LeadStatus::NewLead), "mark as New Lead", hint("1-6", "status")),
    key(&[KeyCode::Char('2')], "2", ListAction::SetStatus(LeadStatus::Contacted), "mark as Contacted", None),
    key(&[KeyCode::Char('3')], "3", ListAction::SetStatus(LeadStatus::Qualified), "mark as Qualified", None),
    key(&[KeyCode::Char('4')], "4", ListAction::SetStatus(LeadStatus::Unqualified), "mark as Unqualified", None),
    key(&[KeyCode::Char('5')], "5", ListAction::SetStatus(LeadStatus::Won), "mark as Won", None),
    key(&[KeyCode::Char('6')], "6", ListAction::SetStatus(LeadStatus::Lost), "mark as Lost", None),
    key(&[KeyCode::Char('n')], "n", ListAction::NewLead, "add a lead by hand", hint("n", "new")),
    key(&[KeyCode::Char('N')], "N", ListAction::EditNotes, "edit notes", hint("N", "notes")),
    key(&[KeyCode::Char('F')], "F", ListAction::NextStep, "follow up: set the next step", hint("F", "follow up")).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('t')], "t", ListAction::Attempt, "record a call attempt", hint("t", "call")).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('D')], "D", ListAction::DueView, "due follow-ups", hint("D", "due")),
    key(&[KeyCode::Char('H')], "H", ListAction::ToggleJunk, "show / hide junk leads", None),
    key(&[KeyCode::Char('C')], "C", ListAction::ClearJunk, "clear junk flag: a real lead", None).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('M')], "M", ListAction::Merge, "same person: mark, M on other", None).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('U')], "U", ListAction::Unlink, "undo a submission's link", None).needs(Action::WorkOwnLead),
    key(&[KeyCode::Char('s')], "s", ListAction::Sync, "sync from Facebook", hint("s", "sync")).needs(Action::Sync),
    key(&[KeyCode::Char('r')], "r", ListAction::Refresh, "refresh now", None),
    key(&[KeyCode::Char('x')], "x", ListAction::Export, "export shown leads to CSV", hint("x", "export")).needs(Action::Export),
    key(&[KeyCode::Char('I')], "I", ListAction::Insights, "insights: what brings sales", hint("I", "insights")).needs(Action::SeeInsights),
    key(&[KeyCode::Esc], "Esc", ListAction::Back, "clear search, else quit", None),
    key(&[KeyCode::Char('q')], "q", ListAction::Quit, "quit (Ctrl-C anywhere)", hint("q", "quit")),
]};

/// The details of the selected lead; keys not in this table work as in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailAction {
    ScrollDown,
    ScrollUp,
    Close,
}

#[rustfmt::skip]
pub const DETAIL: KeyTable<DetailAction> = KeyTable { title: "Details", bindings: &[
    key(&[KeyCode::Char('J')], "J", DetailAction::ScrollDown, "scroll down", hint("J/K", "scroll")),
    key(&[KeyCode::Char('K')], "K", DetailAction::ScrollUp, "scroll up", None),
    key(&[KeyCode::Esc, KeyCode::Enter], "Esc ⏎", DetailAction::Close, "close", hint("Esc", "close")),
]};

/// The search box; other keys edit the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchAction {
    Keep,
    Clear,
    Down,
    Up,
}

#[rustfmt::skip]
pub const SEARCH: KeyTable<SearchAction> = KeyTable { title: "Search", bindings: &[
    key(&[KeyCode::Enter], "⏎", SearchAction::Keep, "keep", hint("⏎", "keep")),
    key(&[KeyCode::Esc], "Esc", SearchAction::Clear, "clear", hint("Esc", "clear")),
    key(&[KeyCode::Down], "↓", SearchAction::Down, "next lead", hint("↑↓", "move")),
    key(&[KeyCode::Up], "↑", SearchAction::Up, "previous lead", None),
]};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpAction {
    Close,
    /// Scroll, when the terminal is too short for every table.
    Down,
    Up,
}

#[rustfmt::skip]
pub const HELP: KeyTable<HelpAction> = KeyTable { title: "Help", bindings: &[
    key(
        &[KeyCode::Esc, KeyCode::Enter, KeyCode::Char('?'), KeyCode::Char('q')],
        "Esc ⏎ ? q", HelpAction::Close, "close", hint("Esc ⏎ ? q", "close"),
    ),
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", HelpAction::Down, "scroll down", hint("↑↓", "scroll")),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", HelpAction::Up, "scroll up", None),
]};

/// The new-lead form; other keys edit the focused field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormAction {
    NextField,
    PreviousField,
    Save,
    Cancel,
}

#[rustfmt::skip]
pub const FORM: KeyTable<FormAction> = KeyTable { title: "New lead", bindings: &[
    key(&[KeyCode::Tab, KeyCode::Down], "Tab ↓", FormAction::NextField, "next field", hint("Tab", "next field")),
    key(&[KeyCode::BackTab, KeyCode::Up], "⇧Tab ↑", FormAction::PreviousField, "previous field", None),
    key(&[KeyCode::Enter], "⏎", FormAction::Save, "save", hint("⏎", "save")),
    key(&[KeyCode::Esc], "Esc", FormAction::Cancel, "cancel", hint("Esc", "cancel")),
]};

/// The notes editor; other keys edit the note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotesAction {
    Save,
    Cancel,
}

#[rustfmt::skip]
pub const NOTES: KeyTable<NotesAction> = KeyTable { title: "Notes", bindings: &[
    key(&[KeyCode::Enter], "⏎", NotesAction::Save, "save", hint("⏎", "save")),
    key(&[KeyCode::Esc], "Esc", NotesAction::Cancel, "cancel", hint("Esc", "cancel")),
]};

/// The rep picker of `a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerAction {
    Down,
    Up,
    Choose,
    Cancel,
}

#[rustfmt::skip]
pub const PICKER: KeyTable<PickerAction> = KeyTable { title: "Assign", bindings: &[
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", PickerAction::Down, "next rep", hint("↑↓", "rep")),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", PickerAction::Up, "previous rep", None),
    key(&[KeyCode::Enter], "⏎", PickerAction::Choose, "assign", hint("⏎", "assign")),
    key(&[KeyCode::Esc, KeyCode::Char('q')], "Esc q", PickerAction::Cancel, "cancel", hint("Esc", "cancel")),
]};

/// Ctrl-C quits from every mode.
pub fn is_interrupt(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_key_twice<A>(table: &KeyTable<A>) {
        let mut seen = Vec::new();
        for binding in table.bindings {
            for code in binding.keys {
                assert!(
                    !seen.contains(code),
                    "{code:?} is bound twice in {}",
                    table.title
                );
                seen.push(*code);
            }
        }
    }

    #[test]
    fn digits_set_statuses_in_order() {
        for (digit, status) in ('1'..='6').zip(LeadStatus::ALL) {
            let key = KeyEvent::from(KeyCode::Char(digit));
            assert_eq!(LIST.action_for(&key), Some(ListAction::SetStatus(status)));
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_table() {
        no_key_twice(&LIST);
        no_key_twice(&DETAIL);
        no_key_twice(&SEARCH);
        no_key_twice(&HELP);
        no_key_twice(&FORM);
        no_key_twice(&NOTES);
        no_key_twice(&PICKER);
        no_key_twice(&NEXT_STEP);
        no_key_twice(&CHOICES);
        no_key_twice(&ATTEMPT);
        no_key_twice(&OUTCOMES);
        no_key_twice(&DUE);
        no_key_twice(&CONFIRM);
        no_key_twice(&UNLINK);
        no_key_twice(&INSIGHTS);
    }

    #[test]
    fn follow_up_keys_need_work_and_whose_needs_seeing_every_lead() {
        let f = KeyEvent::from(KeyCode::Char('F'));
        let binding = LIST.pressed(&f).expect("F is bound");
        assert_eq!(binding.action, ListAction::NextStep);
        assert_eq!(binding.needs, Some(Action::WorkOwnLead));
        let t = LIST
            .pressed(&KeyEvent::from(KeyCode::Char('t')))
            .expect("t");
        assert_eq!(t.action, ListAction::Attempt);
        assert_eq!(t.needs, Some(Action::WorkOwnLead));
        assert_eq!(
            LIST.action_for(&KeyEvent::from(KeyCode::Char('D'))),
            Some(ListAction::DueView)
        );
        let rep: Vec<&str> = DUE.entries(Role::Rep).map(|(label, _)| label).collect();
        assert!(!rep.contains(&"w"), "{rep:?}");
        assert!(DUE.entries(Role::Manager).any(|(label, _)| label == "w"));
    }

    #[test]
    fn claim_is_c_and_ctrl_c_still_quits() {
        let c = KeyEvent::from(KeyCode::Char('c'));
        assert_eq!(LIST.action_for(&c), Some(ListAction::Claim));
        assert!(!is_interrupt(&c));
        let shifted = KeyEvent::new(KeyCode::Char('A'), KeyModifiers::SHIFT);
        assert_eq!(LIST.action_for(&shifted), Some(ListAction::ToggleAvailable));
    }

    #[test]
    fn shifted_letters_are_distinct_and_ctrl_is_not_a_letter() {
        let shifted = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(LIST.action_for(&shifted), Some(ListAction::Bottom));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(is_interrupt(&ctrl_c));
        assert_eq!(LIST.action_for(&ctrl_c), None);
        let back_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(FORM.action_for(&back_tab), Some(FormAction::PreviousField));
    }

    #[test]
    fn a_rep_is_offered_no_manager_keys() {
        let rep: Vec<&str> = LIST.entries(Role::Rep).map(|(label, _)| label).collect();
        let manager: Vec<&str> = LIST
            .entries(Role::Manager)
            .map(|(label, _)| label)
            .collect();
        for label in ["a", "s", "x", "I"] {
            assert!(!rep.contains(&label), "{label} offered to a rep: {rep:?}");
            assert!(manager.contains(&label), "{label} not offered to a manager");
        }
        assert!(rep.contains(&"c") && rep.contains(&"N"), "{rep:?}");
        let hints: Vec<&str> = LIST.hints(Role::Rep).map(|hint| hint.text).collect();
        assert!(!hints.contains(&"assign"), "{hints:?}");
    }

    #[test]
    fn details_hide_the_list_hints_whose_keys_they_take() {
        let texts: Vec<&str> = DETAIL
            .hints(Role::Admin)
            .chain(LIST.hints_under(&DETAIL, Role::Admin))
            .map(|hint| hint.text)
            .collect();
        assert_eq!(texts[..2], ["scroll", "close"]);
        assert!(!texts.contains(&"details"), "{texts:?}");
        assert!(texts.contains(&"search"), "{texts:?}");
    }
}
