//! Every colour and text style of the dashboard.

use leadhook_shared::LeadStatus;
use ratatui::style::{Color, Modifier, Style};

pub const TITLE: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
pub const LABEL: Style = Style::new().fg(Color::DarkGray);
pub const VALUE: Style = Style::new();
pub const EMPHASIS: Style = Style::new().add_modifier(Modifier::BOLD);
pub const BORDER: Style = Style::new().fg(Color::DarkGray);
pub const BORDER_FOCUS: Style = Style::new().fg(Color::Cyan);
pub const TABLE_HEADER: Style = Style::new()
    .fg(Color::Gray)
    .add_modifier(Modifier::BOLD.union(Modifier::UNDERLINED));
pub const SELECTED: Style = Style::new()
    .bg(Color::Rgb(40, 50, 70))
    .add_modifier(Modifier::BOLD);
pub const UNSEEN: Style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
pub const SPARKLINE: Style = Style::new().fg(Color::Cyan);
pub const KEY: Style = Style::new().fg(Color::Black).bg(Color::Gray);
pub const HINT: Style = Style::new().fg(Color::Gray);
pub const OK: Style = Style::new().fg(Color::Green);
pub const WARN: Style = Style::new().fg(Color::Yellow);
pub const ERROR: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
pub const INPUT: Style = Style::new().fg(Color::White).bg(Color::Rgb(30, 30, 30));
pub const CURSOR: Style = Style::new().add_modifier(Modifier::REVERSED);

pub fn status(status: LeadStatus) -> Style {
    let color = match status {
        LeadStatus::NewLead => Color::Yellow,
        LeadStatus::Contacted => Color::Blue,
        LeadStatus::Qualified => Color::Cyan,
        LeadStatus::Unqualified => Color::DarkGray,
        LeadStatus::Won => Color::Green,
        LeadStatus::Lost => Color::Red,
    };
    Style::new().fg(color)
}

/// A lead nobody owns yet: someone should claim it.
pub const UNOWNED: Style = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);
/// A lead the user owns.
pub const MINE: Style = Style::new().fg(Color::Green);
/// A `New Lead` that has waited [`AMBER_AFTER`]: the odds of reaching it are falling.
pub const WAITING: Style = Style::new().fg(Color::Rgb(255, 176, 0));
/// A `New Lead` that has waited [`RED_AFTER`].
pub const WAITING_TOO_LONG: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);

/// Speed to lead: contacting within 5 minutes instead of 30 makes reaching a lead far likelier.
pub const AMBER_AFTER: chrono::Duration = chrono::Duration::minutes(5);
pub const RED_AFTER: chrono::Duration = chrono::Duration::minutes(30);

/// How a lead's age reads: amber, then red, while it is still `New Lead`.
pub fn age(status: LeadStatus, waited: chrono::Duration) -> Style {
    match status {
        LeadStatus::NewLead if waited >= RED_AFTER => WAITING_TOO_LONG,
        LeadStatus::NewLead if waited >= AMBER_AFTER => WAITING,
        _ => Style::new(),
    }
}
/// A follow-up past its time.
pub const OVERDUE: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
/// A follow-up due later today.
pub const DUE_TODAY: Style = Style::new().fg(Color::Yellow);

/// The ground of a toast, set off from the table under it.
pub const TOAST: Style = Style::new().bg(Color::Rgb(30, 30, 40));

/// A junk lead's row, shown only on request (`H`).
pub const JUNK: Style = Style::new().fg(Color::DarkGray);
/// Why a lead is junk, in its row.
pub const JUNK_REASON: Style = Style::new()
    .fg(Color::DarkGray)
    .add_modifier(Modifier::ITALIC);
/// How many submissions a person's row stands for.
pub const PERSON: Style = Style::new().fg(Color::Cyan);
/// The person `M` marked for a merge.
pub const MARKED: Style = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);

/// The series of the insights' leads-per-day bars, in the server's order (the top sources, then
/// "Other"); each also has its own glyph, so the stacks read without colour.
pub const SERIES: [Style; 5] = [
    Style::new().fg(Color::Cyan),
    Style::new().fg(Color::Yellow),
    Style::new().fg(Color::Magenta),
    Style::new().fg(Color::Green),
    Style::new().fg(Color::Gray),
];
/// The insights' five-minute line in the speed-to-lead histogram.
pub const FIVE_MINUTES: Style = Style::new().fg(Color::Rgb(255, 176, 0));
/// A bar of the insights' speed-to-lead histogram.
pub const SPEED_BAR: Style = Style::new().fg(Color::Blue);
