//! Fiddler session archives: the same connection analysis and rules as a
//! HAR, decoded frames and bodies, no secret in any output, and kind
//! messages for encrypted, bomb-like and truncated archives.

use crate::captures::{connections, findings};
use crate::util::{bin, parse_json, repo, show_everything};

const LATE: &str = "fixtures/captures/dotnet-late-connect.saz";
const THROTTLED: &str = "fixtures/captures/dotnet-429.saz";
const CLOSE: &str = "fixtures/captures/websocket-close-error.saz";

/// The fixtures' secrets (see `make_saz.py`): JWT header, signature,
/// cookie. None may appear in any output.
const SECRETS: [&str; 4] = [
    "eyJhbGci",
    "bm90LWEtcmVhbC1zaWduYXR1cmU",
    "affinity-secret-cookie",
    "eyJ",
];

#[test]
fn a_late_connect_is_the_guides_404_and_the_retry_is_clean() {
    let run = parse_json([repo(LATE)], None);
    let input = run.input(0);
    assert_eq!(input["format"], "saz", "{input}");
    assert_eq!(input["records"], 8, "eight sessions: {input}");
    assert_eq!(input["unparsed_lines"], 0);
    assert_eq!(
        findings(&run),
        [("connect-after-negotiate-404".to_string(), 1)]
    );
    let occ = &run.json["findings"][0]["occurrences"][0];
    // For a SAZ, `line` is the session number.
    assert_eq!(occ["line"], 4);
    assert_eq!(occ["summary"], "connect 7.2s after negotiate");
    // Timers give the timing: negotiate (app + service) 312 ms, then the
    // connect 7.09 s after the service negotiate ended; the retry 88 ms.
    assert_eq!(
        connections(&run),
        [
            "2 chat WebSockets 312 7088 247 3600 [200,200,404] failed",
            "6 chat WebSockets 312 88 247 3600 [200,200,101] clean",
        ]
    );
    // The CONNECT tunnel and the aborted request are sessions too, not
    // connections; the aborted one says why it has no response.
    let events = every_event(LATE);
    assert_eq!(
        events.len(),
        13,
        "8 sessions and 5 WebSocket messages: {events:#?}"
    );
    assert!(
        events[0]
            .starts_with("CONNECT login.microsoftonline.com:443 -> 200 Connection Established"),
        "{events:#?}"
    );
    assert!(
        events[4].starts_with(
            "POST https://dc.services.visualstudio.com/v2/track -> no response (aborted while sending request)"
        ),
        "{events:#?}"
    );
    let out = bin().arg(repo(LATE)).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("│ session"),
        "the table numbers sessions: {text}"
    );
}

