//! How the lead table shares its width: every column has a least and a wanted width and a rank.
//! When the table is narrow the lowest-ranked columns go first (of equal ranks, the rightmost);
//! the space left is handed out from the highest rank down, so the name and the age are the last
//! to give way.

/// One column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub title: &'a str,
    /// Narrower than this the column is dropped rather than shown.
    pub least: u16,
    /// What it gets before any column ranked below it grows past its least width.
    pub wanted: u16,
    /// Higher ranks keep their room longer; [`KEPT`] and above are never dropped.
    pub rank: u8,
    /// Takes a share of the width left once every shown column has what it wanted.
    pub grows: bool,
}

/// Columns ranked this high are shown however narrow the table.
pub const KEPT: u8 = 7;

/// The width of each column, `None` for those that do not fit. `spacing` separates shown columns.
pub fn widths(columns: &[Column<'_>], available: u16, spacing: u16) -> Vec<Option<u16>> {
    let mut shown: Vec<bool> = vec![true; columns.len()];
    let needed = |shown: &[bool], width: fn(&Column) -> u16| -> u32 {
        let count = shown.iter().filter(|shown| **shown).count() as u32;
        let widths: u32 = columns
            .iter()
            .zip(shown)
            .filter(|(_, shown)| **shown)
            .map(|(column, _)| u32::from(width(column)))
            .sum();
        widths + count.saturating_sub(1) * u32::from(spacing)
    };
    let mut by_rank: Vec<usize> = (0..columns.len()).collect();
    by_rank.sort_by_key(|at| (columns[*at].rank, std::cmp::Reverse(*at)));
    for &at in &by_rank {
        if needed(&shown, |column| column.least) <= u32::from(available) {
            break;
        }
        if columns[at].rank < KEPT {
            shown[at] = false;
        }
    }
    let mut left = u32::from(available).saturating_sub(needed(&shown, |column| column.least));
    let mut widths: Vec<Option<u16>> = columns
        .iter()
        .zip(&shown)
        .map(|(column, shown)| shown.then_some(column.least))
        .collect();
    for &at in by_rank.iter().rev() {
        if let Some(width) = &mut widths[at] {
            let more = u32::from(columns[at].wanted.saturating_sub(*width)).min(left);
            *width += more as u16;
            left -= more;
        }
    }
    let growing: Vec<usize> = (0..columns.len())
        .filter(|at| columns[*at].grows && widths[*at].is_some())
        .collect();
    if let Some(count) = u32::try_from(growing.len()).ok().filter(|count| *count > 0) {
        for (nth, at) in growing.iter().enumerate() {
            // The first growing columns take the remainder.
            let share = left / count + u32::from((nth as u32) < left % count);
            if let Some(width) = &mut widths[*at] {
                *width = width.saturating_add(u16::try_from(share).unwrap_or(u16::MAX));
            }
        }
    }
    widths
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn column(title: &'static str, least: u16, wanted: u16, rank: u8) -> Column<'static> {
        Column {
            title,
            least,
            wanted,
            rank,
            grows: false,
        }
    }

    const NAME: Column<'static> = Column {
        grows: true,
        ..column("Name", 10, 20, 8)
    };
    const COLUMNS: [Column<'static>; 4] = [
        column("Age", 4, 4, 9),
        NAME,
        column("Email", 12, 24, 3),
        column("Form", 8, 16, 2),
    ];

    #[test]
    fn wide_tables_give_every_column_what_it_wants_and_the_rest_to_growing_ones() {
        // 4 + 20 + 24 + 16 wanted, 3 spaces: 67; ten columns to spare go to the name.
        assert_eq!(
            widths(&COLUMNS, 77, 1),
            [Some(4), Some(30), Some(24), Some(16)]
        );
    }

    #[test]
    fn the_name_gets_its_width_before_lower_ranked_columns() {
        // Least widths: 4 + 10 + 12 + 8 + 3 spaces = 37; 13 more go to the name first.
        assert_eq!(
            widths(&COLUMNS, 50, 1),
            [Some(4), Some(20), Some(15), Some(8)]
        );
    }

    #[test]
    fn narrow_tables_drop_the_lowest_rank_first_and_never_the_name_or_age() {
        assert_eq!(widths(&COLUMNS, 30, 1), [Some(4), Some(12), Some(12), None]);
        assert_eq!(widths(&COLUMNS, 20, 1), [Some(4), Some(15), None, None]);
        assert_eq!(widths(&COLUMNS, 5, 1), [Some(4), Some(10), None, None]);
    }

    /// The answer columns share the lowest rank: the last of them goes first.
    #[test]
    fn of_equal_ranks_the_rightmost_goes_first() {
        let answers = [column("budget", 6, 10, 1), column("zip", 6, 10, 1)];
        let mut table = COLUMNS.to_vec();
        table.extend(answers);
        // Least widths: 37 + 2 × (6 + 1) = 51.
        assert_eq!(
            widths(&table, 44, 1),
            [Some(4), Some(10), Some(12), Some(8), Some(6), None]
        );
        assert_eq!(
            widths(&table, 43, 1),
            [Some(4), Some(16), Some(12), Some(8), None, None]
        );
    }
}
