//! Everything about one lead: contact, ad / campaign / form, times, notes, the answer columns
//! ("budget: 5000"), every form answer, then its history ([`super::history`]).
//!
//! The list's row gives the contact, status, owner and notes at once; the form answers, the ad
//! and the form come with the whole lead, which the app fetches when the pane opens on it.

use chrono::{DateTime, Utc};
use leadhook_shared::{Lead, show_due};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::history::activity;
use super::{age, contact, cut_to_width, hint_text, person_detail, span};
use crate::app::{App, Detail};
use crate::leads::LeadRow;
use crate::{keys, sanitize, theme};

pub(super) const LABEL_WIDTH: usize = 12;

pub fn render(app: &App, lead: &LeadRow, scroll: u16, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", lead.display_name()), theme::TITLE),
            match lead.junk() {
                Some(_) => Span::styled("· junk ", theme::WARN),
                None => Span::styled(format!("· {} ", lead.status), theme::status(lead.status)),
            },
        ]))
        .title_bottom(
            Line::from(Span::styled(
                format!(" {} ", hint_text(keys::DETAIL.hints(app.team.role()))),
                theme::LABEL,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    let scroll = usize::from(scroll);
    let mut page = lines(
        app,
        lead,
        usize::from(inner.width),
        scroll + usize::from(inner.height),
    );
    let full = page.is_full();
    let links = contact::rows_of_links(&mut page, inner.width);
    let paragraph = Paragraph::new(page.lines).wrap(Wrap { trim: false });
    // Scrolling stops at the last row, which is known once the whole lead fitted.
    let scroll = if full {
        scroll
    } else {
        scroll.min(paragraph.line_count(inner.width).saturating_sub(1))
    };
    contact::place_links(app, links, inner, scroll);
    paragraph
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .block(block)
        .render(area, buf);
}

/// The lines of the pane, enough to fill its rows and no more: a note can be megabytes long,
/// and laying all of it out on every frame kept a core busy.
pub(super) struct Page {
    width: usize,
    /// Rows still to fill, counting whole characters: word wrap needs as many or more.
    rows_left: usize,
    pub(super) lines: Vec<Line<'static>>,
    /// The linked texts among the lines, each on one row.
    pub(super) links: Vec<contact::PageLink>,
}

impl Page {
    fn new(width: usize, rows: usize) -> Page {
        Page {
            width: width.max(1),
            // One row more than asked, so the last row is never cut short.
            rows_left: rows + 1,
            lines: Vec::new(),
            links: Vec::new(),
        }
    }

    fn is_full(&self) -> bool {
        self.rows_left == 0
    }

    /// A field of `parts`, each with its style and maybe a link: the links count only when the
    /// whole line fits one row. The parts are short (a phone, a checked e-mail address).
    pub(super) fn linked_field(
        &mut self,
        label: &str,
        parts: Vec<(String, Style, Option<String>)>,
    ) {
        if self.is_full() {
            return;
        }
        let mut spans = vec![Span::styled(format!("{label:<LABEL_WIDTH$}"), theme::LABEL)];
        let mut x = LABEL_WIDTH;
        let mut links = Vec::new();
        for (text, style, url) in parts {
            let span = Span::styled(sanitize::screen(&text).into_owned(), style);
            if let Some(url) = url {
                links.push(contact::PageLink {
                    line: self.lines.len(),
                    x,
                    text: span.content.to_string(),
                    url,
                });
            }
            x += span.width();
            spans.push(span);
        }
        let line = Line::from(spans);
        let rows = line.width().div_ceil(self.width).max(1);
        if rows == 1 {
            self.links.extend(links);
        }
        self.rows_left = self.rows_left.saturating_sub(rows);
        self.lines.push(line);
    }

    /// Adds `text` after `prefix`, one line per line of `text`, cut to the rows left.
    pub(super) fn text(&mut self, prefix: Span<'static>, text: &str, style: Style) {
        let mut prefix = Some(prefix);
        for line in text.split('\n') {
            if self.is_full() {
                return;
            }
            let mut spans: Vec<Span> = prefix.take().into_iter().collect();
            let prefix_width: usize = spans.iter().map(Span::width).sum();
            let room = (self.rows_left * self.width).saturating_sub(prefix_width);
            spans.push(Span::styled(
                sanitize::screen(cut_to_width(line, room)).into_owned(),
                style,
            ));
            let line = Line::from(spans);
            let rows = line.width().div_ceil(self.width).max(1);
            self.rows_left = self.rows_left.saturating_sub(rows);
            self.lines.push(line);
        }
    }

    pub(super) fn field(&mut self, label: &str, value: &str) {
        let label = Span::styled(format!("{label:<LABEL_WIDTH$}"), theme::LABEL);
        self.text(label, value, theme::VALUE);
    }

    /// A field only the whole lead has: "loading…" until it is here.
    fn whole_field(&mut self, label: &str, whole: Detail, value: impl FnOnce(&Lead) -> String) {
        match whole {
            Detail::Loaded(lead) => self.field(label, &value(lead)),
            Detail::Loading | Detail::Failed(_) => {
                let label = Span::styled(format!("{label:<LABEL_WIDTH$}"), theme::LABEL);
                self.text(label, missing(whole), theme::LABEL);
            }
        }
    }

    pub(super) fn heading(&mut self, title: &'static str) {
        self.text(Span::styled(title, theme::TITLE), "", theme::VALUE);
    }
}

/// What stands for a part of the whole lead that is not here.
pub(super) fn missing(whole: Detail) -> &'static str {
    match whole {
        Detail::Failed(_) => "not loaded",
        Detail::Loading | Detail::Loaded(_) => "loading…",
    }
}

fn lines(app: &App, lead: &LeadRow, width: usize, rows: usize) -> Page {
    let mut page = Page::new(width, rows);
    let whole = app.details.of(lead.id, lead.updated_at);
    let named = |name: &Option<String>, id: &Option<String>| match (name, id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(text), None) | (None, Some(text)) => text.clone(),
        (None, None) => "—".to_string(),
    };
    let when = |at: DateTime<Utc>| {
        format!(
            "{} ({} ago)",
            at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M:%S"),
            age(app.now, at)
        )
    };

    if let Detail::Failed(why) = whole {
        page.text(
            Span::raw(""),
            &format!("The answers and the ad did not load (r tries again): {why}"),
            theme::ERROR,
        );
    }
    if let Some(reason) = lead.junk() {
        let label = Span::styled(format!("{:<LABEL_WIDTH$}", "Junk"), theme::WARN);
        page.text(label, &format!("{reason} (C clears the flag)"), theme::WARN);
    }
    if let Some(at) = lead.erased_at {
        page.field("Erased", &when(at));
        page.text(
            Span::raw(""),
            "the person's name, contact details, answers and notes were erased",
            theme::LABEL,
        );
    }
    contact::phone_and_email(lead, &mut page);
    page.whole_field("Form", whole, |lead| {
        named(&lead.meta.form_name, &lead.meta.form_id)
    });
    page.whole_field("Ad", whole, |lead| {
        let source = match (&lead.meta.platform, lead.meta.is_organic) {
            (Some(platform), true) => format!(" · {platform}, organic"),
            (Some(platform), false) => format!(" · {platform}, paid"),
            (None, _) => String::new(),
        };
        named(&lead.meta.ad_name, &lead.meta.ad_id) + &source
    });
    page.whole_field("Ad set", whole, |lead| {
        named(&lead.meta.adset_name, &lead.meta.adset_id)
    });
    page.whole_field("Campaign", whole, |lead| {
        named(&lead.meta.campaign_name, &lead.meta.campaign_id)
    });
    page.field("Created", &when(lead.created_at));
    page.whole_field("Received", whole, |lead| when(lead.received_at));
    page.field(
        "Manual",
        if lead.is_manual {
            "yes, entered by hand"
        } else {
            "no"
        },
    );

    page.field("Owner", lead.owner.as_deref().unwrap_or("unowned"));
    if let (Some(at), Some(speed)) = (lead.first_contact_at, lead.speed_to_lead()) {
        page.field(
            "Contacted",
            &format!(
                "{} ({} after the form)",
                at.with_timezone(&app.tz).format("%Y-%m-%d %H:%M:%S"),
                span(speed)
            ),
        );
    }

    follow_up(app, lead, &mut page);

    // Notes first: they are what the team writes, and the answers can run long.
    page.heading("Notes");
    match &lead.notes {
        Some(notes) => page.text(Span::raw(""), notes, theme::VALUE),
        None if lead.erased_at.is_some() => page.text(Span::raw(""), "erased", theme::LABEL),
        None => page.text(Span::raw(""), "none yet: N adds a note", theme::LABEL),
    }
    answer_columns(app, lead, &mut page);
    if person_detail::submissions(app, lead, &mut page) {
        activity(app, lead.id, &mut page);
        return page;
    }
    page.heading("Answers");
    let Detail::Loaded(whole) = whole else {
        page.text(Span::raw(""), missing(whole), theme::LABEL);
        activity(app, lead.id, &mut page);
        return page;
    };
    if whole.meta.fields.is_empty() {
        let none = if lead.erased_at.is_some() {
            "erased"
        } else {
            "none"
        };
        page.text(Span::raw(""), none, theme::LABEL);
    }
    answers(whole, "", &mut page);
    activity(app, lead.id, &mut page);
    page
}

