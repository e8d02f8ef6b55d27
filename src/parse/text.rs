//! `text`: the generic reader for what users paste from other loggers.
//!
//! Most logs attached to troubleshooting threads are not ILogger console
//! output: Serilog (`[08:30:05 INF] …`, `2024-01-15 08:30:05.123 +01:00 [INF] …`),
//! NLog (`2024-01-15 08:30:05.1234|INFO|Logger|…`), App Service files
//! (`… [Information] Category: …`), the SignalR JavaScript client
//! (`[2024-01-15T08:30:05.123Z] Error: …`), the jQuery client
//! (`[08:30:05 GMT+0100 (…)] SignalR: …`), the Functions host, the classic C#
//! client (`08:30:05.1234567 - id - …`) and bare .NET exceptions.
//!
//! A record starts at a line that begins with a timestamp (bare or in
//! brackets) or a level marker (`[INF]`, `Error:`, `Logger|ERROR|`); any other
//! line continues it (unindented exceptions included). Lines before the first
//! record start are a record of their own, so a pasted exception is read too.

use super::text_util::{is_exception_header, is_stack_line, join};
use super::{Diagnostics, Record, RecordParser, Reject, Start};
use crate::event::{Event, Level};
use crate::time::{self, Timestamp};
use std::borrow::Cow;

/// The generic text parser.
pub(crate) struct Text;

// The marks of a text record's [`Start`]: byte offsets into the first line.
const TS_START: usize = 0;
const TS_END: usize = 1;
const CAT_START: usize = 2;
const CAT_END: usize = 3;
const BODY: usize = 4;
/// Non-zero when the first line is a real record start (not a preamble).
const HEADER: usize = 5;

/// How far into a line a bracketed prefix may close.
const MAX_BRACKET: usize = 96;

/// A level word of any logger: Serilog `u3` (`INF`), NLog (`INFO`), full
/// names (`Information`), ILogger (`fail`). Case-insensitive.
pub(crate) fn level_word(w: &[u8]) -> Option<Level> {
    if w.is_empty() || w.len() > 11 {
        return None;
    }
    let mut buf = [0u8; 11];
    for (d, s) in buf.iter_mut().zip(w) {
        *d = s.to_ascii_lowercase();
    }
    Some(match &buf[..w.len()] {
        b"trace" | b"trce" | b"trc" | b"vrb" | b"verbose" => Level::Trace,
        b"debug" | b"dbug" | b"dbg" => Level::Debug,
        b"info" | b"information" | b"inf" => Level::Info,
        b"warn" | b"warning" | b"wrn" => Level::Warning,
        b"error" | b"err" | b"fail" => Level::Error,
        b"critical" | b"crit" | b"crt" | b"fatal" | b"ftl" => Level::Critical,
        _ => return None,
    })
}

/// A level word that may start a line on its own (`Error: …`): full words
/// only, capitalised or upper case, so prose rarely matches.
fn line_level_word(w: &[u8]) -> Option<Level> {
    const FULL: [&[u8]; 16] = [
        b"Trace",
        b"Debug",
        b"Information",
        b"Warning",
        b"Error",
        b"Critical",
        b"Fatal",
        b"Verbose",
        b"TRACE",
        b"DEBUG",
        b"INFORMATION",
        b"WARNING",
        b"ERROR",
        b"CRITICAL",
        b"FATAL",
        b"VERBOSE",
    ];
    FULL.contains(&w).then(|| level_word(w)).flatten()
}

/// `Utils.ts:190 ` — the source location Chrome puts before console lines
/// when they are copied. Returns the offset after it.
fn skip_source_location(b: &[u8]) -> usize {
    let Some(space) = b.iter().take(64).position(|&c| c == b' ') else {
        return 0;
    };
    let token = &b[..space];
    let Some(colon) = token.iter().rposition(|&c| c == b':') else {
        return 0;
    };
    let (file, line) = (&token[..colon], &token[colon + 1..]);
    let script = [".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx"]
        .iter()
        .any(|ext| file.ends_with(ext.as_bytes()));
    if script && !line.is_empty() && line.iter().all(u8::is_ascii_digit) {
        space + 1
    } else {
        0
    }
}

