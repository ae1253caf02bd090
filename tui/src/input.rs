//! A one-line text field: the search box, the notes editor and the new-lead form use it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    value: String,
    /// Cursor position in characters.
    cursor: usize,
    /// The value is a suggestion: the first character typed replaces it, as over a selection.
    suggested: bool,
}

impl TextInput {
    pub fn new(value: &str) -> TextInput {
        TextInput {
            value: value.to_string(),
            cursor: value.chars().count(),
            suggested: false,
        }
    }

    /// A field holding `value` until the user types: then what they type replaces it. Moving
    /// the cursor or deleting first keeps it for editing.
    pub fn suggesting(value: &str) -> TextInput {
        TextInput {
            suggested: true,
            ..TextInput::new(value)
        }
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// The text before and after the cursor.
    pub fn split_at_cursor(&self) -> (&str, &str) {
        self.value.split_at(self.byte_index())
    }

    /// Applies an editing key. Returns false for keys a text field doesn't use. Ctrl-U clears
    /// what is before the cursor, as in a shell.
    pub fn handle(&mut self, key: &KeyEvent) -> bool {
        let suggested = std::mem::take(&mut self.suggested);
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('u') {
            let at = self.byte_index();
            self.value.replace_range(..at, "");
            self.cursor = 0;
            return true;
        }
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            self.suggested = suggested;
            return false;
        }
        if suggested && matches!(key.code, KeyCode::Char(_)) {
            *self = TextInput::default();
        }
        match key.code {
            KeyCode::Char(c) => {
                let at = self.byte_index();
                self.value.insert(at, c);
                self.cursor += 1;
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte_index();
                self.value.remove(at);
            }
            KeyCode::Delete if self.cursor < self.value.chars().count() => {
                let at = self.byte_index();
                self.value.remove(at);
            }
            KeyCode::Left => self.cursor = self.cursor.saturating_sub(1),
            KeyCode::Right => self.cursor = (self.cursor + 1).min(self.value.chars().count()),
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.value.chars().count(),
            KeyCode::Backspace | KeyCode::Delete => {}
            _ => {
                self.suggested = suggested;
                return false;
            }
        }
        true
    }

    fn byte_index(&self) -> usize {
        self.value
            .char_indices()
            .nth(self.cursor)
            .map_or(self.value.len(), |(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(input: &mut TextInput, code: KeyCode) {
        input.handle(&KeyEvent::from(code));
    }

    #[test]
    fn a_suggestion_is_replaced_by_typing_and_kept_by_editing() {
        let mut typed_over = TextInput::suggesting("Call back");
        press(&mut typed_over, KeyCode::Char('Q'));
        press(&mut typed_over, KeyCode::Char('!'));
        assert_eq!(typed_over.value(), "Q!");

        let mut edited = TextInput::suggesting("Call back");
        press(&mut edited, KeyCode::Backspace);
        press(&mut edited, KeyCode::Char('K'));
        assert_eq!(edited.value(), "Call bacK");
    }

    #[test]
    fn ctrl_u_clears_before_the_cursor() {
        let mut input = TextInput::new("Call back");
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Left);
        input.handle(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        assert_eq!(input.value(), "ck");
        press(&mut input, KeyCode::Char('x'));
        assert_eq!(input.value(), "xck");
    }

    #[test]
    fn edits_at_the_cursor_with_multibyte_text() {
        let mut input = TextInput::new("José");
        press(&mut input, KeyCode::Left);
        press(&mut input, KeyCode::Backspace);
        press(&mut input, KeyCode::Char('e'));
        assert_eq!(input.value(), "Joeé");
        press(&mut input, KeyCode::Home);
        press(&mut input, KeyCode::Delete);
        assert_eq!(input.value(), "oeé");
        press(&mut input, KeyCode::End);
        press(&mut input, KeyCode::Char('!'));
        assert_eq!(input.value(), "oeé!");
        assert_eq!(input.split_at_cursor(), ("oeé!", ""));
        press(&mut input, KeyCode::Left);
        assert_eq!(input.split_at_cursor(), ("oeé", "!"));
    }
}
