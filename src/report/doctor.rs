//! The capture doctor: for each section of the troubleshooting guide,
//! whether the inputs given can answer it at all, and if not, what to
//! capture or switch on. A finding's absence means little when the input
//! that would show it is missing; this says which.

use crate::analyze::InputResult;
use crate::event::Level;
use crate::parse::Format;
use serde::Serialize;

/// Evidence a guide section needs (any one of its alternatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The app server's log with the Azure SignalR SDK's messages.
    ServerLog,
    /// That log at Debug level (connection start/end lines are Debug).
    ServerDebug,
    /// The client's HTTP traffic: a HAR or a decrypted Fiddler capture.
    HttpCapture,
    /// The client's WebSocket messages or its console log.
    ClientSide,
}

impl Need {
    /// What to capture or switch on, in words.
    fn advice(self) -> &'static str {
        match self {
            Need::ServerLog => {
                "capture the app server's log with the Azure SignalR SDK's messages (ILogger console output with a TimestampFormat, or for ASP.NET the trace listener's asrs.log.txt with traceOutputOptions=\"DateTime\")"
            }
            Need::ServerDebug => {
                "set the `Microsoft.Azure.SignalR` log level to Debug (appsettings.json Logging:LogLevel): connections starting and ending are logged at Debug"
            }
            Need::HttpCapture => {
                "capture the client's traffic: a browser HAR (DevTools > Network > Save all as HAR with content) or, for .NET clients, Fiddler with HTTPS decryption on"
            }
            Need::ClientSide => {
                "capture the client's side: a Chrome or Edge HAR (Firefox and Safari leave out WebSocket messages) or the client's console log"
            }
        }
    }
}

/// The guide's sections and what answers them: each inner list is one way.
const SECTIONS: [(&str, &[&[Need]]); 12] = [
    (
        "Access token too long",
        &[&[Need::HttpCapture], &[Need::ServerLog]],
    ),
    ("TLS 1.2 required", &[&[Need::ServerLog]]),
    (
        "400 Bad Request (more than one hub)",
        &[&[Need::HttpCapture]],
    ),
    ("401 Unauthorized (token lifetime)", &[&[Need::HttpCapture]]),
    (
        "404: negotiation skipped",
        &[&[Need::HttpCapture], &[Need::ClientSide]],
    ),
    (
        "404: connect more than 5 s after negotiate",
        &[&[Need::HttpCapture]],
    ),
    (
        "404 for ASP.NET SignalR's reconnect",
        &[&[Need::HttpCapture]],
    ),
    (
        "429 Too Many Requests",
        &[
            &[Need::ServerLog],
            &[Need::HttpCapture],
            &[Need::ClientSide],
        ],
    ),
    (
        "500 when negotiating: service not connected",
        &[
            &[Need::ServerLog],
            &[Need::HttpCapture],
            &[Need::ClientSide],
        ],
    ),
    (
        "Client connection drops",
        &[&[Need::ClientSide, Need::ServerLog]],
    ),
    (
        "Client connection increases constantly",
        &[&[Need::ServerDebug]],
    ),
    ("Server connection drops", &[&[Need::ServerLog]]),
];

/// One guide section, as the doctor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// The guide section.
    pub section: &'static str,
    /// `yes`, `partly` (some of what it needs) or `no`.
    pub answerable: &'static str,
    /// What to capture or switch on to answer it (empty when answerable).
    pub capture: Vec<&'static str>,
}

/// The doctor's view: every section, and advice about the inputs
/// themselves (timestamps, captures that lack what they could hold).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Doctor {
    /// The guide's sections in order.
    pub sections: Vec<Section>,
    /// Advice about individual inputs, in words.
    pub inputs: Vec<String>,
    /// Inputs without timestamps and how to get them (the notes already
    /// say so; the full view repeats it here).
    pub timestamps: Vec<String>,
}

/// What the inputs hold, as far as the doctor cares.
#[derive(Default)]
struct Have {
    server_log: bool,
    server_debug: bool,
    http_capture: bool,
    client_side: bool,
}

fn is_log(f: Format) -> bool {
    f.parser().is_some()
}

