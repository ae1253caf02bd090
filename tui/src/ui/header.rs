//! Totals, counts by status and a sparkline of leads per hour over the last 24 h.

use chrono::{DateTime, Duration, Utc};
use leadhook_shared::{LeadStatus, PeopleStats};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Sparkline, Widget};

use super::{span, thousands};
use crate::app::{App, DueCounts};
use crate::theme;

const HOURS: usize = 24;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [top, statuses, queue] = Layout::vertical([Constraint::Length(1); 3]).areas(area);
    let (line, label_width) = totals_line(app, usize::from(top.width).saturating_sub(HOURS));
    let [totals, label, spark] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(label_width),
        Constraint::Length(HOURS as u16),
    ])
    .areas(top);
    line.render(totals, buf);

    Line::from(Span::styled("leads/h ", theme::LABEL))
        .right_aligned()
        .render(label, buf);
    Sparkline::default()
        .data(hourly(app))
        .style(theme::SPARKLINE)
        .render(spark, buf);

    let leads = &app.leads;
    let mut spans = vec![Span::raw(" ")];
    for status in LeadStatus::ALL {
        spans.push(Span::styled(
            format!("{} ", status.as_str()),
            theme::status(status),
        ));
        spans.push(Span::styled(
            thousands(leads.count_with_status(status)),
            theme::EMPHASIS,
        ));
        spans.push(Span::raw("  "));
    }
    spans.extend(follow_up_figures(app));
    Line::from(spans).render(statuses, buf);
    queue_line(app).render(queue, buf);
}

/// The sparkline's label, which gives way to today's people on a narrow terminal.
const LABEL_WIDTH: u16 = 9;

/// "Total 7 · 6 people  Today 3 · 2 people  7 days 5 · 4 people": the leads (every submission)
/// and, once `/api/stats` has counted them, the people behind them (repeats once, junk not at
/// all), in `width` columns beside the sparkline's label, and that label's width. Where that is
/// too wide, only today's people ("Today 3 · 2 people"), without the label if need be.
fn totals_line(app: &App, width: usize) -> (Line<'static>, u16) {
    let leads = &app.leads;
    let figures = [
        ("Total", leads.len()),
        ("Today", leads.created_since(start_of_today(app))),
        ("7 days", leads.created_since(app.now - Duration::days(7))),
    ];
    // A server from before people sends none: nothing is said rather than "0 people".
    let people = app
        .follow_ups
        .stats
        .as_ref()
        .map(|stats| stats.people)
        .filter(|people| *people != PeopleStats::default())
        .map(|people| [people.total, people.today, people.last_7_days].map(|n| n as usize));
    let line = |with_people: [bool; 3]| {
        let mut spans = vec![Span::styled(" leadhook  ", theme::TITLE)];
        for (at, (name, value)) in figures.iter().enumerate() {
            if at > 0 {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(format!("{name} "), theme::LABEL));
            spans.push(Span::styled(thousands(*value), theme::EMPHASIS));
            if let Some(people) = people.filter(|_| with_people[at]) {
                spans.push(Span::styled(" · ", theme::LABEL));
                spans.push(Span::styled(thousands(people[at]), theme::EMPHASIS));
                spans.push(Span::styled(" people", theme::LABEL));
            }
        }
        Line::from(spans)
    };
    let today = [false, true, false];
    [([true; 3], LABEL_WIDTH), (today, LABEL_WIDTH), (today, 0)]
        .into_iter()
        .map(|(with_people, label)| (line(with_people), label))
        .find(|(line, label)| line.width() <= width.saturating_sub(usize::from(*label)))
        .unwrap_or_else(|| (line([false; 3]), LABEL_WIDTH))
}

/// Who waits and for how long, how fast the team reached leads today, and the user's own leads.
fn queue_line(app: &App) -> Line<'static> {
    let team = app.leads.team();
    let (waiting, oldest) = team.waiting();
    let mut spans = vec![
        Span::styled(" Waiting ", theme::LABEL),
        Span::styled(thousands(waiting), theme::EMPHASIS),
    ];
    if let Some(oldest) = oldest {
        let waited = app.now - oldest;
        spans.push(Span::styled(" · oldest ", theme::LABEL));
        spans.push(Span::styled(
            span(waited),
            theme::age(LeadStatus::NewLead, waited).patch(theme::EMPHASIS),
        ));
    }
    spans.extend(due_counts(app));
    spans.push(Span::styled("   Speed to lead today ", theme::LABEL));
    spans.push(match team.median_speed_since(start_of_today(app)) {
        Some(median) => Span::styled(format!("{} median", span(median)), theme::EMPHASIS),
        None => Span::styled("no contacts yet", theme::LABEL),
    });
    if let Some(me) = &app.team.me {
        spans.push(Span::styled("   My open leads ", theme::LABEL));
        spans.push(Span::styled(
            thousands(team.open_owned_by(&me.name)),
            theme::EMPHASIS,
        ));
    }
    if app.leads.filter().mine.is_some() {
        spans.push(Span::styled("   showing mine + unowned (m)", theme::WARN));
    }
    Line::from(spans)
}

/// "   Follow-ups 3 due, 1 overdue" (either part left out at zero): the rep's own, overdue in
/// red; nothing when there are none.
fn due_counts(app: &App) -> Vec<Span<'static>> {
    let counts = app.my_due_counts();
    if counts == DueCounts::default() {
        return Vec::new();
    }
    let mut spans = vec![Span::styled("   Follow-ups ", theme::LABEL)];
    if counts.today > 0 {
        spans.push(Span::styled(
            format!("{} due", counts.today),
            theme::EMPHASIS,
        ));
    }
    if counts.overdue > 0 {
        if counts.today > 0 {
            spans.push(Span::styled(", ", theme::LABEL));
        }
        spans.push(Span::styled(
            format!("{} overdue", counts.overdue),
            theme::OVERDUE,
        ));
    }
    spans
}

/// "Calls 2.3/lead · 67% reached" from `/api/stats`, once some lead was called.
fn follow_up_figures(app: &App) -> Vec<Span<'static>> {
    let Some(figures) = app.follow_ups.stats.as_ref().map(|stats| &stats.follow_ups) else {
        return Vec::new();
    };
    let (Some(tenths), Some(reached)) = (
        figures.attempts_per_lead_tenths(),
        figures.contact_rate_percent(),
    ) else {
        return Vec::new();
    };
    vec![
        Span::styled("Calls ", theme::LABEL),
        Span::styled(
            format!("{}.{}/lead", tenths / 10, tenths % 10),
            theme::EMPHASIS,
        ),
        Span::styled(" · ", theme::LABEL),
        Span::styled(format!("{reached}% reached"), theme::EMPHASIS),
    ]
}

/// Midnight in the user's time zone.
fn start_of_today(app: &App) -> DateTime<Utc> {
    let local = app.now.with_timezone(&app.tz);
    local
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|midnight| midnight.and_local_timezone(app.tz).single())
        .map_or(app.now, |midnight| midnight.with_timezone(&Utc))
}

/// Leads created in each of the last 24 hours, oldest hour first.
fn hourly(app: &App) -> [u64; HOURS] {
    let since = |hours_ago: usize| {
        app.leads
            .created_since(app.now - Duration::hours(hours_ago as i64))
    };
    std::array::from_fn(|bar| {
        let hours_ago = HOURS - bar;
        since(hours_ago).saturating_sub(since(hours_ago - 1)) as u64
    })
}
