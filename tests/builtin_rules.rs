//! The built-in rules: all of DESIGN.md's ids load and pass their own
//! examples; on fixtures of every log format they name the right problems;
//! on healthy and harmless logs they raise no error.

use crate::util::{bin, parse_json, repo};

const IDS: [&str; 22] = [
    "access-token-too-long",
    "app-server-restart",
    "aspnet-reconnect-404",
    "client-connection-drop",
    "client-connection-leak",
    "connect-after-negotiate-404",
    "hub-method-exception",
    "invalid-hub-name",
    "multiple-hub-query",
    "negotiate-500-not-connected",
    "negotiate-skipped-404",
    "network-timeout",
    "server-connection-drop",
    "server-connection-rejected",
    "service-instance-restart",
    "service-mode-mismatch",
    "service-unreachable",
    "sticky-sessions-required",
    "tls12-required",
    "token-expired-401",
    "too-many-connections-429",
    "websocket-transport-unavailable",
];

#[test]
fn every_design_rule_id_is_built_in_and_passes_its_examples() {
    let out = bin()
        .env("COLUMNS", "250")
        .args(["rules", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    for id in IDS {
        assert!(list.contains(&format!(" {id} ")), "{id} missing:\n{list}");
    }
    assert!(list.trim_end().ends_with("22 rules"), "{list}");
    let out = bin().args(["rules", "test"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    let passed: u32 = text
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        passed >= 2 * 22,
        "every rule has a positive and a negative example: {passed}"
    );
}

/// (rule, severity, count) of every finding, in report order.
fn findings(path: &str) -> Vec<(String, String, u64)> {
    let r = parse_json([repo(path)], None);
    assert!(r.input(0)["error"].is_null());
    r.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn expect(path: &str, want: &[(&str, &str, u64)]) {
    let got = findings(path);
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(r, s, n)| (r.to_string(), s.to_string(), *n))
        .collect();
    assert_eq!(got, want, "{path}");
}

#[test]
fn asp_net_without_tls_12() {
    expect(
        "fixtures/scenarios/aspnet-tls.asrs.log.txt",
        &[("tls12-required", "error", 5)],
    );
}

#[test]
fn app_server_rejected_then_negotiate_fails() {
    expect(
        "fixtures/scenarios/server-rejected.log",
        &[
            ("server-connection-rejected", "error", 3),
            ("negotiate-500-not-connected", "error", 1),
        ],
    );
    let r = parse_json([repo("fixtures/scenarios/server-rejected.log")], None);
    let neg = r.finding("negotiate-500-not-connected").unwrap();
    let evidence: Vec<u64> = neg["occurrences"][0]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        evidence,
        [3, 5, 7, 9],
        "the preceding rejections are shown as evidence"
    );
}

#[test]
fn service_unreachable_for_minutes() {
    expect(
        "fixtures/scenarios/service-unreachable.log",
        &[("service-unreachable", "error", 2)],
    );
}

#[test]
fn token_too_long_and_connection_limit() {
    expect(
        "fixtures/scenarios/limits.log",
        &[
            ("access-token-too-long", "error", 1),
            ("too-many-connections-429", "error", 1),
        ],
    );
}

#[test]
fn a_browser_console_full_of_trouble() {
    expect(
        "fixtures/scenarios/browser-console.txt",
        &[
            ("hub-method-exception", "error", 1),
            ("invalid-hub-name", "error", 1),
            ("service-mode-mismatch", "error", 1),
            ("client-connection-drop", "warning", 1),
            ("websocket-transport-unavailable", "warning", 1),
            ("network-timeout", "info", 2),
        ],
    );
}

#[test]
fn client_connections_that_never_end() {
    expect(
        "fixtures/scenarios/leak.asrs.log.txt",
        &[("client-connection-leak", "warning", 1)],
    );
}

#[test]
fn a_service_restart_seen_by_the_app_server() {
    expect(
        "fixtures/scenarios/service-restart.log",
        &[
            ("hub-method-exception", "error", 1),
            ("server-connection-drop", "warning", 3),
            // "Closing 3 client connection(s) for server connection …"
            ("client-connection-drop", "warning", 1),
            ("app-server-restart", "info", 1),
            ("network-timeout", "info", 1),
            ("service-instance-restart", "info", 1),
        ],
    );
    let r = parse_json([repo("fixtures/scenarios/service-restart.log")], None);
    let drop = r.finding("server-connection-drop").unwrap();
    let occ = &drop["occurrences"][0];
    assert_eq!(
        occ["fields"]["server_connection"],
        "5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11"
    );
    assert_eq!(
        occ["summary"],
        "server connection 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11 (ConnectionDropped)"
    );
}

#[test]
fn healthy_and_harmless_logs_raise_no_error() {
    for path in [
        "fixtures/scenarios/healthy-with-startup-retry.log",
        "fixtures/scenarios/self-hosted-scaleout.txt",
        "fixtures/scenarios/clean-shutdown.log",
    ] {
        let errors: Vec<_> = findings(path)
            .into_iter()
            .filter(|f| f.1 == "error")
            .collect();
        assert!(errors.is_empty(), "{path}: {errors:?}");
        let out = bin().arg(repo(path)).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path} exits 0 at the default --fail-on error"
        );
    }
    // The self-hosted app's 404s are named for what they are.
    expect(
        "fixtures/scenarios/self-hosted-scaleout.txt",
        &[("sticky-sessions-required", "warning", 2)],
    );
    expect(
        "fixtures/scenarios/clean-shutdown.log",
        &[("app-server-restart", "info", 3)],
    );
}

