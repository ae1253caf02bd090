//! The dashboard's modes, the pane under them and the new-lead form; the follow-up popups'
//! forms are in [`super::follow_ups`].

use leadhook_shared::NewManualLead;

use super::follow_ups::{AttemptForm, DueOf, NextStepForm};
use super::paging::PagingForm;
use crate::input::TextInput;

/// What the screen shows under any overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    /// The selected lead's details, scrolled down by `scroll` rows.
    Detail {
        scroll: u16,
    },
    /// The due view: follow-ups, overdue first; `at` indexes its rows.
    Due {
        at: usize,
        whose: DueOf,
    },
    /// The manager's insights ([`super::InsightsView`]).
    Insights,
}

/// What keys go to: each mode has its key table in [`crate::keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Browse(Pane),
    /// Typing a search; the list shows the matches as they are typed.
    Search,
    Help {
        under: Pane,
    },
    NewLead(LeadForm),
    /// The rep's own phone settings (`P`).
    Paging(PagingForm),
    Notes {
        id: i64,
        input: TextInput,
        under: Pane,
    },
    /// Choosing the rep to give lead `id` to; `at` indexes the team's reps.
    Assign {
        id: i64,
        at: usize,
        under: Pane,
    },
    /// Setting or clearing lead `id`'s next step.
    NextStep {
        id: i64,
        form: NextStepForm,
        under: Pane,
    },
    /// Recording a call attempt on lead `id`.
    Attempt {
        id: i64,
        form: AttemptForm,
        under: Pane,
    },
    /// Asking whether lead `id` (and its submissions) is the same person as lead `into`.
    ConfirmMerge {
        id: i64,
        into: i64,
        under: Pane,
    },
    /// Choosing which linked submission of lead `id`'s person is someone else; `at` indexes
    /// [`crate::app::App::linked`].
    Unlink {
        id: i64,
        at: usize,
        under: Pane,
    },
}

impl Mode {
    pub const START: Mode = Mode::Browse(Pane::List);

    /// The pane drawn under this mode, and the one it goes back to.
    pub fn pane(&self) -> Pane {
        match self {
            Mode::Browse(pane)
            | Mode::Help { under: pane }
            | Mode::Notes { under: pane, .. }
            | Mode::Assign { under: pane, .. }
            | Mode::NextStep { under: pane, .. }
            | Mode::Attempt { under: pane, .. }
            | Mode::ConfirmMerge { under: pane, .. }
            | Mode::Unlink { under: pane, .. } => *pane,
            Mode::Search | Mode::NewLead(_) | Mode::Paging(_) => Pane::List,
        }
    }
}

/// The small form of `n`: a lead taken by phone or in person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeadForm {
    pub inputs: [TextInput; 4],
    pub focus: usize,
    pub error: Option<String>,
    pub saving: bool,
}

impl LeadForm {
    pub const LABELS: [&str; 4] = ["Name", "Phone", "Email", "Notes"];

    pub(super) fn to_new_lead(&self) -> Result<NewManualLead, String> {
        let [name, phone, email, notes] = self.inputs.each_ref().map(|input| input.value().trim());
        let optional = |text: &str| (!text.is_empty()).then(|| text.to_string());
        if name.is_empty() {
            return Err("Enter a name.".to_string());
        }
        if phone.is_empty() && email.is_empty() {
            return Err("Enter a phone number or an email address.".to_string());
        }
        Ok(NewManualLead {
            phone_e164: None,
            phone_invalid: false,
            email_key: None,
            name: name.to_string(),
            phone: optional(phone),
            email: optional(email),
            status: None,
            notes: optional(notes),
        })
    }
}
