//! The connection line and the key hint line.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{age, hint_text, input_line, thousands};
use crate::app::{App, Connection, Mode, NextStepField, Pane};
use crate::client::{ChannelTrouble, MetaFeedback};
use crate::client_error::ClientError;
use crate::keys::{self, Hint};
use crate::sanitize;
use crate::theme;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let ago = |at: DateTime<Utc>| age(app.now, at);
    let in_seconds = |at: DateTime<Utc>| (at - app.now).num_seconds().max(0);
    let mut spans = vec![Span::raw(" ")];
    match &app.connection {
        Connection::Connecting => spans.push(Span::styled(
            format!("connecting to {}…", app.server),
            theme::WARN,
        )),
        Connection::Online { push } => {
            let synced = app.last_ok.map_or_else(
                || "synced".to_string(),
                |at| format!("synced {} ago", ago(at)),
            );
            spans.push(Span::styled(format!("● {synced}"), theme::OK));
            if *push {
                spans.push(Span::styled(" · live", theme::OK));
            }
        }
        Connection::Down {
            error: ClientError::Unauthorized,
            ..
        } => spans.push(Span::styled(
            "token rejected: set LEADHOOK_TOKEN",
            theme::ERROR,
        )),
        Connection::Down { error, retry_at } => {
            let problem = match error {
                ClientError::Unreachable { .. } => "server unreachable".to_string(),
                other => format!("server error: {other}"),
            };
            spans.push(Span::styled(
                format!("{problem}, retrying in {}s", in_seconds(*retry_at)),
                theme::ERROR,
            ));
            if let Some(at) = app.last_ok {
                spans.push(Span::styled(
                    format!(" · last synced {} ago", ago(at)),
                    theme::LABEL,
                ));
            }
        }
    }
    if !app.loaded && !app.leads.is_empty() {
        spans.push(Span::styled(
            format!(" · loading, {} so far", thousands(app.leads.len())),
            theme::WARN,
        ));
    }
    if let Some(started) = app.sync_started {
        spans.push(Span::styled(
            format!(" · syncing with Facebook… {}", ago(started)),
            theme::WARN,
        ));
    }
    if let Some(feedback) = &app.meta_feedback {
        spans.push(meta_feedback(feedback));
    }
    if let Some(trouble) = channel_trouble(&app.troubled_channels) {
        spans.push(trouble);
    }
    let connection = Line::from(spans);
    let room = usize::from(area.width).saturating_sub(connection.width() + 2);
    connection.render(area, buf);
    // The other reps when they fit, else the user's own state alone.
    if let Some(team) = [team(app, true), team(app, false)]
        .into_iter()
        .find(|team| team.width() <= room)
    {
        team.render(area, buf);
    }
}

/// At the right: the other reps (with `others`), a dot each for available or away, then the
/// user's own state.
fn team(app: &App, others: bool) -> Line<'static> {
    let Some(me) = &app.team.me else {
        return Line::default();
    };
    let mut spans = Vec::new();
    let reps = app.team.reps.iter().filter(|_| others);
    for rep in reps.filter(|rep| rep.name != me.name) {
        let (dot, style) = if rep.available {
            ("●", theme::OK)
        } else {
            ("○", theme::LABEL)
        };
        spans.push(Span::styled(format!("{} ", rep.name), theme::LABEL));
        spans.push(Span::styled(format!("{dot}  "), style));
    }
    spans.push(Span::styled(format!("{} ", me.name), theme::EMPHASIS));
    spans.push(if me.available {
        Span::styled("● available ", theme::OK)
    } else {
        Span::styled("○ away (A) ", theme::WARN)
    });
    Line::from(spans).right_aligned()
}

/// Longest reason shown on the status line.
const REASON_WIDTH: usize = 40;

/// "Meta: sent 12 today", or what keeps stages from Meta ("3 failing: token lacks permission").
fn meta_feedback(feedback: &MetaFeedback) -> Span<'static> {
    if feedback.retrying > 0 {
        let reason = feedback.retry_reason.as_deref().unwrap_or("retrying");
        // The gist before Meta's details: "token lacks permission (code 200): ..." -> "token lacks permission".
        let gist = reason.split([':', '(']).next().unwrap_or(reason).trim();
        let gist: String = sanitize::screen(gist).chars().take(REASON_WIDTH).collect();
        Span::styled(
            format!(
                " · Meta: {} failing: {gist}",
                thousands(feedback.retrying as usize)
            ),
            theme::ERROR,
        )
    } else if feedback.failed > 0 {
        Span::styled(
            format!(
                " · Meta: sent {} today, {} refused",
                thousands(feedback.sent_today as usize),
                thousands(feedback.failed as usize)
            ),
            theme::WARN,
        )
    } else {
        Span::styled(
            format!(
                " · Meta: sent {} today",
                thousands(feedback.sent_today as usize)
            ),
            theme::LABEL,
        )
    }
}