#[test]
fn rule_fields_come_from_the_catalog_in_every_format() {
    // The same drop in asrs.log.txt (event id 0), ILogger JSON (State) and
    // Serilog (no category) is the same event with the same fields.
    let r = parse_json(
        [
            repo("fixtures/logs/tracelistener/asrs.log.txt"),
            repo("fixtures/logs/text/serilog-file.log"),
        ],
        None,
    );
    let drop = r.finding("server-connection-drop").unwrap();
    let by_input: Vec<(u64, &str)> = drop["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["input"].as_u64().unwrap(),
                o["fields"]["server_connection"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        by_input.contains(&(0, "8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11")),
        "{by_input:?}"
    );
    assert!(
        by_input.contains(&(1, "5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11")),
        "{by_input:?}"
    );
}

/// An absent step sees every event, however many: a recovery right after a
/// failure counts even when tens of thousands of connections came before.
#[test]
fn recoveries_past_the_correlation_limit_still_count() {
    use std::fmt::Write;
    let connected = |out: &mut String, t: &str, n: usize| {
        write!(
            out,
            "{t} info: Microsoft.Azure.SignalR.ServiceConnection[20]\n      Service connection c{n} connected.\n"
        )
        .unwrap();
    };
    let mut log = String::new();
    for n in 0..60_000 {
        let t = format!(
            "2024-03-02T10:00:{:02}.{:03}+00:00",
            n / 1000 % 60,
            n % 1000
        );
        connected(&mut log, &t, n);
    }
    log.push_str("2024-03-02T10:05:00.000+00:00 info: Microsoft.Azure.SignalR.ServiceConnection[2]\n      Failed to connect to '(Primary)https://contoso.service.signalr.net(hub=Chat)', will retry after the back off period. Error detail: No such host is known.. Id: x\n");
    connected(&mut log, "2024-03-02T10:05:01.000+00:00", 1);
    connected(&mut log, "2024-03-02T10:15:00.000+00:00", 2);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.log");
    std::fs::write(&path, log).unwrap();
    let out = bin()
        .args(["--json", "--only", "service-unreachable"])
        .arg(&path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["inputs"][0]["records"], 60_003, "{json}");
    assert_eq!(json["findings"], serde_json::json!([]), "{json}");
}
