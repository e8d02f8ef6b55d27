//! Captured HTTP exchanges into events, shared by every capture format (HAR,
//! Fiddler's SAZ): each exchange becomes an `http` event, each of its
//! WebSocket messages a `websocket` event, with the `http.*`, `token.*`,
//! `ws.*` fields rules use, and an [`Exchange`] for the connection rebuild.
//!
//! A capture parser only says what it read ([`Captured`]); what that means
//! for SignalR — transports, tokens, negotiate replies, how a socket ended —
//! is decided here once, so HAR and SAZ users get the same analysis.
//! Secrets (the `access_token` query, `Authorization`, the negotiate
//! response's `accessToken`) never reach an event: a token becomes its
//! length and claims.

use super::diagnostics::Diagnostics;
use crate::event::{Event, Extra, Level, Value};
use crate::signalr::connections::{Exchange, NegotiateReply, WsEnd};
use crate::signalr::hub_protocol::{self, Record};
use crate::signalr::jwt::TokenInfo;
use crate::time::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;

/// A parsed capture: its events in time order and what could not be read.
#[derive(Debug, Default)]
pub struct Parsed<'a> {
    /// Requests and WebSocket messages, ordered by time (exchanges without
    /// a readable time keep their place at the end).
    pub events: Vec<Event<'a>>,
    /// Counts: records are exchanges; unparsed lines belong to broken ones.
    pub diag: Diagnostics,
    /// The program that wrote the capture (HAR `log.creator.name`, the SAZ
    /// archive comment).
    pub creator: Option<String>,
    /// The exchanges, for rebuilding SignalR connections.
    pub exchanges: Vec<Exchange>,
    /// Exchanges that are HTTPS `CONNECT` tunnels (a proxy capture without
    /// decryption holds only those).
    pub tunnels: u64,
}

impl<'a> Parsed<'a> {
    /// Adds one exchange: its events (kept for the final time sort) and
    /// its [`Exchange`].
    pub fn push(&mut self, captured: Captured<'a>, timed: &mut Vec<TimedEvent<'a>>) {
        self.tunnels += u64::from(captured.is_tunnel());
        let (events, exchange) = events(captured);
        self.push_events(events, exchange, timed);
    }

    /// [`Parsed::push`] for an exchange already turned into events (SAZ
    /// sessions are, in parallel).
    pub fn push_events(
        &mut self,
        events: Vec<Event<'a>>,
        exchange: Exchange,
        timed: &mut Vec<TimedEvent<'a>>,
    ) {
        self.diag.records += 1;
        timed.extend(
            events
                .into_iter()
                .map(|e| (e.time.map(|t| t.sort_key()), e)),
        );
        self.exchanges.push(exchange);
    }

    /// Orders the collected events by time; producers do not promise
    /// order, and untimed events go last, in capture order.
    pub fn finish(&mut self, mut timed: Vec<TimedEvent<'a>>) {
        timed.sort_by_key(|(k, _)| (k.is_none(), *k));
        self.events = timed.into_iter().map(|(_, e)| e).collect();
    }
}

/// An event with its sort key, waiting for [`Parsed::finish`].
pub type TimedEvent<'a> = (Option<(i64, u32)>, Event<'a>);

/// A response body, decoded only when asked (negotiate replies and failed
/// responses): most bodies in a capture are never looked at.
pub type LazyBody<'a> = Box<dyn Fn() -> Option<String> + 'a>;

/// One captured request and its response, as its format recorded them.
pub struct Captured<'a> {
    /// The capture's number for it (HAR entry, SAZ session), 1-based: the
    /// events' `line`.
    pub number: u64,
    /// When the request started.
    pub time: Option<Timestamp>,
    /// Request start to response end, in milliseconds.
    pub duration_ms: Option<f64>,
    /// Waiting for the first response byte, in milliseconds.
    pub wait_ms: Option<f64>,
    /// The request method.
    pub method: Cow<'a, str>,
    /// The absolute URL (secrets still in: redacted here).
    pub url: Cow<'a, str>,
    /// Request headers, in order.
    pub request_headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// What the browser said the request was for (`websocket`,
    /// `eventsource`), when it says.
    pub resource_type: Option<Cow<'a, str>>,
    /// The response status; `None` or 0: no response.
    pub status: Option<f64>,
    /// The response's reason phrase.
    pub status_text: Option<Cow<'a, str>>,
    /// Why the request failed, as the capturing tool put it.
    pub error: Option<Cow<'a, str>>,
    /// The response body, decoded on demand.
    pub body: Option<LazyBody<'a>>,
    /// The WebSocket messages carried by this request, in order.
    pub websocket: Vec<WsMessage<'a>>,
}

impl Captured<'_> {
    /// An HTTPS `CONNECT` tunnel: a proxy saw only that a connection was
    /// made, nothing inside it.
    pub fn is_tunnel(&self) -> bool {
        self.method.eq_ignore_ascii_case("CONNECT")
    }
}

/// One WebSocket message, its payload already unmasked and decoded from
/// whatever the capture stored it as.
#[derive(Debug, Clone)]
pub struct WsMessage<'a> {
    /// `send` (client to server), `receive`, or `error` (the socket failed;
    /// the payload is the error text).
    pub kind: Cow<'a, str>,
    /// When it was seen.
    pub time: Option<Timestamp>,
    /// The frame opcode: 1 text, 2 binary, 8 close.
    pub opcode: i64,
    /// The payload.
    pub payload: Cow<'a, [u8]>,
}

