//! HAR captures (HTTP Archive 1.1/1.2, every producer): each entry becomes
//! an `http` event, each of Chrome's `_webSocketMessages` a `websocket`
//! event, with the `http.*`, `token.*`, `ws.*` fields rules use.
//!
//! The file is read from memory as borrowed JSON: entries are first taken
//! as raw slices, so a broken entry costs only itself, and bodies are
//! decoded only where they matter (negotiate responses), never copied
//! wholesale. Secrets (the `access_token` query, `Authorization`, the
//! negotiate response's `accessToken`) never reach an event: a token
//! becomes its length and claims.

use super::diagnostics::Diagnostics;
use crate::event::{Event, Extra, Level, Value};
use crate::signalr::connections::{Exchange, NegotiateReply, WsEnd};
use crate::signalr::hub_protocol::{self, Record};
use crate::signalr::jwt::TokenInfo;
use crate::time::Timestamp;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A parsed capture: its events in time order and what could not be read.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// Requests and WebSocket messages, ordered by time (entries without
    /// a readable time keep their place at the end).
    pub events: Vec<Event<'a>>,
    /// Counts: records are entries, unparsed lines belong to broken entries.
    pub diag: Diagnostics,
    /// `log.creator.name`: the browser or proxy that wrote the file.
    pub creator: Option<String>,
    /// The entries as exchanges, for rebuilding SignalR connections.
    pub exchanges: Vec<Exchange>,
}

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
    let mut timed: Vec<(Option<(i64, u32)>, Event<'_>)> = Vec::new();
    for (n, raw) in har.log.entries.into_iter().enumerate() {
        // DESIGN.md: for a HAR, `line` is the entry number (1-based).
        let number = n as u64 + 1;
        let line = lines.line_at(raw.get());
        match serde_json::from_str::<Entry<'_>>(raw.get()) {
            Ok(entry) => {
                out.diag.records += 1;
                let (events, exchange) = entry_events(entry, number, line, &mut out.diag);
                for ev in events {
                    timed.push((ev.time.map(|t| t.sort_key()), ev));
                }
                out.exchanges.push(exchange);
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
    // Producers do not promise order; untimed events go last, in file order.
    timed.sort_by_key(|(k, _)| (k.is_none(), *k));
    out.events = timed.into_iter().map(|(_, e)| e).collect();
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

/// The request's event, then its WebSocket messages' events.
/// `line` is the entry number; `file_line` where it starts in the file.
fn entry_events<'a>(
    entry: Entry<'a>,
    line: u64,
    file_line: u64,
    diag: &mut Diagnostics,
) -> (Vec<Event<'a>>, Exchange) {
    let time = entry
        .started_date_time
        .as_deref()
        .and_then(crate::time::parse);
    if time.is_none() && entry.started_date_time.is_some() {
        diag.bad_timestamps.add(file_line);
    }
    let url = Url::parse(&entry.request.url);
    let status = entry.response.as_ref().and_then(|r| r.status);
    let error = entry.response.as_ref().and_then(|r| r.error.as_deref());
    let mut fields: Vec<(String, Value<'static>)> = vec![
        ("http.method".into(), owned(&entry.request.method)),
        (
            "http.url".into(),
            owned(&crate::redact::redact(&entry.request.url)),
        ),
        ("http.host".into(), owned(url.host)),
        ("http.path".into(), owned(url.path)),
    ];
    if let Some(s) = status {
        fields.push(("http.status".into(), Value::Num(s)));
    }
    if let Some(ms) = entry.time.filter(|t| *t >= 0.0) {
        fields.push(("http.duration".into(), Value::Dur(millis(ms))));
    }
    if let Some(ms) = entry
        .timings
        .as_ref()
        .and_then(|t| t.wait)
        .filter(|t| *t >= 0.0)
    {
        fields.push(("http.wait".into(), Value::Dur(millis(ms))));
    }
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in &url.query {
        if !names.contains(&name.as_ref()) {
            names.push(name);
        }
    }
    for name in &names {
        let values: Vec<Value<'static>> = url
            .query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(n, v)| owned(&query_value(n, v)))
            .collect();
        // Always a list, so that `len()` counts values, not characters.
        fields.push((format!("http.query.{name}"), Value::List(values)));
    }
    link_fields(&url, &mut fields);
    let transport = transport(&entry, &url);
    if let Some(t) = transport {
        fields.push(("transport".into(), Value::Str(Cow::Borrowed(t))));
    }
    let reply = negotiate_body(&entry, &url);
    let token = request_token(&entry, &url)
        .or_else(|| reply.as_ref().and_then(|r| r.access_token.clone()))
        .map(|t| TokenInfo::inspect(&t));
    if let Some(t) = &token {
        fields.extend(t.fields());
    }
    // The service negotiate names the connection its transport will carry.
    if let Some(id) = reply
        .as_ref()
        .and_then(|r| r.connection_token.as_ref().or(r.connection_id.as_ref()))
    {
        fields.push(("connection".into(), owned(id)));
    }
    let level = match (status, error) {
        (_, Some(e)) if e != "net::ERR_ABORTED" => Level::Error,
        (Some(s), _) if s >= 500.0 || s <= 0.0 => Level::Error,
        (Some(s), _) if s >= 400.0 => Level::Warning,
        (None, _) => Level::Error,
        _ => Level::Info,
    };
    let status_text = match status {
        Some(s) if s > 0.0 => {
            let text = entry
                .response
                .as_ref()
                .and_then(|r| r.status_text.as_deref())
                .unwrap_or("");
            format!("{s} {text}").trim_end().to_string()
        }
        _ => "no response".to_string(),
    };
    let mut message = format!(
        "{} {} -> {status_text}",
        entry.request.method,
        crate::redact::redact(&entry.request.url)
    );
    if let Some(e) = error {
        message.push_str(&format!(" ({e})"));
    }
    // A failed response's body says why ("Azure SignalR Service is not
    // connected yet…"): rules match it in the message.
    if status.is_some_and(|s| s >= 400.0)
        && let Some(body) = entry.response.as_ref().and_then(body_text)
    {
        let body = body.trim();
        if !body.is_empty() {
            message.push_str(": ");
            message.push_str(&crate::event::shorten(&crate::redact::redact(body), 500));
        }
    }
    let mut events = vec![Event {
        line,
        time,
        level: Some(level),
        category: Some(Cow::Borrowed("http")),
        message: Cow::Owned(message),
        extra: Extra::Fields(fields),
        ..Event::default()
    }];
    let mut ws_end = None;
    for m in entry.web_socket_messages.iter().flatten() {
        let (ev, end) = ws_event(m, line, &url, transport);
        // The server's close message with an error says why; the socket
        // failing afterwards (an error entry, code 1006) is its result.
        if ws_end != Some(WsEnd::Error) && end.is_some() {
            ws_end = end;
        }
        events.push(ev);
    }
    let query = |name: &str| {
        url.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_string())
    };
    let exchange = Exchange {
        line,
        start: time,
        duration_ms: entry.time.filter(|t| *t >= 0.0),
        host: url.host.to_string(),
        path: url.path.to_string(),
        hubs: url
            .query
            .iter()
            .filter(|(n, _)| n == "hub")
            .map(|(_, v)| v.to_string())
            .collect(),
        id: query("id").or_else(|| query("connectionToken")),
        request_id: query("asrs_request_id"),
        status: status.map(|s| s.clamp(0.0, 999.0) as u16),
        transport,
        token,
        negotiate: reply.map(|r| NegotiateReply {
            redirect_request_id: r.url.as_deref().and_then(|u| {
                Url::parse(u)
                    .query
                    .iter()
                    .find(|(n, _)| n == "asrs_request_id")
                    .map(|(_, v)| v.to_string())
            }),
            connection_token: r.connection_token,
            connection_id: r.connection_id,
            error: r.error,
        }),
        ws_end,
    };
    (events, exchange)
}