/// Examines the inputs.
pub fn examine(results: &[InputResult]) -> Doctor {
    let mut have = Have::default();
    let mut advice = Vec::new();
    let mut timestamps = Vec::new();
    for r in results {
        let Some(format) = r.format else { continue };
        if r.diag.records == 0 {
            continue;
        }
        let cats = r.summary.categories();
        let sdk = cats.iter().any(|(c, _)| {
            c.trim_start_matches('[')
                .starts_with("Microsoft.Azure.SignalR")
        });
        let client_cats = cats
            .iter()
            .any(|(c, _)| c.contains("SignalR.Client") || c.contains("Http.Connections.Client"));
        let name = super::file_name(&r.path);
        if is_log(format) {
            if sdk {
                have.server_log = true;
                let debug = r.summary.level(Level::Debug) + r.summary.level(Level::Trace);
                // The leak is a trend over time: it needs timestamps too.
                have.server_debug |= debug > 0 && r.summary.timed > 0;
            }
            // Browser consoles and client logs are text without the SDK.
            if client_cats || (format == Format::Text && !sdk) {
                have.client_side = true;
            }
            if r.summary.timed == 0 {
                timestamps.push(format!(
                    "{name}: no timestamps, so its events cannot be lined up with other inputs; {}",
                    match format {
                        Format::TraceListener => {
                            "add traceOutputOptions=\"DateTime\" to the listener in web.config"
                        }
                        Format::Text => "configure the logger to write a timestamp on every line",
                        _ => "set the console formatter's TimestampFormat (e.g. \"yyyy-MM-ddTHH:mm:ss.fffzzz \")",
                    }
                ));
            }
        }
        if let Some(c) = &r.capture {
            let frames = cats.iter().any(|(c, _)| *c == "websocket");
            let creator = c.creator.as_deref().unwrap_or("");
            if c.exchanges > c.tunnels {
                have.http_capture = true;
            }
            if frames {
                have.client_side = true;
            }
            let browser_without_frames = ["Firefox", "WebKit", "Safari"]
                .iter()
                .any(|b| creator.contains(b));
            if browser_without_frames && !frames {
                advice.push(format!(
                    "{name}: {creator} leaves WebSocket messages out of its HAR, so client drops and close errors cannot be seen; capture the same in Chrome or Edge"
                ));
            }
            if c.exchanges > 0 && c.tunnels == c.exchanges {
                advice.push(format!(
                    "{name}: only HTTPS CONNECT tunnels were captured, nothing inside them; turn on HTTPS decryption in Fiddler (Tools > Options > HTTPS) and capture again"
                ));
            }
        }
    }
    let holds = |n: Need| match n {
        Need::ServerLog => have.server_log,
        Need::ServerDebug => have.server_debug,
        Need::HttpCapture => have.http_capture,
        Need::ClientSide => have.client_side,
    };
    let sections = SECTIONS
        .iter()
        .map(|(section, ways)| {
            let full = ways.iter().any(|w| w.iter().all(|n| holds(*n)));
            let some = ways.iter().any(|w| w.iter().any(|n| holds(*n)));
            // The way that lacks least, and what it lacks.
            let best = ways
                .iter()
                .min_by_key(|w| w.iter().filter(|n| !holds(**n)).count())
                .copied()
                .unwrap_or(&[]);
            Section {
                section,
                answerable: if full {
                    "yes"
                } else if some {
                    "partly"
                } else {
                    "no"
                },
                capture: if full {
                    Vec::new()
                } else {
                    best.iter()
                        .filter(|n| !holds(**n))
                        .map(|n| n.advice())
                        .collect()
                },
            }
        })
        .collect();
    Doctor {
        sections,
        inputs: advice,
        timestamps,
    }
}

impl Doctor {
    /// The brief advice: one line per thing to capture, naming the
    /// sections it would answer, then the advice about inputs (missing
    /// timestamps are in the notes already).
    pub fn brief(&self) -> Vec<String> {
        let mut by_advice: Vec<(&str, Vec<&str>)> = Vec::new();
        for s in self.sections.iter().filter(|s| s.answerable != "yes") {
            for a in &s.capture {
                match by_advice.iter_mut().find(|(x, _)| x == a) {
                    Some((_, list)) => list.push(s.section),
                    None => by_advice.push((a, vec![s.section])),
                }
            }
        }
        let mut out: Vec<String> = by_advice
            .into_iter()
            .map(|(a, sections)| {
                format!(
                    "to answer {} ({}): {a}",
                    if sections.len() == 1 {
                        "1 more guide section".to_string()
                    } else {
                        format!("{} more guide sections", sections.len())
                    },
                    sections.join("; ")
                )
            })
            .collect();
        out.extend(self.inputs.iter().cloned());
        out
    }
}
