//! `ilogger-simple`: .NET's SimpleConsoleFormatter and the older ConsoleLogger.
//!
//! A record starts with `[timestamp]level: Category[EventId]`, where the
//! timestamp is whatever `TimestampFormat` produced (possibly nothing, possibly
//! glued to the level) and the level may be wrapped in ANSI colour codes.
//! Everything up to the next such line belongs to the record: the 6-space
//! padded message, a `=> scope` line, and the exception — padded in .NET 5+,
//! at column 0 before, and unpadded after a bare `\n` on Windows.

use super::text_util::{
    is_exception_header, is_stack_line, join, offset_in, parse_i32, skip_csi,
    split_inline_exception,
};
use super::{Diagnostics, Record, RecordParser, Reject, Start};
use crate::event::{Event, Level};
use crate::time;
use std::borrow::Cow;

/// The SimpleConsoleFormatter parser.
pub(crate) struct IloggerSimple;

/// The message padding: `len("info: ")`.
const PAD: &str = "      ";

/// Timestamp prefixes longer than this are not timestamps.
const MAX_PREFIX: usize = 48;

/// The marks of a header's [`Start`]: byte offsets into the line, each at
/// an ASCII byte (so slicing the line's `&str` there is safe).
const PREFIX_END: usize = 0;
const CATEGORY_START: usize = 1;
const CATEGORY_END: usize = 2;
/// Where the text after `]` starts (SingleLine mode), or the line length.
const REST: usize = 3;

fn level_at(b: &[u8], i: usize) -> Option<Level> {
    let word: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
    Some(match u32::from_le_bytes(word) {
        w if w == u32::from_le_bytes(*b"info") => Level::Info,
        w if w == u32::from_le_bytes(*b"dbug") => Level::Debug,
        w if w == u32::from_le_bytes(*b"trce") => Level::Trace,
        w if w == u32::from_le_bytes(*b"warn") => Level::Warning,
        w if w == u32::from_le_bytes(*b"fail") => Level::Error,
        w if w == u32::from_le_bytes(*b"crit") => Level::Critical,
        _ => return None,
    })
}

/// Bytes a `TimestampFormat` output may contain (digits, separators, `T`,
/// `Z`, AM/PM, offsets, brackets). No lowercase letter is among them, so
/// the first lowercase letter of a header is where its level word starts.
const PREFIX_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = true;
        c += 1;
    }
    let extra = b"-:/., +TZAPM[]";
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
};

/// Where the first byte of `window` that no timestamp has is (`None`:
/// there is none). Eight bytes at a time while all are timestamp bytes,
/// tested without a branch per byte, then byte by byte.
fn prefix_len(window: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = window.get(i..i + 8)
        && chunk
            .iter()
            .fold(true, |all, &c| all & PREFIX_BYTES[c as usize])
    {
        i += 8;
    }
    window[i..]
        .iter()
        .position(|&c| !PREFIX_BYTES[c as usize])
        .map(|p| i + p)
}

/// Reads a record's first line; `None` when it is not one.
pub(crate) fn header(b: &[u8]) -> Option<Start> {
    if b.first().is_none_or(|c| c.is_ascii_whitespace()) {
        return None;
    }
    // The timestamp prefix: a tight scan, with ANSI colour codes (rare)
    // skipped where they interrupt it.
    let window = &b[..b.len().min(MAX_PREFIX + 1)];
    let mut i = prefix_len(window)?;
    let mut prefix_end = i;
    while b.get(i) == Some(&0x1b) {
        i = skip_csi(b, i)?;
        let more = b[i..]
            .iter()
            .take(MAX_PREFIX)
            .position(|&c| !PREFIX_BYTES[c as usize])?;
        if more > 0 {
            prefix_end = i + more;
        }
        i += more;
    }
    if i > MAX_PREFIX + 16 {
        return None;
    }
    let level = level_at(b, i)?;
    i += 4;
    while b.get(i) == Some(&0x1b) {
        i = skip_csi(b, i)?;
    }
    if b.get(i..i + 2)? != b": " {
        return None;
    }
    let cat_start = i + 2;
    let token_end = memchr::memchr(b' ', &b[cat_start..]).map_or(b.len(), |p| cat_start + p);
    if b[token_end - 1] != b']' {
        return None;
    }
    let open = cat_start + memchr::memrchr(b'[', &b[cat_start..token_end])?;
    let id = &b[open + 1..token_end - 1];
    if open == cat_start || id.is_empty() {
        return None;
    }
    let mut marks = [0; 6];
    marks[PREFIX_END] = prefix_end;
    marks[CATEGORY_START] = cat_start;
    marks[CATEGORY_END] = open;
    marks[REST] = (token_end + 1).min(b.len());
    Some(Start {
        level: Some(level),
        event_id: parse_i32(id)?,
        marks,
    })
}

