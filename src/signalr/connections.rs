//! Rebuilding SignalR connections from captured HTTP exchanges (HAR, and
//! later SAZ): the app's `/negotiate`, the service's `/client/negotiate`,
//! then the transport requests that carry the connection token as `id`.
//!
//! The join goes by what the protocol links: the negotiate response's
//! `connectionToken` (or `connectionId`) is the transport's `id`, and the
//! app's redirect URL carries the `asrs_request_id` the service negotiate
//! repeats. Where a link is missing (sanitized or partial captures), the
//! latest negotiate before the transport request stands in.

use super::jwt::TokenInfo;
use crate::time::Timestamp;
use serde::Serialize;

/// The guide's limit between negotiate and connect: the service forgets a
/// negotiated connection after 5 seconds.
pub const CONNECT_LIMIT_MS: f64 = 5_000.0;

/// The service's host names end with this.
const SERVICE_HOST: &str = ".service.signalr.net";

/// How far before a connect an unlinked negotiate may be to count as its.
const FALLBACK_WINDOW_MS: i64 = 60_000;

/// The service's limit on an access token's length.
pub const TOKEN_LIMIT: usize = 4096;

/// One HTTP exchange as the rebuild needs it (no secrets: tokens are
/// already reduced to [`TokenInfo`]).
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// The capture's number for it (HAR entry, SAZ session), 1-based.
    pub line: u64,
    /// When the request started.
    pub start: Option<Timestamp>,
    /// How long until the response ended, in milliseconds.
    pub duration_ms: Option<f64>,
    /// Host, without port.
    pub host: String,
    /// Path, without query.
    pub path: String,
    /// `hub` query values.
    pub hubs: Vec<String>,
    /// The `id` query value: the connection token of a transport request.
    pub id: Option<String>,
    /// The `asrs_request_id` query value.
    pub request_id: Option<String>,
    /// The HTTP status (0 or none: no response).
    pub status: Option<u16>,
    /// SignalR transport, for transport requests.
    pub transport: Option<&'static str>,
    /// The token the request carried or the negotiate response handed out.
    pub token: Option<TokenInfo>,
    /// What a negotiate response said.
    pub negotiate: Option<NegotiateReply>,
    /// How a WebSocket ended, from its messages.
    pub ws_end: Option<WsEnd>,
}

/// The parts of a negotiate response that link it to what follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegotiateReply {
    /// The redirect URL's `asrs_request_id` (app negotiate).
    pub redirect_request_id: Option<String>,
    /// The transport's `id` to come (service negotiate).
    pub connection_token: Option<String>,
    /// The connection id (service negotiate).
    pub connection_id: Option<String>,
    /// An `error` the response carried.
    pub error: Option<String>,
}

/// How a captured WebSocket ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsEnd {
    /// A close message without error, or close code 1000.
    Clean,
    /// A close message with an error.
    Error,
    /// A close code other than 1000, or a transport error.
    Abnormal,
}

/// A rebuilt connection: DESIGN.md's `connections[]` entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Connection {
    /// Input index.
    pub input: usize,
    /// The capture number (HAR entry) of its first request.
    pub line: u64,
    /// When its first request started.
    pub time: Option<String>,
    /// The connection id, when the service negotiate response was captured.
    pub connection: Option<String>,
    /// The hub.
    pub hub: Option<String>,
    /// The transport.
    pub transport: Option<String>,
    /// From the first negotiate request to the last negotiate response.
    pub negotiate_ms: Option<f64>,
    /// From the last negotiate response to the connect request.
    pub negotiate_to_connect_ms: Option<f64>,
    /// Access token length.
    pub token_length: Option<usize>,
    /// Access token lifetime, in seconds.
    pub token_lifetime_s: Option<i64>,
    /// HTTP statuses of its requests, in order (0: no response).
    pub statuses: Vec<u16>,
    /// `clean|error|abnormal|open|failed`.
    pub end: &'static str,
    /// What is wrong, in words (empty when nothing is).
    pub problems: Vec<String>,
}

fn is_negotiate(e: &Exchange) -> bool {
    e.path.ends_with("/negotiate")
}

fn is_service_negotiate(e: &Exchange) -> bool {
    e.path.ends_with("/client/negotiate") || e.path.ends_with("/aspnetclient/negotiate")
}

fn end_ms(e: &Exchange) -> Option<i64> {
    Some(millis(e.start?) + e.duration_ms.unwrap_or(0.0) as i64)
}

fn millis(t: Timestamp) -> i64 {
    let (s, n) = t.sort_key();
    s * 1000 + i64::from(n / 1_000_000)
}

fn ok(status: Option<u16>) -> bool {
    matches!(status, Some(200..=299 | 101))
}

