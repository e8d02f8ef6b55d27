//! The one event model every parser produces.
//!
//! Events borrow from the input bytes (`'a`): the scanner hands each event to
//! a [`crate::scan::Collector`] by reference and only what a collector keeps
//! is ever copied ([`Event::to_owned_event`]). Format-specific data that rules
//! may want (JSON `State`, trace-listener footers) stays raw in [`Extra`] and
//! is decoded on demand by [`Event::field`].

use crate::time::Timestamp;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Severity on one scale for every logger: each format maps its words here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// A field value as rules and reports see it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'e> {
    /// Text.
    Str(Cow<'e, str>),
    /// A number.
    Num(f64),
    /// A duration in nanoseconds.
    Dur(i64),
    /// A point in time.
    Time(Timestamp),
    /// A level.
    Level(Level),
    /// True or false.
    Bool(bool),
    /// Several values (a query parameter given more than once).
    List(Vec<Value<'e>>),
}

impl Value<'_> {
    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Str(s) => Value::Str(Cow::Owned(s.into_owned())),
            Value::Num(n) => Value::Num(n),
            Value::Dur(d) => Value::Dur(d),
            Value::Time(t) => Value::Time(t),
            Value::Level(l) => Value::Level(l),
            Value::Bool(b) => Value::Bool(b),
            Value::List(v) => Value::List(v.into_iter().map(Value::into_owned).collect()),
        }
    }

    /// The value as text (for keys, templates and excerpts).
    pub fn to_text(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Value::Num(n) => n.to_string(),
            Value::Dur(d) => format_duration(*d),
            Value::Time(t) => t.to_string(),
            Value::Level(l) => l.name().to_string(),
            Value::Bool(b) => b.to_string(),
            Value::List(v) => v.iter().map(Value::to_text).collect::<Vec<_>>().join(", "),
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary, with `…`
/// when something was cut.
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

/// `1.5s`, `250ms`, `2h3m`: a duration for people.
pub fn format_duration(nanos: i64) -> String {
    let mut out = String::with_capacity(12);
    push_duration(&mut out, nanos);
    out
}

/// [`format_duration`] appended to `out`. Integer arithmetic only, and no
/// string of its own: the drops' ranking writes one into every cause's
/// text, and a float's exact `{:.3}` formatting showed in its profile.
pub fn push_duration(out: &mut String, nanos: i64) {
    use std::fmt::Write;
    if nanos < 0 {
        out.push('-');
    }
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        // Milliseconds to three decimals: microseconds, rounded.
        push_thousandths(out, (n + 500) / 1000);
        out.push_str("ms");
        return;
    }
    if n < 60_000_000_000 {
        push_thousandths(out, (n + 500_000) / 1_000_000);
        out.push('s');
        return;
    }
    let total = (n + 500_000_000) / 1_000_000_000;
    let (h, m, sec) = (total / 3600, (total % 3600) / 60, total % 60);
    let _ = match (h, m, sec) {
        (0, m, s) => write!(out, "{m}m{s:02}s"),
        (h, m, _) => write!(out, "{h}h{m:02}m"),
    };
}

