//! The one event model every parser produces.
//!
//! Events borrow from the input bytes (`'a`): the scanner hands each event to
//! a [`crate::scan::Collector`] by reference and only what a collector keeps
//! is ever copied. Format-specific data that rules may want (JSON `State`,
//! trace-listener footers) stays raw in [`Extra`] and is decoded on demand by
//! [`Event::field`].

use crate::time::Timestamp;
use serde::Serialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Severity on one scale for every logger: each format maps its words here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// ILogger Trace, Serilog Verbose.
    Trace,
    /// ILogger Debug, trace-listener Verbose.
    Debug,
    /// Information.
    Info,
    /// Warning.
    Warning,
    /// Error.
    Error,
    /// Critical / Fatal.
    Critical,
}

impl Level {
    /// All levels, lowest first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// The name used in rules and reports.
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
        }
    }

    /// Position in [`Level::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Format-specific data kept raw until someone asks for it.
#[derive(Debug, Clone, Default)]
pub enum Extra<'a> {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// ILogger JSON console output: the `State` object and `Scopes` array.
    Json {
        /// The raw `State` object (template values and `{OriginalFormat}`).
        state: Option<&'a RawValue>,
        /// The raw `Scopes` array.
        scopes: Option<&'a RawValue>,
    },
    /// Trace listener: the TraceSource name and footer values.
    Trace {
        /// The TraceSource name (`Microsoft.Azure.SignalR`).
        source: &'a str,
        /// `ProcessId=` footer.
        process_id: Option<&'a str>,
        /// `ThreadId=` footer.
        thread_id: Option<&'a str>,
    },
}

/// One log record, HTTP exchange or WebSocket message, in any format.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    /// 1-based line where the record starts.
    pub line: u64,
    /// When it happened, if the record says.
    pub time: Option<Timestamp>,
    /// Severity, if the record says.
    pub level: Option<Level>,
    /// ILogger category, TraceSource category, logger name.
    pub category: Option<Cow<'a, str>>,
    /// ILogger event id (always 0 in `asrs.log.txt`).
    pub event_id: Option<i32>,
    /// The message text, without format decoration.
    pub message: Cow<'a, str>,
    /// The exception text (type, message, stack), if any.
    pub exception: Option<Cow<'a, str>>,
    /// ILogger scopes (`SpanId:…, ConnectionId:…`), if printed.
    pub scopes: Option<Cow<'a, str>>,
    /// Format-specific raw data.
    pub extra: Extra<'a>,
}

/// A field value as rules and reports see it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'e> {
    /// Text.
    Str(Cow<'e, str>),
    /// A number.
    Num(f64),
    /// A level.
    Level(Level),
    /// A timestamp.
    Time(Timestamp),
}

impl<'a> Event<'a> {
    /// Looks a field up by its rule-language name: `message`, `category`,
    /// `level`, `event_id`, `exception`, `scopes`, `time`, `line`, `source`,
    /// `process_id`, `thread_id`, and for JSON input any key of `State`
    /// (`{OriginalFormat}`, `ServiceConnectionId`, also as `State.<key>`).
    pub fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        fn borrowed(c: &str) -> FieldValue<'_> {
            FieldValue::Str(Cow::Borrowed(c))
        }
        match name {
            "message" => Some(borrowed(&self.message)),
            "category" => self.category.as_deref().map(borrowed),
            "exception" => self.exception.as_deref().map(borrowed),
            "scopes" => self.scopes.as_deref().map(borrowed),
            "level" => self.level.map(FieldValue::Level),
            "event_id" => self.event_id.map(|v| FieldValue::Num(f64::from(v))),
            "time" => self.time.map(FieldValue::Time),
            "line" => Some(FieldValue::Num(self.line as f64)),
            _ => self.extra_field(name),
        }
    }

    fn extra_field(&self, name: &str) -> Option<FieldValue<'_>> {
        match &self.extra {
            Extra::None => None,
            Extra::Trace {
                source,
                process_id,
                thread_id,
            } => match name {
                "source" => Some(FieldValue::Str(Cow::Borrowed(source))),
                "process_id" => process_id.map(|v| FieldValue::Str(Cow::Borrowed(v))),
                "thread_id" => thread_id.map(|v| FieldValue::Str(Cow::Borrowed(v))),
                _ => None,
            },
            Extra::Json { state, .. } => {
                let key = name.strip_prefix("State.").unwrap_or(name);
                json_member(state.as_ref()?.get(), key)
            }
        }
    }
}

/// One member of a JSON object, parsed only now that someone asked for it.
fn json_member<'e>(object: &'e str, key: &str) -> Option<FieldValue<'e>> {
    let map: std::collections::HashMap<Cow<'e, str>, &'e RawValue> =
        serde_json::from_str(object).ok()?;
    let raw = map.get(key)?.get();
    if let Ok(s) = serde_json::from_str::<Cow<'e, str>>(raw) {
        return Some(FieldValue::Str(s));
    }
    if let Ok(n) = serde_json::from_str::<f64>(raw) {
        return Some(FieldValue::Num(n));
    }
    Some(FieldValue::Str(Cow::Borrowed(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_state_members_are_fields() {
        let state: &RawValue = serde_json::from_str(
            r#"{"Message":"m","ServiceTimeout":30000,"{OriginalFormat}":"Connection to \u0027{Endpoint}\u0027"}"#,
        )
        .unwrap();
        let ev = Event {
            extra: Extra::Json {
                state: Some(state),
                scopes: None,
            },
            ..Event::default()
        };
        assert_eq!(
            ev.field("{OriginalFormat}"),
            Some(FieldValue::Str("Connection to '{Endpoint}'".into()))
        );
        assert_eq!(
            ev.field("State.ServiceTimeout"),
            Some(FieldValue::Num(30000.0))
        );
        assert_eq!(ev.field("Missing"), None);
    }
}
