//! Clocks across inputs: a HAR in UTC and an app log in local time without
//! an offset are lined up — by `--tz`, by an offset estimated from the
//! negotiate request both saw, or by `--offset` — and the browser's drop is
//! explained by the server connection drop in the app log.

use crate::util::{bin, parse_json, repo, rule_dir};

const HAR: &str = "fixtures/captures/signalr-session.har";
const APP: &str = "fixtures/clocks/app-local.log";

/// The causes of the HAR's WebSocket drop (entry 3).
fn har_drop_causes(extra: &[&str]) -> (Vec<String>, serde_json::Value) {
    let mut args: Vec<std::ffi::OsString> = extra.iter().map(Into::into).collect();
    args.push(repo(HAR).into());
    args.push(repo(APP).into());
    let run = parse_json(args, None);
    let drop = run.json["drops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["input"] == 0 && d["line"] == 3)
        .expect("the HAR's drop")
        .clone();
    let causes = drop["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}@{}:{} {}",
                c["rule"].as_str().unwrap(),
                c["evidence"][0]["input"],
                c["evidence"][0]["line"],
                c["why"].as_str().unwrap()
            )
        })
        .collect();
    (causes, run.json["inputs"][1].clone())
}

#[test]
fn an_estimated_offset_alone_lines_the_inputs_up() {
    let (causes, app) = har_drop_causes(&[]);
    assert_eq!(
        causes,
        [
            "server-connection-drop@1:7 A server connection to the service dropped, 324ms before the drop"
        ]
    );
    assert_eq!(app["clock_offset"], "+7h59m59.988s");
    assert_eq!(
        app["clock_basis"],
        "estimated from 1 negotiate request seen in both app-local.log and signalr-session.har"
    );
}

#[test]
fn a_time_zone_lines_the_inputs_up() {
    let (causes, app) = har_drop_causes(&["--tz", "app-local.log=-08:00"]);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert!(
        causes[0].starts_with("server-connection-drop@1:7 "),
        "{causes:?}"
    );
    assert_eq!(app["time_zone"], "-08:00");
    // What is left is the request's way from browser to server.
    assert_eq!(app["clock_offset"], "-0.012s");
}

#[test]
fn an_offset_given_overrides_the_estimate() {
    let (causes, app) = har_drop_causes(&["--offset", "app-local.log=0s"]);
    assert!(causes.is_empty(), "eight hours apart: {causes:?}");
    assert_eq!(app["clock_basis"], "set with --offset");
    let out = bin()
        .args(["--offset", "+3s"])
        .arg(repo(HAR))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs the input it shifts: FILE=±DURATION"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A user's sequence whose steps are in two inputs — the WebSocket opened
/// in the browser's HAR, then failing in the app log — is found on the
/// aligned clock, and not when the clocks are left eight hours apart.
#[test]
fn a_sequence_spans_inputs_on_the_aligned_clock() {
    let dir = rule_dir(
        "opened-then-failed.toml",
        r#"id = "opened-then-failed"
title = "A WebSocket opened in the browser failed on the app server"
severity = "warning"
cause = "For the test."
fix = "None."
[sequence]
key = "connection"
  [[sequence.step]]
  name = "opened"
  when = 'http.status == 101'
  [[sequence.step]]
  name = "failed"
  when = 'event == "ProcessConnectionFailed"'
  within = "1h"
[[example]]
name = "both"
expect = 1
  [[example.event]]
  time = "2024-01-15T08:30:05Z"
  connection = "c"
  http = { status = 101 }
  [[example.event]]
  time = "2024-01-15T08:31:05Z"
  connection = "c"
  message = "Error processing the connection c."
  category = "Microsoft.Azure.SignalR.ServiceConnection"
[[example]]
name = "only opened"
expect = 0
  [[example.event]]
  time = "2024-01-15T08:30:05Z"
  connection = "c"
  http = { status = 101 }
"#,
    );
    let app = dir.path().join("app.log");
    std::fs::write(
        &app,
        "2024-01-15T00:30:05.012 info: Microsoft.AspNetCore.Hosting.Diagnostics[1]\n      Request starting HTTP/1.1 POST http://contoso-app.azurewebsites.net/chat/negotiate?negotiateVersion=1 - text/plain;charset=UTF-8 0\n\
         2024-01-15T00:35:41.400 fail: Microsoft.Azure.SignalR.ServiceConnection[24]\n      Error processing the connection ctok-1.\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec!["--rules".into(), dir.path().into()];
        args.extend(extra.iter().map(Into::into));
        args.push(repo(HAR).into());
        args.push(app.clone().into());
        let run = parse_json(args, None);
        run.finding("opened-then-failed").cloned()
    };
    let found = run(&[]).expect("found on the aligned clock");
    assert_eq!(found["count"], 1);
    let occ = &found["occurrences"][0];
    assert_eq!(
        (occ["input"].as_u64(), occ["line"].as_u64()),
        (Some(1), Some(3))
    );
    assert_eq!(occ["fields"]["connection"], "ctok-1");
    assert_eq!(occ["fields"]["opened_to_failed"], "5m36s");
    // Its evidence cites both inputs.
    let evidence: Vec<(u64, u64)> = occ["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["input"].as_u64().unwrap(), e["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(evidence, [(0, 3), (1, 3)]);
    assert!(
        run(&["--offset", "app.log=0s"]).is_none(),
        "eight hours apart"
    );
}

/// Unrelated inputs are not lined up: a log whose negotiate requests are
/// weeks away from the capture's, and captures (absolute times) among
/// themselves.
#[test]
fn unrelated_inputs_keep_their_clocks() {
    let run = parse_json(
        [
            repo(HAR),
            repo("fixtures/scenarios/healthy-with-startup-retry.log"),
            repo("fixtures/captures/dotnet-429.saz"),
        ],
        None,
    );
    for i in 0..3 {
        assert!(run.input(i)["clock_offset"].is_null(), "{}", run.input(i));
    }
    assert!(!run.notes().contains("times shifted"), "{}", run.notes());
}

/// Without a hosting log, the client connection the service's negotiate
/// reply names (in a Fiddler capture) and the SDK's "Connection … started."
/// line line the clocks up.
#[test]
fn a_shared_connection_id_lines_the_clocks_up() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("sdk.log");
    std::fs::write(
        &app,
        "2024-01-15T00:30:13.700 info: Microsoft.Azure.SignalR.ServiceConnection[11]\n      Connection cid-connTokB started.\n",
    )
    .unwrap();
    let run = parse_json(
        [repo("fixtures/captures/dotnet-late-connect.saz"), app],
        None,
    );
    let input = run.input(1);
    assert_eq!(input["clock_offset"], "+7h59m59.601s", "{input}");
    assert_eq!(
        input["clock_basis"],
        "estimated from 1 client connection seen in both sdk.log and dotnet-late-connect.saz"
    );
}
