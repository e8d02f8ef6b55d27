//! Synthetic but realistic logs, for benchmarks and tests.
//!
//! The benchmark (`cargo run --release --example gen`) and the chunking
//! invariance tests need big inputs with the hard parts of real ones —
//! multi-line messages, exception blocks, scopes, footers, CRLF — and they
//! need to know exactly how many records they wrote. The generator is
//! deterministic for a seed, so failures reproduce.

use crate::parse::Format;
use std::io::{self, Write};

/// What a generator run wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Written {
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// A small deterministic PRNG (xorshift64*), enough for picking messages.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn id(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xffff,
            b >> 48,
            b & 0xffff_ffff_ffff
        )
    }
}

/// One synthetic log entry before formatting.
struct Entry {
    level: usize,
    category: &'static str,
    event_id: i32,
    message: String,
    template: &'static str,
    exception: Option<String>,
    scope: Option<String>,
}

const LEVEL_WORDS: [&str; 6] = ["trce", "dbug", "info", "warn", "fail", "crit"];
const LOG_LEVELS: [&str; 6] = [
    "Trace",
    "Debug",
    "Information",
    "Warning",
    "Error",
    "Critical",
];
const TRACE_TYPES: [&str; 6] = [
    "Verbose",
    "Verbose",
    "Information",
    "Warning",
    "Error",
    "Critical",
];
const PRIORITIES: [u8; 6] = [7, 7, 6, 4, 3, 2];
const SERVICE_CONNECTION: &str = "Microsoft.Azure.SignalR.ServiceConnection";
const EXCEPTION: &str = "System.Net.WebSockets.WebSocketException (0x80004005): The remote party closed the WebSocket connection without completing the close handshake.\n   at System.Net.WebSockets.ManagedWebSocket.ThrowEOFUnexpected()\n   at System.Net.WebSockets.ManagedWebSocket.EnsureBufferContainsAsync(Int32 minimumRequiredBytes, CancellationToken cancellationToken)\n--- End of stack trace from previous location ---\n   at Microsoft.Azure.SignalR.Connections.Client.Internal.WebSocketsTransport.StartReceiving(WebSocket socket)";

fn entry(rng: &mut Rng) -> Entry {
    let id = rng.id();
    // Per mille, roughly what a busy, mostly healthy app server logs with
    // the SDK at Debug: requests, pings and client connections, with rare
    // failures (see the README's Performance section).
    let pick = rng.below(1000);
    let client = rng.below(5000);
    let mut e = Entry {
        level: 1,
        category: SERVICE_CONNECTION,
        event_id: 25,
        message: "Sent a ping message to service.".to_string(),
        template: "Sent a ping message to service.",
        exception: None,
        scope: None,
    };
    match pick {
        0..=249 => {}
        790..=819 => {
            e.level = 2;
            e.event_id = 11;
            e.message = format!("Connection client{client} started.");
            e.template = "Connection {TransportConnectionId} started.";
        }
        820..=849 => {
            e.level = 2;
            e.event_id = 12;
            e.message = format!("Connection client{client} ended.");
            e.template = "Connection {TransportConnectionId} ended.";
        }
        930..=974 => {
            e.level = 2;
            e.event_id = 20;
            e.message = format!("Service connection {id} connected.");
            e.template = "Service connection {ServiceConnectionId} connected.";
        }
        520..=789 => {
            e.level = 2;
            e.category = "Microsoft.AspNetCore.Hosting.Diagnostics";
            e.event_id = 2;
            e.message = format!(
                "Request finished HTTP/1.1 POST http://localhost:5000/chat/negotiate?negotiateVersion=1 - 200 316 application/json {}.{:04}ms",
                rng.below(90),
                rng.below(10_000)
            );
            e.template = "Request finished {Protocol} {Method} {Scheme}://{Host}{PathBase}{Path}{QueryString} - {StatusCode} {ContentLength} {ContentType} {ElapsedMilliseconds}ms";
        }
        250..=519 => {
            e.level = 2;
            e.category = "Microsoft.AspNetCore.Hosting.Diagnostics";
            e.event_id = 1;
            e.message = "Request starting HTTP/1.1 POST http://localhost:5000/chat/negotiate?negotiateVersion=1 - text/plain;charset=UTF-8 0".to_string();
            e.template = "Request starting {Protocol} {Method} {Scheme}://{Host}{PathBase}{Path}{QueryString} - {ContentType} {ContentLength}";
            e.scope = Some(format!(
                "SpanId:{:016x}, TraceId:{:032x}, ParentId:0000000000000000 => ConnectionId:0HN{:09X}",
                rng.next(),
                u128::from(rng.next()),
                rng.below(1 << 32)
            ));
        }
        990..=996 => {
            e.level = 2;
            e.event_id = 4;
            e.message = format!(
                "Connection to 'https://contoso.service.signalr.net' was dropped, probably caused by network instability or service restart. Will reconnect after the back off period. Error detail: The remote party closed the WebSocket connection.. Id: {id}."
            );
            e.template = "Connection to '{Endpoint}' was dropped, probably caused by network instability or service restart. Will reconnect after the back off period. Error detail: {Error}. Id: {ServiceConnectionId}.";
        }
        850..=929 => {
            e.level = 3;
            e.category = "ChatSample.ChatHub";
            e.event_id = 0;
            e.message = format!(
                "Payload rejected for user {}:\nfirst offending line\nsecond offending line",
                rng.below(10_000)
            );
            e.template =
                "Payload rejected for user {User}:\nfirst offending line\nsecond offending line";
        }
        975..=989 => {
            e.level = 4;
            e.event_id = 1;
            e.message = format!(
                "Failed to send message {} to the service. Error detail: The remote party closed the WebSocket connection without completing the close handshake.. Id: {id}",
                rng.next() >> 20
            );
            e.template = "Failed to send message {TracingId} to the service. Error detail: {Error}. Id: {ServiceConnectionId}";
            e.exception = Some(EXCEPTION.to_string());
        }
        _ => {
            e.level = 5;
            e.category = "ChatSample.Program";
            e.event_id = 0;
            e.message = "Host terminated unexpectedly".to_string();
            e.template = "Host terminated unexpectedly";
            e.exception = Some("System.InvalidOperationException: The service is not ready.\n   at ChatSample.Program.Main(String[] args)".to_string());
        }
    }
    e
}

