//! Every bundled example and fixture is read as the right format with the
//! exact record count, unparsed-line count and time range.

use crate::util::{parse_json, repo, shared_examples};
use asrs_logscan::analyze::{AnalyzeOptions, analyze_one};
use asrs_logscan::event::Event;
use asrs_logscan::input::{InputSpec, Origin};
use asrs_logscan::parse::Format;
use asrs_logscan::scan::{Collector, ScanOptions, scan_bytes};

/// (file, format, records, unparsed lines, first, last)
type Expect = (
    &'static str,
    &'static str,
    u64,
    u64,
    Option<&'static str>,
    Option<&'static str>,
);

fn check(dir: &std::path::Path, cases: &[Expect]) {
    let paths: Vec<_> = cases.iter().map(|c| dir.join(c.0)).collect();
    let run = parse_json(&paths, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (i, (file, format, records, unparsed, first, last)) in cases.iter().enumerate() {
        let input = run.input(i);
        assert_eq!(input["format"], *format, "{file}");
        assert_eq!(input["records"], *records, "{file}");
        assert_eq!(input["unparsed_lines"], *unparsed, "{file}");
        assert_eq!(input["first"].as_str(), *first, "{file}");
        assert_eq!(input["last"].as_str(), *last, "{file}");
        assert_eq!(input["has_timestamps"], first.is_some(), "{file}");
        assert!(input["error"].is_null(), "{file}");
        assert!(
            input["detected_by"].as_str().unwrap().len() > 10,
            "{file}: a reason is given"
        );
    }
}

#[test]
fn shared_reference_examples() {
    let Some(dir) = shared_examples() else { return };
    check(
        &dir,
        &[
            ("ilogger-simple.log", "ilogger-simple", 8, 0, None, None),
            (
                "ilogger-simple-scopes.log",
                "ilogger-simple",
                2,
                0,
                None,
                None,
            ),
            (
                "ilogger-simple-timestamp-utc.log",
                "ilogger-simple",
                2,
                0,
                Some("2024-01-15T08:30:05.123Z"),
                Some("2024-01-15T08:30:06.007Z"),
            ),
            (
                "ilogger-simple-singleline.log",
                "ilogger-simple",
                3,
                0,
                Some("08:30:05"),
                Some("08:30:06"),
            ),
            (
                "ilogger-simple-ansi.log",
                "ilogger-simple",
                5,
                0,
                Some("08:30:07"),
                Some("08:30:07"),
            ),
            (
                "ilogger-simple-windows-crlf.log",
                "ilogger-simple",
                2,
                0,
                None,
                None,
            ),
            (
                "ilogger-simple-netcore3x.log",
                "ilogger-simple",
                2,
                0,
                None,
                None,
            ),
            (
                "ilogger-systemd.log",
                "ilogger-systemd",
                6,
                0,
                Some("2024-01-15T08:30:07+01:00"),
                Some("2024-01-15T08:30:07+01:00"),
            ),
            (
                "ilogger-json.log",
                "ilogger-json",
                3,
                0,
                Some("2024-01-15T08:30:05.123Z"),
                Some("2024-01-15T08:30:05.123Z"),
            ),
            (
                "ilogger-json-indented.log",
                "ilogger-json",
                2,
                0,
                None,
                None,
            ),
            (
                "tracelistener-asrs.log.txt",
                "tracelistener",
                7,
                0,
                None,
                None,
            ),
            (
                "tracelistener-asrs-options.log.txt",
                "tracelistener",
                3,
                0,
                Some("2024-01-15T08:30:05.1234567Z"),
                Some("2024-01-15T08:30:06.010Z"),
            ),
            (
                "tracelistener-signalr-classic.log.txt",
                "tracelistener",
                7,
                0,
                None,
                None,
            ),
        ],
    );
}

#[test]
fn own_fixtures() {
    check(
        &repo("fixtures/logs"),
        &[
            (
                "ilogger-simple/server-utc.log",
                "ilogger-simple",
                10,
                0,
                Some("2024-03-02T10:15:00.101Z"),
                Some("2024-03-02T10:17:44.902Z"),
            ),
            (
                "ilogger-simple/netcore22-docker-ansi.log",
                "ilogger-simple",
                6,
                4,
                None,
                None,
            ),
            (
                "ilogger-json/server.json",
                "ilogger-json",
                5,
                0,
                Some("2024-03-02T10:15:00.233Z"),
                Some("2024-03-02T10:15:40Z"),
            ),
            (
                "ilogger-systemd/server.journal.log",
                "ilogger-systemd",
                6,
                0,
                Some("2024-03-02T11:15:00.233+01:00"),
                Some("2024-03-02T11:17:44.902+01:00"),
            ),
            (
                "tracelistener/asrs.log.txt",
                "tracelistener",
                7,
                0,
                Some("2024-03-02T10:15:00.233Z"),
                Some("2024-03-02T10:16:05.010Z"),
            ),
        ],
    );
}

#[test]
fn levels_and_categories_are_reported() {
    let run = parse_json([repo("fixtures/logs/ilogger-simple/server-utc.log")], None);
    let input = run.input(0);
    let levels = &input["levels"];
    assert_eq!(
        (
            levels["error"].as_u64(),
            levels["warning"].as_u64(),
            levels["info"].as_u64(),
            levels["debug"].as_u64()
        ),
        (Some(1), Some(1), Some(7), Some(1))
    );
    assert_eq!(
        input["top_categories"][0]["category"],
        "Microsoft.Azure.SignalR.ServiceConnection"
    );
    assert_eq!(input["top_categories"][0]["count"], 5);
    assert_eq!(run.json["schema"], "asrs-logscan/report/v1");
    for key in ["findings", "drops", "connections", "notes"] {
        assert!(run.json[key].is_array(), "{key}");
    }
}

/// Collects every event's fields as text, for content checks.
struct Events;
impl Collector for Events {
    type Acc = Vec<(u64, String, String, Option<String>, Option<String>)>;
    fn start(&self) -> Self::Acc {
        Vec::new()
    }
    fn event(&self, acc: &mut Self::Acc, e: &Event<'_>) {
        acc.push((
            e.line,
            e.category.as_deref().unwrap_or("").to_string(),
            e.message.to_string(),
            e.exception.as_deref().map(str::to_string),
            e.scopes.as_deref().map(str::to_string),
        ));
    }
    fn append(&self, acc: &mut Self::Acc, later: Self::Acc, off: u64) {
        acc.extend(later.into_iter().map(|mut e| {
            e.0 += off;
            e
        }));
    }
}

fn events(path: &str, format: Format) -> <Events as Collector>::Acc {
    let bytes = std::fs::read(repo(path)).unwrap();
    scan_bytes(
        &bytes,
        format.parser().expect("a log format"),
        &ScanOptions::default(),
        &Events,
    )
    .acc
}

#[test]
fn console_records_split_into_message_exception_and_scopes() {
    let evs = events(
        "fixtures/logs/ilogger-simple/server-utc.log",
        Format::IloggerSimple,
    );
    let hub = &evs[4];
    assert_eq!(hub.0, 10);
    assert_eq!(hub.2, "Error when dispatching 'OnConnectedAsync' on hub.");
    assert!(hub.3.as_deref().unwrap().starts_with(
        "System.InvalidOperationException: Sequence contains no elements\n         at System.Linq"
    ));
    assert!(
        hub.4
            .as_deref()
            .unwrap()
            .ends_with("ConnectionId:0HN1QK2R3S4T6")
    );
    assert_eq!(
        evs[5].2,
        "Payload rejected for user alice:\nfirst offending line\nsecond offending line"
    );

    let old = events(
        "fixtures/logs/ilogger-simple/netcore22-docker-ansi.log",
        Format::IloggerSimple,
    );
    assert_eq!(old[2].0, 9);
    assert_eq!(
        old[2].2,
        "Connection 979e4c1a-1f0b-4e4f-9a0c-8d2b7e6f5a43 to the service was dropped."
    );
    assert!(
        old[2]
            .3
            .as_deref()
            .unwrap()
            .starts_with("System.Net.Http.WinHttpException (0x80072EE2)")
    );
}

#[test]
fn trace_records_keep_continuations_and_drop_footers() {
    let evs = events(
        "fixtures/logs/tracelistener/asrs.log.txt",
        Format::TraceListener,
    );
    assert_eq!(evs.len(), 7);
    assert!(evs[3].2.ends_with("Unable to connect to the remote server\nNo such host is known. Id: 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11."));
    assert_eq!(evs[4].1, "Microsoft.Azure.SignalR.AspNet.ServiceConnection");
    assert!(!evs[4].2.contains("Callstack") && !evs[4].2.contains("get_StackTrace"));
    assert_eq!(evs[5].0, 20);
}

#[test]
fn forced_format_is_used_and_said() {
    let spec = InputSpec {
        path: "x".into(),
        origin: Origin::File(repo("fixtures/logs/ilogger-systemd/server.journal.log")),
        named: true,
        found_in: None,
    };
    let opts = AnalyzeOptions {
        format: Some(Format::IloggerSimple),
        ..AnalyzeOptions::default()
    };
    let r = analyze_one(&spec, &opts);
    assert_eq!(r.format, Some(Format::IloggerSimple));
    assert_eq!(r.reason.as_deref(), Some("forced with --format"));
    assert_eq!(r.diag.records, 0);
    assert_eq!(r.diag.unparsed_lines, 6);
}