/// The exchange's request event, then its WebSocket messages' events, and
/// the exchange for the connection rebuild.
pub fn events(c: Captured<'_>) -> (Vec<Event<'_>>, Exchange) {
    let url = Url::parse(&c.url);
    let status = c.status;
    let error = c.error.as_deref();
    let redacted_url = crate::redact::redact(&c.url).into_owned();
    let mut fields: Vec<(String, Value<'static>)> = vec![
        ("http.method".into(), owned(&c.method)),
        ("http.url".into(), owned(&redacted_url)),
        ("http.host".into(), owned(url.host)),
        ("http.path".into(), owned(url.path)),
    ];
    if let Some(s) = status {
        fields.push(("http.status".into(), Value::Num(s)));
    }
    if let Some(ms) = c.duration_ms.filter(|t| *t >= 0.0) {
        fields.push(("http.duration".into(), Value::Dur(millis(ms))));
    }
    if let Some(ms) = c.wait_ms.filter(|t| *t >= 0.0) {
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
    let transport = transport(&c, &url);
    if let Some(t) = transport {
        fields.push(("transport".into(), Value::Str(Cow::Borrowed(t))));
    }
    let reply = negotiate_body(&c, &url);
    let token = request_token(&c, &url)
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
    // The connection id is what the app server's SDK logs the connection by.
    if let Some(id) = reply.as_ref().and_then(|r| r.connection_id.as_ref()) {
        fields.push(("connection_id".into(), owned(id)));
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
            let text = c.status_text.as_deref().unwrap_or("");
            format!("{s} {text}").trim_end().to_string()
        }
        _ => "no response".to_string(),
    };
    let mut message = format!("{} {redacted_url} -> {status_text}", c.method);
    if let Some(e) = error {
        message.push_str(&format!(" ({e})"));
    }
    // A failed response's body says why ("Azure SignalR Service is not
    // connected yet…"): rules match it in the message.
    if status.is_some_and(|s| s >= 400.0)
        && let Some(body) = c.body.as_ref().and_then(|b| b())
    {
        let body = body.trim();
        if !body.is_empty() {
            message.push_str(": ");
            message.push_str(&crate::event::shorten(&crate::redact::redact(body), 500));
        }
    }
    let mut events = vec![Event {
        line: c.number,
        time: c.time,
        level: Some(level),
        category: Some(Cow::Borrowed("http")),
        message: Cow::Owned(message),
        extra: Extra::Fields(fields),
        ..Event::default()
    }];
    let mut ws_end = None;
    for m in &c.websocket {
        let (ev, end) = ws_event(m, c.number, &url, transport);
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
        line: c.number,
        start: c.time,
        duration_ms: c.duration_ms.filter(|t| *t >= 0.0),
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
fn transport(c: &Captured<'_>, url: &Url<'_>) -> Option<&'static str> {
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
    // Fiddler writes a WebSocket's URL as `https://` but keeps the
    // upgrade headers.
    let upgrade = c
        .request_headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("upgrade") && v.eq_ignore_ascii_case("websocket"));
    if scheme == "ws"
        || scheme == "wss"
        || upgrade
        || c.resource_type.as_deref() == Some("websocket")
    {
        return Some("WebSockets");
    }
    let accept_sse = c
        .request_headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("accept") && v.contains("text/event-stream"));
    if accept_sse || c.resource_type.as_deref() == Some("eventsource") {
        return Some("ServerSentEvents");
    }
    url.query
        .iter()
        .any(|(n, _)| n == "id" || n == "connectionToken")
        .then_some("LongPolling")
}

/// The token the request carries: `access_token` or a Bearer header.
fn request_token(c: &Captured<'_>, url: &Url<'_>) -> Option<String> {
    if let Some((_, v)) = url.query.iter().find(|(n, _)| n == "access_token") {
        return Some(v.to_string());
    }
    c.request_headers.iter().find_map(|(name, value)| {
        if !name.eq_ignore_ascii_case("authorization") {
            return None;
        }
        let v = value.trim();
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
fn negotiate_body(c: &Captured<'_>, url: &Url<'_>) -> Option<NegotiateBody> {
    if !url.path.ends_with("/negotiate") {
        return None;
    }
    serde_json::from_str(&(c.body.as_ref()?)()?).ok()
}

/// One WebSocket message, and whether it ends the socket (and how).
fn ws_event<'a>(
    m: &WsMessage<'_>,
    line: u64,
    url: &Url<'_>,
    transport: Option<&'static str>,
) -> (Event<'a>, Option<WsEnd>) {
    let opcode = m.opcode;
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
            (
                "error".to_string(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )
        }
        (_, 1) => {
            let data = String::from_utf8_lossy(&m.payload);
            let records = hub_protocol::records(&data);
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
            let code = hub_protocol::close_code(&m.payload);
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
        (_, 9) => ("ping-frame".to_string(), String::new()),
        (_, 10) => ("pong-frame".to_string(), String::new()),
        (_, 2) => ("binary".to_string(), format!("{} bytes", m.payload.len())),
        (_, op) => (
            format!("frame (opcode {op})"),
            format!("{} bytes", m.payload.len()),
        ),
    };
    fields.push(("ws.type".into(), owned(&kind)));
    let shown = crate::event::shorten(&crate::redact::redact(shown.trim()), 300).into_owned();
    let event = Event {
        line,
        time: m.time,
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
}
