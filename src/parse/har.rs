//! HAR captures (HTTP Archive 1.1/1.2, every producer): each entry, with
//! Chrome's `_webSocketMessages`, becomes a [`Captured`] exchange that
//! [`super::capture`] turns into events.
//!
//! The file is read from memory as borrowed JSON: entries are first taken
//! as raw slices, so a broken entry costs only itself, and bodies are
//! decoded only where they matter (negotiate and failed responses), never
//! copied wholesale.

pub use super::capture::Parsed;
use super::capture::{Captured, WsMessage as CapturedWs};
use super::diagnostics::Diagnostics;
use crate::time::Timestamp;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

#[derive(Deserialize)]
struct Har<'a> {
    #[serde(borrow)]
    log: Log<'a>,
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow)]
    entries: Vec<&'a RawValue>,
    #[serde(default)]
    creator: Option<Creator>,
}

#[derive(Deserialize)]
struct Creator {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    /// Required by the spec, missing in some tools' exports.
    #[serde(borrow, default)]
    started_date_time: Option<Cow<'a, str>>,
    #[serde(default)]
    time: Option<f64>,
    #[serde(borrow)]
    request: Request<'a>,
    #[serde(borrow, default)]
    response: Option<Response<'a>>,
    #[serde(default)]
    timings: Option<Timings>,
    #[serde(rename = "_resourceType", borrow, default)]
    resource_type: Option<Cow<'a, str>>,
    #[serde(rename = "_webSocketMessages", borrow, default)]
    web_socket_messages: Option<Vec<WsMessage<'a>>>,
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(borrow, default)]
    headers: Vec<Header<'a>>,
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    value: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    #[serde(default)]
    status: Option<f64>,
    #[serde(borrow, default)]
    status_text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<Content<'a>>,
    #[serde(rename = "_error", borrow, default)]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    encoding: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Timings {
    #[serde(default)]
    wait: Option<f64>,
}

#[derive(Deserialize)]
struct WsMessage<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    time: Option<f64>,
    #[serde(default)]
    opcode: Option<i64>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
}

/// Why a HAR could not be read at all; entry-level problems are counted in
/// [`Parsed::diag`] instead.
pub fn parse(text: &str) -> Result<Parsed<'_>, String> {
    let har: Har<'_> = serde_json::from_str(strip_jsonp(text)).map_err(|e| {
        if e.is_data() {
            format!("valid JSON but not a HAR: {e} (a HAR is {{\"log\": {{\"entries\": [...]}}}})")
        } else {
            format!("broken JSON: {e}")
        }
    })?;
    let mut out = Parsed {
        creator: har.log.creator.and_then(|c| c.name),
        ..Parsed::default()
    };
    let mut lines = LineCounter::new(text);
    let mut timed = Vec::new();
    for (n, raw) in har.log.entries.into_iter().enumerate() {
        // DESIGN.md: for a HAR, `line` is the entry number (1-based).
        let number = n as u64 + 1;
        let line = lines.line_at(raw.get());
        match serde_json::from_str::<Entry<'_>>(raw.get()) {
            Ok(entry) => {
                let captured = captured(entry, number, line, &mut out.diag);
                out.push(captured, &mut timed);
            }
            Err(_) => out.diag.unparsed(
                number,
                memchr::memchr_iter(b'\n', raw.get().as_bytes()).count() as u64 + 1,
                "a HAR entry without a readable request (method and url); the number is the entry's",
            ),
        }
    }
    // The counter has seen the text up to the last entry: it finishes the
    // count rather than a second pass over the whole file.
    out.diag.lines = lines.line_at(&text[text.len()..]) - u64::from(text.ends_with('\n'));
    out.finish(timed);
    Ok(out)
}

/// The JSON inside HAR Viewer's JSONP form (`.harp`: `onInputData({...});`),
/// or the text itself. Slicing keeps line numbers right.
pub fn strip_jsonp(text: &str) -> &str {
    let Some(open) = jsonp_body_start(text.as_bytes()) else {
        return text;
    };
    match text.rfind(')') {
        Some(close) if close > open => &text[open..close],
        _ => text,
    }
}

/// Where the JSON starts after a JSONP callback (`name(`), if the text
/// opens with one; detection and parsing both use it.
pub fn jsonp_body_start(text: &[u8]) -> Option<usize> {
    let lead = text.len() - text.trim_ascii_start().len();
    let ident = text[lead..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'.'))
        .count();
    if ident == 0 {
        return None;
    }
    let after = &text[lead + ident..];
    let gap = after.len() - after.trim_ascii_start().len();
    (after.get(gap) == Some(&b'(')).then_some(lead + ident + gap + 1)
}

/// 1-based line numbers of slices of one text, asked for in order.
struct LineCounter<'t> {
    text: &'t str,
    offset: usize,
    line: u64,
}

