//! HAR captures: detection, SignalR-aware fields that the built-in rules
//! use, kind errors for broken files, and no secret in any output.

use crate::util::{bin, parse_json, repo, show_everything};
use std::io::Write;

const SESSION: &str = "fixtures/captures/signalr-session.har";

/// Texts of the fixture's secrets: its JWT's header and signature, the
/// cookie. None may appear in any output.
const SECRETS: [&str; 4] = [
    "eyJhbGci",
    "Zml4dHVyZS1zaWduYXR1cmU",
    "fixture-cookie-value",
    "eyJ",
];

pub(crate) fn findings(run: &crate::util::Run) -> Vec<(String, u64)> {
    run.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_signalr_session_names_its_problems() {
    let run = parse_json([repo(SESSION)], None);
    let input = run.input(0);
    assert_eq!(input["format"], "har", "{input}");
    assert_eq!(input["records"], 6, "six entries: {input}");
    assert_eq!(input["unparsed_lines"], 0);
    assert_eq!(
        findings(&run),
        [
            ("token-expired-401".to_string(), 1),
            ("too-many-connections-429".to_string(), 1),
            // The WebSocket's close with an error, and the long polling
            // refused with 401.
            ("client-connection-drop".to_string(), 2),
        ]
    );
    let expired = &run.json["findings"][0]["occurrences"][0];
    assert_eq!(expired["summary"], "401 5s after the token expired");
    assert_eq!(expired["time"], "2024-01-15T09:30:10Z");
    // For a HAR, `line` is the entry number (DESIGN.md).
    assert_eq!(expired["line"], 5);
    assert_eq!(
        connections(&run),
        [
            "1 chat WebSockets 270 30 229 3600 [200,200,101] error",
            "4 chat LongPolling - - 229 3600 [200,401] error",
            "6 chat WebSockets - - 229 3600 [429] failed",
        ]
    );
}

/// Each connection as `entry hub transport negotiate_ms to_connect_ms
/// token_length token_lifetime_s [statuses] end`.
pub(crate) fn connections(run: &crate::util::Run) -> Vec<String> {
    let v = |x: &serde_json::Value| match x {
        serde_json::Value::Null => "-".to_string(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => {
            format!("{}", n.as_f64().unwrap() as i64)
        }
        other => other.to_string(),
    };
    run.json["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            [
                "line",
                "hub",
                "transport",
                "negotiate_ms",
                "negotiate_to_connect_ms",
                "token_length",
                "token_lifetime_s",
                "statuses",
                "end",
            ]
            .iter()
            .map(|k| v(&c[*k]))
            .collect::<Vec<_>>()
            .join(" ")
        })
        .collect()
}