/// `hub` and `connection` from a request's query: the transport requests'
/// `id` (ASP.NET SignalR: `connectionToken`) is the connection token that
/// ties a connection's requests and messages together.
fn link_fields(url: &Url<'_>, fields: &mut Vec<(String, Value<'static>)>) {
    for (name, value) in &url.query {
        match name.as_ref() {
            "hub" if !fields.iter().any(|(k, _)| k == "hub") => {
                fields.push(("hub".into(), owned(value)))
            }
            "id" | "connectionToken" if !url.path.ends_with("/negotiate") => {
                fields.push(("connection".into(), owned(value)))
            }
            _ => {}
        }
    }
}

/// A query value as shown: secrets become their length (and claims).
fn query_value(name: &str, value: &str) -> String {
    let pair = format!("{name}={value}");
    match crate::redact::redact(&pair) {
        Cow::Borrowed(_) => value.to_string(),
        Cow::Owned(r) => r
            .strip_prefix(&format!("{name}="))
            .map(str::to_string)
            .unwrap_or(r),
    }
}

fn owned(s: &str) -> Value<'static> {
    Value::Str(Cow::Owned(s.to_string()))
}

fn millis(ms: f64) -> i64 {
    (ms * 1e6) as i64
}

/// The SignalR transport a request is, if it is one.
fn transport(entry: &Entry<'_>, url: &Url<'_>) -> Option<&'static str> {
    if url.path.ends_with("/negotiate") {
        return None;
    }
    // ASP.NET SignalR names it: /aspnetclient/connect?transport=webSockets.
    if let Some((_, t)) = url.query.iter().find(|(n, _)| n == "transport") {
        match t.to_ascii_lowercase().as_str() {
            "websockets" => return Some("WebSockets"),
            "serversentevents" => return Some("ServerSentEvents"),
            "longpolling" => return Some("LongPolling"),
            "foreverframe" => return Some("ForeverFrame"),
            _ => {}
        }
    }
    let scheme = url.scheme.to_ascii_lowercase();
    if scheme == "ws" || scheme == "wss" || entry.resource_type.as_deref() == Some("websocket") {
        return Some("WebSockets");
    }
    let accept_sse =
        entry.request.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("accept") && h.value.contains("text/event-stream")
        });
    if accept_sse || entry.resource_type.as_deref() == Some("eventsource") {
        return Some("ServerSentEvents");
    }
    url.query
        .iter()
        .any(|(n, _)| n == "id" || n == "connectionToken")
        .then_some("LongPolling")
}