/// The answers the server names as columns, from the row: shown at once, before the raw
/// answers (which still list every answer, these included).
fn answer_columns(app: &App, lead: &LeadRow, page: &mut Page) {
    let columns = app.leads.answer_columns();
    if columns.is_empty() || lead.erased_at.is_some() {
        return;
    }
    page.heading("Columns");
    for column in &columns.0 {
        let label = Span::styled(format!("{}: ", column.name), theme::LABEL);
        match lead.answer(column) {
            Some(answer) => page.text(label, answer, theme::VALUE),
            None => page.text(label, "—", theme::LABEL),
        }
    }
}

/// Every form answer of `lead`, each line after `indent`.
pub(super) fn answers(lead: &Lead, indent: &str, page: &mut Page) {
    for (question, answer) in &lead.meta.fields {
        let question = Span::styled(format!("{indent}{question}: "), theme::LABEL);
        page.text(question, &answer.text(), theme::VALUE);
    }
}

/// "Next step  today 15:30 — Call back" (red once overdue) and "Attempts  3".
fn follow_up(app: &App, lead: &LeadRow, page: &mut Page) {
    let label = Span::styled(format!("{:<LABEL_WIDTH$}", "Next step"), theme::LABEL);
    match &lead.next_step {
        Some(step) => {
            let when = show_due(step.at, app.now, app.zone());
            let (style, late) = if step.is_due(app.now) {
                (theme::OVERDUE, " (overdue)")
            } else {
                (theme::VALUE, "")
            };
            page.text(label, &format!("{when} — {}{late}", step.what), style);
        }
        None => page.text(label, "none: F sets one", theme::LABEL),
    }
    page.field("Attempts", &lead.attempts.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{app, fetched, lead, loaded, now, row};

    #[test]
    fn scrolling_stops_at_the_last_row() {
        let ann = lead(1, "Ann", 0);
        let mut app = loaded(vec![ann.clone()], now());
        app.update(fetched(&ann));
        let area = Rect::new(0, 0, 40, 12);
        let mut buf = Buffer::empty(area);
        render(&app, &row(1, "Ann", 0), 1000, area, &mut buf);
        let screen: String = buf.content().iter().map(|cell| cell.symbol()).collect();
        // The last row is the history under the answers.
        assert!(screen.contains("loading…"), "{screen}");
        assert!(!screen.contains("Answers"), "scrolled past them: {screen}");
    }

    /// A 2 MB note used to be laid out whole on every frame, keeping a core busy.
    #[test]
    fn only_what_the_pane_can_show_is_laid_out() {
        let app = app();
        let mut long = row(1, "Ann", 0);
        long.notes = Some("word ".repeat(400_000).into());
        let mut many = row(2, "Bob", 0);
        many.notes = Some("line\n".repeat(400_000).into());
        for lead in [long, many] {
            let page = lines(&app, &lead, 60, 30);
            let laid_out: usize = page.lines.iter().map(Line::width).sum();
            assert!(laid_out <= 60 * 40, "{laid_out} columns for 30 rows of 60");
        }
    }
}
