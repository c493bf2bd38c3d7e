//! Showing a user's string safely: on a terminal (no raw control
//! characters, so one finding stays one line and no escape sequence
//! reaches the terminal), in JSON that YAML readers parse (no raw line or
//! paragraph separators), and in Markdown that GitHub renders (no blank
//! line or tag that ends the block it sits in).

use std::borrow::Cow;

/// Characters a terminal, a YAML reader or a line-based reader treats as
/// something other than text: C0 controls, DEL, C1 controls (U+0085 is a
/// YAML line break) and the Unicode line and paragraph separators.
fn is_special(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

/// The string with every special character written as an escape (`\n`,
/// `\u{1b}`), so it prints as one line of plain text.
pub fn controls(text: &str) -> Cow<'_, str> {
    // Printable ASCII, nearly every line, is decided a byte at a time.
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) || !text.chars().any(is_special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_special(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Serialized JSON with DEL, the C1 controls and U+2028/U+2029 written as
/// `\uXXXX` (serde_json leaves them raw; a YAML reader turns U+0085 into a
/// space and refuses some of the others). They can only occur inside
/// strings, where the escape means the same character.
pub fn json(text: String) -> String {
    if !text
        .chars()
        .any(|c| is_special(c) && !c.is_ascii_control() || c == '\u{7f}')
    {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c == '\u{7f}' || (is_special(c) && !c.is_ascii_control()) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for inside an HTML element of a Markdown comment: escaped for
/// HTML, and on one line, so it cannot end the block or open a new one.
pub fn html(text: &str) -> String {
    controls(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
        // Brackets as entities: no link or image syntax survives.
        .replace('[', "&#91;")
        .replace(']', "&#93;")
}

/// Text for a Markdown table cell: on one line, without a cell separator.
pub fn table_cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_become_visible_escapes() {
        assert_eq!(controls("a\nb\u{1b}[2J"), "a\\nb\\u{1b}[2J");
        assert_eq!(controls("plain ünï"), "plain ünï");
        assert_eq!(controls("x\u{85}y\u{2028}"), "x\\u{85}y\\u{2028}");
    }

    #[test]
    fn json_escapes_what_yaml_readers_mangle() {
        let raw = serde_json::to_string(&"a\u{85}b\u{2028}c\u{7f}d\u{9b}").unwrap();
        let out = json(raw);
        assert_eq!(out, "\"a\\u0085b\\u2028c\\u007fd\\u009b\"");
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "a\u{85}b\u{2028}c\u{7f}d\u{9b}");
    }

    #[test]
    fn markdown_text_stays_on_one_line_and_inert() {
        let name = "x\n\n# Heading\n[link](https://evil.example)</summary>";
        let shown = html(name);
        assert!(!shown.contains('\n') && !shown.contains('<'), "{shown}");
        assert_eq!(table_cell("a|b\nc`"), "a\\|b\\nc'");
    }
}
