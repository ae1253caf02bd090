//! The details' phone and e-mail, with their links: the number to `tel:` and a `WhatsApp`
//! beside it to `https://wa.me/`, the address to `mailto:`, each only when [`crate::reach`]
//! could build the address from checked parts. Where each link lands on the screen is kept in
//! [`App::screen_links`] for the runtime, which writes the links after the frame
//! ([`crate::hyperlink`]).

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::detail::Page;
use crate::app::App;
use crate::hyperlink::ScreenLink;
use crate::leads::LeadRow;
use crate::reach::Channel;
use crate::theme;

/// A linked text on line `line` of the details, from column `x` of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    pub line: usize,
    pub x: usize,
    pub text: String,
    pub url: String,
}

pub(super) fn phone_and_email(lead: &LeadRow, page: &mut Page) {
    match lead.phone_shown(usize::MAX) {
        Some((phone, true)) => page.field("Phone", &format!("? {phone} (not a valid number)")),
        Some((phone, false)) => match (Channel::Phone.url(lead), Channel::WhatsApp.url(lead)) {
            (Ok(tel), Ok(whatsapp)) => page.linked_field(
                "Phone",
                vec![
                    (phone, theme::VALUE, Some(tel)),
                    (" · ".into(), theme::LABEL, None),
                    ("WhatsApp".into(), theme::LABEL, Some(whatsapp)),
                ],
            ),
            _ => page.field("Phone", &phone),
        },
        None => page.field("Phone", "—"),
    }
    match (lead.email.as_deref(), Channel::Email.url(lead)) {
        (Some(email), Ok(mailto)) => page.linked_field(
            "Email",
            vec![(email.trim().to_string(), theme::VALUE, Some(mailto))],
        ),
        (Some(email), Err(_)) => page.field("Email", email),
        (None, _) => page.field("Email", "—"),
    }
}

/// Each link of `page` with the row its line starts on, the lines above wrapped at `width`.
pub(super) fn rows_of_links(page: &mut Page, width: u16) -> Vec<(usize, PageLink)> {
    let links = std::mem::take(&mut page.links);
    links
        .into_iter()
        .map(|link| {
            let above: Vec<Line> = page.lines[..link.line].to_vec();
            let row = Paragraph::new(above)
                .wrap(Wrap { trim: false })
                .line_count(width);
            (row, link)
        })
        .collect()
}

/// Keeps the links that show in `inner` scrolled by `scroll` rows, where they show.
pub(super) fn place_links(app: &App, links: Vec<(usize, PageLink)>, inner: Rect, scroll: usize) {
    let mut screen = app.screen_links.borrow_mut();
    for (row, link) in links {
        let Some(row) = row.checked_sub(scroll) else {
            continue;
        };
        let (Ok(row), Ok(x)) = (u16::try_from(row), u16::try_from(link.x)) else {
            continue;
        };
        if row >= inner.height {
            continue;
        }
        screen.push(ScreenLink {
            x: inner.x.saturating_add(x),
            y: inner.y + row,
            text: link.text,
            url: link.url,
        });
    }
}
