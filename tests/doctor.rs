//! The capture doctor (what the inputs can answer, what to capture next)
//! and the Markdown summary to share.

use crate::util::{bin, parse_json, repo};

fn sections(run: &crate::util::Run) -> Vec<String> {
    run.json["doctor"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["section"].as_str().unwrap(),
                s["answerable"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn a_trace_without_timestamps_is_told_how_to_get_them() {
    let run = parse_json([repo("fixtures/drops/untimed.asrs.log.txt")], None);
    let doctor = &run.json["doctor"];
    assert_eq!(
        doctor["timestamps"][0],
        "untimed.asrs.log.txt: no timestamps, so its events cannot be lined up with other inputs; add traceOutputOptions=\"DateTime\" to the listener in web.config"
    );
    let s = sections(&run);
    assert!(
        s.contains(&"Server connection drops: yes".to_string()),
        "{s:?}"
    );
    assert!(
        s.contains(&"404: connect more than 5 s after negotiate: no".to_string()),
        "a server log cannot time the client's connect: {s:?}"
    );
    assert!(
        s.contains(&"Client connection increases constantly: no".to_string()),
        "a trend needs timestamps: {s:?}"
    );
    // Brief: one note per thing to capture, naming what it answers.
    let notes = run.notes();
    assert!(
        notes.contains("info: doctor: to answer 5 more guide sections (400 Bad Request (more than one hub); 401 Unauthorized (token lifetime); 404: negotiation skipped; 404: connect more than 5 s after negotiate; 404 for ASP.NET SignalR's reconnect): capture the client's traffic"),
        "{notes}"
    );
    // In full with --doctor.
    let out = bin()
        .args(["--doctor"])
        .arg(repo("fixtures/drops/untimed.asrs.log.txt"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Capture doctor: what these inputs can answer"),
        "{text}"
    );
    assert!(
        text.contains("  • untimed.asrs.log.txt: no timestamps"),
        "{text}"
    );
}

#[test]
fn a_firefox_har_is_told_to_use_chrome_or_edge() {
    let run = parse_json(
        [
            repo("fixtures/captures/firefox-negotiate-failures.har"),
            repo("fixtures/scenarios/service-restart.log"),
        ],
        None,
    );
    assert_eq!(
        run.json["doctor"]["inputs"][0],
        "firefox-negotiate-failures.har: Firefox leaves WebSocket messages out of its HAR, so client drops and close errors cannot be seen; capture the same in Chrome or Edge"
    );
    let s = sections(&run);
    assert!(
        s.contains(&"Client connection drops: partly".to_string()),
        "{s:?}"
    );
    assert!(
        s.contains(&"401 Unauthorized (token lifetime): yes".to_string()),
        "{s:?}"
    );
    // A Chrome HAR with frames and a server log answer the drop section.
    let run = parse_json(
        [
            repo("fixtures/captures/signalr-session.har"),
            repo("fixtures/scenarios/service-restart.log"),
        ],
        None,
    );
    assert!(sections(&run).contains(&"Client connection drops: yes".to_string()));
    assert_eq!(run.json["doctor"]["inputs"], serde_json::json!([]));
}

#[test]
fn the_markdown_summary_holds_no_secret() {
    let inputs = [
        "fixtures/captures/signalr-session.har",
        "fixtures/captures/dotnet-late-connect.saz",
        "fixtures/captures/websocket-close-error.saz",
        "fixtures/drops/browser-console.txt",
        "fixtures/drops/server-drop-takes-clients.log",
    ];
    let out = bin()
        .args(["--markdown", "--fail-on", "never"])
        .args(inputs.map(repo))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in [
        "eyJ",
        "fixture-cookie-value",
        "affinity-secret-cookie",
        "Zml4dHVyZS1zaWduYXR1cmU",
        "bm90LWEtcmVhbC1zaWduYXR1cmU",
        "c2lnbmF0dXJlLW5vdC1yZWFs",
        "/work/",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
    for want in [
        "## Azure SignalR troubleshooting summary",
        "### Dropped connections (",
        "42 client connections — A server connection to the service dropped, same server_connection 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11",
        "| error | `connect-after-negotiate-404` |",
        "### Connection timing (captures)",
        "| `dotnet-late-connect.saz:2` | chat | WebSockets | 312 ms | 7088 ms | 247 B | 200 200 404 | failed |",
        "### What to capture next",
    ] {
        assert!(text.contains(want), "{want} in:\n{text}");
    }
}

/// A Fiddler capture without HTTPS decryption holds only CONNECT tunnels:
/// the doctor says to turn decryption on.
#[test]
fn a_capture_of_tunnels_only_asks_for_https_decryption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tunnels.saz");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for n in 1..=2 {
        zip.start_file(format!("raw/{n}_c.txt"), opts).unwrap();
        std::io::Write::write_all(
            &mut zip,
            b"CONNECT contoso.service.signalr.net:443 HTTP/1.1\r\nHost: contoso.service.signalr.net:443\r\n\r\n",
        )
        .unwrap();
        zip.start_file(format!("raw/{n}_s.txt"), opts).unwrap();
        std::io::Write::write_all(&mut zip, b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .unwrap();
    }
    zip.finish().unwrap();
    let run = parse_json([&path], None);
    assert_eq!(run.input(0)["records"], 2);
    assert_eq!(
        run.json["doctor"]["inputs"][0],
        "tunnels.saz: only HTTPS CONNECT tunnels were captured, nothing inside them; turn on HTTPS decryption in Fiddler (Tools > Options > HTTPS) and capture again"
    );
    assert!(sections(&run).contains(&"401 Unauthorized (token lifetime): no".to_string()));
}