impl<'t> LineCounter<'t> {
    fn new(text: &'t str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// The line where `part` (a slice of the text) starts.
    fn line_at(&mut self, part: &str) -> u64 {
        let at = (part.as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
        let at = at.min(self.text.len());
        if at >= self.offset {
            self.line +=
                memchr::memchr_iter(b'\n', &self.text.as_bytes()[self.offset..at]).count() as u64;
        } else {
            self.line = 1 + memchr::memchr_iter(b'\n', &self.text.as_bytes()[..at]).count() as u64;
        }
        self.offset = at;
        self.line
    }
}

/// An entry as a captured exchange. `line` is the entry number;
/// `file_line` where it starts in the file.
fn captured<'a>(
    entry: Entry<'a>,
    line: u64,
    file_line: u64,
    diag: &mut Diagnostics,
) -> Captured<'a> {
    let time = entry
        .started_date_time
        .as_deref()
        .and_then(crate::time::parse);
    if time.is_none() && entry.started_date_time.is_some() {
        diag.bad_timestamps.add(file_line);
    }
    let response = entry.response;
    let (status, status_text, error, content) = match response {
        Some(r) => (r.status, r.status_text, r.error, r.content),
        None => (None, None, None, None),
    };
    let websocket = entry
        .web_socket_messages
        .unwrap_or_default()
        .into_iter()
        .map(ws_message)
        .collect();
    Captured {
        number: line,
        time,
        duration_ms: entry.time,
        wait_ms: entry.timings.and_then(|t| t.wait),
        method: entry.request.method,
        url: entry.request.url,
        request_headers: entry
            .request
            .headers
            .into_iter()
            .map(|h| (h.name, h.value))
            .collect(),
        resource_type: entry.resource_type,
        status,
        status_text,
        error,
        body: content.map(|c| Box::new(move || body_text(&c)) as super::capture::LazyBody<'a>),
        websocket,
    }
}

/// A response body as text, decoded only now (base64 included).
fn body_text(content: &Content<'_>) -> Option<String> {
    let text: String = serde_json::from_str(content.text?.get()).ok()?;
    if content.encoding.as_deref() == Some("base64") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    } else {
        Some(text)
    }
}

/// One of Chrome's `_webSocketMessages`: text frames hold the text, other
/// opcodes base64; `time` is seconds since the epoch.
fn ws_message(m: WsMessage<'_>) -> CapturedWs<'_> {
    let time = m
        .time
        .and_then(|secs| chrono::DateTime::from_timestamp_micros((secs * 1e6).round() as i64))
        .map(|t| Timestamp::instant(t.naive_utc(), 0));
    let opcode = m.opcode.unwrap_or(1);
    let data = m.data.unwrap_or_default();
    let payload = if opcode == 1 || m.kind == "error" {
        match data {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }
    } else {
        Cow::Owned(
            base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .unwrap_or_default(),
        )
    };
    CapturedWs {
        kind: m.kind,
        time,
        opcode,
        payload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(entry: &str) -> Parsed<'static> {
        let text = Box::leak(format!("{{\"log\": {{\"entries\": [{entry}]}}}}").into_boxed_str());
        parse(text).unwrap()
    }

    #[test]
    fn odd_date_precisions_and_offsets() {
        for (date, want) in [
            ("2024-01-15T08:30:05Z", "2024-01-15T08:30:05Z"),
            ("2024-01-15T08:30:05.1Z", "2024-01-15T08:30:05.100Z"),
            (
                "2024-01-15T09:30:05.1234567+01:00",
                "2024-01-15T09:30:05.1234567+01:00",
            ),
            (
                "2015-02-22T19:28:12.136-08:00",
                "2015-02-22T19:28:12.136-08:00",
            ),
        ] {
            let p = one(&format!(
                r#"{{"startedDateTime": "{date}", "request": {{"method": "GET", "url": "https://a/"}}}}"#
            ));
            assert_eq!(p.events[0].time.unwrap().to_string(), want, "{date}");
        }
    }

    #[test]
    fn minus_one_timings_missing_response_and_jsonp() {
        let p = one(
            r#"{"startedDateTime": "2024-01-15T08:30:05Z", "time": -1, "timings": {"wait": -1},
               "request": {"method": "GET", "url": "https://a/b"}}"#,
        );
        let e = &p.events[0];
        assert!(e.field("http.duration").is_none() && e.field("http.wait").is_none());
        assert!(e.field("http.status").is_none());
        assert_eq!(
            e.level,
            Some(crate::event::Level::Error),
            "no response is an error"
        );
        assert_eq!(strip_jsonp("onInputData({\"log\": 1});"), "{\"log\": 1}");
        assert_eq!(strip_jsonp("{\"log\": 1}"), "{\"log\": 1}");
    }
}