/// A clock that advances a few milliseconds per record.
struct Clock {
    millis: i64,
}

impl Clock {
    fn tick(&mut self, rng: &mut Rng) -> chrono::NaiveDateTime {
        self.millis += 1 + rng.below(50) as i64;
        chrono::DateTime::from_timestamp_millis(self.millis)
            .expect("in range")
            .naive_utc()
    }
}

fn indent(text: &str, pad: &str) -> String {
    text.replace('\n', &format!("\n{pad}"))
}

fn write_simple(e: &Entry, t: chrono::NaiveDateTime, out: &mut String) {
    out.push_str(&format!(
        "{} {}: {}[{}]\n",
        t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00"),
        LEVEL_WORDS[e.level],
        e.category,
        e.event_id
    ));
    if let Some(s) = &e.scope {
        out.push_str(&format!("      => {s}\n"));
    }
    out.push_str(&format!("      {}\n", indent(&e.message, "      ")));
    if let Some(x) = &e.exception {
        out.push_str(&format!("      {}\n", indent(x, "      ")));
    }
}

fn write_json(e: &Entry, t: chrono::NaiveDateTime, out: &mut String) {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    out.push_str(&format!(
        "{{\"Timestamp\":{},\"EventId\":{},\"LogLevel\":\"{}\",\"Category\":{},\"Message\":{}",
        s(&t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()),
        e.event_id,
        LOG_LEVELS[e.level],
        s(e.category),
        s(&e.message)
    ));
    if let Some(x) = &e.exception {
        out.push_str(&format!(",\"Exception\":{}", s(&x.replace('\n', " "))));
    }
    out.push_str(&format!(
        ",\"State\":{{\"Message\":{},\"{{OriginalFormat}}\":{}}}}}\n",
        s(&e.message),
        s(e.template)
    ));
}

fn write_trace(e: &Entry, t: chrono::NaiveDateTime, rng: &mut Rng, out: &mut String) {
    out.push_str(&format!(
        "Microsoft.Azure.SignalR {}: 0 : [{}]{}\r\n",
        TRACE_TYPES[e.level],
        e.category,
        e.message.replace('\n', "\r\n")
    ));
    out.push_str(&format!(
        "    ProcessId=7312\r\n    LogicalOperationStack=\r\n    ThreadId={}\r\n    DateTime={}\r\n    Timestamp={}\r\n",
        rng.below(40),
        format_args!(
            "{}.{:07}Z",
            t.format("%Y-%m-%dT%H:%M:%S"),
            chrono::Timelike::nanosecond(&t) / 100
        ),
        rng.next() >> 16
    ));
}

fn write_systemd(e: &Entry, t: chrono::NaiveDateTime, out: &mut String) {
    out.push_str(&format!(
        "<{}>{} {}[{}] ",
        PRIORITIES[e.level],
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        e.category,
        e.event_id
    ));
    if let Some(s) = &e.scope {
        out.push_str(&format!("=> {s} "));
    }
    out.push_str(&e.message.replace('\n', " "));
    if let Some(x) = &e.exception {
        out.push(' ');
        out.push_str(&x.replace('\n', " "));
    }
    out.push('\n');
}

const SERILOG_LEVELS: [&str; 6] = ["VRB", "DBG", "INF", "WRN", "ERR", "FTL"];

/// Serilog's file sink with its default template (local time with offset).
fn write_serilog(e: &Entry, t: chrono::NaiveDateTime, out: &mut String) {
    out.push_str(&format!(
        "{} [{}] {}\n",
        t.format("%Y-%m-%d %H:%M:%S%.3f +01:00"),
        SERILOG_LEVELS[e.level],
        e.message
    ));
    if let Some(x) = &e.exception {
        out.push_str(x);
        out.push('\n');
    }
}

/// Writes about `size` bytes of `format` (whole records only) and says how
/// many records and bytes that was.
pub fn generate(format: Format, size: u64, seed: u64, out: &mut dyn Write) -> io::Result<Written> {
    if format.parser().is_none() {
        return Err(io::Error::other(format!(
            "{format} is a capture, not a log: the generator writes logs only"
        )));
    }
    let mut rng = Rng(seed.max(1));
    let mut clock = Clock {
        millis: 1_705_307_405_000,
    };
    let mut written = Written::default();
    let mut buf = String::with_capacity(1 << 16);
    while written.bytes < size {
        buf.clear();
        while buf.len() < (1 << 16) && written.bytes + (buf.len() as u64) < size {
            let e = entry(&mut rng);
            let t = clock.tick(&mut rng);
            match format {
                Format::IloggerSimple => write_simple(&e, t, &mut buf),
                Format::IloggerJson => write_json(&e, t, &mut buf),
                Format::TraceListener => write_trace(&e, t, &mut rng, &mut buf),
                Format::IloggerSystemd => write_systemd(&e, t, &mut buf),
                Format::Text => write_serilog(&e, t, &mut buf),
                Format::Har | Format::Saz => unreachable!("refused above"),
            }
            written.records += 1;
        }
        out.write_all(buf.as_bytes())?;
        written.bytes += buf.len() as u64;
    }
    Ok(written)
}