/// Appends `thousandths / 1000` with at most three decimals, trailing
/// zeros dropped.
fn push_thousandths(out: &mut String, thousandths: u64) {
    use std::fmt::Write;
    let (whole, mut frac) = (thousandths / 1000, thousandths % 1000);
    let _ = write!(out, "{whole}");
    if frac != 0 {
        let mut digits = 3;
        while frac.is_multiple_of(10) {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
}

/// Format-specific data kept raw until someone asks for it.
#[derive(Debug, Clone, Default)]
pub enum Extra<'a> {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// ILogger JSON console output: the raw `State` object and `Scopes` array.
    Json {
        /// The raw `State` object (template values and `{OriginalFormat}`).
        state: Option<Cow<'a, str>>,
        /// The raw `Scopes` array.
        scopes: Option<Cow<'a, str>>,
    },
    /// Trace listener: the TraceSource name and footer values.
    Trace {
        /// The TraceSource name (`Microsoft.Azure.SignalR`).
        source: Cow<'a, str>,
        /// `ProcessId=` footer.
        process_id: Option<Cow<'a, str>>,
        /// `ThreadId=` footer.
        thread_id: Option<Cow<'a, str>>,
    },
    /// Named values (events written by hand in rule examples, and formats
    /// whose fields are not text: `http.status`, `token.exp`, …).
    Fields(Vec<(String, Value<'a>)>),
}

impl Extra<'_> {
    fn to_owned_extra(&self) -> Extra<'static> {
        let own = |c: &Cow<'_, str>| Cow::Owned(c.to_string());
        match self {
            Extra::None => Extra::None,
            Extra::Json { state, scopes } => Extra::Json {
                state: state.as_ref().map(own),
                scopes: scopes.as_ref().map(own),
            },
            Extra::Trace {
                source,
                process_id,
                thread_id,
            } => Extra::Trace {
                source: own(source),
                process_id: process_id.as_ref().map(own),
                thread_id: thread_id.as_ref().map(own),
            },
            Extra::Fields(v) => Extra::Fields(
                v.iter()
                    .map(|(k, v)| (k.clone(), v.clone().into_owned()))
                    .collect(),
            ),
        }
    }
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
    /// Format-specific data.
    pub extra: Extra<'a>,
    /// The record's text as it stands in the input (set by the splitter;
    /// what the rules' literal prefilter scans).
    pub raw: &'a str,
    /// The part of `raw` that holds the message and exception, when the
    /// parser knows it (possibly empty: a record with no message): the
    /// prefilter searches it rather than the whole record, skipping
    /// headers, scope lines and footers. Literals of the fields those hold
    /// (category, scopes, source) are looked up in the fields instead.
    pub body: Option<&'a str>,
    /// The parser knows `message` is final already (its head parse saw
    /// the whole of it), so the rules' prefilter may hold it against a
    /// catalog template's length and last bytes, not only its start.
    /// False unless a parser says so.
    pub whole: bool,
}

impl<'a> Event<'a> {
    /// Looks a field up by its rule-language name: `message`, `category`,
    /// `level`, `event_id`, `exception`, `scopes`, `time`, `line`, `source`,
    /// `process_id`, `thread_id`, for JSON input any key of `State`
    /// (`{OriginalFormat}`, `ServiceConnectionId`, also as `State.<key>`),
    /// and any named value an [`Extra::Fields`] carries.
    pub fn field(&self, name: &str) -> Option<Value<'_>> {
        fn text(c: &str) -> Value<'_> {
            Value::Str(Cow::Borrowed(c))
        }
        match name {
            "message" => Some(text(&self.message)),
            "category" => self.category.as_deref().map(text),
            "exception" => self.exception.as_deref().map(text),
            "scopes" => self.scopes.as_deref().map(text),
            "level" => self.level.map(Value::Level),
            "event_id" => self.event_id.map(|v| Value::Num(f64::from(v))),
            "time" => self.time.map(Value::Time),
            "line" => Some(Value::Num(self.line as f64)),
            _ => self.extra_field(name),
        }
    }

    fn extra_field(&self, name: &str) -> Option<Value<'_>> {
        fn text(c: &str) -> Value<'_> {
            Value::Str(Cow::Borrowed(c))
        }
        match &self.extra {
            Extra::None => None,
            Extra::Trace {
                source,
                process_id,
                thread_id,
            } => match name {
                "source" => Some(text(source)),
                "process_id" => process_id.as_deref().map(text),
                "thread_id" => thread_id.as_deref().map(text),
                _ => None,
            },
            Extra::Json { state, .. } => {
                let key = name.strip_prefix("State.").unwrap_or(name);
                json_member(state.as_ref()?, key)
            }
            Extra::Fields(fields) => fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| match v {
                    Value::Str(s) => Value::Str(Cow::Borrowed(s.as_ref())),
                    other => other.clone(),
                }),
        }
    }

    /// A copy that borrows nothing (for the few events a collector keeps).
    pub fn to_owned_event(&self) -> Event<'static> {
        let own = |c: &Cow<'_, str>| Cow::Owned(c.to_string());
        Event {
            line: self.line,
            time: self.time,
            level: self.level,
            category: self.category.as_ref().map(own),
            event_id: self.event_id,
            message: own(&self.message),
            exception: self.exception.as_ref().map(own),
            scopes: self.scopes.as_ref().map(own),
            extra: self.extra.to_owned_extra(),
            raw: "",
            body: None,
            whole: self.whole,
        }
    }
}