impl RecordParser for IloggerSimple {
    fn format(&self) -> Option<super::Format> {
        Some(super::Format::IloggerSimple)
    }

    fn record_start(&self, line: &[u8]) -> Option<Start> {
        header(line)
    }

    fn marks_bodies(&self) -> bool {
        true
    }

    /// All but the message and exception below the header; the message is
    /// its first line until [`IloggerSimple::complete`].
    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let first = rec.lines[0];
        let m = rec.start.marks;
        // The prefix holds only `PREFIX_BYTES` and colour codes (ASCII),
        // so an ASCII trim is the whole trim.
        let prefix = first[..m[PREFIX_END]].trim_ascii();
        let time = if prefix.is_empty() {
            None
        } else {
            let t = time::parse(prefix);
            if t.is_none() {
                diag.bad_timestamps.add(rec.line);
            }
            t
        };
        // Every field is worked out first and the event is built once, with
        // no field left to a default: built and then changed, its 248 bytes
        // were copied out for every record (a `memcpy` call, 3% of a scan).
        let mut body = &rec.text[m[REST]..];
        let (message, exception, scopes, whole) = if m[REST] < first.len() {
            // SingleLine mode: scopes, message and exception on this line.
            let (msg, exc) = split_inline_exception(&first[m[REST]..]);
            (msg, exc, None, true)
        } else {
            let lines = &rec.lines[1..];
            let mut msg_start = 0;
            let mut scopes = None;
            if let Some(s) = lines.first().and_then(|l| unpad(l).strip_prefix("=> ")) {
                scopes = Some(s);
                msg_start = 1;
                // The prefilter skips the scope line (a sixth of a typical
                // log): its literals are looked up in `scopes`.
                body = lines
                    .get(1)
                    .map_or("", |l| &rec.text[offset_in(rec.text, l)..]);
            }
            let message = lines.get(msg_start).map_or("", |l| unpad(l));
            // No line after the message's first: `complete` would join just
            // it. (Were that line an exception's, `complete` would leave the
            // message empty, which only a template without literals
            // matches, and such a template's length and bytes rule nothing
            // out.)
            (message, None, scopes, lines.len() <= msg_start + 1)
        };
        Ok(Event {
            line: rec.line,
            time,
            level: rec.start.level,
            category: Some(Cow::Borrowed(&first[m[CATEGORY_START]..m[CATEGORY_END]])),
            event_id: Some(rec.start.event_id),
            message: Cow::Borrowed(message),
            exception: exception.map(Cow::Borrowed),
            scopes: scopes.map(Cow::Borrowed),
            extra: crate::event::Extra::None,
            // Set by the splitter.
            raw: "",
            // All after the `Category[Id]` header: the message, scopes and
            // exception, on this line (SingleLine) or the lines below (where
            // a scope line is cut off below).
            body: Some(body),
            whole,
        })
    }

    fn complete<'a>(&self, rec: &Record<'a, '_>, ev: &mut Event<'a>) {
        if rec.start.marks[REST] < rec.lines[0].len() || rec.lines.len() < 2 {
            // SingleLine mode, or no message: `parse_head` did it all.
            return;
        }
        let body = &rec.lines[1..];
        let msg_start = usize::from(ev.scopes.is_some());
        let exc_start = body[msg_start..]
            .iter()
            .position(|l| {
                let l = unpad(l);
                is_exception_header(l) || is_stack_line(l)
            })
            .map_or(body.len(), |p| msg_start + p);
        ev.message = join(&body[msg_start..exc_start], unpad);
        if let Some(first_line) = body.get(exc_start) {
            // The exception is kept as written (padding included): it is
            // only searched and shown, and borrowing it costs nothing.
            let at = offset_in(rec.text, first_line);
            ev.exception = Some(Cow::Borrowed(unpad(&rec.text[at..])));
        }
    }
}

/// A continuation line without the formatter's 6-space padding (lines
/// written unpadded, such as pre-.NET 5 exceptions, are left alone), and
/// without the timestamp a log collector puts before every line (`docker
/// logs -t`, the App Service Linux log stream).
fn unpad(line: &str) -> &str {
    let line = unstamp(line);
    line.strip_prefix(PAD).unwrap_or(line)
}