/// The channels not delivering: the first one retrying and why ("crm failing: timed out"), else
/// the dead letters ("channels: 3 undelivered (crm)"). Nothing when all deliver.
fn channel_trouble(troubled: &[ChannelTrouble]) -> Option<Span<'static>> {
    let more = |shown: usize| match troubled.len() - shown {
        0 => String::new(),
        others => format!(" (+{others} more)"),
    };
    if let Some(retrying) = troubled.iter().find(|channel| channel.retrying > 0) {
        let reason = retrying.retry_reason.as_deref().unwrap_or("retrying");
        // "the receiver answered 500 Internal Server Error: <its body>" -> "answered 500 Internal Server Error".
        let reason = reason.strip_prefix("the receiver ").unwrap_or(reason);
        let gist = reason.split(':').next().unwrap_or(reason).trim();
        let gist: String = sanitize::screen(gist).chars().take(REASON_WIDTH).collect();
        return Some(Span::styled(
            format!(
                " · {} failing: {gist}{}",
                sanitize::screen(&retrying.destination),
                more(1)
            ),
            theme::ERROR,
        ));
    }
    let dead: u64 = troubled.iter().map(|channel| channel.failed).sum();
    let first = troubled.first()?;
    Some(Span::styled(
        format!(
            " · channels: {} undelivered ({}{})",
            thousands(dead as usize),
            sanitize::screen(&first.destination),
            more(1)
        ),
        theme::WARN,
    ))
}

/// The hints of the mode's key table, as many as fit; in the search box, the query first.
pub fn render_hints(app: &App, area: Rect, buf: &mut Buffer) {
    let role = app.team.role();
    let hints: Vec<&Hint> = match &app.mode {
        Mode::Search => {
            let hints = format!("  {}", hint_text(keys::SEARCH.hints(role)));
            let room = usize::from(area.width).saturating_sub(4 + hints.chars().count());
            let mut line = Line::from(Span::styled(" / ", theme::KEY));
            line.spans.push(Span::raw(" "));
            line.spans
                .extend(input_line(&app.search, true, room.max(10)).spans);
            line.spans.push(Span::styled(hints, theme::LABEL));
            line.render(area, buf);
            return;
        }
        Mode::Browse(Pane::List) => keys::LIST.hints(role).collect(),
        Mode::Browse(Pane::Detail { .. }) => keys::DETAIL
            .hints(role)
            .chain(keys::LIST.hints_under(&keys::DETAIL, role))
            .collect(),
        Mode::Help { .. } => keys::HELP.hints(role).collect(),
        Mode::NewLead(_) => keys::FORM.hints(role).collect(),
        Mode::Paging(_) => keys::PAGING.hints(role).collect(),
        Mode::Notes { .. } => keys::NOTES.hints(role).collect(),
        Mode::Assign { .. } => keys::PICKER.hints(role).collect(),
        Mode::Browse(Pane::Due { .. }) => keys::DUE.hints(role).collect(),
        Mode::Browse(Pane::Insights) => keys::INSIGHTS.hints(role).collect(),
        Mode::NextStep { form, .. } if form.focus == NextStepField::Choices => keys::CHOICES
            .hints(role)
            .chain(keys::NEXT_STEP.hints(role))
            .collect(),
        Mode::NextStep { .. } => keys::NEXT_STEP.hints(role).collect(),
        Mode::Attempt { form, .. } if !form.note_focused => keys::OUTCOMES
            .hints(role)
            .chain(keys::ATTEMPT.hints(role))
            .collect(),
        Mode::Attempt { .. } => keys::ATTEMPT.hints(role).collect(),
        Mode::ConfirmMerge { .. } => keys::CONFIRM.hints(role).collect(),
        Mode::Unlink { .. } => keys::UNLINK.hints(role).collect(),
    };
    let mut spans = vec![Span::raw(" ")];
    let mut width = 1;
    for hint in hints {
        let needed = hint.keys.chars().count() + hint.text.chars().count() + 4;
        if width + needed > usize::from(area.width) {
            break;
        }
        width += needed;
        spans.push(Span::styled(format!(" {} ", hint.keys), theme::KEY));
        spans.push(Span::styled(format!(" {} ", hint.text), theme::HINT));
    }
    Line::from(spans).render(area, buf);
}
