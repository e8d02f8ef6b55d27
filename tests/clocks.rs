//! Clocks across inputs: a HAR in UTC and an app log in local time without
//! an offset are lined up — by `--tz`, by an offset estimated from the
//! negotiate request both saw, or by `--offset` — and the browser's drop is
//! explained by the server connection drop in the app log.

use crate::util::{bin, parse_json, repo};

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
