//! Short messages at the bottom right of the area they are given, newest lowest, each expiring
//! on its own. A toast is a coloured bar and its text, at most [`MAX_LINES`] rows: small enough
//! to leave the table readable, and the caller never gives them the detail pane's text.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Widget, Wrap};

use crate::app::{App, Level, Toast};
use crate::theme;

/// Rows one toast may take; longer text is cut.
const MAX_LINES: u16 = 3;
/// The bar, the padding after it and one blank at the end.
const CHROME: u16 = 3;

/// The rows every toast needs in `width` columns.
pub fn height(app: &App, width: u16) -> u16 {
    app.toasts.iter().map(|toast| size(toast, width).1).sum()
}

fn size(toast: &Toast, width: u16) -> (u16, u16) {
    let text_width = u16::try_from(Line::from(toast.text.as_str()).width()).unwrap_or(u16::MAX);
    let width = text_width.saturating_add(CHROME).min(width);
    let room = width.saturating_sub(CHROME).max(1);
    (width, text_width.div_ceil(room).clamp(1, MAX_LINES))
}

/// Stacks the toasts at the bottom right of `area`, as many as fit.
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let mut bottom = area.bottom();
    for toast in app.toasts.iter().rev() {
        let (width, height) = size(toast, area.width);
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
            .style(theme::TOAST)
            .block(
                Block::new()
                    .borders(Borders::LEFT)
                    .border_type(ratatui::widgets::BorderType::Thick)
                    .border_style(style)
                    .padding(Padding::left(1)),
            )
            .render(rect, buf);
        bottom -= height;
    }
}
