//! `ilogger-json`: .NET's JsonConsoleFormatter, one object per line or
//! indented over several.
//!
//! A record starts at a line whose first byte is `{`: JSON strings cannot
//! hold raw newlines and nested values of an indented object are indented,
//! so such a line is always a new top-level value. `State` and `Scopes` are
//! kept as raw JSON for rules to look into; strings borrow from the input
//! unless they contain escapes (`\u0027`): serde copies an `Option<Cow>`,
//! so strings go through [`Text`], which borrows.

use super::json_fast;
use super::{Diagnostics, Record, RecordParser, Reject, Start};
use crate::event::{Event, Extra, Level};
use crate::time;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The JSON console parser.
pub(crate) struct IloggerJson;

/// The members of a JSON console record the parser reads, as serde and
/// the fast reader ([`json_fast`]) both fill them.
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(super) struct Entry<'a> {
    #[serde(rename = "Timestamp", borrow, default, deserialize_with = "text")]
    pub timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "EventId", default)]
    pub event_id: Option<i64>,
    #[serde(rename = "LogLevel", borrow, default, deserialize_with = "text")]
    pub log_level: Option<Cow<'a, str>>,
    #[serde(rename = "Category", borrow, default, deserialize_with = "text")]
    pub category: Option<Cow<'a, str>>,
    #[serde(rename = "Message", borrow, default, deserialize_with = "text")]
    pub message: Option<Cow<'a, str>>,
    #[serde(rename = "Exception", borrow, default, deserialize_with = "text")]
    pub exception: Option<Cow<'a, str>>,
    /// `State`, as raw JSON.
    #[serde(rename = "State", borrow, default, deserialize_with = "raw")]
    pub state: Option<&'a str>,
    /// `Scopes`, as raw JSON.
    #[serde(rename = "Scopes", borrow, default, deserialize_with = "raw")]
    pub scopes: Option<&'a str>,
}

fn raw<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de str>, D::Error> {
    Ok(Option::<&'de RawValue>::deserialize(d)?.map(RawValue::get))
}

/// A string that borrows from the input unless it has escapes. (serde
/// borrows a `Cow<str>` field, but copies one inside an `Option`, which
/// cost an allocation per string and hid where the message is.)
#[derive(Deserialize)]
pub(super) struct Text<'a>(#[serde(borrow)] pub(super) Cow<'a, str>);

fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Ok(Option::<Text<'de>>::deserialize(d)?.map(|t| t.0))
}

/// `LogLevel` names of Microsoft.Extensions.Logging.
pub(crate) fn level_from_name(name: &str) -> Option<Level> {
    Some(match name {
        "Trace" => Level::Trace,
        "Debug" => Level::Debug,
        "Information" => Level::Info,
        "Warning" => Level::Warning,
        "Error" => Level::Error,
        "Critical" => Level::Critical,
        _ => return None,
    })
}

impl RecordParser for IloggerJson {
    fn format(&self) -> Option<super::Format> {
        Some(super::Format::IloggerJson)
    }

    fn record_start(&self, line: &[u8]) -> Option<Start> {
        (line.first() == Some(&b'{')).then(Start::default)
    }

    fn marks_bodies(&self) -> bool {
        true
    }

    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject> {
        let (text, line) = (rec.text, rec.line);
        let mut entry = Entry::default();
        let used = match json_fast::read(text, &mut entry) {
            Some(used) => used,
            None => {
                let (fields, used) = with_serde(text).inspect_err(|r| {
                    if r.why == CUT_OFF {
                        diag.truncated = Some(line);
                    }
                })?;
                entry = fields;
                used
            }
        };
        let trailing = &text[used..];
        if !trailing.trim().is_empty() {
            // Lines after the object that are not part of it.
            let at = used + (trailing.len() - trailing.trim_start().len());
            let first = line + text[..at].matches('\n').count() as u64;
            let count = trailing.lines().filter(|l| !l.trim().is_empty()).count() as u64;
            diag.unparsed(first, count, "text after a JSON log object");
        }
        let time = entry.timestamp.as_deref().and_then(|t| {
            let parsed = time::parse(t);
            if parsed.is_none() && !t.trim().is_empty() {
                diag.bad_timestamps.add(line);
            }
            parsed
        });
        let body = body(text, entry.message.as_ref(), entry.exception.as_ref());
        Ok(Event {
            line,
            time,
            level: entry.log_level.as_deref().and_then(level_from_name),
            category: entry.category,
            event_id: entry.event_id.and_then(|v| i32::try_from(v).ok()),
            message: entry.message.unwrap_or_default(),
            exception: entry.exception,
            scopes: None,
            extra: Extra::Json {
                state: entry.state.map(Cow::Borrowed),
                scopes: entry.scopes.map(Cow::Borrowed),
            },
            raw: text,
            body,
            // The message is whole, but an `event` test decides by the
            // record's `{OriginalFormat}` first, which the message's bytes
            // do not tell.
            whole: false,
        })
    }
}

