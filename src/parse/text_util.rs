//! Small text helpers the line-based parsers share: line endings, blank
//! lines, ANSI colour codes, and telling a .NET exception from a message.

use std::borrow::Cow;

/// The line without a trailing `\r` (CRLF and mixed endings).
pub(crate) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The text without its final line ending.
pub(crate) fn trim_eol(text: &str) -> &str {
    let t = text.strip_suffix('\n').unwrap_or(text);
    t.strip_suffix('\r').unwrap_or(t)
}

/// True for an empty or all-white-space line.
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// The lines of a record, without line endings.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Skips one ANSI CSI sequence (`ESC [ … final-byte`) starting at `i`;
/// returns the index after it.
pub(crate) fn skip_csi(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&0x1b) || b.get(i + 1) != Some(&b'[') {
        return None;
    }
    let mut j = i + 2;
    while j < b.len() && (b[j].is_ascii_digit() || b[j] == b';') {
        j += 1;
    }
    (j < b.len()).then_some(j + 1)
}

/// Joins lines with `\n`, borrowing when there is only one.
pub(crate) fn join<'a>(parts: &[&'a str]) -> Cow<'a, str> {
    match parts {
        [] => Cow::Borrowed(""),
        [one] => Cow::Borrowed(one),
        many => Cow::Owned(many.join("\n")),
    }
}

/// True for the first line of `Exception.ToString()`:
/// `Namespace.SomethingException: text`, `… (0x80004005): text`, or the
/// type name alone. The type must be dotted, which keeps "Exception: x"
/// in a message from being taken for one.
pub(crate) fn is_exception_header(line: &str) -> bool {
    let line = line.strip_prefix("---> ").unwrap_or(line);
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '`' | '+')))
        .unwrap_or(line.len());
    let ty = &line[..end];
    let rest = &line[end..];
    ty.contains('.')
        && (ty.ends_with("Exception") || ty.ends_with("Error"))
        && (rest.is_empty() || rest.starts_with(':') || rest.starts_with(" (0x"))
}

/// True for a stack frame or the async boundary marker.
pub(crate) fn is_stack_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("at ") && line.starts_with(' ') || t.starts_with("--- End of ")
}

/// Splits a one-line record (SingleLine console, systemd) into the message
/// and the exception that the formatter appended after a space.
pub(crate) fn split_inline_exception(text: &str) -> (&str, Option<&str>) {
    for (at, _) in text.match_indices("Exception") {
        let after = &text[at + "Exception".len()..];
        if !(after.starts_with(": ") || after.starts_with(" (0x") || after.is_empty()) {
            continue;
        }
        let start = text[..at].rfind(' ').map_or(0, |s| s + 1);
        if is_exception_header(&text[start..]) {
            let msg = text[..start].trim_end();
            return (msg, Some(&text[start..]));
        }
    }
    (text, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_headers() {
        assert!(is_exception_header(
            "System.Net.WebSockets.WebSocketException (0x80004005): The remote party closed"
        ));
        assert!(is_exception_header(
            "System.InvalidOperationException: boom"
        ));
        assert!(is_exception_header("System.OperationCanceledException"));
        assert!(!is_exception_header("Exception: not a type"));
        assert!(!is_exception_header("Payload rejected for user alice:"));
    }

    #[test]
    fn inline_exception_split() {
        let (m, e) = split_inline_exception(
            "Failed to send. Error detail: boom. Id: x System.Net.WebSockets.WebSocketException (0x80004005): closed.    at A.B()",
        );
        assert_eq!(m, "Failed to send. Error detail: boom. Id: x");
        assert!(
            e.unwrap()
                .starts_with("System.Net.WebSockets.WebSocketException")
        );
        assert_eq!(
            split_inline_exception("no exception here"),
            ("no exception here", None)
        );
    }

    #[test]
    fn csi_skipping() {
        let b = b"\x1b[40m\x1b[32minfo";
        assert_eq!(skip_csi(b, 0), Some(5));
        assert_eq!(skip_csi(b, 5), Some(10));
        assert_eq!(skip_csi(b"\x1b[40", 0), None);
    }
}
