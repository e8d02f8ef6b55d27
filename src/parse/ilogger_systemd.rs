//! `ilogger-systemd`: .NET's SystemdConsoleFormatter.
//!
//! One line per record: `<N>[timestamp]Category[EventId] [=> scopes] message
//! [exception]`, where `<N>` is the syslog priority and the timestamp is
//! glued to the category with a space. Newlines inside the message were
//! replaced by spaces by the formatter, so the exception is found inline.

use super::text_util::split_inline_exception;
use super::{Diagnostics, Record, RecordParser, Reject, Start};
use crate::event::{Event, Level};
use crate::time;
use std::borrow::Cow;

/// The systemd parser.
pub(crate) struct IloggerSystemd;

/// How many space-separated tokens a timestamp may span before the category.
const MAX_TIMESTAMP_TOKENS: usize = 3;

fn priority_level(p: u8) -> Level {
    match p {
        b'0'..=b'2' => Level::Critical,
        b'3' => Level::Error,
        b'4' => Level::Warning,
        b'5' | b'6' => Level::Info,
        _ => Level::Debug,
    }
}

/// `Category[EventId]`: returns the category and the id.
fn category_token(token: &str) -> Option<(&str, i32)> {
    let open = token.rfind('[')?;
    let id = token[open + 1..].strip_suffix(']')?;
    if open == 0 || id.is_empty() {
        return None;
    }
    Some((&token[..open], id.parse().ok()?))
}

impl RecordParser for IloggerSystemd {
    fn record_start(&self, line: &[u8]) -> Option<Start> {
        match line {
            [b'<', p @ b'0'..=b'7', b'>', ..] => Some(Start {
                level: Some(priority_level(*p)),
                ..Start::default()
            }),
            _ => None,
        }
    }

    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let (text, line) = (rec.lines[0], rec.line);
        let reject = Reject {
            why: "not a systemd console log line",
        };
        let body = &text[3..];
        let mut offset = 0;
        let mut found = None;
        for (n, token) in body.split(' ').enumerate() {
            if n > MAX_TIMESTAMP_TOKENS {
                break;
            }
            if let Some((cat, id)) = category_token(token) {
                found = Some((offset, offset + token.len(), cat, id));
                break;
            }
            offset += token.len() + 1;
        }
        let (start, end, category, event_id) = found.ok_or(reject)?;
        let stamp = body[..start].trim();
        let time = if stamp.is_empty() {
            None
        } else {
            let t = time::parse(stamp);
            if t.is_none() {
                diag.bad_timestamps.add(line);
            }
            t
        };
        let rest = body.get(end + 1..).unwrap_or("");
        let (message, exception) = split_inline_exception(rest);
        Ok(Event {
            line,
            time,
            level: rec.start.level,
            category: Some(Cow::Borrowed(category)),
            event_id: Some(event_id),
            message: Cow::Borrowed(message),
            exception: exception.map(Cow::Borrowed),
            ..Event::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_one;

    #[test]
    fn lines_with_and_without_timestamp() {
        let mut d = Diagnostics::default();
        let ev = parse_one(
            &IloggerSystemd,
            "<2>2024-01-15T08:30:07.000+01:00 ChatSample.Program[0] Host terminated unexpectedly",
            4,
            &mut d,
        )
        .unwrap();
        assert_eq!(ev.level, Some(Level::Critical));
        assert_eq!(ev.category.as_deref(), Some("ChatSample.Program"));
        assert_eq!(ev.message, "Host terminated unexpectedly");
        assert_eq!(ev.time.unwrap().to_string(), "2024-01-15T08:30:07+01:00");
        let ev = parse_one(
            &IloggerSystemd,
            "<4>ChatSample.ChatHub[0] => ConnectionId:0HN0 Payload rejected",
            1,
            &mut d,
        )
        .unwrap();
        assert_eq!(ev.level, Some(Level::Warning));
        assert_eq!(ev.message, "=> ConnectionId:0HN0 Payload rejected");
        assert!(parse_one(&IloggerSystemd, "<6>no category here at all", 1, &mut d).is_err());
    }
}
