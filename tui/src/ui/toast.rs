//! Short messages stacked at the bottom right, newest lowest, each expiring on its own.

use ratatui::buffer::Buffer;
use ratatui::layout::{Margin, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Padding, Paragraph, Widget, Wrap};

use crate::app::{App, Level};
use crate::theme;

const BORDERS: u16 = 2;

/// Stacks the toasts inside `area`'s border, at its bottom right.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let area = area.inner(Margin {
        vertical: 1,
        horizontal: 1,
    });
    let mut bottom = area.bottom();
    for toast in app.toasts.iter().rev() {
        let text_width = u16::try_from(Line::from(toast.text.as_str()).width()).unwrap_or(u16::MAX);
        let width = text_width.saturating_add(4).min(area.width);
        let inner_width = width.saturating_sub(4).max(1);
        // Long messages (errors with their fix) wrap instead of being cut off.
        let height = text_width.div_ceil(inner_width).max(1) + BORDERS;
        if bottom < area.top() + height {
            break;
        }
        let rect = Rect {
            x: area.right().saturating_sub(width),
            y: bottom - height,
            width,
            height,
        };
        let style = match toast.level {
            Level::Info => theme::BORDER_FOCUS,
            Level::Success => theme::OK,
            Level::Error => theme::ERROR,
        };
        Clear.render(rect, buf);
        Paragraph::new(toast.text.as_str())
            .wrap(Wrap { trim: true })
            .block(
                Block::bordered()
                    .border_style(style)
                    .padding(Padding::horizontal(1)),
            )
            .render(rect, buf);
        bottom -= height;
    }
}