/// `2022-11-11T15:10:37.632038589Z       message` → `      message`.
fn unstamp(line: &str) -> &str {
    if !line.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return line;
    }
    match line.as_bytes().iter().take(40).position(|&c| c == b' ') {
        Some(sp) if time::parse(&line[..sp]).is_some_and(|t| t.has_date) => &line[sp + 1..],
        _ => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The eight-at-a-time prefix scan finds the byte a scan byte by byte
    /// finds, wherever it is.
    #[test]
    fn prefix_len_is_the_first_non_timestamp_byte() {
        let base = b"2024-01-15T08:30:05.029+00:00 [AM]/,.:-+ZPM0123456789";
        for len in 0..base.len() {
            for bad in [None, Some(b'd'), Some(0x1b), Some(b'\t'), Some(0xc3)] {
                let mut w = base[..len].to_vec();
                if let Some(b) = bad {
                    w.push(b);
                    w.extend_from_slice(b"12:00");
                }
                let naive = w.iter().position(|&c| !PREFIX_BYTES[c as usize]);
                assert_eq!(prefix_len(&w), naive, "{:?}", String::from_utf8_lossy(&w));
            }
        }
    }
    use crate::parse::parse_one;

    /// (prefix, level, category, event id, rest) of a header line.
    fn parts(line: &str) -> Option<(&str, Level, &str, i32, &str)> {
        let h = header(line.as_bytes())?;
        let m = h.marks;
        Some((
            line[..m[PREFIX_END]].trim(),
            h.level?,
            &line[m[CATEGORY_START]..m[CATEGORY_END]],
            h.event_id,
            &line[m[REST]..],
        ))
    }

    #[test]
    fn headers_with_prefixes_and_colours() {
        assert_eq!(
            parts(
                "08:30:07 \x1b[41m\x1b[1m\x1b[37mcrit\x1b[39m\x1b[22m\x1b[49m: ChatSample.Program[0]"
            ),
            Some(("08:30:07", Level::Critical, "ChatSample.Program", 0, ""))
        );
        let h = parts(
            "2024-01-15T08:30:05.123+00:00 info: Microsoft.Azure.SignalR.ServiceConnection[20]",
        );
        assert_eq!(h.unwrap().0, "2024-01-15T08:30:05.123+00:00");
        assert_eq!(
            parts("08:30:05info: A.B[-3] => s msg"),
            Some(("08:30:05", Level::Info, "A.B", -3, "=> s msg"))
        );
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
            assert!(header(l.as_bytes()).is_none(), "{l:?}");
        }
    }

    #[test]
    fn record_with_scopes_message_and_exception() {
        let text = "fail: A.B[1]\n      => Span:1 => Conn:2\n      Failed.\n      second\n      System.X.FooException (0x1): bad\n         at A.B()\n      --- End of stack trace from previous location ---";
        let ev = parse_one(&IloggerSimple, text, 7, &mut Diagnostics::default()).unwrap();
        assert_eq!(ev.line, 7);
        assert_eq!(ev.scopes.as_deref(), Some("Span:1 => Conn:2"));
        assert_eq!(ev.message, "Failed.\nsecond");
        assert_eq!(
            ev.exception.as_deref(),
            Some(
                "System.X.FooException (0x1): bad\n         at A.B()\n      --- End of stack trace from previous location ---"
            )
        );
    }

    #[test]
    fn collector_timestamps_before_every_line_are_removed() {
        let text = "2022-11-11T15:10:37.634772560Z fail: Microsoft.Azure.SignalR.ServiceConnection[2]\n2022-11-11T15:10:37.634793760Z       Failed to connect to '(Primary)https://x.service.signalr.net(hub=Chat)', will retry.";
        let ev = parse_one(&IloggerSimple, text, 1, &mut Diagnostics::default()).unwrap();
        assert_eq!(
            ev.time.unwrap().to_string(),
            "2022-11-11T15:10:37.63477256Z"
        );
        assert_eq!(
            ev.message,
            "Failed to connect to '(Primary)https://x.service.signalr.net(hub=Chat)', will retry."
        );
    }

    #[test]
    fn unparseable_prefix_is_counted() {
        let mut d = Diagnostics::default();
        let ev = parse_one(&IloggerSimple, "12:61:99 info: A[1]\n      x", 3, &mut d).unwrap();
        assert!(ev.time.is_none());
        assert_eq!(d.bad_timestamps.first, Some(3));
    }
}