/// Every event of a capture, as the summaries of a rule that matches all.
fn every_event(fixture: &str) -> Vec<String> {
    let rules = show_everything();
    let out = bin()
        .args(["--json", "--fail-on", "never", "--max-occurrences", "1000"])
        .args(["--rules", rules.path().to_str().unwrap()])
        .args(["--only", "show-everything"])
        .arg(repo(fixture))
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["findings"][0]["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert!(!o["time"].is_null(), "every event has a time: {o}");
            o["summary"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn connects_refused_with_429_name_the_connection_limit() {
    let run = parse_json([repo(THROTTLED)], None);
    assert_eq!(run.input(0)["records"], 9);
    assert_eq!(
        findings(&run),
        [("too-many-connections-429".to_string(), 3)]
    );
    assert_eq!(
        connections(&run),
        [
            "1 chat WebSockets 262 38 247 3600 [200,200,429] failed",
            "4 chat WebSockets 262 38 247 3600 [200,200,429] failed",
            "7 chat WebSockets 262 38 247 3600 [200,200,429] failed",
        ]
    );
    // The 429 body is decoded into the request's message.
    let bodies = every_event(THROTTLED)
        .iter()
        .filter(|e| e.contains("-> 429 Too Many Requests: Connection count reaches limit."))
        .count();
    assert_eq!(bodies, 3);
}

#[test]
fn a_close_message_with_an_error_is_a_client_drop() {
    let run = parse_json([repo(CLOSE)], None);
    assert_eq!(findings(&run), [("client-connection-drop".to_string(), 1)]);
    let occ = &run.json["findings"][0]["occurrences"][0];
    assert_eq!(occ["line"], 3);
    assert_eq!(occ["time"], "2024-01-15T00:30:24.6017-08:00");
    assert!(
        occ["summary"]
            .as_str()
            .unwrap()
            .contains("InvalidDataException: Received message is too large."),
        "{occ}"
    );
    assert_eq!(
        connections(&run),
        ["1 chat WebSockets 312 88 247 3600 [200,200,101] error"]
    );
    // Frames: the client's masked handshake, a fragmented invocation put
    // back together, a compressed (permessage-deflate) one inflated; a
    // record without timers takes the time of the one before it.
    let events = every_event(CLOSE);
    for want in [
        r#"ws send handshake: {"protocol":"json","version":1}"#,
        r#"ws send invocation: {"type":1,"target":"send","arguments":["alice","hello"]}"#,
        r#"ws receive invocation: {"type":1,"target":"broadcastMessage","arguments":["alice","hello"]}"#,
        "ws receive close-frame: close code 1000",
    ] {
        assert!(
            events.iter().any(|s| s.starts_with(want)),
            "{want} in {events:#?}"
        );
    }
}

#[test]
fn no_secret_in_any_output() {
    let rules = show_everything();
    let rules = rules.path().to_str().unwrap();
    for fixture in [LATE, THROTTLED, CLOSE] {
        for args in [
            vec!["--json"],
            vec![],
            vec!["--rules", rules],
            vec!["--json", "--rules", rules],
        ] {
            let out = bin()
                .args(&args)
                .args(["--fail-on", "never", "--max-occurrences", "100"])
                .arg(repo(fixture))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            for s in SECRETS {
                assert!(
                    !text.contains(s),
                    "{s} leaked from {fixture} with {args:?}:\n{text}"
                );
            }
            if args.len() == 3 {
                assert!(
                    text.contains("[redacted JWT, 247 chars"),
                    "tokens are shown by length and claims: {text}"
                );
            }
        }
    }
}

// ---- damaged and hostile archives -------------------------------------

/// One member of a zip's central directory, with the offsets to patch.
struct Member {
    name: String,
    central: usize,
    local: usize,
}

fn members(zip: &[u8]) -> Vec<Member> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let eocd = zip
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .expect("end of central directory");
    let (count, mut at) = (u16_at(eocd + 10), u32_at(eocd + 16));
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
        let name_len = u16_at(at + 28);
        out.push(Member {
            name: String::from_utf8_lossy(&zip[at + 46..at + 46 + name_len]).into_owned(),
            central: at,
            local: u32_at(at + 42),
        });
        at += 46 + name_len + u16_at(at + 30) + u16_at(at + 32);
    }
    out
}

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn password_protected_archives_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(repo(LATE)).unwrap();
    // ZipCrypto: general-purpose flag bit 0 on every member. WinZip AES
    // (Fiddler's default): compression method 99 as well.
    let mut zipcrypto = original.clone();
    let mut aes = original.clone();
    for m in members(&original) {
        for (at_flags, at_method) in [(m.local + 6, m.local + 8), (m.central + 8, m.central + 10)] {
            zipcrypto[at_flags] |= 1;
            aes[at_flags] |= 1;
            aes[at_method..at_method + 2].copy_from_slice(&99u16.to_le_bytes());
        }
    }
    let paths = [
        write_temp(&dir, "zipcrypto.saz", &zipcrypto),
        write_temp(&dir, "aes.saz", &aes),
        repo(CLOSE),
    ];
    let run = parse_json(&paths, None);
    for i in 0..2 {
        let error = run.input(i)["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("password-protected archive (raw/1_c.txt is encrypted)"),
            "{error}"
        );
        assert!(error.contains("save it again without one"), "{error}");
    }
    assert_eq!(run.input(2)["records"], 3, "the other inputs are analyzed");
    assert_eq!(run.code, 2, "some input could not be read");
}

#[test]
fn a_zip_bomb_member_is_refused_and_the_rest_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut bomb = std::fs::read(repo(LATE)).unwrap();
    // Session 5's response declares 4 GiB uncompressed.
    let m = members(&bomb)
        .into_iter()
        .find(|m| m.name == "raw/5_s.txt")
        .unwrap();
    bomb[m.central + 24..m.central + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    bomb[m.local + 22..m.local + 26].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let path = write_temp(&dir, "bomb.saz", &bomb);
    let run = parse_json([&path], None);
    assert_eq!(
        run.input(0)["records"],
        8,
        "every session is read: {}",
        run.json
    );
    let notes = run.notes();
    assert!(
        notes.contains(
            "raw/5_s.txt: refused: it declares 4096 MiB uncompressed, over the 512 MiB bound (a zip bomb?); not decompressed (session 5)"
        ),
        "{notes}"
    );
    // Without its response the session is a request without an answer.
    assert_eq!(
        findings(&run),
        [("connect-after-negotiate-404".to_string(), 1)]
    );
}

#[test]
fn a_truncated_archive_reads_the_sessions_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(repo(LATE)).unwrap();
    // Cut inside session 6's files: sessions 1-5 are whole.
    let cut = members(&original)
        .into_iter()
        .find(|m| m.name == "raw/6_m.xml")
        .unwrap()
        .local
        + 40;
    let paths = [
        write_temp(&dir, "cut.saz", &original[..cut]),
        write_temp(&dir, "stub.saz", &original[..20]),
    ];
    let run = parse_json(&paths, None);
    let cut_input = run.input(0);
    assert_eq!(cut_input["format"], "saz");
    assert_eq!(
        cut_input["records"], 6,
        "sessions 1-6 (6 without its metadata): {cut_input}"
    );
    let notes = run.notes();
    assert!(
        notes.contains("the archive is truncated or its directory is damaged"),
        "{notes}"
    );
    assert!(
        notes.contains("read the 6 sessions whose files precede the damage"),
        "{notes}"
    );
    assert_eq!(
        findings(&run),
        [("connect-after-negotiate-404".to_string(), 1)],
        "the late connect (session 4) is still found"
    );
    let stub = run.input(1)["error"].as_str().unwrap_or_default();
    assert!(stub.starts_with("corrupt zip archive ("), "{stub}");
}