/// Rebuilds the connections of one input from its exchanges (any order).
pub fn rebuild(input: usize, exchanges: &[Exchange]) -> Vec<Connection> {
    let mut order: Vec<&Exchange> = exchanges.iter().collect();
    order.sort_by_key(|e| (e.start.map(|t| t.sort_key()), e.line));
    let mut used = vec![false; order.len()];
    let mut out = Vec::new();
    // Transport requests, grouped by connection token, in order of first
    // use; only those that are SignalR's (other sites use `id=` too).
    let hub_paths: Vec<&str> = order
        .iter()
        .filter(|e| is_negotiate(e))
        .map(|e| e.path.trim_end_matches("/negotiate"))
        .collect();
    let tokens: Vec<&str> = order
        .iter()
        .filter_map(|e| e.negotiate.as_ref())
        .flat_map(|n| [n.connection_token.as_deref(), n.connection_id.as_deref()])
        .flatten()
        .collect();
    let signalr = |e: &Exchange| {
        e.host.ends_with(SERVICE_HOST)
            || e.path.contains("/aspnetclient/")
            || hub_paths.contains(&e.path.trim_end_matches('/'))
            || e.id.as_deref().is_some_and(|id| tokens.contains(&id))
    };
    // One pass: each token's requests, tokens in order of first use.
    let mut ids: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut slot: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, e) in order.iter().enumerate() {
        if let (Some(id), false) = (e.id.as_deref(), is_negotiate(e))
            && signalr(e)
        {
            let at = *slot.entry(id).or_insert_with(|| {
                ids.push((id, Vec::new()));
                ids.len() - 1
            });
            ids[at].1.push(i);
        }
    }
    for (id, members) in ids {
        let first = members[0];
        let connect = order[first];
        // The service negotiate that handed out this token, else the latest
        // one before the connect.
        let by_token = (0..first).rev().find(|&i| {
            order[i].negotiate.as_ref().is_some_and(|n| {
                n.connection_token.as_deref() == Some(id) || n.connection_id.as_deref() == Some(id)
            })
        });
        // Without a link, only a successful negotiate shortly before counts.
        let near = |i: usize, to: usize| match (order[i].start, order[to].start) {
            (Some(a), Some(b)) => millis(b) - millis(a) <= FALLBACK_WINDOW_MS,
            _ => false,
        };
        let service = by_token.or_else(|| {
            (0..first).rev().find(|&i| {
                !used[i] && is_service_negotiate(order[i]) && ok(order[i].status) && near(i, first)
            })
        });
        let request_id = service
            .and_then(|s| order[s].request_id.clone())
            .or(connect.request_id.clone());
        let before = service.unwrap_or(first);
        let app = (0..before).rev().find(|&i| {
            is_negotiate(order[i])
                && !is_service_negotiate(order[i])
                && !used[i]
                && match (&request_id, &order[i].negotiate) {
                    (Some(r), Some(n)) if n.redirect_request_id.is_some() => {
                        n.redirect_request_id.as_ref() == Some(r)
                    }
                    _ => ok(order[i].status) && near(i, before),
                }
        });
        let mut parts: Vec<usize> = app.into_iter().chain(service).collect();
        parts.extend(&members);
        for &p in &parts {
            used[p] = true;
        }
        out.push(connection(
            input,
            &order,
            &parts,
            service.or(app),
            Some(first),
        ));
    }
    // Transport requests without a connection token (negotiate skipped).
    for i in 0..order.len() {
        if !used[i] && order[i].transport.is_some() && order[i].id.is_none() && signalr(order[i]) {
            used[i] = true;
            out.push(connection(input, &order, &[i], None, Some(i)));
        }
    }
    // Negotiates that led nowhere: failed ones are connections that failed.
    for i in 0..order.len() {
        if !used[i] && is_negotiate(order[i]) && !ok(order[i].status) {
            used[i] = true;
            out.push(connection(input, &order, &[i], Some(i), None));
        }
    }
    out.sort_by_key(|c| c.line);
    out
}

