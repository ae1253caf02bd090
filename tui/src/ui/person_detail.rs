//! The details of a person who submitted more than once: every submission, newest first, with
//! its form, when it came, its own status, owner and next step where they differ from the
//! row's, and its answers (fetched whole, like the row's own; see [`crate::app::SUBMISSIONS_WHOLE`]).

use leadhook_shared::show_due;
use ratatui::text::Span;

use super::age;
use super::detail::{LABEL_WIDTH, Page, answers, missing};
use crate::app::{App, Detail, SUBMISSIONS_WHOLE};
use crate::leads::LeadRow;
use crate::theme;

/// Adds the person's submissions under the notes when `lead`'s person has more than one, and
/// says whether it did (a single lead shows its answers as before).
pub(super) fn submissions(app: &App, lead: &LeadRow, page: &mut Page) -> bool {
    let rows = app.leads.submissions(lead.id);
    if rows.len() < 2 {
        return false;
    }
    page.text(
        Span::styled(format!("Submissions ({})", rows.len()), theme::TITLE),
        "",
        theme::VALUE,
    );
    for (nth, row) in rows.iter().enumerate() {
        let form = if row.is_manual {
            "added by hand"
        } else {
            row.form_name.as_deref().unwrap_or("no form")
        };
        let when = row.created_at.with_timezone(&app.tz).format("%m-%d %H:%M");
        // The row's own submission is marked as the table marks the selection.
        let this = if row.id == lead.id { "›" } else { " " };
        page.text(
            Span::styled(format!("{this}#{} ", row.id), theme::EMPHASIS),
            &format!("{form} · {when} ({} ago)", age(app.now, row.created_at)),
            theme::VALUE,
        );
        let indent = Span::raw("  ");
        if row.status != lead.status || row.owner != lead.owner {
            let owner = row.owner.as_deref().unwrap_or("unowned");
            page.text(
                Span::styled(
                    format!("  {:<w$}", "Status", w = LABEL_WIDTH - 2),
                    theme::LABEL,
                ),
                &format!("{} · {owner}", row.status),
                theme::status(row.status),
            );
        }
        // The row's own next step is above; another submission's would otherwise be unseen.
        if let Some(step) = row.next_step.as_ref().filter(|_| row.id != lead.id) {
            let when = show_due(step.at, app.now, app.zone());
            page.text(
                Span::styled(
                    format!("  {:<w$}", "Next step", w = LABEL_WIDTH - 2),
                    theme::LABEL,
                ),
                &format!("{when} — {}", step.what),
                theme::VALUE,
            );
        }
        if let Some(reason) = row.junk() {
            page.text(
                Span::styled(
                    format!("  {:<w$}", "Junk", w = LABEL_WIDTH - 2),
                    theme::WARN,
                ),
                reason,
                theme::WARN,
            );
        }
        if nth >= SUBMISSIONS_WHOLE {
            page.text(
                indent,
                &format!("answers not loaded: only the newest {SUBMISSIONS_WHOLE} are"),
                theme::LABEL,
            );
            continue;
        }
        match app.details.of(row.id, row.updated_at) {
            Detail::Loaded(whole) if whole.meta.fields.is_empty() => {
                page.text(indent, "no answers", theme::LABEL);
            }
            Detail::Loaded(whole) => answers(whole, "  ", page),
            other => page.text(indent, missing(other), theme::LABEL),
        }
    }
    true
}