/// The token the request carries: `access_token` or a Bearer header.
fn request_token(entry: &Entry<'_>, url: &Url<'_>) -> Option<String> {
    if let Some((_, v)) = url.query.iter().find(|(n, _)| n == "access_token") {
        return Some(v.to_string());
    }
    entry.request.headers.iter().find_map(|h| {
        if !h.name.eq_ignore_ascii_case("authorization") {
            return None;
        }
        let v = h.value.trim();
        let token = v.strip_prefix("Bearer ").or(v.strip_prefix("bearer "))?;
        Some(token.trim().to_string())
    })
}

/// A negotiate response body: the app's (`url` + `accessToken`, or
/// ASP.NET's `RedirectUrl` + `AccessToken`) or the service's
/// (`connectionToken`, `connectionId`), or an `error`.
#[derive(Deserialize)]
struct NegotiateBody {
    #[serde(rename = "accessToken", alias = "AccessToken", default)]
    access_token: Option<String>,
    #[serde(alias = "RedirectUrl", alias = "Url", default)]
    url: Option<String>,
    #[serde(rename = "connectionToken", alias = "ConnectionToken", default)]
    connection_token: Option<String>,
    #[serde(rename = "connectionId", alias = "ConnectionId", default)]
    connection_id: Option<String>,
    #[serde(alias = "Error", default)]
    error: Option<String>,
}

/// The body of a negotiate response, when captured and readable.
fn negotiate_body(entry: &Entry<'_>, url: &Url<'_>) -> Option<NegotiateBody> {
    if !url.path.ends_with("/negotiate") {
        return None;
    }
    serde_json::from_str(&body_text(entry.response.as_ref()?)?).ok()
}