#[test]
fn firefox_negotiate_failures_each_name_their_rule() {
    let run = parse_json(
        [repo("fixtures/captures/firefox-negotiate-failures.har")],
        None,
    );
    assert_eq!(
        findings(&run),
        [
            ("access-token-too-long".to_string(), 2),
            ("connect-after-negotiate-404".to_string(), 1),
            ("multiple-hub-query".to_string(), 1),
            ("negotiate-500-not-connected".to_string(), 1),
            ("negotiate-skipped-404".to_string(), 1),
            ("aspnet-reconnect-404".to_string(), 1),
            // The ASP.NET client's reconnect request follows a drop.
            ("client-connection-drop".to_string(), 1),
        ]
    );
    // The 404 0.4 s after negotiate (entry 6) is not a late connect.
    let late = &run.json["findings"][1]["occurrences"];
    assert_eq!(late.as_array().unwrap().len(), 1);
    assert_eq!(late[0]["line"], 3);
    assert_eq!(late[0]["time"], "2024-01-15T10:30:11.500+01:00");
    assert_eq!(
        connections(&run),
        [
            "1 chat WebSockets 300 6200 206 3600 [200,200,404] failed",
            "4 chat WebSockets 300 400 206 3600 [200,200,404] failed",
            "7 chat - 100 - - - [500] failed",
            "8 chat WebSockets 300 100 6620 3600 [200,200,101] open",
            "11 - WebSockets - - - - [404] failed",
            "12 chat WebSockets 300 100 206 3600 [200,200,400] failed",
            // The ASP.NET reconnect: its connection token is unknown here.
            "15 chat WebSockets - - - - [404] failed",
        ]
    );
    let problems = run.json["connections"][0]["problems"][0].as_str().unwrap();
    assert!(
        problems.starts_with("connect 6.2 s after negotiate"),
        "{problems}"
    );
    let table = bin()
        .env("COLUMNS", "200")
        .arg(repo("fixtures/captures/firefox-negotiate-failures.har"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Negotiate timing"), "{text}");
    assert!(
        text.contains("6.20 s !"),
        "the late connect is marked: {text}"
    );
    assert!(
        text.contains("6620 B !"),
        "the long token is marked: {text}"
    );
    assert!(
        !text.contains("role-0100"),
        "long claims are shortened: {text}"
    );
}

#[test]
fn no_token_or_cookie_in_any_output() {
    // A rule that shows every event of the capture, WebSocket messages and
    // all, with its fields.
    let dir = show_everything();
    let rules = dir.path().to_str().unwrap().to_string();
    for args in [
        vec!["--json"],
        vec![],
        vec!["--rules", &rules],
        vec!["--json", "--rules", &rules],
    ] {
        let out = bin()
            .args(&args)
            .args(["--fail-on", "never", "--max-occurrences", "100"])
            .arg(repo(SESSION))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for s in SECRETS {
            assert!(!text.contains(s), "{s} leaked with {args:?}:\n{text}");
        }
        assert!(
            text.contains("[redacted JWT, 229 chars"),
            "tokens are shown by length and claims: {text}"
        );
        if args.len() == 3 {
            assert!(
                text.contains(r#"\"target\":\"refresh\""#),
                "the WebSocket message with a token is shown, redacted"
            );
        }
    }
}

#[test]
fn compressed_piped_and_bom_captures_read_the_same() {
    let raw = std::fs::read(repo(SESSION)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("session.har.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let bom = dir.path().join("bom.har");
    std::fs::write(&bom, [b"\xEF\xBB\xBF".as_slice(), &raw].concat()).unwrap();
    let want = findings(&parse_json([repo(SESSION)], None));
    for run in [
        parse_json([&gz], None),
        parse_json([&bom], None),
        parse_json(["-"], Some(raw.clone())),
    ] {
        assert_eq!(run.input(0)["format"], "har", "{}", run.json);
        assert_eq!(findings(&run), want);
    }
}

#[test]
fn broken_captures_say_where_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.har");
    std::fs::write(
        &broken,
        "{\n  \"log\": {\n    \"entries\": [\n      {\"request\": }\n",
    )
    .unwrap();
    let not_har = dir.path().join("other.har");
    std::fs::write(&not_har, "{\"log\": {\"version\": \"1.2\"}}").unwrap();
    let bad_entry = dir.path().join("entry.har");
    std::fs::write(
        &bad_entry,
        "{\"log\": {\"entries\": [\n{\"startedDateTime\": \"2024-01-15T08:30:05Z\"},\n{\"startedDateTime\": \"2024-01-15T08:30:06Z\", \"request\": {\"method\": \"GET\", \"url\": \"https://a/b\"}, \"response\": {\"status\": 200}}\n]}}\n",
    )
    .unwrap();
    let run = parse_json([&broken, &not_har, &bad_entry, &repo(SESSION)], None);
    assert_eq!(run.code, 2, "unreadable inputs: exit 2");
    let e0 = run.input(0)["error"].as_str().unwrap();
    assert!(e0.contains("broken JSON") && e0.contains("line 4"), "{e0}");
    let e1 = run.input(1)["error"].as_str().unwrap();
    assert!(e1.contains("not a HAR") && e1.contains("entries"), "{e1}");
    let entry = run.input(2);
    assert!(entry["error"].is_null(), "{entry}");
    assert_eq!(
        (&entry["records"], &entry["unparsed_lines"]),
        (&serde_json::json!(1), &serde_json::json!(1)),
        "the broken entry is counted, the good one read: {entry}"
    );
    assert_eq!(run.input(3)["records"], 6, "the other inputs are analyzed");
}

/// Real HARs from public projects (`../shared/corpus`): every one is read
/// or refused with a reason, never a panic, and no token leaks.
#[test]
fn public_har_corpus() {
    let dir = repo("../shared/corpus");
    if !dir.is_dir() {
        eprintln!("skipped: {} is absent", dir.display());
        return;
    }
    let mut hars: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "har"))
        .collect();
    hars.sort();
    assert!(hars.len() >= 30, "corpus has {} HARs", hars.len());
    // PROVENANCE.tsv: file, …, entries (7th column, blank when unknown).
    let provenance = std::fs::read_to_string(dir.join("PROVENANCE.tsv")).unwrap();
    let entries: std::collections::HashMap<&str, u64> = provenance
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((*cols.first()?, cols.get(6)?.parse().ok()?))
        })
        .collect();
    let run = parse_json(&hars, None);
    let (mut read, mut counted) = (0, 0);
    for (i, path) in hars.iter().enumerate() {
        let input = run.input(i);
        let name = path.file_name().unwrap().to_string_lossy();
        match input["error"].as_str() {
            Some(e) => assert!(
                name.contains("broken") || name.contains("not-json") || name.contains("not-valid"),
                "{name}: {e}"
            ),
            None => {
                if input["format"] == "har" {
                    read += 1;
                    assert!(input["records"].as_u64().unwrap() > 0, "{name}: {input}");
                    if let Some(n) = entries.get(name.as_ref()) {
                        assert_eq!(input["records"], *n, "{name}: entries per PROVENANCE.tsv");
                        counted += 1;
                    }
                }
            }
        }
    }
    assert!(
        read + 4 >= hars.len(),
        "{read} of {} read as HAR",
        hars.len()
    );
    assert!(counted >= 30, "only {counted} entry counts compared");
    let text = run.json.to_string();
    assert!(!text.contains("eyJhbGci"), "a JWT leaked");
    // None of these sites is SignalR: their WebSockets, event streams and
    // `id=` requests are not connections, and nothing is a finding.
    assert_eq!(run.json["connections"], serde_json::json!([]));
    assert_eq!(run.json["findings"], serde_json::json!([]));
}

