//! The SignalR JSON hub protocol as it appears in captured WebSocket,
//! SSE and long-polling bodies: records end with the 0x1E record
//! separator, each a JSON object whose `type` says what it is.
//!
//! Only what troubleshooting needs is decoded: the handshake, pings and the
//! close message (type 7) with its `error` and `allowReconnect`.

use serde::Deserialize;

/// The record separator that ends every JSON hub-protocol record.
pub const RECORD_SEPARATOR: char = '\u{1e}';

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The client's `{"protocol":"json","version":1}`.
    HandshakeRequest {
        /// The protocol name.
        protocol: String,
    },
    /// The server's handshake answer: `{}` or `{"error":"…"}`.
    HandshakeResponse {
        /// Why the handshake failed, if it did.
        error: Option<String>,
    },
    /// A message with a `type` (1 invocation … 6 ping, 7 close).
    Message {
        /// The hub-protocol message type.
        kind: i64,
        /// For invocations: the hub method.
        target: Option<String>,
        /// For close messages: the server's error.
        error: Option<String>,
        /// For close messages: whether the client may reconnect.
        allow_reconnect: Option<bool>,
    },
}

impl Record {
    /// A short name for the record (`ws.type`-style): `handshake`, `ping`,
    /// `invocation`, `close`, …
    pub fn name(&self) -> &'static str {
        match self {
            Record::HandshakeRequest { .. } | Record::HandshakeResponse { .. } => "handshake",
            Record::Message { kind, .. } => match kind {
                1 => "invocation",
                2 => "stream-item",
                3 => "completion",
                4 => "stream-invocation",
                5 => "cancel-invocation",
                6 => "ping",
                7 => "close",
                8 => "ack",
                9 => "sequence",
                _ => "message",
            },
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: Option<i64>,
    protocol: Option<String>,
    target: Option<String>,
    error: Option<String>,
    #[serde(rename = "allowReconnect")]
    allow_reconnect: Option<bool>,
}

/// The records of a text frame or body; text that is not a hub-protocol
/// record (another protocol, a truncated capture) is skipped. Text without
/// any record separator is not SignalR at all: other apps' WebSockets also
/// send `{"error": …}`, and must not read as a failed handshake.
pub fn records(text: &str) -> Vec<Record> {
    if !text.contains(RECORD_SEPARATOR) {
        return Vec::new();
    }
    text.split(RECORD_SEPARATOR)
        .map(str::trim)
        .filter(|r| r.starts_with('{'))
        .filter_map(|r| serde_json::from_str::<Raw>(r).ok())
        .map(|raw| match (raw.kind, raw.protocol) {
            (Some(kind), _) => Record::Message {
                kind,
                target: raw.target,
                error: raw.error,
                allow_reconnect: raw.allow_reconnect,
            },
            (None, Some(protocol)) => Record::HandshakeRequest { protocol },
            (None, None) => Record::HandshakeResponse { error: raw.error },
        })
        .collect()
}

/// The status code of a WebSocket close frame's payload (RFC 6455 §5.5.1:
/// the first two bytes, big-endian), if it has one.
pub fn close_code(payload: &[u8]) -> Option<u16> {
    match payload {
        [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_with_several_records() {
        let got = records(
            "{\"type\":6}\u{1e}{\"type\":7,\"error\":\"Connection closed with an error.\",\"allowReconnect\":true}\u{1e}",
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].name(), "ping");
        assert_eq!(
            got[1],
            Record::Message {
                kind: 7,
                target: None,
                error: Some("Connection closed with an error.".into()),
                allow_reconnect: Some(true)
            }
        );
    }

    #[test]
    fn handshakes_and_junk() {
        let got =
            records("{\"protocol\":\"json\",\"version\":1}\u{1e}{}\u{1e}not json\u{1e}{\"trunc");
        assert_eq!(
            got,
            vec![
                Record::HandshakeRequest {
                    protocol: "json".into()
                },
                Record::HandshakeResponse { error: None }
            ]
        );
    }

    #[test]
    fn close_codes() {
        assert_eq!(close_code(&[0x03, 0xEE]), Some(1006));
        assert_eq!(close_code(&[]), None);
    }
}
