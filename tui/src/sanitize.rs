//! Lead text is written by strangers: whoever fills in the Facebook form picks the name, email,
//! phone and every answer. Everything that leaves the dashboard goes through here first, with the
//! escaping its medium needs: the screen, `watch`'s TSV and JSON lines, CSV exports and desktop
//! notifications.

pub use leadhook_shared::plain_text::{is_hazard, one_line as screen};

/// One field of a tab-separated line: a backslash escape for the backslash, tab, newline and
/// carriage return (so one lead stays one record and the text can be recovered), `\u{…}` for
/// every other hazard.
pub fn tsv_field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_hazard(c) => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A line of JSON with the hazards serde_json leaves raw (C1, DEL, bidirectional controls,
/// line separators) written as `\uXXXX`. JSON text has such characters only inside strings,
/// where the escape means the same character, so the value reads back unchanged.
pub fn json(line: String) -> String {
    if !line.chars().any(is_hazard) {
        return line;
    }
    let mut out = String::with_capacity(line.len() + 16);
    for c in line.chars() {
        if is_hazard(c) {
            // Every hazard is in the Basic Multilingual Plane: one \u escape each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// First characters that make a spreadsheet read a cell as a formula (OWASP's CSV injection
/// list, with the full-width forms some spreadsheets also accept).
const FORMULA_STARTS: [char; 11] = ['=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠'];

/// One CSV cell: hazards other than tab and line breaks go, and a cell that a spreadsheet would
/// run as a formula gets a leading `'`, which spreadsheets show as text (`'+15551234567`).
pub fn spreadsheet_cell(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || !is_hazard(c))
        .collect();
    if kept.starts_with(FORMULA_STARTS) {
        format!("'{kept}")
    } else {
        kept
    }
}

/// Summary or body of a desktop notification, for a daemon that renders body markup: `&`, `<`
/// and `>` as entities, hazards except line breaks removed (D-Bus strings cannot hold NUL).
pub fn notification(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push('\n'),
            c if is_hazard(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Text for the clipboard (`y`): what gets pasted into a dialer or a mail client, so one line
/// with every hazard gone and no surrounding blanks.
pub fn clipboard(text: &str) -> String {
    text.chars()
        .filter(|c| !is_hazard(*c))
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_escapes_are_reversible_and_visible() {
        assert_eq!(tsv_field("a\\tb\tc\nd"), "a\\\\tb\\tc\\nd");
        assert_eq!(tsv_field("x\u{9b}y\u{202e}"), "x\\u{009b}y\\u{202e}");
    }

    #[test]
    fn json_escapes_only_hazards() {
        let line = serde_json::to_string("é\u{9b}\u{202e}\x7f\u{2028}").unwrap();
        let escaped = json(line);
        assert_eq!(escaped, "\"é\\u009b\\u202e\\u007f\\u2028\"");
        assert_eq!(
            serde_json::from_str::<String>(&escaped).unwrap(),
            "é\u{9b}\u{202e}\x7f\u{2028}"
        );
    }

    #[test]
    fn spreadsheet_cells_never_start_a_formula() {
        assert_eq!(spreadsheet_cell("=1+1"), "'=1+1");
        assert_eq!(spreadsheet_cell("＝1+1"), "'＝1+1");
        assert_eq!(spreadsheet_cell("+15551234567"), "'+15551234567");
        assert_eq!(spreadsheet_cell("Jane = Doe"), "Jane = Doe");
        assert_eq!(spreadsheet_cell("line\none\u{202e}"), "line\none");
        assert_eq!(spreadsheet_cell("\u{202e}=1+1"), "'=1+1");
        assert_eq!(spreadsheet_cell(""), "");
    }

    #[test]
    fn clipboard_text_is_one_clean_line() {
        assert_eq!(
            clipboard(" +1 555\u{202e}0100\n\x1b]52;c;eA==\x07 "),
            "+1 5550100]52;c;eA=="
        );
    }

    #[test]
    fn notification_markup_is_escaped_and_nul_removed() {
        assert_eq!(
            notification("<b>Eve</b> & <a href=\"x\">\0co"),
            "&lt;b&gt;Eve&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;co"
        );
    }
}