const CUT_OFF: &str = "JSON object cut off by the end of the input";

/// Reads the object at the start of `text` with serde: what the fast
/// reader leaves to it, errors included.
pub(super) fn with_serde(text: &str) -> Result<(Entry<'_>, usize), Reject> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Entry<'_>>();
    match stream.next() {
        Some(Ok(e)) => Ok((e, stream.byte_offset())),
        Some(Err(e)) if e.is_eof() => Err(Reject { why: CUT_OFF }),
        _ => Err(Reject {
            why: "not a JSON log object",
        }),
    }
}

/// The span of `text` from the message to the exception (the text the
/// rules search; `State` repeats the message, the rest is keys and
/// numbers). `None`, so the whole record is searched, when there is
/// neither or one was copied: a value with escapes has no place in `text`.
fn body<'a>(
    text: &'a str,
    message: Option<&Cow<'a, str>>,
    exception: Option<&Cow<'a, str>>,
) -> Option<&'a str> {
    let mut span: Option<(usize, usize)> = None;
    for value in [message, exception].into_iter().flatten() {
        let Cow::Borrowed(v) = value else {
            return None;
        };
        let start = super::text_util::offset_in(text, v);
        let end = start + v.len();
        span = Some(span.map_or((start, end), |(s, e)| (s.min(start), e.max(end))));
    }
    span.map(|(s, e)| &text[s..e])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Value;
    use crate::parse::parse_one;

    #[test]
    fn compact_object_with_escapes_and_state() {
        let text = r#"{"Timestamp":"2024-01-15T08:30:05.123\u002B00:00","EventId":18,"LogLevel":"Information","Category":"C","Message":"to \u0027x\u0027","State":{"Message":"m","{OriginalFormat}":"to \u0027{Endpoint}\u0027"}}"#;
        let ev = parse_one(&IloggerJson, text, 2, &mut Diagnostics::default()).unwrap();
        assert_eq!(ev.message, "to 'x'");
        assert_eq!(ev.event_id, Some(18));
        assert_eq!(ev.time.unwrap().to_string(), "2024-01-15T08:30:05.123Z");
        assert_eq!(
            ev.field("{OriginalFormat}"),
            Some(Value::Str("to '{Endpoint}'".into()))
        );
    }

    /// Strings without escapes borrow from the record, and the body the
    /// prefilter searches runs from the message to the exception.
    #[test]
    fn strings_borrow_and_the_body_spans_message_and_exception() {
        let text = r#"{"EventId":1,"LogLevel":"Error","Category":"C","Message":"failed","Exception":"System.Exception: boom","State":{"Message":"failed"}}"#;
        let ev = parse_one(&IloggerJson, text, 1, &mut Diagnostics::default()).unwrap();
        assert!(matches!(ev.message, Cow::Borrowed(_)));
        assert!(matches!(ev.category, Some(Cow::Borrowed(_))));
        assert_eq!(
            ev.body,
            Some(r#"failed","Exception":"System.Exception: boom"#)
        );
        let escaped = r#"{"Message":"to \u0027x\u0027","State":{}}"#;
        let ev = parse_one(&IloggerJson, escaped, 1, &mut Diagnostics::default()).unwrap();
        assert_eq!((ev.message.as_ref(), ev.body), ("to 'x'", None));
    }

    #[test]
    fn truncated_and_trailing_garbage() {
        let mut d = Diagnostics::default();
        assert!(parse_one(&IloggerJson, "{\"Message\":\"x", 9, &mut d).is_err());
        assert_eq!(d.truncated, Some(9));
        let mut d = Diagnostics::default();
        let ev = parse_one(
            &IloggerJson,
            "{\"Message\":\"x\"}\nnot json\nmore",
            1,
            &mut d,
        )
        .unwrap();
        assert_eq!(ev.message, "x");
        assert_eq!(d.unparsed_lines, 2);
        assert_eq!(d.unparsed_samples[0].0, 2);
    }
}