/// The longest run of up to four space-separated tokens at the start of
/// `b` that reads as a timestamp; returns its length.
fn timestamp_len(b: &[u8]) -> Option<usize> {
    let mut ends = [0usize; 4];
    let mut n = 0;
    for (i, &c) in b.iter().enumerate().take(48) {
        if c == b' ' || c == b'|' || c == b']' {
            if i > 0 && b[i - 1] != b' ' && n < 4 {
                ends[n] = i;
                n += 1;
            }
            if c != b' ' {
                break;
            }
        }
    }
    if n < 4 && b.len() <= 48 && b.last().is_some_and(|c| *c != b' ') {
        ends[n] = b.len();
        n += 1;
    }
    ends[..n]
        .iter()
        .rev()
        .find(|&&end| parse_time(std::str::from_utf8(&b[..end]).unwrap_or("")).is_some())
        .copied()
}

/// A timestamp as text loggers write it: what [`time::parse`] reads, plus
/// JavaScript's `Date.toTimeString()` (`08:30:05 GMT+0100 (Central European
/// Standard Time)`) and the C# client's 7-digit time of day.
fn parse_time(s: &str) -> Option<Timestamp> {
    if let Some(t) = time::parse(s) {
        return Some(t);
    }
    let (clock, zone) = s.split_once(" GMT")?;
    let mut t = time::parse(clock)?;
    let zone = zone.split(" (").next()?;
    let probe = time::parse(&format!("2000-01-01T00:00:00{zone}"))?;
    t.offset_secs = probe.offset_secs;
    Some(t)
}

/// Finds a bracketed JavaScript `toTimeString()` (it holds spaces and
/// parentheses) or any bracket content that reads as a time, possibly with
/// a level after it (`[08:30:05 INF]`). Returns (timestamp end, level).
fn bracket_time(inner: &[u8]) -> Option<(usize, Option<Level>)> {
    if let Some(end) = timestamp_len(inner) {
        if end == inner.len() {
            return Some((end, None));
        }
        let rest = inner[end..].trim_ascii();
        if let Some(level) = level_word(rest) {
            return Some((end, Some(level)));
        }
    }
    let text = std::str::from_utf8(inner).ok()?;
    if text.contains(" GMT") && parse_time(text).is_some() {
        return Some((inner.len(), None));
    }
    None
}

/// Reads a record start; see the module docs for the shapes.
fn header(b: &[u8]) -> Option<Start> {
    let first = *b.first()?;
    if first == b' ' || first == b'\t' {
        return None;
    }
    let mut marks = [0usize; 6];
    marks[HEADER] = 1;
    let mut level = None;
    let mut i = skip_source_location(b);
    let mut has_time = false;
    if b.get(i) == Some(&b'[') {
        let close = i
            + 1
            + b[i + 1..]
                .iter()
                .take(MAX_BRACKET)
                .position(|&c| c == b']')?;
        let inner = &b[i + 1..close];
        if let Some((end, lvl)) = bracket_time(inner) {
            (marks[TS_START], marks[TS_END]) = (i + 1, i + 1 + end);
            level = lvl;
            has_time = true;
        } else {
            level = Some(level_word(inner)?);
        }
        i = close + 1;
    } else if b.get(i).is_some_and(u8::is_ascii_digit) {
        let end = timestamp_len(&b[i..])?;
        (marks[TS_START], marks[TS_END]) = (i, i + end);
        has_time = true;
        i += end;
    }
    // What may follow: ` [LEVEL]`, `|LEVEL|`, ` LEVEL:`, ` - ` (C# client).
    let rest_start = i + b[i..].iter().take_while(|c| **c == b' ').count();
    let rest = &b[rest_start..];
    let mut body = rest_start;
    if level.is_none() {
        if let Some((lvl, used)) = level_after(rest, has_time) {
            level = Some(lvl);
            body = rest_start + used;
        } else if !has_time {
            return nlog_without_date(b, marks);
        }
    }
    body += b[body..].iter().take_while(|c| **c == b' ').count();
    // A category: NLog's logger field, or `Dotted.Name: ` / `SignalR: `.
    if let Some(field) = b[body..].strip_prefix(b"|") {
        let skip = usize::from(field.first() == Some(&b'|'));
        let start = body + 1 + skip;
        if let Some(len) = b[start..].iter().position(|&c| c == b'|') {
            (marks[CAT_START], marks[CAT_END]) = (start, start + len);
            body = start + len + 1;
        } else {
            body = start;
        }
    } else if let Some((len, after)) = category_prefix(&b[body..]) {
        (marks[CAT_START], marks[CAT_END]) = (body, body + len);
        body += after;
    }
    marks[BODY] = body.min(b.len());
    Some(Start {
        level,
        event_id: 0,
        marks,
    })
}

