//! Everything about one lead: contact, every form answer, ad / campaign / form, times, notes.

use chrono::{DateTime, Utc};
use leadhook_shared::{Activity, ActivityKind, Lead};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use super::{age, cut_to_width, hint_text, span};
use crate::app::App;
use crate::{keys, sanitize, theme};

const LABEL_WIDTH: usize = 12;

pub fn render(app: &App, lead: &Lead, scroll: u16, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered()
        .border_style(theme::BORDER_FOCUS)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", lead.display_name()), theme::TITLE),
            Span::styled(format!("· {} ", lead.status), theme::status(lead.status)),
        ]))
        .title_bottom(
            Line::from(Span::styled(
                format!(" {} ", hint_text(keys::DETAIL.hints())),
                theme::LABEL,
            ))
            .right_aligned(),
        );
    let inner = block.inner(area);
    let scroll = usize::from(scroll);
    let page = lines(
        app,
        lead,
        usize::from(inner.width),
        scroll + usize::from(inner.height),
    );
    let full = page.is_full();
    let paragraph = Paragraph::new(page.lines).wrap(Wrap { trim: false });
    // Scrolling stops at the last row, which is known once the whole lead fitted.
    let scroll = if full {
        scroll
    } else {
        scroll.min(paragraph.line_count(inner.width).saturating_sub(1))
    };
    paragraph
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .block(block)
        .render(area, buf);
}

/// The lines of the pane, enough to fill its rows and no more: a note can be megabytes long,
/// and laying all of it out on every frame kept a core busy.
struct Page {
    width: usize,
    /// Rows still to fill, counting whole characters: word wrap needs as many or more.
    rows_left: usize,
    lines: Vec<Line<'static>>,
}

impl Page {
    fn new(width: usize, rows: usize) -> Page {
        Page {
            width: width.max(1),
            // One row more than asked, so the last row is never cut short.
            rows_left: rows + 1,
            lines: Vec::new(),
        }
    }

    fn is_full(&self) -> bool {
        self.rows_left == 0
    }

    /// Adds `text` after `prefix`, one line per line of `text`, cut to the rows left.
    fn text(&mut self, prefix: Span<'static>, text: &str, style: Style) {
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

    fn field(&mut self, label: &str, value: &str) {
        let label = Span::styled(format!("{label:<LABEL_WIDTH$}"), theme::LABEL);
        self.text(label, value, theme::VALUE);
    }

    fn heading(&mut self, title: &'static str) {
        self.text(Span::styled(title, theme::TITLE), "", theme::VALUE);
    }
}

fn or_dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("—")
}

fn lines(app: &App, lead: &Lead, width: usize, rows: usize) -> Page {
    let mut page = Page::new(width, rows);
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

    if let Some(at) = lead.erased_at {
        page.field("Erased", &when(at));
        page.text(
            Span::raw(""),
            "the person's name, contact details, answers and notes were erased",
            theme::LABEL,
        );
    }
    page.field("Phone", or_dash(&lead.meta.phone));
    page.field("Email", or_dash(&lead.meta.email));
    page.field("Form", &named(&lead.meta.form_name, &lead.meta.form_id));
    let source = match (&lead.meta.platform, lead.meta.is_organic) {
        (Some(platform), true) => format!(" · {platform}, organic"),
        (Some(platform), false) => format!(" · {platform}, paid"),
        (None, _) => String::new(),
    };
    page.field(
        "Ad",
        &(named(&lead.meta.ad_name, &lead.meta.ad_id) + &source),
    );
    page.field("Ad set", &named(&lead.meta.adset_name, &lead.meta.adset_id));
    page.field(
        "Campaign",
        &named(&lead.meta.campaign_name, &lead.meta.campaign_id),
    );
    page.field("Created", &when(lead.meta.created_at));
    page.field("Received", &when(lead.received_at));
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

    // Notes first: they are what the team writes, and the answers can run long.
    page.heading("Notes");
    match &lead.notes {
        Some(notes) => page.text(Span::raw(""), notes, theme::VALUE),
        None if lead.erased_at.is_some() => page.text(Span::raw(""), "erased", theme::LABEL),
        None => page.text(Span::raw(""), "none yet: N adds a note", theme::LABEL),
    }
    page.heading("Answers");
    if lead.meta.fields.is_empty() {
        let none = if lead.erased_at.is_some() {
            "erased"
        } else {
            "none"
        };
        page.text(Span::raw(""), none, theme::LABEL);
    }
    for (question, answer) in &lead.meta.fields {
        let question = Span::styled(format!("{question}: "), theme::LABEL);
        page.text(question, &answer.text(), theme::VALUE);
    }
    activity(app, lead, &mut page);
    page
}

/// The lead's history, oldest first, once the server has sent it.
fn activity(app: &App, lead: &Lead, page: &mut Page) {
    page.heading("Activity");
    let Some(history) = app.team.activity.as_ref().filter(|a| a.lead == lead.id) else {
        page.text(Span::raw(""), "loading…", theme::LABEL);
        return;
    };
    if let Some(error) = &history.error {
        page.text(Span::raw(""), &format!("not loaded: {error}"), theme::ERROR);
    } else if history.entries.is_empty() {
        let text = if history.loading {
            "loading…"
        } else {
            "none"
        };
        page.text(Span::raw(""), text, theme::LABEL);
    }
    for entry in &history.entries {
        let when = entry.at.with_timezone(&app.tz).format("%m-%d %H:%M ");
        let who = Span::styled(format!("{when}{:<10} ", entry.actor), theme::LABEL);
        page.text(who, &change(entry), theme::VALUE);
    }
}

/// "status New Lead → Contacted", "claimed", "assigned alice → bob".
fn change(entry: &Activity) -> String {
    let value = |value: &Option<String>| value.clone().unwrap_or_else(|| "unowned".to_string());
    match entry.kind {
        ActivityKind::Stored => "stored".to_string(),
        ActivityKind::Redelivered => "delivered again by Meta".to_string(),
        ActivityKind::Status => format!(
            "status {} → {}",
            entry.old.as_deref().unwrap_or("—"),
            entry.new.as_deref().unwrap_or("—")
        ),
        ActivityKind::Notes => "notes changed".to_string(),
        ActivityKind::Claim => "claimed".to_string(),
        ActivityKind::Release => "released".to_string(),
        ActivityKind::Assign => format!("assigned {} → {}", value(&entry.old), value(&entry.new)),
        ActivityKind::Erase => "erased".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{app, lead};

    #[test]
    fn scrolling_stops_at_the_last_row() {
        let area = Rect::new(0, 0, 40, 12);
        let mut buf = Buffer::empty(area);
        render(&app(), &lead(1, "Ann", 0), 1000, area, &mut buf);
        let screen: String = buf.content().iter().map(|cell| cell.symbol()).collect();
        // The last row is the history under the answers.
        assert!(screen.contains("loading…"), "{screen}");
    }

    /// A 2 MB note used to be laid out whole on every frame, keeping a core busy.
    #[test]
    fn only_what_the_pane_can_show_is_laid_out() {
        let app = app();
        let mut long = lead(1, "Ann", 0);
        long.notes = Some("word ".repeat(400_000));
        let mut many = lead(2, "Bob", 0);
        many.notes = Some("line\n".repeat(400_000));
        for lead in [long, many] {
            let page = lines(&app, &lead, 60, 30);
            let laid_out: usize = page.lines.iter().map(Line::width).sum();
            assert!(laid_out <= 60 * 40, "{laid_out} columns for 30 rows of 60");
        }
    }
}
