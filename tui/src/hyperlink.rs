//! Terminal hyperlinks (OSC 8) on the details' phone and e-mail.
//!
//! ratatui's buffer holds characters and styles, not links, so the link is written after each
//! frame, the way ratatui's `hyperlink` example does it but outside the buffer: drawing records
//! where each linked text went ([`ScreenLink`]), and once the frame is on the terminal the
//! cells that still show that text are written again between `ESC ] 8 ; ; URL ESC \` and
//! `ESC ] 8 ; ; ESC \`, the cursor saved and put back around it. ratatui redraws only cells
//! that changed, so the links are written again only when they or their cells change (a
//! terminal may drop a mouse selection on cells written again), and cells that were linked
//! and are not any more are written again plainly.
//!
//! The URL comes from [`crate::reach`], built from checked parts; it is checked once more here
//! to be printable ASCII, so no control character or terminator can end the sequence early. The
//! text between is the buffer's own cells, which drawing has already neutralised.

use std::io::{self, Write};

use clap::ValueEnum;
use crossterm::cursor::{RestorePosition, SavePosition};
use crossterm::queue;
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use serde::Deserialize;
use unicode_width::UnicodeWidthStr;

/// `LEADHOOK_HYPERLINKS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HyperlinkMode {
    /// On when the output is a terminal whose TERM is set and is not dumb or linux
    #[default]
    Auto,
    /// Always, whatever the output and TERM
    On,
    /// For an old terminal that prints the sequences as text
    Off,
}

/// Whether to write links: terminals that do not know OSC 8 ignore it, but the Linux console
/// and `dumb` ones may show it as text, and a pipe gets none.
pub fn enabled(mode: HyperlinkMode, stdout_is_tty: bool, term: Option<&str>) -> bool {
    match mode {
        HyperlinkMode::On => true,
        HyperlinkMode::Off => false,
        HyperlinkMode::Auto => {
            stdout_is_tty && term.is_some_and(|term| !matches!(term, "" | "dumb" | "linux"))
        }
    }
}

/// A linked text as drawing placed it: `text` from column `x` of row `y`, on one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenLink {
    pub x: u16,
    pub y: u16,
    pub text: String,
    pub url: String,
}

/// Cells to write, each with its column and row.
pub type Cells = Vec<(u16, u16, Cell)>;

/// What a frame's links were written as: the cells of each link, and the frame's area (a new
/// size redraws the whole screen, links gone).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Linked {
    area: Rect,
    links: Vec<(String, Cells)>,
}

/// What to write after a frame: cells to write plainly, then each link's cells inside OSC 8.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Plan {
    pub unlink: Cells,
    pub links: Vec<(String, Cells)>,
}

/// Where `url` may go between `ESC ] 8 ; ;` and `ESC \`: printable ASCII only.
fn safe_url(url: &str) -> bool {
    !url.is_empty() && url.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// The cells of `buf` that show `link.text` where drawing put it, or `None` when something
/// else covers it now (a popup) or it left the screen.
fn cells_of(link: &ScreenLink, buf: &Buffer) -> Option<Cells> {
    let mut cells = Vec::new();
    let mut shown = String::new();
    let mut x = link.x;
    let end = link.x.checked_add(u16::try_from(link.text.width()).ok()?)?;
    while x < end {
        let cell = buf.cell((x, link.y))?;
        shown.push_str(cell.symbol());
        cells.push((x, link.y, cell.clone()));
        // A wide character hides the cell after it.
        let width = u16::try_from(cell.symbol().width()).unwrap_or(1).max(1);
        x = x.saturating_add(width);
    }
    (shown == link.text && !cells.is_empty()).then_some(cells)
}

/// What to write after the frame in `buf` (its `area`) whose drawing placed `links`, given
/// what the last frame wrote; `None` when nothing changed. `linked` becomes this frame's.
pub fn plan(linked: &mut Linked, area: Rect, links: &[ScreenLink], buf: &Buffer) -> Option<Plan> {
    let now = Linked {
        area,
        links: links
            .iter()
            .filter(|link| safe_url(&link.url))
            .filter_map(|link| Some((link.url.clone(), cells_of(link, buf)?)))
            .collect(),
    };
    if now == *linked {
        return None;
    }
    let before = std::mem::replace(linked, now);
    let kept: Vec<(u16, u16)> = linked
        .links
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|(x, y, _)| (*x, *y)))
        .collect();
    // After a resize ratatui drew every cell afresh: nothing of the old links is left.
    let unlink = if before.area == area {
        before
            .links
            .iter()
            .flat_map(|(_, cells)| cells.iter().map(|(x, y, _)| (*x, *y)))
            .filter(|at| !kept.contains(at))
            .filter_map(|(x, y)| Some((x, y, buf.cell((x, y))?.clone())))
            .collect()
    } else {
        Vec::new()
    };
    let plan = Plan {
        unlink,
        links: linked.links.clone(),
    };
    (!plan.unlink.is_empty() || !plan.links.is_empty()).then_some(plan)
}