/// The reference examples' SignalR captures (`../shared/reference`).
#[test]
fn reference_signalr_captures() {
    let Some(dir) = crate::util::shared_examples() else {
        return;
    };
    let run = parse_json([dir.join("chrome-sanitized-websocket.har")], None);
    assert_eq!(findings(&run), [("client-connection-drop".to_string(), 1)]);
    let c = &run.json["connections"][0];
    assert_eq!(
        (&c["transport"], &c["end"], &c["statuses"]),
        (
            &serde_json::json!("WebSockets"),
            &serde_json::json!("error"),
            &serde_json::json!([200, 200, 101])
        ),
        "{c}"
    );
    assert!(
        c["negotiate_to_connect_ms"].as_f64().unwrap() < 5000.0,
        "{c}"
    );
}

#[test]
fn sse_fallback_and_an_aspnet_long_polling_connection() {
    let run = parse_json([repo("fixtures/captures/edge-sse-aspnet.har")], None);
    assert_eq!(
        findings(&run),
        [("websocket-transport-unavailable".to_string(), 1)]
    );
    assert_eq!(
        connections(&run),
        [
            "1 chat ServerSentEvents 240 60 206 3600 [200,200,0,200] open",
            "5 chathub LongPolling 290 110 206 3600 [200,200,200,200,200] open",
        ]
    );
    let c = &run.json["connections"];
    assert_eq!(c[0]["connection"], "cid-sse");
    assert_eq!(
        c[1]["connection"], "cid-aspnet",
        "joined by ConnectionToken"
    );
    assert!(
        c[0]["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("fell back from WebSockets to ServerSentEvents"),
        "{}",
        c[0]
    );
}
