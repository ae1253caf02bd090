//! Totals, counts by status and a sparkline of leads per hour over the last 24 h.

use chrono::{DateTime, Duration, Utc};
use leadhook_shared::LeadStatus;
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
    let [totals, label, spark] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(9),
        Constraint::Length(HOURS as u16),
    ])
    .areas(top);

    let leads = &app.leads;
    let stat = |name: &'static str, value: usize| {
        [
            Span::styled(format!("{name} "), theme::LABEL),
            Span::styled(thousands(value), theme::EMPHASIS),
            Span::raw("  "),
        ]
    };
    let mut spans = vec![Span::styled(" leadhook  ", theme::TITLE)];
    spans.extend(stat("Total", leads.len()));
    spans.extend(stat("Today", leads.created_since(start_of_today(app))));
    spans.extend(stat(
        "7 days",
        leads.created_since(app.now - Duration::days(7)),
    ));
    Line::from(spans).render(totals, buf);

    Line::from(Span::styled("leads/h ", theme::LABEL))
        .right_aligned()
        .render(label, buf);
    Sparkline::default()
        .data(hourly(app))
        .style(theme::SPARKLINE)
        .render(spark, buf);

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
