//! `tracelistener`: TextWriterTraceListener output — the ASP.NET SDK's
//! `asrs.log.txt` and classic SignalR trace sources.
//!
//! A record starts with `{source} {EventType}: {id} : `. Embedded newlines
//! in the message are written at column 0, so any other line continues the
//! record, except the optional footers (`    DateTime=…`, `    ThreadId=…`),
//! which are indented, and a `Callstack=` footer's own frames. The Azure
//! SignalR SDK writes `[Category]Message` with id 0; `DateTime=` (UTC) is
//! the only timestamp such a file can carry.

use super::text_util::offset_in;
use super::{Diagnostics, Record, RecordParser, Reject, Start};
use crate::event::{Event, Extra, Level};
use crate::time;
use std::borrow::Cow;

/// The trace-listener parser.
pub(crate) struct TraceListener;

/// How far into a line the `Type: id : ` header is looked for.
const MAX_SOURCE_LEN: usize = 256;

fn event_type(word: &[u8]) -> Option<Level> {
    Some(match word {
        b"Critical" => Level::Critical,
        b"Error" => Level::Error,
        b"Warning" => Level::Warning,
        b"Information" => Level::Info,
        b"Verbose" => Level::Debug,
        b"Start" | b"Stop" | b"Suspend" | b"Resume" | b"Transfer" => Level::Trace,
        _ => return None,
    })
}

/// The header: (source, level, id, where the message starts).
fn header(b: &[u8]) -> Option<(usize, Level, i32, usize)> {
    let limit = b.len().min(MAX_SOURCE_LEN);
    for colon in memchr::memchr_iter(b':', &b[..limit]) {
        if b.get(colon + 1) != Some(&b' ') {
            continue;
        }
        let Some(space) = memchr::memrchr(b' ', &b[..colon]) else {
            continue;
        };
        let Some(level) = event_type(&b[space + 1..colon]) else {
            continue;
        };
        if space == 0 {
            continue;
        }
        let digits_start = colon + 2;
        let mut i = digits_start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || b.get(i + n..i + n + 3) != Some(b" : ") {
            continue;
        }
        let id = super::text_util::parse_i32(&b[digits_start..i + n])?;
        return Some((space, level, id, i + n + 3));
    }
    None
}

/// The keys of the footer lines the listener writes below a record (its
/// `TraceOutputOptions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Footer {
    ProcessId,
    LogicalOperationStack,
    ThreadId,
    DateTime,
    Timestamp,
    Callstack,
}

impl Footer {
    #[cfg(test)]
    fn name(self) -> &'static str {
        match self {
            Footer::ProcessId => "ProcessId",
            Footer::LogicalOperationStack => "LogicalOperationStack",
            Footer::ThreadId => "ThreadId",
            Footer::DateTime => "DateTime",
            Footer::Timestamp => "Timestamp",
            Footer::Callstack => "Callstack",
        }
    }
}

/// The footer key and value of a `    Key=value` line.
///
/// Every record has several footer lines: the key is told by its first
/// byte and one compare of a length known when compiled (a search for `=`
/// and a match on the key's text cost twice as much, and a `memcmp` call
/// per footer was 4% of a scan), and returned as a [`Footer`], so that the
/// caller does not compare texts again. Inlined: it runs five times a
/// record, and its result came back through memory.
#[inline(always)]
fn footer(line: &str) -> Option<(Footer, &str)> {
    let b = line.as_bytes();
    if b.first_chunk::<4>()? != b"    " {
        return None;
    }
    let spaces = b[4..].iter().take_while(|&&c| c == b' ').count();
    let t = &line[4 + spaces..];
    fn after<'t, const N: usize>(t: &'t str, key: &[u8; N]) -> Option<&'t str> {
        // `key` is ASCII: `N` is a character boundary of `t`.
        (t.as_bytes().first_chunk::<N>()? == key).then(|| &t[N..])
    }
    // In the order the listener writes them.
    let first = *t.as_bytes().first()?;
    if first == b'P' {
        Some((Footer::ProcessId, after(t, b"ProcessId=")?))
    } else if first == b'L' {
        Some((
            Footer::LogicalOperationStack,
            after(t, b"LogicalOperationStack=")?,
        ))
    } else if first == b'T' {
        if t.as_bytes().get(1) == Some(&b'h') {
            Some((Footer::ThreadId, after(t, b"ThreadId=")?))
        } else {
            Some((Footer::Timestamp, after(t, b"Timestamp=")?))
        }
    } else if first == b'D' {
        Some((Footer::DateTime, after(t, b"DateTime=")?))
    } else if first == b'C' {
        Some((Footer::Callstack, after(t, b"Callstack=")?))
    } else {
        None
    }
}

