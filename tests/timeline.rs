//! `asrs-logscan timeline`: findings, drops and captured connections of all
//! inputs on one aligned timeline, with filters.

use crate::util::{bin, repo};

const HAR: &str = "fixtures/captures/signalr-session.har";
const APP: &str = "fixtures/clocks/app-local.log";

fn timeline(args: &[&str]) -> String {
    let out = bin()
        .arg("timeline")
        .args(["--fail-on", "never"])
        .args(args)
        .args([repo(HAR), repo(APP)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `input:line kind` of each entry, in order.
fn shape(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with("note:") && !l.trim().is_empty())
        .map(|l| {
            let at = l
                .split("  ")
                .find(|p| p.contains(".har:") || p.contains(".log:"));
            let kind = l
                .split_whitespace()
                .find(|w| ["drop", "connection", "error", "warning", "info"].contains(w));
            format!("{} {}", at.unwrap_or("?").trim(), kind.unwrap_or("?"))
        })
        .collect()
}

#[test]
fn all_inputs_on_one_aligned_timeline() {
    let text = timeline(&[]);
    assert_eq!(
        shape(&text),
        [
            "signalr-session.har:1 connection",
            "signalr-session.har:4 connection",
            // The app log's local times, shifted by the estimated offset,
            // fall between the browser's events.
            "app-local.log:7 drop",
            "app-local.log:9 drop",
            "signalr-session.har:3 drop",
            "signalr-session.har:5 error",
            "signalr-session.har:5 drop",
            "signalr-session.har:6 error",
            "signalr-session.har:6 connection",
        ],
        "{text}"
    );
    assert!(
        text.contains(
            "2024-01-15T08:35:41.188Z (own clock 2024-01-15T00:35:41.200)  app-local.log:7"
        ),
        "{text}"
    );
    assert!(
        text.contains("note: ") && text.contains("clock shifted by +7h59m59.988s"),
        "{text}"
    );
    assert!(!text.contains("eyJ"), "no token: {text}");
}

#[test]
fn filters_narrow_the_timeline() {
    assert_eq!(
        shape(&timeline(&["--connection", "ctok-lp"])),
        ["signalr-session.har:5 error", "signalr-session.har:5 drop"]
    );
    assert_eq!(
        shape(&timeline(&[
            "--since",
            "2024-01-15T08:35:00Z",
            "--until",
            "2024-01-15T08:36:00Z"
        ])),
        [
            "app-local.log:7 drop",
            "app-local.log:9 drop",
            "signalr-session.har:3 drop"
        ]
    );
    assert_eq!(
        shape(&timeline(&["--hub", "CHAT"])),
        [
            "signalr-session.har:1 connection",
            "signalr-session.har:4 connection",
            "signalr-session.har:5 error",
            "signalr-session.har:6 error",
            "signalr-session.har:6 connection",
        ],
        "what names hub chat (drops do not name a hub)"
    );
    let out = bin()
        .args(["timeline", "--since", "yesterday"])
        .arg(repo(HAR))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since yesterday: not a time"));
}

#[test]
fn the_timeline_is_the_same_whatever_the_thread_count() {
    let json = |threads: &str| {
        let out = bin()
            .args([
                "timeline",
                "--json",
                "--fail-on",
                "never",
                "--threads",
                threads,
            ])
            .args([
                repo(HAR),
                repo(APP),
                repo("fixtures/drops/untimed.asrs.log.txt"),
            ])
            .output()
            .unwrap();
        out.stdout
    };
    let one = json("1");
    let v: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(v["schema"], "asrs-logscan/timeline/v1");
    let entries = v["entries"].as_array().unwrap();
    assert!(entries.len() >= 11, "{v}");
    // The trace without timestamps follows, in its own order.
    let last = entries.last().unwrap();
    assert!(last["time"].is_null() && last["input"] == 2, "{last}");
    assert!(
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().ends_with("untimed.asrs.log.txt: no timestamps; its entries follow the timed ones, in its own order")),
        "{v}"
    );
    assert_eq!(json("2"), one);
}

/// The same filters narrow the main report.
#[test]
fn filters_narrow_the_report_alike() {
    let run = crate::util::parse_json(
        [
            "--connection".into(),
            "ctok-lp".into(),
            repo(HAR).into_os_string(),
            repo(APP).into_os_string(),
        ],
        None,
    );
    let findings: Vec<(&str, u64)> = run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [("token-expired-401", 1), ("client-connection-drop", 1)]
    );
    let drops = run.json["drops"].as_array().unwrap();
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0]["connection"], "ctok-lp");
    assert!(
        run.notes()
            .contains("filtered with --since/--until/--connection/--hub")
    );
}

/// A trace without timestamps is placed by the connection id it shares
/// with a timed input.
#[test]
fn an_untimed_trace_is_placed_by_shared_evidence() {
    let out = bin()
        .args(["timeline", "--json", "--fail-on", "never"])
        .args([
            repo("fixtures/logs/tracelistener/asrs.log.txt"),
            repo("fixtures/drops/untimed.asrs.log.txt"),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let placed: Vec<(u64, &str)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["input"] == 1)
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["placed"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        placed,
        [
            (
                4,
                "by shared connection 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11"
            ),
            (
                6,
                "by shared connection 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11"
            ),
        ]
    );
    // Placed at the timed trace's drop of that server connection, before
    // what the timed trace logged after it.
    let order: Vec<(u64, u64)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["input"].as_u64().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    let at = |x: (u64, u64)| order.iter().position(|o| *o == x).unwrap();
    assert!(
        at((0, 10)) < at((1, 4)) && at((1, 6)) < at((0, 14)),
        "{order:?}"
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .ends_with("untimed.asrs.log.txt: no timestamps; placed by the connection ids it shares with timed inputs (each entry at the last shared one before it, in its own order)")
    );
}