/// One member of a JSON object, parsed only now that someone asked for it
/// (by the fast reader when it can tell, else by serde).
fn json_member<'e>(object: &'e str, key: &str) -> Option<Value<'e>> {
    let raw = match crate::parse::json_fast::member(object, key) {
        Some(found) => found?,
        None => {
            let map: std::collections::HashMap<Cow<'e, str>, &'e RawValue> =
                serde_json::from_str(object).ok()?;
            map.get(key)?.get()
        }
    };
    if let Ok(s) = serde_json::from_str::<Cow<'e, str>>(raw) {
        return Some(Value::Str(s));
    }
    if let Ok(n) = serde_json::from_str::<f64>(raw) {
        return Some(Value::Num(n));
    }
    if let Ok(b) = serde_json::from_str::<bool>(raw) {
        return Some(Value::Bool(b));
    }
    Some(Value::Str(Cow::Borrowed(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_state_members_are_fields() {
        let ev = Event {
            extra: Extra::Json {
                state: Some(Cow::Borrowed(
                    r#"{"Message":"m","ServiceTimeout":30000,"{OriginalFormat}":"Connection to \u0027{Endpoint}\u0027"}"#,
                )),
                scopes: None,
            },
            ..Event::default()
        };
        assert_eq!(
            ev.field("{OriginalFormat}"),
            Some(Value::Str("Connection to '{Endpoint}'".into()))
        );
        assert_eq!(ev.field("State.ServiceTimeout"), Some(Value::Num(30000.0)));
        assert_eq!(ev.field("Missing"), None);
        let owned = ev.to_owned_event();
        assert_eq!(
            owned.field("State.ServiceTimeout"),
            Some(Value::Num(30000.0))
        );
        let state = |json: &'static str| Event {
            extra: Extra::Json {
                state: Some(Cow::Borrowed(json)),
                scopes: None,
            },
            ..Event::default()
        };
        // A repeated key: the last value, as a map keeps it.
        assert_eq!(
            state(r#"{"a":1,"k":"first","b":[{"k":0}],"k":"last"}"#).field("k"),
            Some(Value::Str("last".into()))
        );
        // Not an object, or not valid to its end: no members at all.
        for bad in [
            r#"["k",1]"#,
            r#"{"k":1,}"#,
            r#"{"k":1} x"#,
            r#"{"k":1,"z":tru}"#,
        ] {
            assert_eq!(state(bad).field("k"), None, "{bad}");
        }
        assert_eq!(state(r#" {"k":true} "#).field("k"), Some(Value::Bool(true)));
        // An escaped key is left to serde, which decodes it.
        assert_eq!(
            state(r#"{"\u006b":"x"}"#).field("k"),
            Some(Value::Str("x".into()))
        );
    }

    #[test]
    fn durations_for_people() {
        assert_eq!(format_duration(250_000_000), "250ms");
        assert_eq!(format_duration(6_200_000_000), "6.2s");
        assert_eq!(format_duration(-1_500_000), "-1.5ms");
        assert_eq!(format_duration(125_000_000_000), "2m05s");
        assert_eq!(format_duration(3_725_000_000_000), "1h02m");
        assert_eq!(format_duration(100_000_000), "100ms");
        assert_eq!(format_duration(-2_000_000_000), "-2s");
        assert_eq!(format_duration(1_234_567), "1.235ms");
        assert_eq!(format_duration(999_999_999), "1000ms");
        assert_eq!(format_duration(59_999_999_999), "60s");
        assert_eq!(format_duration(1_050_000_000), "1.05s");
        assert_eq!(format_duration(0), "0ms");
        assert_eq!(format_duration(-125_000_000_000), "-2m05s");
    }

    /// The integer formatting writes what `{:.3}` of the float did, except
    /// at exact halves (where the float's binary value decided).
    #[test]
    fn durations_as_the_float_formatting_wrote_them() {
        fn float(nanos: i64) -> String {
            let trimmed = |v: f64| {
                let t = format!("{v:.3}");
                let t = t.trim_end_matches('0');
                t.trim_end_matches('.').to_string()
            };
            let sign = if nanos < 0 { "-" } else { "" };
            let ms = nanos.unsigned_abs() as f64 / 1e6;
            if ms < 1000.0 {
                return format!("{sign}{}ms", trimmed(ms));
            }
            if ms / 1000.0 < 60.0 {
                return format!("{sign}{}s", trimmed(ms / 1000.0));
            }
            let total = (ms / 1000.0).round() as u64;
            match (total / 3600, (total % 3600) / 60, total % 60) {
                (0, m, s) => format!("{sign}{m}m{s:02}s"),
                (h, m, _) => format!("{sign}{h}h{m:02}m"),
            }
        }
        let mut n: i64 = 1;
        while n < 40_000_000_000_000 {
            for x in [n, n + 499, n - 1, -n, n * 3 + 7] {
                let half = |unit: i64| x.rem_euclid(unit) == unit / 2;
                if !(half(1_000) || half(1_000_000) || half(1_000_000_000)) {
                    assert_eq!(format_duration(x), float(x), "{x}");
                }
            }
            n = n * 101 / 100 + 13;
        }
    }
}