impl RecordParser for TraceListener {
    fn format(&self) -> Option<super::Format> {
        Some(super::Format::TraceListener)
    }

    fn marks_bodies(&self) -> bool {
        true
    }

    fn record_start(&self, line: &[u8]) -> Option<Start> {
        if matches!(line.first(), None | Some(b' ' | b'\t')) {
            return None;
        }
        let (source_end, level, event_id, msg_start) = header(line)?;
        Some(Start {
            level: Some(level),
            event_id,
            marks: [source_end, msg_start, 0, 0, 0, 0],
        })
    }

    /// All but a message of several lines, which is its first line until
    /// [`TraceListener::complete`] joins them.
    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let first = rec.lines[0];
        let [source_end, msg_start, ..] = rec.start.marks;
        let source = &first[..source_end];
        let mut head = &first[msg_start..];
        let (mut process_id, mut thread_id, mut time) = (None, None, None);
        let (mut last, mut whole) = (first, true);
        walk(
            rec.lines,
            |key, value| match key {
                Footer::ProcessId => process_id = Some(value.trim()),
                Footer::ThreadId => thread_id = Some(value.trim()),
                Footer::DateTime => {
                    time = time::parse(value);
                    if time.is_none() {
                        diag.bad_timestamps.add(rec.line);
                    }
                }
                _ => {}
            },
            |line| {
                last = line;
                whole = false;
            },
        );
        // `[Category]Message`, as the Azure SignalR SDK writes it.
        let mut category = source;
        if let Some((cat, msg)) = head
            .strip_prefix('[')
            .and_then(|inner| {
                let close = memchr::memchr(b']', inner.as_bytes())?;
                Some((&inner[..close], &inner[close + 1..]))
            })
            .filter(|(cat, _)| !cat.is_empty() && memchr::memchr(b' ', cat.as_bytes()).is_none())
        {
            category = cat;
            head = msg;
        }
        // From `[Category]` to the end of the last message line: the
        // footers after it (process, thread, time) are no text to search.
        let body_end = offset_in(rec.text, last) + last.len();
        let body = &rec.text[msg_start..body_end.max(msg_start)];
        Ok(Event {
            line: rec.line,
            time,
            level: rec.start.level,
            category: Some(Cow::Borrowed(category)),
            event_id: Some(rec.start.event_id),
            message: Cow::Borrowed(head),
            extra: Extra::Trace {
                source: Cow::Borrowed(source),
                process_id: process_id.map(Cow::Borrowed),
                thread_id: thread_id.map(Cow::Borrowed),
            },
            body: Some(body),
            // Only the first line: `complete` adds the others.
            whole,
            ..Event::default()
        })
    }

    fn complete<'a>(&self, rec: &Record<'a, '_>, ev: &mut Event<'a>) {
        let mut more: Vec<&str> = Vec::new();
        walk(rec.lines, |_, _| {}, |line| more.push(line));
        if !more.is_empty() {
            ev.message = Cow::Owned(format!("{}\n{}", ev.message, more.join("\n")));
        }
    }
}

