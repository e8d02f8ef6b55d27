//! `ilogger-simple`: .NET's SimpleConsoleFormatter and the older ConsoleLogger.
//!
//! A record starts with `[timestamp]level: Category[EventId]`, where the
//! timestamp is whatever `TimestampFormat` produced (possibly nothing, possibly
//! glued to the level) and the level may be wrapped in ANSI colour codes.
//! Everything up to the next such line belongs to the record: the 6-space
//! padded message, a `=> scope` line, and the exception — padded in .NET 5+,
//! at column 0 before, and unpadded after a bare `\n` on Windows.

use super::text_util::{
    is_exception_header, is_stack_line, join, lines, skip_csi, split_inline_exception,
};
use super::{Diagnostics, RecordParser, Reject};
use crate::event::{Event, Level};
use crate::time;
use std::borrow::Cow;

/// The SimpleConsoleFormatter parser.
pub(crate) struct IloggerSimple;

/// The message padding: `len("info: ")`.
const PAD: &str = "      ";

/// Timestamp prefixes longer than this are not timestamps.
const MAX_PREFIX: usize = 48;

/// The parts of a record's first line.
pub(crate) struct Header<'a> {
    /// The timestamp prefix as written (may be empty).
    pub(crate) prefix: &'a str,
    pub(crate) level: Level,
    pub(crate) category: &'a str,
    pub(crate) event_id: i32,
    /// What follows `]` on the same line (SingleLine mode), without the space.
    pub(crate) rest: &'a str,
}

fn level_at(b: &[u8], i: usize) -> Option<Level> {
    Some(match b.get(i..i + 4)? {
        b"trce" => Level::Trace,
        b"dbug" => Level::Debug,
        b"info" => Level::Info,
        b"warn" => Level::Warning,
        b"fail" => Level::Error,
        b"crit" => Level::Critical,
        _ => return None,
    })
}

/// Characters a `TimestampFormat` output may contain (digits, separators,
/// `T`, `Z`, AM/PM, offsets).
fn is_prefix_byte(c: u8) -> bool {
    c.is_ascii_digit()
        || matches!(
            c,
            b'-' | b':'
                | b'/'
                | b'.'
                | b','
                | b' '
                | b'+'
                | b'T'
                | b'Z'
                | b'A'
                | b'P'
                | b'M'
                | b'['
                | b']'
        )
}

/// Reads a record's first line; `None` when it is not one.
pub(crate) fn header(line: &str) -> Option<Header<'_>> {
    let b = line.as_bytes();
    if b.first().is_none_or(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let mut i = 0;
    let mut prefix_end = 0;
    let level = loop {
        if i > MAX_PREFIX {
            return None;
        }
        match *b.get(i)? {
            0x1b => i = skip_csi(b, i)?,
            _ if level_at(b, i).is_some() => break level_at(b, i)?,
            c if is_prefix_byte(c) => {
                i += 1;
                prefix_end = i;
            }
            _ => return None,
        }
    };
    i += 4;
    while b.get(i) == Some(&0x1b) {
        i = skip_csi(b, i)?;
    }
    if b.get(i..i + 2)? != b": " {
        return None;
    }
    let cat_start = i + 2;
    let token_end = memchr::memchr(b' ', &b[cat_start..]).map_or(b.len(), |p| cat_start + p);
    let token = &line[cat_start..token_end];
    let open = token.rfind('[')?;
    let id_text = token[open + 1..].strip_suffix(']')?;
    if open == 0 || id_text.is_empty() {
        return None;
    }
    let event_id: i32 = id_text.parse().ok()?;
    let rest = line.get(token_end + 1..).unwrap_or("");
    Some(Header {
        prefix: line[..prefix_end].trim(),
        level,
        category: &token[..open],
        event_id,
        rest,
    })
}

