//! Dropped connections: every drop from every side, its causes ranked with
//! their evidence, the terminal's grouped table and the JSON `drops`.

use crate::util::{bin, parse_json, repo, rule_dir};
use serde_json::Value;

/// A drop as `side line clients connection <- rule:line confidence, …`.
fn drops(run: &crate::util::Run) -> Vec<String> {
    run.json["drops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let causes: Vec<String> = d["causes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let e = &c["evidence"][0];
                    format!(
                        "{}@{}:{} {}",
                        c["rule"].as_str().unwrap(),
                        e["input"],
                        e["line"],
                        c["confidence"].as_str().unwrap()
                    )
                })
                .collect();
            format!(
                "{} {}:{} x{} {} <- {}",
                d["side"].as_str().unwrap(),
                d["input"],
                d["line"],
                d["clients"].as_u64().unwrap_or(1),
                d["connection"].as_str().unwrap_or("-"),
                causes.join(", ")
            )
        })
        .collect()
}

fn why(run: &crate::util::Run, drop: usize) -> String {
    run.json["drops"][drop]["causes"][0]["why"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn a_server_connection_drop_takes_its_clients_with_it() {
    let run = parse_json([repo("fixtures/drops/server-drop-takes-clients.log")], None);
    // Two server connections drop 40 ms apart (a service restart); each
    // one's clients are closed after it. The 42 clients of the first go with
    // the drop of *their* server connection (line 7), not the nearer one.
    assert_eq!(
        drops(&run),
        [
            "server 0:7 x1 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11 <- service-instance-restart@0:9 medium",
            "server 0:9 x1 0b9e3d52-88a1-4f6c-b0e2-31c4d5e6f708 <- service-instance-restart@0:9 medium",
            "client 0:11 x42 - <- server-connection-drop@0:7 high, service-instance-restart@0:9 medium",
            "client 0:13 x5 - <- server-connection-drop@0:9 high, service-instance-restart@0:9 medium",
        ]
    );
    assert_eq!(
        why(&run, 2),
        "A server connection to the service dropped, same server_connection 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11, 50ms before the drop"
    );
    let d = &run.json["drops"][2];
    assert_eq!(d["time"], "2024-03-02T10:15:03.150Z");
    assert_eq!(
        d["server_connection"],
        "5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11"
    );
    assert_eq!(d["rule"], "client-connection-drop");
    // The terminal opens with the grouped table.
    let out = bin()
        .arg(repo("fixtures/drops/server-drop-takes-clients.log"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Dropped connections (49, most likely cause first)"),
        "{text}"
    );
    assert!(text.contains("42 client connections"), "{text}");
    assert!(text.contains("2 server connections"), "{text}");
    assert!(text.contains("all after: The service instance"), "{text}");
}

#[test]
fn a_client_drop_in_another_input_is_explained_on_time_alone() {
    let run = parse_json(
        [
            repo("fixtures/drops/server-drop-takes-clients.log"),
            repo("fixtures/drops/browser-console.txt"),
        ],
        None,
    );
    let all = drops(&run);
    // The browser's 1006 at 10:15:03.400, 260 ms after the nearest server
    // connection drop of the app log; its reconnect line is no second drop.
    assert_eq!(
        all.last().unwrap(),
        "client 1:2 x1 - <- server-connection-drop@0:9 medium, service-instance-restart@0:9 medium"
    );
    assert_eq!(all.len(), 5);
    assert_eq!(
        why(&run, 4),
        "A server connection to the service dropped, 260ms before the drop"
    );
}

#[test]
fn a_hub_exception_explains_the_client_ends_after_it() {
    let run = parse_json([repo("fixtures/drops/hub-exception.asrs.log.txt")], None);
    assert_eq!(
        drops(&run),
        [
            // Another connection failing 10 ms later: time alone.
            "client 0:9 x1 K9pLm2Qa7Zx4Wc1Ev8Rt0Y <- hub-method-exception@0:7 medium",
            // The connection whose OnConnected threw: the same id.
            "client 0:11 x1 Vu4B1xk2m8QxWq7v0aPz1Q <- hub-method-exception@0:7 high",
        ]
    );
    assert_eq!(
        why(&run, 1),
        "A hub method or OnConnected/OnDisconnected threw, same connection Vu4B1xk2m8QxWq7v0aPz1Q, 100ms before the drop"
    );
}

#[test]
fn an_app_restart_explains_the_clients_it_closes() {
    let run = parse_json([repo("fixtures/drops/app-restart.log")], None);
    assert_eq!(
        drops(&run),
        ["client 0:11 x7 - <- app-server-restart@0:5 low"]
    );
    assert_eq!(
        why(&run, 0),
        "The app server stopped or started, 30.15s before the drop"
    );
}

#[test]
fn server_connections_dropping_together_are_a_service_restart() {
    let run = parse_json([repo("fixtures/scenarios/service-restart.log")], None);
    let all = drops(&run);
    assert_eq!(
        &all[..3],
        [
            "server 0:7 x1 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11 <- service-instance-restart@0:7 medium",
            "server 0:9 x1 0b9e3d52-88a1-4f6c-b0e2-31c4d5e6f708 <- service-instance-restart@0:7 medium",
            "client 0:11 x3 - <- server-connection-drop@0:7 high, service-instance-restart@0:7 medium",
        ]
    );
}

#[test]
fn without_timestamps_order_within_the_input_explains() {
    let run = parse_json([repo("fixtures/drops/untimed.asrs.log.txt")], None);
    assert_eq!(
        drops(&run),
        [
            "server 0:4 x1 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11 <- ",
            "client 0:6 x2 - <- server-connection-drop@0:4 medium",
        ]
    );
    assert_eq!(
        why(&run, 1),
        "A server connection to the service dropped, same server_connection 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11, 2 lines before the drop (no timestamps: by order)"
    );
    assert!(run.json["drops"][1]["time"].is_null());
    assert!(
        run.notes().contains(
            "no timestamps; events are ordered by line only; add traceOutputOptions=\"DateTime\""
        ),
        "{}",
        run.notes()
    );
}

#[test]
fn healthy_logs_and_a_clean_shutdown_have_no_drops() {
    for f in [
        "fixtures/scenarios/healthy-with-startup-retry.log",
        "fixtures/scenarios/clean-shutdown.log",
    ] {
        let run = parse_json([repo(f)], None);
        assert_eq!(run.json["drops"], Value::Array(vec![]), "{f}");
        let out = bin().arg(repo(f)).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("Dropped connections"), "{text}");
    }
}

#[test]
fn a_users_own_rule_becomes_a_cause() {
    let dir = rule_dir(
        "deploy.toml",
        r#"id = "slot-swap"
title = "A deployment slot swap"
severity = "info"
cause = "Swapping slots recycles the app."
fix = "Swap outside busy hours."
[match]
when = 'message contains "Slot swap started"'
[explains]
drops  = ["client"]
window = "-2m..0s"
weight = 5
[[example]]
name = "the marker"
expect = 1
  [[example.event]]
  message = "Slot swap started"
[[example]]
name = "other"
expect = 0
  [[example.event]]
  message = "hello"
"#,
    );
    let log = dir.path().join("app.log");
    std::fs::write(
        &log,
        "2024-03-02T10:30:00.000+00:00 info: Deploy[0]\n      Slot swap started\n\
         2024-03-02T10:30:30.200+00:00 info: Microsoft.Azure.SignalR.ServiceConnection[25]\n      Closing 7 client connection(s) for server connection 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11.\n",
    )
    .unwrap();
    let run = parse_json(
        [
            "--rules".into(),
            dir.path().to_path_buf().into_os_string(),
            log.into_os_string(),
        ],
        None,
    );
    assert_eq!(drops(&run), ["client 0:3 x7 - <- slot-swap@0:1 low"]);
}

/// The same drops and causes on one thread or two, in small chunks or whole.
#[test]
fn drops_are_the_same_whatever_the_thread_count() {
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(repo("fixtures/drops"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.push(repo("fixtures/scenarios/service-restart.log"));
    let run = |extra: &[&str]| {
        let out = bin()
            .args(["--json", "--fail-on", "never"])
            .args(extra)
            .args(&files)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["drops"].clone()
    };
    let base = run(&[]);
    assert!(base.as_array().unwrap().len() >= 12, "{base}");
    assert_eq!(run(&["--threads", "1"]), base);
    assert_eq!(run(&["--threads", "2", "--chunk-size", "64"]), base);
}

/// `--no-drops` skips the analysis and nothing else.
#[test]
fn no_drops_skips_only_the_drops() {
    let f = repo("fixtures/drops/server-drop-takes-clients.log");
    let with = parse_json([&f], None);
    let without = parse_json(["--no-drops".into(), f.into_os_string()], None);
    assert_eq!(without.json["drops"], Value::Array(vec![]));
    assert!(!with.json["drops"].as_array().unwrap().is_empty());
    assert_eq!(without.json["findings"], with.json["findings"]);
}
