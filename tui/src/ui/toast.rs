//! Short messages stacked at the bottom right, newest lowest, each expiring on its own.

use ratatui::buffer::Buffer;
use ratatui::layout::{Margin, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::app::{App, Level};
use crate::theme;

const HEIGHT: u16 = 3;

/// Stacks the toasts inside `area`'s border, at its bottom right.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let area = area.inner(Margin {
        vertical: 1,
        horizontal: 1,
    });
    let mut bottom = area.bottom();
    for toast in app.toasts.iter().rev() {
        if bottom < area.top() + HEIGHT {
            break;
        }
        let text_width = u16::try_from(Line::from(toast.text.as_str()).width()).unwrap_or(u16::MAX);
        let width = text_width.saturating_add(4).min(area.width);
        let rect = Rect {
            x: area.right().saturating_sub(width),
            y: bottom - HEIGHT,
            width,
            height: HEIGHT,
        };
        let style = match toast.level {
            Level::Info => theme::BORDER_FOCUS,
            Level::Success => theme::OK,
            Level::Error => theme::ERROR,
        };
        Clear.render(rect, buf);
        Paragraph::new(toast.text.as_str())
            .block(Block::bordered().border_style(style))
            .render(rect, buf);
        bottom -= HEIGHT;
    }
}