impl RecordParser for IloggerSimple {
    fn is_record_start(&self, line: &[u8]) -> bool {
        // Cheap rejections first: padded continuation lines and stack frames.
        match line.first() {
            Some(c)
                if c.is_ascii_digit()
                    || matches!(c, b'[' | 0x1b | b't' | b'd' | b'i' | b'w' | b'f' | b'c') =>
            {
                std::str::from_utf8(line).is_ok_and(|l| header(l).is_some())
            }
            _ => false,
        }
    }
    fn parse<'a>(
        &self,
        text: &'a str,
        line: u64,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let mut it = lines(text);
        let first = it.next().unwrap_or("");
        let h = header(first).ok_or(Reject {
            why: "not a console log header",
        })?;
        let time = if h.prefix.is_empty() {
            None
        } else {
            let t = time::parse(h.prefix);
            if t.is_none() {
                diag.bad_timestamps.add(line);
            }
            t
        };
        let mut ev = Event {
            line,
            time,
            level: Some(h.level),
            category: Some(Cow::Borrowed(h.category)),
            event_id: Some(h.event_id),
            ..Event::default()
        };
        if !h.rest.is_empty() {
            // SingleLine mode: scopes, message and exception on this line.
            let (msg, exc) = split_inline_exception(h.rest);
            ev.message = Cow::Borrowed(msg);
            ev.exception = exc.map(Cow::Borrowed);
            return Ok(ev);
        }
        let mut message: Vec<&'a str> = Vec::new();
        let mut exception: Vec<&'a str> = Vec::new();
        for (n, raw) in it.enumerate() {
            let l = raw.strip_prefix(PAD).unwrap_or(raw);
            if n == 0 && l.starts_with("=> ") {
                ev.scopes = Some(Cow::Borrowed(&l[3..]));
            } else if !exception.is_empty() || is_exception_header(l) || is_stack_line(l) {
                exception.push(l);
            } else {
                message.push(l);
            }
        }
        ev.message = join(&message);
        if !exception.is_empty() {
            ev.exception = Some(join(&exception));
        }
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_with_prefixes_and_colours() {
        let h = header(
            "08:30:07 \x1b[41m\x1b[1m\x1b[37mcrit\x1b[39m\x1b[22m\x1b[49m: ChatSample.Program[0]",
        )
        .unwrap();
        assert_eq!(
            (h.prefix, h.level, h.category, h.event_id),
            ("08:30:07", Level::Critical, "ChatSample.Program", 0)
        );
        let h = header(
            "2024-01-15T08:30:05.123+00:00 info: Microsoft.Azure.SignalR.ServiceConnection[20]",
        )
        .unwrap();
        assert_eq!(h.prefix, "2024-01-15T08:30:05.123+00:00");
        let h = header("08:30:05info: A.B[-3] => s msg").unwrap();
        assert_eq!((h.prefix, h.event_id, h.rest), ("08:30:05", -3, "=> s msg"));
    }

    #[test]
    fn non_headers() {
        for l in [
            "      Service connection connected.",
            "info: no brackets",
            "information: A[1]",
            "Connection info: Foo[3]",
            "System.Exception: info: A[1]",
            "info: [1]",
        ] {
            assert!(header(l).is_none(), "{l:?}");
        }
    }

    #[test]
    fn record_with_scopes_message_and_exception() {
        let text = "fail: A.B[1]\n      => Span:1 => Conn:2\n      Failed.\n      second\n      System.X.FooException (0x1): bad\n         at A.B()\n      --- End of stack trace from previous location ---";
        let ev = IloggerSimple
            .parse(text, 7, &mut Diagnostics::default())
            .unwrap();
        assert_eq!(ev.line, 7);
        assert_eq!(ev.scopes.as_deref(), Some("Span:1 => Conn:2"));
        assert_eq!(ev.message, "Failed.\nsecond");
        assert_eq!(
            ev.exception.as_deref(),
            Some(
                "System.X.FooException (0x1): bad\n   at A.B()\n--- End of stack trace from previous location ---"
            )
        );
    }

    #[test]
    fn unparseable_prefix_is_counted() {
        let mut d = Diagnostics::default();
        let ev = IloggerSimple
            .parse("12:61:99 info: A[1]\n      x", 3, &mut d)
            .unwrap();
        assert!(ev.time.is_none());
        assert_eq!(d.bad_timestamps.first, Some(3));
    }
}
