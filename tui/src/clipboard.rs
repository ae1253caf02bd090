//! `y` copies through the terminal with OSC 52, so it works over SSH: the terminal the user
//! sits at sets its clipboard from a base64 payload.
//!
//! Inside tmux (checked with tmux 3.3a) neither form gets out by default (`set-clipboard
//! external`, `allow-passthrough off`): with `set -g set-clipboard on` tmux takes the plain
//! sequence (and keeps it as a paste buffer), with `set -g allow-passthrough on` it forwards the
//! one wrapped in its DCS passthrough. Inside tmux both are written, so either setting works;
//! with both on, the clipboard is set twice to the same text.

use std::io::Write;

use crossterm::Command;
use crossterm::clipboard::CopyToClipboard;

/// The bytes that ask the terminal to put `text` on the clipboard.
pub fn sequence(text: &str, in_tmux: bool) -> String {
    let mut plain = String::new();
    // Writing into a String cannot fail.
    let _ = CopyToClipboard::to_clipboard_from(text).write_ansi(&mut plain);
    if !in_tmux {
        return plain;
    }
    // tmux passes on a DCS "tmux;" payload with every ESC doubled.
    let wrapped = format!("\x1bPtmux;{}\x1b\\", plain.replace('\x1b', "\x1b\x1b"));
    plain + &wrapped
}

/// Writes the OSC 52 sequence for `text` to the terminal.
pub fn copy(text: &str) -> std::io::Result<()> {
    let in_tmux = std::env::var_os("TMUX").is_some();
    let mut stdout = std::io::stdout();
    stdout.write_all(sequence(text, in_tmux).as_bytes())?;
    stdout.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_payload_is_base64_in_osc_52() {
        // "+15550100" in base64.
        assert_eq!(sequence("+15550100", false), "\x1b]52;c;KzE1NTUwMTAw\x1b\\");
    }

    #[test]
    fn inside_tmux_the_passthrough_form_follows_the_plain_one() {
        let plain = "\x1b]52;c;KzE1NTUwMTAw\x1b\\";
        let wrapped = "\x1bPtmux;\x1b\x1b]52;c;KzE1NTUwMTAw\x1b\x1b\\\x1b\\";
        assert_eq!(sequence("+15550100", true), format!("{plain}{wrapped}"));
    }
}