fn connection(
    input: usize,
    order: &[&Exchange],
    parts: &[usize],
    last_negotiate: Option<usize>,
    connect: Option<usize>,
) -> Connection {
    let all: Vec<&Exchange> = parts.iter().map(|&i| order[i]).collect();
    let first = all[0];
    let negotiates: Vec<&Exchange> = all.iter().copied().filter(|e| is_negotiate(e)).collect();
    let span = |from: Option<i64>, to: Option<i64>| Some((to? - from?) as f64);
    let negotiate_ms = match (negotiates.first(), negotiates.last()) {
        (Some(a), Some(b)) => span(a.start.map(millis), end_ms(b)),
        _ => None,
    };
    let connect_ex = connect.map(|c| order[c]);
    let negotiate_to_connect_ms = match (last_negotiate, connect_ex) {
        (Some(n), Some(c)) => span(end_ms(order[n]), c.start.map(millis)),
        _ => None,
    };
    let token = connect_ex
        .and_then(|c| c.token.clone())
        .or_else(|| negotiates.iter().rev().find_map(|n| n.token.clone()));
    let hub = all
        .iter()
        .find_map(|e| e.hubs.first().cloned())
        .or_else(|| {
            // The app negotiate's path names the hub: /chat/negotiate.
            negotiates.first().and_then(|n| {
                let p = n.path.trim_end_matches("/negotiate");
                p.rsplit('/')
                    .next()
                    .filter(|h| !h.is_empty())
                    .map(str::to_string)
            })
        });
    let statuses: Vec<u16> = all.iter().map(|e| e.status.unwrap_or(0)).collect();
    let transports: Vec<&Exchange> = all.iter().copied().filter(|e| !is_negotiate(e)).collect();
    // A client falls back to the next transport when one fails: the
    // connection is what the first working transport request started.
    let working = transports.iter().position(|t| ok(t.status));
    let end = match working {
        None => "failed",
        Some(w) => {
            let last = transports.last().expect("not empty");
            match last.ws_end {
                Some(WsEnd::Clean) => "clean",
                Some(WsEnd::Error) => "error",
                Some(WsEnd::Abnormal) => "abnormal",
                None if transports[w..].iter().any(|t| !ok(t.status)) => "error",
                None if last.status == Some(204) => "clean",
                None => "open",
            }
        }
    };
    let transport = working
        .map(|w| transports[w])
        .or(connect_ex)
        .and_then(|c| c.transport);
    let mut problems = Vec::new();
    if let Some(gap) = negotiate_to_connect_ms.filter(|g| *g > CONNECT_LIMIT_MS) {
        problems.push(format!(
            "connect {:.1} s after negotiate (the service waits 5 s)",
            gap / 1000.0
        ));
    }
    if let Some(t) = token.as_ref().filter(|t| t.length > TOKEN_LIMIT) {
        problems.push(format!("token of {} bytes (limit 4 K)", t.length));
    }
    if let Some(e) = all.iter().find(|e| e.hubs.len() > 1) {
        problems.push(format!("{} hub parameters", e.hubs.len()));
    }
    if let Some(w) = working.filter(|&w| w > 0) {
        let failed: Vec<&str> = transports[..w].iter().filter_map(|t| t.transport).collect();
        problems.push(format!(
            "fell back from {} to {}",
            failed.join(", "),
            transport.unwrap_or("another transport")
        ));
    }
    if let Some(e) = all.iter().find(|e| !ok(e.status)) {
        problems.push(format!(
            "{} {}",
            match e.status {
                Some(s) if s > 0 => s.to_string(),
                _ => "no response".to_string(),
            },
            e.path
        ));
    }
    if let Some(err) = all
        .iter()
        .find_map(|e| e.negotiate.as_ref().and_then(|n| n.error.clone()))
    {
        problems.push(format!("negotiate error: {err}"));
    }
    Connection {
        input,
        line: first.line,
        time: first.start.map(|t| t.to_string()),
        connection: all
            .iter()
            .find_map(|e| e.negotiate.as_ref().and_then(|n| n.connection_id.clone())),
        hub,
        transport: transport.map(str::to_string),
        negotiate_ms,
        negotiate_to_connect_ms,
        token_length: token.as_ref().map(|t| t.length),
        token_lifetime_s: token.as_ref().and_then(TokenInfo::lifetime_secs),
        statuses,
        end,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(line: u64, at_ms: i64, path: &str, status: u16) -> Exchange {
        let t = chrono::DateTime::from_timestamp_millis(1_705_307_405_000 + at_ms).unwrap();
        Exchange {
            line,
            start: Some(Timestamp::instant(t.naive_utc(), 0)),
            duration_ms: Some(100.0),
            host: "x.service.signalr.net".into(),
            path: path.into(),
            status: Some(status),
            ..Exchange::default()
        }
    }

    #[test]
    fn negotiate_then_a_late_connect() {
        let mut app = ex(1, 0, "/chat/negotiate", 200);
        app.negotiate = Some(NegotiateReply {
            redirect_request_id: Some("r1".into()),
            ..NegotiateReply::default()
        });
        let mut svc = ex(2, 200, "/client/negotiate", 200);
        svc.request_id = Some("r1".into());
        svc.negotiate = Some(NegotiateReply {
            connection_token: Some("t1".into()),
            connection_id: Some("c1".into()),
            ..NegotiateReply::default()
        });
        let mut ws = ex(3, 6_300, "/client/", 404);
        ws.id = Some("t1".into());
        ws.transport = Some("WebSockets");
        let got = rebuild(0, &[ws, svc, app]);
        assert_eq!(got.len(), 1);
        let c = &got[0];
        assert_eq!(c.negotiate_ms, Some(300.0));
        assert_eq!(c.negotiate_to_connect_ms, Some(6_000.0));
        assert_eq!(c.statuses, vec![200, 200, 404]);
        assert_eq!((c.end, c.hub.as_deref()), ("failed", Some("chat")));
        assert_eq!(c.connection.as_deref(), Some("c1"));
        assert!(
            c.problems[0].starts_with("connect 6.0 s after negotiate"),
            "{:?}",
            c.problems
        );
    }

    #[test]
    fn failed_negotiate_alone_is_a_failed_connection() {
        let got = rebuild(0, &[ex(1, 0, "/chat/negotiate", 500)]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].end, got[0].statuses.as_slice()),
            ("failed", &[500][..])
        );
    }
}