/// A response body as text, decoded only now (base64 included).
fn body_text(response: &Response<'_>) -> Option<String> {
    let content = response.content.as_ref()?;
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

/// One WebSocket message of Chrome's `_webSocketMessages`, and whether it
/// ends the socket (and how).
fn ws_event<'a>(
    m: &WsMessage<'_>,
    line: u64,
    url: &Url<'_>,
    transport: Option<&'static str>,
) -> (Event<'a>, Option<WsEnd>) {
    let time = m
        .time
        .and_then(|secs| chrono::DateTime::from_timestamp_micros((secs * 1e6).round() as i64))
        .map(|t| Timestamp::instant(t.naive_utc(), 0));
    let data = m.data.as_deref().unwrap_or("");
    let opcode = m.opcode.unwrap_or(1);
    let mut fields: Vec<(String, Value<'static>)> = vec![("http.host".into(), owned(url.host))];
    if let Some(t) = transport {
        fields.push(("transport".into(), Value::Str(Cow::Borrowed(t))));
    }
    link_fields(url, &mut fields);
    let mut level = Level::Trace;
    let mut end = None;
    let (kind, shown) = match (m.kind.as_ref(), opcode) {
        ("error", _) => {
            level = Level::Error;
            end = Some(WsEnd::Abnormal);
            ("error".to_string(), data.to_string())
        }
        (_, 1) => {
            let records = hub_protocol::records(data);
            for r in &records {
                if let Record::Message {
                    kind: 7,
                    error: Some(e),
                    ..
                } = r
                {
                    fields.push(("ws.close.error".into(), owned(e)));
                    level = Level::Warning;
                    end = Some(WsEnd::Error);
                }
                if let Record::HandshakeResponse { error: Some(e) } = r {
                    fields.push(("ws.close.error".into(), owned(e)));
                    level = Level::Warning;
                    end = Some(WsEnd::Error);
                }
            }
            let kind = records
                .iter()
                .map(Record::name)
                .find(|n| *n == "close")
                .or(records.first().map(Record::name))
                .unwrap_or("text");
            if kind == "close" && level == Level::Trace {
                level = Level::Info;
                end = Some(WsEnd::Clean);
            }
            (
                kind.to_string(),
                data.replace(hub_protocol::RECORD_SEPARATOR, " "),
            )
        }
        (_, 8) => {
            let payload = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap_or_default();
            let code = hub_protocol::close_code(&payload);
            if let Some(c) = code {
                fields.push(("ws.close.code".into(), Value::Num(f64::from(c))));
                end = Some(WsEnd::Clean);
                if c != 1000 {
                    level = Level::Warning;
                    end = Some(WsEnd::Abnormal);
                }
            }
            (
                "close-frame".to_string(),
                code.map(|c| format!("close code {c}")).unwrap_or_default(),
            )
        }
        (_, op) => (
            format!("binary (opcode {op})"),
            format!("{} bytes of base64", data.len()),
        ),
    };
    fields.push(("ws.type".into(), owned(&kind)));
    let shown = crate::event::shorten(&crate::redact::redact(shown.trim()), 300).into_owned();
    let event = Event {
        line,
        time,
        level: Some(level),
        category: Some(Cow::Borrowed("websocket")),
        message: Cow::Owned(format!("ws {} {kind}: {shown}", m.kind)),
        extra: Extra::Fields(fields),
        ..Event::default()
    };
    (event, end)
}

/// The parts of a URL rules look at.
#[derive(Debug)]
struct Url<'u> {
    scheme: &'u str,
    host: &'u str,
    path: &'u str,
    /// Decoded name/value pairs, in order, repeats kept.
    query: Vec<(Cow<'u, str>, Cow<'u, str>)>,
}

impl<'u> Url<'u> {
    fn parse(url: &'u str) -> Url<'u> {
        let url = url.split('#').next().unwrap_or(url);
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, "/"),
        };
        let host = authority.rsplit('@').next().unwrap_or(authority);
        let host = match host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => host,
        };
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(n), percent_decode(v))
            })
            .collect();
        Url {
            scheme,
            host,
            path,
            query,
        }
    }
}

/// `application/x-www-form-urlencoded` decoding: `%XX` and `+`.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
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
    fn urls_queries_and_secrets() {
        let u =
            Url::parse("wss://x.service.signalr.net:443/client/?hub=a%20b&hub=c+d&id=t&empty#frag");
        assert_eq!(
            (u.scheme, u.host, u.path),
            ("wss", "x.service.signalr.net", "/client/")
        );
        let q: Vec<(&str, &str)> = u
            .query
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(
            q,
            [("hub", "a b"), ("hub", "c d"), ("id", "t"), ("empty", "")]
        );
        assert_eq!(percent_decode("100%"), "100%", "a lone % stays");
        assert_eq!(
            query_value("access_token", "abcdefgh"),
            "[redacted, 8 chars]"
        );
        assert_eq!(query_value("hub", "chat"), "chat");
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
        assert_eq!(e.level, Some(Level::Error), "no response is an error");
        assert_eq!(strip_jsonp("onInputData({\"log\": 1});"), "{\"log\": 1}");
        assert_eq!(strip_jsonp("{\"log\": 1}"), "{\"log\": 1}");
    }
}