/// A backend that can carry a [`Plan`] out.
pub trait LinkOut {
    fn write_links(&mut self, plan: &Plan) -> io::Result<()>;
}

impl<W: Write> LinkOut for CrosstermBackend<W> {
    fn write_links(&mut self, plan: &Plan) -> io::Result<()> {
        queue!(self, SavePosition)?;
        self.draw(plan.unlink.iter().map(|(x, y, cell)| (*x, *y, cell)))?;
        for (url, cells) in &plan.links {
            // `plan` only keeps safe URLs; checked again where the bytes are written.
            if !safe_url(url) {
                continue;
            }
            write!(self, "\x1b]8;;{url}\x1b\\")?;
            self.draw(cells.iter().map(|(x, y, cell)| (*x, *y, cell)))?;
            write!(self, "\x1b]8;;\x1b\\")?;
        }
        queue!(self, RestorePosition)?;
        Write::flush(self)
    }
}

/// Snapshot tests see the buffer only.
impl LinkOut for TestBackend {
    fn write_links(&mut self, _plan: &Plan) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_on_in_a_terminal_that_names_itself() {
        assert!(enabled(HyperlinkMode::Auto, true, Some("xterm-256color")));
        assert!(!enabled(HyperlinkMode::Auto, false, Some("xterm-256color")));
        assert!(!enabled(HyperlinkMode::Auto, true, Some("linux")));
        assert!(!enabled(HyperlinkMode::Auto, true, Some("dumb")));
        assert!(!enabled(HyperlinkMode::Auto, true, None));
        assert!(enabled(HyperlinkMode::On, false, None));
        assert!(!enabled(HyperlinkMode::Off, true, Some("xterm")));
    }

    fn buffer_with(text: &str, x: u16, y: u16) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 30, 3));
        buf.set_string(x, y, text, ratatui::style::Style::new());
        buf
    }

    fn link(text: &str, url: &str) -> ScreenLink {
        ScreenLink {
            x: 2,
            y: 1,
            text: text.into(),
            url: url.into(),
        }
    }

    #[test]
    fn a_link_is_written_once_and_unlinked_when_it_goes() {
        let area = Rect::new(0, 0, 30, 3);
        let buf = buffer_with("+1 555 0100", 2, 1);
        let links = [link("+1 555 0100", "tel:+15550100")];
        let mut linked = Linked::default();
        let first = plan(&mut linked, area, &links, &buf).expect("new link");
        assert_eq!(first.links.len(), 1);
        assert_eq!(first.links[0].1.len(), 11);
        assert!(first.unlink.is_empty());
        assert_eq!(plan(&mut linked, area, &links, &buf), None, "unchanged");

        // A popup covers it: the cells are written again without the link.
        let covered = buffer_with("Notes popup", 2, 1);
        let gone = plan(&mut linked, area, &links, &covered).expect("changed");
        assert!(gone.links.is_empty());
        assert_eq!(gone.unlink.len(), 11);
        assert_eq!(gone.unlink[0].2.symbol(), "N");
    }

    #[test]
    fn a_url_with_control_characters_is_never_written() {
        let area = Rect::new(0, 0, 30, 3);
        let buf = buffer_with("x", 2, 1);
        let mut linked = Linked::default();
        for url in ["tel:+1\x07", "tel:+1\x1b\\", "tel:+1 2", "", "tel:+1\u{9c}"] {
            assert_eq!(plan(&mut linked, area, &[link("x", url)], &buf), None);
        }
    }
}
