//! Lead text is written by strangers. What every medium needs first, whatever it escapes after:
//! the characters that make a terminal, a chat client or a mail reader do something other than
//! show text, and one line of text without them. The dashboard's other escapes are in its
//! `sanitize` module; the server's chat and e-mail channels build on [`one_line`].

use std::borrow::Cow;

/// Characters that make a terminal, a spreadsheet or a text renderer do something other than
/// show text: C0 and C1 controls, DEL (all `char::is_control`), the bidirectional embeddings,
/// overrides, isolates and marks that reorder what follows, and the Unicode line and paragraph
/// separators.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Text for one line (of a screen, a chat message, a subject): tabs and line breaks become spaces, other hazards go.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' => Some(' '),
                c if is_hazard(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazards_are_controls_and_bidi_and_line_separators_only() {
        for c in [
            '\0', '\x1b', '\x7f', '\u{85}', '\u{9b}', '\u{202e}', '\u{2067}', '\u{200f}',
        ] {
            assert!(is_hazard(c), "{c:?}");
        }
        for c in ['a', 'é', '—', '€', '\u{fffd}', '中', ' '] {
            assert!(!is_hazard(c), "{c:?}");
        }
    }

    #[test]
    fn one_line_text_is_one_line_without_hazards() {
        assert_eq!(one_line("Jane Doe"), Cow::Borrowed("Jane Doe"));
        assert_eq!(one_line("a\tb\nc\u{202e}d\x1b[2J"), "a b cd[2J");
    }
}
