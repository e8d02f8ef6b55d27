//! Small text helpers the line-based parsers share: line endings, blank
//! lines, ANSI colour codes, event ids, and telling a .NET exception from a
//! message.

use std::borrow::Cow;

/// A decimal `i32` with an optional minus sign, as `str::parse` reads one
/// (no `+`): an event id, read from the bytes as they come (a UTF-8 check
/// and a second pass over the digits cost more than the number).
pub(crate) fn parse_i32(b: &[u8]) -> Option<i32> {
    let (neg, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let v = digits.iter().try_fold(0i64, |v, &c| {
        let v = v * 10 + i64::from(c.is_ascii_digit().then(|| c - b'0')?);
        (v <= i64::from(i32::MAX) + 1).then_some(v)
    })?;
    i32::try_from(if neg { -v } else { v }).ok()
}

/// The line without a trailing `\r` (CRLF and mixed endings).
pub(crate) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Where `part`, a slice of `text`, starts in it.
pub(crate) fn offset_in(text: &str, part: &str) -> usize {
    let at = part.as_ptr() as usize - text.as_ptr() as usize;
    debug_assert!(at + part.len() <= text.len(), "not a slice of the text");
    at
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
#[cfg(test)]
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        let line = match memchr::memchr(b'\n', t.as_bytes()) {
            Some(i) => {
                rest = Some(&t[i + 1..]);
                &t[..i]
            }
            None => {
                rest = None;
                t
            }
        };
        Some(line.strip_suffix('\r').unwrap_or(line))
    })
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

/// Joins lines with `\n` after `strip` (e.g. removing padding), borrowing
/// when there is only one line: the common case costs no allocation.
pub(crate) fn join<'a>(parts: &[&'a str], strip: impl Fn(&'a str) -> &'a str) -> Cow<'a, str> {
    match parts {
        [] => Cow::Borrowed(""),
        [one] => Cow::Borrowed(strip(one)),
        many => {
            let mut s = String::with_capacity(many.iter().map(|l| l.len() + 1).sum());
            for (i, l) in many.iter().enumerate() {
                if i > 0 {
                    s.push('\n');
                }
                s.push_str(strip(l));
            }
            Cow::Owned(s)
        }
    }
}

/// True for the first line of `Exception.ToString()`:
/// `Namespace.SomethingException: text`, `… (0x80004005): text`, or the
/// type name alone. The type must be dotted, which keeps "Exception: x"
/// in a message from being taken for one.
pub(crate) fn is_exception_header(line: &str) -> bool {
    let line = line.strip_prefix("---> ").unwrap_or(line);
    let b = line.as_bytes();
    // Namespaces start with a capital letter: a cheap first test.
    if !b.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let end = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'`' | b'+')))
        .unwrap_or(b.len());
    let (ty, rest) = (&b[..end], &b[end..]);
    (ty.ends_with(b"Exception") || ty.ends_with(b"Error"))
        && ty.contains(&b'.')
        && (rest.is_empty() || rest[0] == b':' || rest.starts_with(b" (0x"))
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

/// Event id texts for the parsers' tests: limits, leading zeros, stray
/// bytes.
#[cfg(test)]
pub(crate) const ID_TEXTS: [&str; 19] = [
    "",
    "-",
    "0",
    "7",
    "007",
    "-1",
    "-0",
    "2147483647",
    "-2147483648",
    "2147483648",
    "-2147483649",
    "00000000000007",
    "-00000000002147483648",
    "99999999999999999999",
    "1a",
    "a1",
    "--1",
    " 1",
    "1 ",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Event ids are read as `str::parse` reads an `i32` (without `+`):
    /// limits, leading zeros, stray bytes.
    #[test]
    fn parse_i32_reads_as_str_parse() {
        for id in ID_TEXTS.iter().chain(&["+1"]) {
            let want = id.parse::<i32>().ok().filter(|_| !id.starts_with('+'));
            assert_eq!(parse_i32(id.as_bytes()), want, "{id:?}");
        }
    }

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
    fn lines_strip_endings() {
        let v: Vec<&str> = lines("a\r\nb\n\nc").collect();
        assert_eq!(v, ["a", "b", "", "c"]);
        assert_eq!(lines("").collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn csi_skipping() {
        let b = b"\x1b[40m\x1b[32minfo";
        assert_eq!(skip_csi(b, 0), Some(5));
        assert_eq!(skip_csi(b, 5), Some(10));
        assert_eq!(skip_csi(b"\x1b[40", 0), None);
    }
}