/// Calls `on_footer` with each footer of a record (key, value) and
/// `on_message` with each message line after the first: lines at column 0
/// and indented lines that are not a `Callstack=` footer's frames.
fn walk<'a>(
    lines: &[&'a str],
    mut on_footer: impl FnMut(Footer, &'a str),
    mut on_message: impl FnMut(&'a str),
) {
    let mut in_callstack = false;
    for &l in &lines[1..] {
        if let Some((key, value)) = footer(l) {
            in_callstack = key == Footer::Callstack;
            on_footer(key, value);
        } else if !(in_callstack && l.starts_with(' ')) {
            in_callstack = false;
            on_message(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event ids are read as `str::parse` reads an `i32`, limits included.
    #[test]
    fn event_ids_read_as_i32() {
        for id in super::super::text_util::ID_TEXTS {
            let line = format!("Microsoft.Azure.SignalR Error: {id} : [A.B]x");
            let got = header(line.as_bytes()).map(|h| h.2);
            assert_eq!(got, id.parse::<i32>().ok(), "{id}");
        }
    }
    use crate::event::Value;
    use crate::parse::parse_one;

    #[test]
    fn footers_are_exactly_the_known_keys_before_an_equals_sign() {
        // The definition: the text before the first `=` is a known key.
        const KEYS: [&str; 6] = [
            "ProcessId",
            "LogicalOperationStack",
            "ThreadId",
            "DateTime",
            "Timestamp",
            "Callstack",
        ];
        let reference = |line: &str| -> Option<(String, String)> {
            let t = line.strip_prefix("    ")?.trim_start_matches(' ');
            let (key, value) = t.split_once('=')?;
            KEYS.contains(&key)
                .then(|| (key.to_string(), value.to_string()))
        };
        let mut lines = Vec::new();
        for key in KEYS.into_iter().chain([
            "Thread",
            "Time",
            "Dates",
            "X",
            "",
            "threadId",
            "ThreadIdx",
            "P",
        ]) {
            for indent in ["", "   ", "    ", "      ", "\t"] {
                for rest in ["=1", "=", "= a=b", "", " =1", "x=1"] {
                    lines.push(format!("{indent}{key}{rest}"));
                }
            }
        }
        let mut found = 0;
        for line in &lines {
            let got = footer(line).map(|(k, v)| (k.name().to_string(), v.to_string()));
            assert_eq!(got, reference(line), "{line:?}");
            found += usize::from(got.is_some());
        }
        assert!(found >= 30, "{found}");
    }

    #[test]
    fn headers() {
        let h = header(b"Microsoft.Azure.SignalR Information: 0 : [C]m").unwrap();
        assert_eq!((h.0, h.1, h.2, h.3), (23, Level::Info, 0, 41));
        assert!(header(b"SignalR.Transports.TransportHeartBeat Verbose: -12 : x").is_some());
        assert!(header(b"Error: 0 : no source").is_none());
        assert!(header(b"No such host is known. Id: 8d0c51f2.").is_none());
        assert!(header(b"Some Error: 12 missing colon").is_none());
    }

    #[test]
    fn record_with_continuation_and_footers() {
        let text = "Microsoft.Azure.SignalR Error: 0 : [Microsoft.Azure.SignalR.AspNet.ServiceConnection]Failed: line one\r\nline two\r\n    ProcessId=7312\r\n    ThreadId=9\r\n    DateTime=2024-01-15T08:30:06.0070000Z\r\n    Callstack=   at A.B()\r\n   at C.D()";
        let ev = parse_one(&TraceListener, text, 5, &mut Diagnostics::default()).unwrap();
        assert_eq!(
            ev.category.as_deref(),
            Some("Microsoft.Azure.SignalR.AspNet.ServiceConnection")
        );
        assert_eq!(ev.message, "Failed: line one\nline two");
        assert_eq!(ev.level, Some(Level::Error));
        assert_eq!(ev.time.unwrap().to_string(), "2024-01-15T08:30:06.007Z");
        assert_eq!(ev.field("thread_id"), Some(Value::Str("9".into())));
        assert_eq!(
            ev.field("source"),
            Some(Value::Str("Microsoft.Azure.SignalR".into()))
        );
    }

    #[test]
    fn classic_source_is_the_category() {
        let ev = parse_one(
            &TraceListener,
            "SignalR.Transports.TransportHeartBeat Information: 0 : Connection 9aa is New.",
            1,
            &mut Diagnostics::default(),
        )
        .unwrap();
        assert_eq!(
            ev.category.as_deref(),
            Some("SignalR.Transports.TransportHeartBeat")
        );
        assert_eq!(ev.message, "Connection 9aa is New.");
    }
}