/// A level right after the timestamp: `[Information]`, `|INFO|`, `INF `,
/// `Error: `. Returns the level and the bytes used (up to the `|` that
/// starts an NLog logger field).
fn level_after(rest: &[u8], has_time: bool) -> Option<(Level, usize)> {
    if let Some(inner) = rest.strip_prefix(b"[") {
        let close = inner.iter().take(16).position(|&c| c == b']')?;
        return Some((level_word(&inner[..close])?, close + 2));
    }
    if let Some(inner) = rest.strip_prefix(b"|") {
        let close = inner.iter().take(12).position(|&c| c == b'|')?;
        return Some((level_word(&inner[..close])?, close + 1));
    }
    let word_len = rest
        .iter()
        .take(12)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let word = &rest[..word_len];
    match rest.get(word_len) {
        Some(b':') => {
            let lvl = if has_time {
                level_word(word)
            } else {
                line_level_word(word)
            }?;
            Some((lvl, word_len + 1))
        }
        Some(b' ') if has_time && word.len() == 3 => Some((level_word(word)?, word_len)),
        _ => None,
    }
}

/// `Logger|LEVEL|message`: NLog with a layout that starts with the logger.
fn nlog_without_date(b: &[u8], mut marks: [usize; 6]) -> Option<Start> {
    let bar = b.iter().take(160).position(|&c| c == b'|')?;
    if bar == 0 || b[..bar].contains(&b' ') {
        return None;
    }
    let after = &b[bar + 1..];
    let close = after.iter().take(12).position(|&c| c == b'|')?;
    let level = level_word(&after[..close])?;
    (marks[CAT_START], marks[CAT_END]) = (0, bar);
    marks[BODY] = bar + 1 + close + 1;
    Some(Start {
        level: Some(level),
        event_id: 0,
        marks,
    })
}

/// `Microsoft.Azure.SignalR.ServiceConnection: ` (App Service), `SignalR: `
/// (jQuery), or `Category => scope …:` at the end of the line (App Service
/// with scopes). Returns (category length, bytes to skip to the message).
fn category_prefix(b: &[u8]) -> Option<(usize, usize)> {
    let len = b
        .iter()
        .take(200)
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'`' | b'+'))
        .count();
    let name = &b[..len];
    if len == 0 || !(name.contains(&b'.') || name == b"SignalR") || !name[0].is_ascii_alphabetic() {
        return None;
    }
    let rest = &b[len..];
    if rest.starts_with(b": ") || rest == b":" {
        return Some((len, (len + 2).min(b.len())));
    }
    if rest.starts_with(b" => ") && rest.ends_with(b":") {
        return Some((len, len));
    }
    None
}

impl RecordParser for Text {
    fn record_start(&self, line: &[u8]) -> Option<Start> {
        header(line)
    }

    fn preamble_is_record(&self) -> bool {
        true
    }

    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let first = rec.lines[0];
        let m = rec.start.marks;
        let mut ev = Event {
            line: rec.line,
            level: rec.start.level,
            ..Event::default()
        };
        let mut lines: Vec<&'a str> = Vec::new();
        if m[HEADER] == 0 {
            // Lines before the first record start (a pasted exception, say).
            lines.extend_from_slice(rec.lines);
        } else {
            if m[TS_END] > m[TS_START] {
                ev.time = parse_time(&first[m[TS_START]..m[TS_END]]);
                if ev.time.is_none() {
                    diag.bad_timestamps.add(rec.line);
                }
            }
            if m[CAT_END] > m[CAT_START] {
                ev.category = Some(Cow::Borrowed(&first[m[CAT_START]..m[CAT_END]]));
            }
            let mut body = &first[m[BODY]..];
            // App Service with scopes: `Category => a => b:` then the message.
            if let Some(scopes) = body.strip_prefix(" => ").and_then(|s| s.strip_suffix(':')) {
                ev.scopes = Some(Cow::Borrowed(scopes));
                body = "";
            }
            if !body.is_empty() {
                lines.push(body);
            }
            lines.extend_from_slice(&rec.lines[1..]);
        }
        // NLog `${message:withexception=true}` appends `|Exception.ToString()`.
        if let Some(&head) = lines.first()
            && let Some(bar) = head
                .find("|")
                .filter(|&b| is_exception_header(&head[b + 1..]))
        {
            lines[0] = &head[..bar];
            lines.insert(1, &head[bar + 1..]);
        }
        let exc_start = lines
            .iter()
            .position(|l| is_exception_header(l) || is_stack_line(l))
            .unwrap_or(lines.len());
        ev.message = join(&lines[..exc_start], |l| l);
        if exc_start < lines.len() {
            ev.exception = Some(join(&lines[exc_start..], |l| l));
            // A record that says no level but carries an exception is an error.
            if ev.level.is_none() {
                ev.level = Some(Level::Error);
            }
        }
        Ok(ev)
    }
}

