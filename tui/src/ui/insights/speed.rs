//! The speed-to-lead histogram: contacted leads per bucket of time to the first contact, one row
//! a bucket, with a line where five minutes are past.

use leadhook_shared::insights::{PAST_FIVE_MINUTES, SPEED_BUCKET_LABELS};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::theme;

/// Rows it takes: a title, a row per bucket and the five-minute line.
pub const HEIGHT: u16 = SPEED_BUCKET_LABELS.len() as u16 + 2;

/// The share of `buckets` within five minutes, as a whole percentage.
pub fn within_five_minutes(buckets: &[u64]) -> Option<u64> {
    let total: u64 = buckets.iter().sum();
    let fast: u64 = buckets.iter().take(PAST_FIVE_MINUTES).sum();
    (total > 0).then(|| (fast * 100 + total / 2) / total)
}

pub fn render(buckets: &[u64], area: Rect, buf: &mut Buffer) {
    let mut title = vec![Span::styled("Speed to lead", theme::TITLE)];
    if let Some(share) = within_five_minutes(buckets) {
        title.push(Span::styled(
            format!(" · {share}% within 5 min"),
            theme::LABEL,
        ));
    }
    Line::from(title).render(area, buf);
    let label_width = SPEED_BUCKET_LABELS
        .iter()
        .map(|label| label.chars().count())
        .max()
        .unwrap_or(0);
    let max = buckets.iter().copied().max().unwrap_or(0);
    let count_width = max.to_string().len();
    let bar_room = usize::from(area.width).saturating_sub(label_width + count_width + 3);
    let mut y = area.y + 1;
    for (at, label) in SPEED_BUCKET_LABELS.iter().enumerate() {
        if at == PAST_FIVE_MINUTES {
            let text = format!("{:╌<1$}", "╌╌ 5 min ", usize::from(area.width));
            buf.set_stringn(
                area.x,
                y,
                text,
                usize::from(area.width),
                theme::FIVE_MINUTES,
            );
            y += 1;
        }
        if y >= area.bottom() {
            return;
        }
        let count = buckets.get(at).copied().unwrap_or(0);
        let length = if max == 0 {
            0
        } else {
            (count as usize * bar_room).div_ceil(max as usize)
        };
        let line = Line::from(vec![
            Span::styled(format!("{label:>label_width$} "), theme::LABEL),
            Span::styled("█".repeat(length), theme::SPEED_BAR),
            Span::styled(format!(" {count}"), theme::VALUE),
        ]);
        line.render(
            Rect {
                y,
                height: 1,
                ..area
            },
            buf,
        );
        y += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_within_five_minutes_counts_the_first_two_buckets() {
        assert_eq!(within_five_minutes(&[3, 3, 2, 0, 0, 0, 0, 2]), Some(60));
        assert_eq!(within_five_minutes(&[0; 8]), None);
    }
}