#[test]
fn a_zip_of_logs_is_still_read_member_by_member() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.start_file("raw/app.log", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(
        &mut zip,
        b"info: Microsoft.Azure.SignalR.ServiceConnection[1]\n      hello\n",
    )
    .unwrap();
    zip.finish().unwrap();
    let run = parse_json([&path], None);
    assert_eq!(run.input(0)["format"], "ilogger-simple", "{}", run.json);
}

/// The three public SAZ files and the reference's constructed example:
/// sessions counted as PROVENANCE.tsv says, nothing SignalR in the public
/// ones, no panic.
#[test]
fn public_saz_corpus_and_the_constructed_example() {
    let corpus = repo("../shared/corpus");
    let example = repo("../shared/reference/examples/constructed-asrs.saz");
    if !corpus.is_dir() || !example.is_file() {
        eprintln!("skipped: ../shared is absent");
        return;
    }
    let provenance = std::fs::read_to_string(corpus.join("PROVENANCE.tsv")).unwrap();
    let mut paths = Vec::new();
    let mut want = Vec::new();
    for line in provenance.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols[0].ends_with(".saz") {
            paths.push(corpus.join(cols[0]));
            want.push(cols[6].parse::<u64>().unwrap());
        }
    }
    assert_eq!(paths.len(), 3, "three SAZ files in PROVENANCE.tsv");
    let run = parse_json(&paths, None);
    for (i, n) in want.iter().enumerate() {
        let input = run.input(i);
        assert_eq!(input["format"], "saz", "{input}");
        assert_eq!(input["records"], *n, "{input}");
        assert_eq!(input["unparsed_lines"], 0, "{input}");
    }
    assert_eq!(run.json["connections"], serde_json::json!([]));
    assert_eq!(run.json["findings"], serde_json::json!([]));
    let text = run.json.to_string();
    assert!(
        !text.contains("Basic "),
        "the Basic credentials in 42 do not show"
    );

    let run = parse_json([&example], None);
    assert_eq!(run.input(0)["records"], 3);
    assert_eq!(
        connections(&run),
        ["1 chat WebSockets 129 -129 147 - [200,200,101] clean"],
        "the example's three sessions share one set of timers"
    );
    assert!(!run.json.to_string().contains("eyJ"));
}

/// Sessions are read in parallel: the report is the same on one thread.
#[test]
fn sessions_read_in_parallel_report_the_same() {
    let run = |threads: &str| {
        let out = bin()
            .args(["--json", "--fail-on", "never", "--threads", threads])
            .args([repo(LATE), repo(THROTTLED), repo(CLOSE)])
            .output()
            .unwrap();
        out.stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(run("2"), one);
    assert_eq!(run("3"), one);
}

/// A SAZ on standard input or inside a zip (a support bundle) is read from
/// memory with the same result; a zip of logs on stdin says what to do.
#[test]
fn piped_and_bundled_archives_read_the_same() {
    let raw = std::fs::read(repo(THROTTLED)).unwrap();
    let want = findings(&parse_json([repo(THROTTLED)], None));
    let piped = parse_json(["-"], Some(raw.clone()));
    assert_eq!(piped.input(0)["format"], "saz", "{}", piped.json);
    assert_eq!(findings(&piped), want);

    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&bundle).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("capture/dotnet-429.saz", opts).unwrap();
    std::io::Write::write_all(&mut zip, &raw).unwrap();
    zip.start_file("logs/app.log", opts).unwrap();
    std::io::Write::write_all(&mut zip, b"info: Foo[1]\n      hello\n").unwrap();
    zip.finish().unwrap();
    let bundled = parse_json([&bundle], None);
    assert_eq!(bundled.input(0)["format"], "saz", "{}", bundled.json);
    assert_eq!(bundled.input(1)["format"], "ilogger-simple");
    assert_eq!(findings(&bundled), want);

    let mut only_logs = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    only_logs.start_file("app.log", opts).unwrap();
    std::io::Write::write_all(&mut only_logs, b"info: Foo[1]\n      hello\n").unwrap();
    let only_logs = only_logs.finish().unwrap().into_inner();
    let piped_logs = parse_json(["-"], Some(only_logs));
    let error = piped_logs.input(0)["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("a zip of logs is read member by member when given by its path"),
        "{error}"
    );
}