/// What kind of logger a record start looks like, for the detection reason.
pub(crate) fn dialect(line: &[u8]) -> &'static str {
    let Some(start) = header(line) else {
        return "text";
    };
    let m = start.marks;
    let ts = &line[m[TS_START]..m[TS_END]];
    let after_ts = line.get(m[TS_END]..).unwrap_or_default();
    let bracketed = m[TS_START] > 0 && line.get(m[TS_START] - 1) == Some(&b'[');
    let cat = &line[m[CAT_START]..m[CAT_END]];
    if ts.is_empty() {
        return if cat.is_empty() {
            "level-prefixed lines"
        } else {
            "NLog (logger first)"
        };
    }
    if after_ts.starts_with(b"|") {
        "NLog"
    } else if ts.windows(4).any(|w| w == b" GMT") {
        "jQuery SignalR client"
    } else if bracketed && ts.len() <= 12 && start.level.is_some() {
        "Serilog console"
    } else if bracketed
        && after_ts.starts_with(b"] ")
        && line_level_word(word(&after_ts[2..])).is_some()
    {
        "SignalR JavaScript client"
    } else if after_ts.starts_with(b" - ") {
        "SignalR C# client trace"
    } else if !cat.is_empty() && after_ts.starts_with(b" [") {
        "App Service file log"
    } else if after_ts.starts_with(b" [")
        && after_ts
            .get(2..6)
            .is_some_and(|w| w.len() == 4 && w[3] == b']')
    {
        "Serilog file"
    } else if after_ts.starts_with(b" [") {
        "Functions host / App Service"
    } else {
        "timestamped text"
    }
}

