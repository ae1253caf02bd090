//! The insights screen of `I` (managers and admins): its own keys, since it shows no leads.
//! The list's key that opens it is in [`super::LIST`].

use crossterm::event::KeyCode;

use super::{KeyTable, hint, key};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsightsAction {
    /// Today, the last 7 days, the last 30 days.
    CyclePeriod,
    /// Campaign, ad set, ad, form, platform, organic or paid.
    CycleGrouping,
    Reload,
    /// Scroll, when the terminal is too small for every part.
    Down,
    Up,
    Help,
    Back,
}

#[rustfmt::skip]
pub const INSIGHTS: KeyTable<InsightsAction> = KeyTable { title: "Insights", bindings: &[
    key(&[KeyCode::Char('p')], "p", InsightsAction::CyclePeriod, "period: today, 7 days, 30 days", hint("p", "period")),
    key(&[KeyCode::Char('g')], "g", InsightsAction::CycleGrouping, "group by campaign, ad set, ad, form…", hint("g", "group")),
    key(&[KeyCode::Char('r')], "r", InsightsAction::Reload, "reload", hint("r", "reload")),
    key(&[KeyCode::Char('j'), KeyCode::Down], "j ↓", InsightsAction::Down, "scroll down", hint("↑↓", "scroll")),
    key(&[KeyCode::Char('k'), KeyCode::Up], "k ↑", InsightsAction::Up, "scroll up", None),
    key(&[KeyCode::Char('?')], "?", InsightsAction::Help, "help", None),
    key(&[KeyCode::Esc, KeyCode::Char('q'), KeyCode::Char('I')], "Esc q I", InsightsAction::Back, "back to the leads", hint("Esc", "back")),
]};