fn word(b: &[u8]) -> &[u8] {
    &b[..b.iter().take_while(|c| c.is_ascii_alphabetic()).count()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_one;

    /// (time, level, category, message, exception) of one record.
    fn read(
        text: &str,
    ) -> (
        Option<String>,
        Option<Level>,
        Option<String>,
        String,
        Option<String>,
    ) {
        let ev = parse_one(&Text, text, 1, &mut Diagnostics::default()).unwrap();
        (
            ev.time.map(|t| t.to_string()),
            ev.level,
            ev.category.map(|c| c.to_string()),
            ev.message.to_string(),
            ev.exception.map(|c| c.to_string()),
        )
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn serilog_console_and_file() {
        assert_eq!(
            read(
                "[08:30:06 ERR] Failed to send.\nSystem.Net.WebSockets.WebSocketException (0x80004005): closed\n   at A.B()"
            ),
            (
                s("08:30:06"),
                Some(Level::Error),
                None,
                "Failed to send.".into(),
                s("System.Net.WebSockets.WebSocketException (0x80004005): closed\n   at A.B()")
            )
        );
        assert_eq!(
            read("2024-01-15 08:30:05.123 +01:00 [INF] Service connection x connected."),
            (
                s("2024-01-15T08:30:05.123+01:00"),
                Some(Level::Info),
                None,
                "Service connection x connected.".into(),
                None
            )
        );
    }

    #[test]
    fn nlog_layouts() {
        assert_eq!(
            read(
                "2024-01-15 08:30:06.0071|ERROR|Microsoft.Azure.SignalR.ServiceConnection|Failed to send.|System.Net.WebSockets.WebSocketException (0x80004005): closed\n   at A.B()"
            ),
            (
                s("2024-01-15T08:30:06.0071"),
                Some(Level::Error),
                s("Microsoft.Azure.SignalR.ServiceConnection"),
                "Failed to send.".into(),
                s("System.Net.WebSockets.WebSocketException (0x80004005): closed\n   at A.B()")
            )
        );
        assert_eq!(
            read("2020-04-16 11:40:16.1139|DEBUG||Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher|Message received.").2,
            s("Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher")
        );
        assert_eq!(
            read(
                "Microsoft.Azure.SignalR.ServiceConnection|ERROR|Error receiving handshake response."
            ),
            (
                None,
                Some(Level::Error),
                s("Microsoft.Azure.SignalR.ServiceConnection"),
                "Error receiving handshake response.".into(),
                None
            )
        );
    }

    #[test]
    fn app_service_with_and_without_scopes() {
        assert_eq!(
            read(
                "2024-01-15 08:30:05.123 +00:00 [Information] Microsoft.Azure.SignalR.ServiceConnection: Service connection x connected."
            ),
            (
                s("2024-01-15T08:30:05.123Z"),
                Some(Level::Info),
                s("Microsoft.Azure.SignalR.ServiceConnection"),
                "Service connection x connected.".into(),
                None
            )
        );
        let ev = parse_one(
            &Text,
            "2024-01-15 08:30:07.450 +00:00 [Information] Microsoft.AspNetCore.Hosting.Diagnostics => SpanId:9a, TraceId:4b => ConnectionId:0HN:\nRequest starting HTTP/1.1 POST http://x/chat/negotiate",
            1,
            &mut Diagnostics::default(),
        )
        .unwrap();
        assert_eq!(
            ev.category.as_deref(),
            Some("Microsoft.AspNetCore.Hosting.Diagnostics")
        );
        assert_eq!(
            ev.scopes.as_deref(),
            Some("SpanId:9a, TraceId:4b => ConnectionId:0HN")
        );
        assert_eq!(
            ev.message,
            "Request starting HTTP/1.1 POST http://x/chat/negotiate"
        );
    }

    #[test]
    fn javascript_and_jquery_clients() {
        assert_eq!(
            read("[2024-03-01T10:00:00.000Z] Error: Connection disconnected with error 'Error: WebSocket closed with status code: 1006 (no reason given).'."),
            (
                s("2024-03-01T10:00:00Z"),
                Some(Level::Error),
                None,
                "Connection disconnected with error 'Error: WebSocket closed with status code: 1006 (no reason given).'.".into(),
                None
            )
        );
        assert_eq!(
            read("Utils.ts:190 [2024-03-01T10:00:00.000Z] Information: Normalizing '/chat'.").1,
            Some(Level::Info)
        );
        let (t, l, c, m, _) = read(
            "[08:30:05 GMT+0100 (Central European Standard Time)] SignalR: webSockets reconnecting.",
        );
        assert_eq!(
            (t, l, c.as_deref(), m.as_str()),
            (
                s("08:30:05"),
                None,
                Some("SignalR"),
                "webSockets reconnecting."
            )
        );
        let ev = parse_one(
            &Text,
            "[08:30:05 GMT+0100 (CET)] SignalR: x",
            1,
            &mut Diagnostics::default(),
        )
        .unwrap();
        assert_eq!(ev.time.unwrap().offset_secs, Some(3600));
    }

    #[test]
    fn functions_host_and_csharp_client() {
        assert_eq!(
            read(
                "2024-01-15T08:30:05.123 [Information] Executing 'Functions.negotiate' (Reason='x', Id=1)"
            ),
            (
                s("2024-01-15T08:30:05.123"),
                Some(Level::Info),
                None,
                "Executing 'Functions.negotiate' (Reason='x', Id=1)".into(),
                None
            )
        );
        assert_eq!(
            read("[2024-01-15T08:30:05.123Z] Executing 'Functions.Negotiate'").0,
            s("2024-01-15T08:30:05.123Z")
        );
        assert_eq!(
            read("08:30:05.1234567 - 9aa62c9b - Auto: Start").0,
            s("08:30:05.1234567")
        );
    }

    #[test]
    fn record_starts_and_continuations() {
        for start in [
            "[08:30:05 INF] x",
            "[INF] x",
            "Error: Failed to complete negotiation with the server",
            "2024-01-15 08:30:05.1234|INFO|A|m",
            "01/15/2024 08:30:05 PM something",
        ] {
            assert!(header(start.as_bytes()).is_some(), "{start:?}");
        }
        for cont in [
            "   at System.Net.X()",
            "System.Net.WebSockets.WebSocketException (0x80004005): closed",
            "3 message(s) dropped because of queue size limit.",
            "error: lower-case prose is not a level marker",
            "Request starting HTTP/1.1 POST",
            "[not a level] x",
        ] {
            assert!(header(cont.as_bytes()).is_none(), "{cont:?}");
        }
    }

    #[test]
    fn bare_exception_is_one_error_record() {
        let ev = parse_one(
            &Text,
            "System.InvalidOperationException: boom\n   at A.B()",
            1,
            &mut Diagnostics::default(),
        );
        // parse_one needs a record start; a bare exception is a preamble
        // record, which split_records builds (see the format tests).
        assert!(ev.is_err());
    }
}
