//! The rule language end to end: sample rules of every form on fixtures,
//! `rules check`/`test`/`list`/`show`, broken rule files, rule selection,
//! exit codes, and redaction in every output.

use crate::util::{bin, repo, run_json};
use std::process::Output;

fn run(args: &[&str]) -> Output {
    bin().current_dir(repo("")).args(args).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const SAMPLES: &str = "fixtures/rules/samples";
const SCENARIO: &str = "fixtures/scenarios/flapping-server.log";

#[test]
fn sample_rules_check_and_pass_their_own_examples() {
    let o = run(&["rules", "check", SAMPLES]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert_eq!(text(&o).0.trim(), "ok: 5 rules, no problems");
    let o = run(&["rules", "test", SAMPLES]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.ends_with("11 passed, 0 failed\n"), "{out}");
    assert!(out.contains("ok   sample-slow-connect: connect 6.2 s after negotiate fires"));
}

#[test]
fn every_form_fires_on_the_scenario() {
    let r = run_json(["--no-builtin-rules", "--rules", SAMPLES, SCENARIO], None);
    assert_eq!(r.code, 1, "error findings exit 1");
    let findings = r.json["findings"].as_array().unwrap();
    let ids: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "sample-drop-not-recovered",
            "sample-failed-send-burst",
            "sample-clients-rising",
            "sample-service-timeout"
        ]
    );
    let get = |id: &str| findings.iter().find(|f| f["rule"] == id).unwrap();
    let drop = get("sample-drop-not-recovered");
    assert_eq!(
        (drop["count"].as_u64(), drop["severity"].as_str()),
        (Some(1), Some("error"))
    );
    let occ = &drop["occurrences"][0];
    assert_eq!(
        (occ["input"].as_u64(), occ["line"].as_u64()),
        (Some(0), Some(57))
    );
    assert_eq!(occ["time"], "2024-03-02T10:30:00Z");
    assert_eq!(
        occ["fields"]["conn"],
        "0b9e3d52-88a1-4f6c-b0e2-31c4d5e6f708"
    );
    assert_eq!(
        occ["summary"],
        "0b9e3d52-88a1-4f6c-b0e2-31c4d5e6f708 dropped at 2024-03-02T10:30:00Z and stayed down"
    );

    let burst = &get("sample-failed-send-burst")["occurrences"][0];
    assert_eq!(burst["line"], 19);
    assert_eq!(burst["fields"]["count"], "2");
    assert_eq!(burst["fields"]["span"], "20s");
    let lines: Vec<u64> = burst["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [17, 19]);

    let rising = &get("sample-clients-rising")["occurrences"][0];
    assert_eq!(rising["summary"], "rose from 0 to 23 over 40m00s");

    let timeout = get("sample-service-timeout");
    assert_eq!(timeout["first"], "2024-03-02T10:15:30Z");
    assert_eq!(
        timeout["occurrences"][0]["summary"],
        "https://contoso.service.signalr.net silent for 30000.00ms (connection 5f0a7c1e-2b44-4c7e-9d3b-7a1f0e2d9c11)"
    );
    assert!(
        timeout["cause"]
            .as_str()
            .unwrap()
            .starts_with("The SDK closes")
    );
    assert_eq!(r.json["tool"]["rules"], 5);
}

#[test]
fn selection_and_fail_on() {
    let r = run_json(
        [
            "--no-builtin-rules",
            "--rules",
            SAMPLES,
            "--only",
            "sample-service-timeout,sample-clients-rising",
            SCENARIO,
        ],
        None,
    );
    assert_eq!(
        r.code, 0,
        "warnings do not fail at the default --fail-on error"
    );
    assert_eq!(r.json["findings"].as_array().unwrap().len(), 2);
    let r = run_json(
        [
            "--no-builtin-rules",
            "--rules",
            SAMPLES,
            "--only",
            "sample-service-timeout",
            "--fail-on",
            "warning",
            SCENARIO,
        ],
        None,
    );
    assert_eq!(r.code, 1);
    let r = run_json(
        [
            "--no-builtin-rules",
            "--rules",
            SAMPLES,
            "--skip",
            "sample-drop-not-recovered,sample-failed-send-burst",
            SCENARIO,
        ],
        None,
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.json["findings"].as_array().unwrap().len(), 2);
    let r = run_json(
        [
            "--no-builtin-rules",
            "--rules",
            SAMPLES,
            "--fail-on",
            "never",
            SCENARIO,
        ],
        None,
    );
    assert_eq!(r.code, 0);
    let o = run(&[
        "--no-builtin-rules",
        "--rules",
        SAMPLES,
        "--only",
        "sample-service-timout",
        SCENARIO,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o)
            .1
            .contains("no rule `sample-service-timout`; did you mean `sample-service-timeout`?")
    );
}

#[test]
fn terminal_report_shows_findings_first_with_evidence() {
    let o = run(&["--no-builtin-rules", "--rules", SAMPLES, SCENARIO]);
    let (out, _) = text(&o);
    assert!(out.starts_with("Findings\n"), "{out}");
    assert!(out.contains("ERROR sample-failed-send-burst — Messages to the service keep failing on one server connection"));
    assert!(out.contains(
        "  • flapping-server.log:19 2024-03-02T10:10:20Z  Failed to send message 8120453210594"
    ));
    assert!(out.contains("      flapping-server.log:17  Failed to send message 8120453210593"));
    assert!(out.find("Findings").unwrap() < out.find("Inputs").unwrap());
}

/// Each broken file gives exactly its own error, at its place.
#[test]
fn broken_rule_files_point_at_the_mistake() {
    let o = run(&["rules", "check", "fixtures/rules/invalid"]);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    let expect = [
        "error: `5x` is not a duration (use 250ms, 5s, 10m, 1h or 2d)\n  --> fixtures/rules/invalid/bad-duration.toml:10:12\n   |\n10 | window   = \"5x\"\n   |            ^^^^",
        "error: expected a field, string, number, duration, level, `(`, `exists(` or `len(` here\n --> fixtures/rules/invalid/bad-expression.toml:8:18\n  |\n8 | when = 'level >= && message contains \"x\"'\n  |                  ^",
        "error: invalid regular expression: unclosed character class\n --> fixtures/rules/invalid/bad-regex.toml:8:25",
        "error: unknown severity `eror`\n --> fixtures/rules/invalid/bad-severity.toml:3:12",
        "= help: did you mean `error`? (info, warning or error)",
        "error: rule id `broken-duplicate` is already used\n --> fixtures/rules/invalid/duplicate-id-b.toml:1:12",
        "= help: by fixtures/rules/invalid/duplicate-id-a.toml",
        "error: rule `broken-no-examples` needs an [[example]] that fires (expect ≥ 1) and one that must not (expect = 0)",
        "--> fixtures/rules/invalid/toml-syntax.toml:2:37",
        "error: a rule has exactly one form, but this one also has [match]\n  --> fixtures/rules/invalid/two-forms.toml:10:1\n   |\n10 | [count]\n   | ^^^^^^^",
        "error: unknown field `categry`\n --> fixtures/rules/invalid/unknown-field.toml:8:29\n  |\n8 | when = 'level >= warning && categry startswith \"Microsoft.Azure.SignalR\"'\n  |                             ^^^^^^^\n  = help: did you mean `category`?",
        "error: unknown key `wen`\n --> fixtures/rules/invalid/unknown-key.toml:8:1\n  |\n8 | wen = 'message contains \"x\"'\n  | ^^^\n  = help: did you mean `when`?",
        "10 errors in rule files",
    ];
    for e in expect {
        assert!(err.contains(e), "missing:\n{e}\n--- in ---\n{err}");
    }
    assert_eq!(
        err.matches("\nerror: ").count() + 1,
        10,
        "one error per problem:\n{err}"
    );
}

#[test]
fn a_scan_with_broken_rules_stops_with_the_errors() {
    let o = run(&[
        "--rules",
        "fixtures/rules/invalid/unknown-field.toml",
        SCENARIO,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let (out, err) = text(&o);
    assert!(out.is_empty());
    assert!(err.contains("unknown field `categry`"));
}

#[test]
fn a_failing_example_fails_rules_test() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(repo("fixtures/rules/samples/failed-send-burst.toml")).unwrap();
    std::fs::write(
        dir.path().join("r.toml"),
        src.replace("at_least = 2", "at_least = 3"),
    )
    .unwrap();
    let o = bin()
        .args(["rules", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let (out, _) = text(&o);
    assert!(out.contains("FAIL sample-failed-send-burst: two failures on one connection within a minute fire\n     expected 1 occurrence, got 0"), "{out}");
    assert!(out.ends_with("1 passed, 1 failed\n"), "{out}");
}

#[test]
fn list_and_show() {
    let o = run(&["rules", "list", "--rules", SAMPLES, "--no-builtin-rules"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("sample-clients-rising") && out.contains("trend"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("5 rules"));
    let o = run(&["rules", "show", "sample-slow-connect", "--rules", SAMPLES]);
    let (out, _) = text(&o);
    assert!(out.starts_with("sample-slow-connect  (error, sequence)\nThe connect request came more than 5 s after negotiate"), "{out}");
    assert!(out.contains("fix:\n  1. Find what delays"));
}

#[test]
fn secrets_never_reach_any_output() {
    let secrets = std::fs::read_to_string(repo("fixtures/secrets/secrets.txt")).unwrap();
    let log = "fixtures/secrets/leaky-app.log";
    let outputs = [
        run(&["--rules", "fixtures/rules/secrets", log]),
        run(&["--rules", "fixtures/rules/secrets", "--json", log]),
        run(&[
            "--rules",
            "fixtures/rules/secrets",
            "--json",
            "--format",
            "text",
            log,
        ]),
    ];
    for o in &outputs {
        let (out, err) = text(o);
        assert!(
            out.contains("redacted"),
            "the secrets were shown, redacted: {out}"
        );
        for s in secrets.lines().filter(|s| !s.is_empty()) {
            assert!(
                !out.contains(s) && !err.contains(s),
                "secret {s} leaked:\n{out}"
            );
        }
    }
    let (json, _) = text(&outputs[1]);
    assert!(
        json.contains("\\\"nameid\\\":\\\"alice\\\""),
        "JWT claims are shown"
    );
    assert!(
        json.contains("redacted JWT, 231 chars"),
        "JWT length is shown"
    );
}

#[test]
fn findings_do_not_depend_on_chunking_or_threads() {
    let base = run(&["--json", "--no-builtin-rules", "--rules", SAMPLES, SCENARIO]).stdout;
    for extra in [["--chunk-size", "17"], ["--threads", "1"]] {
        let o = run(&[
            &["--json", "--no-builtin-rules", "--rules", SAMPLES][..],
            &extra[..],
            &[SCENARIO][..],
        ]
        .concat());
        assert!(o.stdout == base, "{extra:?} changed the report");
    }
    let piped = bin()
        .current_dir(repo(""))
        .args([
            "--json",
            "--no-builtin-rules",
            "--rules",
            SAMPLES,
            "--window",
            "4096",
            "-",
        ])
        .write_stdin(std::fs::read(repo(SCENARIO)).unwrap())
        .output()
        .unwrap();
    let a: serde_json::Value = serde_json::from_slice(&base).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&piped.stdout).unwrap();
    assert_eq!(a["findings"], b["findings"]);
}

/// `message startswith` and `event ==` are looked up at the start of each
/// message (not searched for in the text): in every log format the message
/// as parsed is what counts, and text further in does not trigger.
#[test]
fn message_starts_trigger_in_every_format() {
    let dir = crate::util::rule_dir(
        "starts.toml",
        r#"id = "zebra"
title = "Zebra"
severity = "warning"
cause = "For the test."
fix = "None."
[match]
when = 'message startswith "Zebra crossing" || event == "ServiceConnectionConnected"'
[[example]]
name = "starts"
expect = 1
  [[example.event]]
  message = "Zebra crossing ahead"
[[example]]
name = "further in"
expect = 0
  [[example.event]]
  message = "a Zebra crossing ahead"
"#,
    );
    let logs = [
        (
            "simple.log",
            "2024-03-02T10:15:00.000Z info: App.Thing[1]\n      Zebra crossing ahead\n2024-03-02T10:15:01.000Z info: App.Thing[1]\n      a Zebra crossing further in\n",
        ),
        (
            "server.json",
            "{\"Timestamp\":\"2024-03-02T10:15:00.000Z\",\"EventId\":1,\"LogLevel\":\"Information\",\"Category\":\"App.Thing\",\"Message\":\"Zebra crossing ahead\",\"State\":{}}\n{\"Timestamp\":\"2024-03-02T10:15:01.000Z\",\"EventId\":1,\"LogLevel\":\"Information\",\"Category\":\"App.Thing\",\"Message\":\"a Zebra crossing further in\",\"State\":{}}\n",
        ),
        (
            "asrs.log.txt",
            "Microsoft.Azure.SignalR Information: 0 : [Microsoft.Azure.SignalR.AspNet.ServiceConnection]Service connection 8d0c51f2-6b3e-4f1a-b2aa-0e7d9c3f4a11 connected.\n    DateTime=2024-03-02T10:15:00.2330000Z\nMicrosoft.Azure.SignalR Information: 0 : [App]a Service connection 8d0c51f2 connected.\n    DateTime=2024-03-02T10:15:01.0000000Z\n",
        ),
    ];
    for (name, text) in logs {
        assert_eq!(count_alone(&dir, "zebra", name, text), 1, "{name}");
    }
}

/// How often rule `id`, the only rule (from `rules`), fires on a log
/// called `name` that holds `text`.
fn count_alone(rules: &tempfile::TempDir, id: &str, name: &str, text: &str) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    std::fs::write(&path, text).unwrap();
    let run = crate::util::parse_json(
        [
            "--no-builtin-rules".as_ref(),
            "--rules".as_ref(),
            rules.path().as_os_str(),
            path.as_os_str(),
        ],
        None,
    );
    run.finding(id)
        .unwrap_or_else(|| panic!("{name}: {:?}", run.json))["count"]
        .clone()
}

/// The prefilter searches only the bodies of ILogger, JSON console and
/// trace-listener records (what follows the header, what precedes the
/// footers, from `Message` to `Exception`): texts in
/// the message, on the header line (SingleLine), in continuation lines and
/// in the exception are found; a needle of a category or source test is
/// looked for in those fields; a text only in a footer is not a message.
#[test]
fn bodies_and_headers_are_both_searched() {
    let dir = crate::util::rule_dir(
        "body.toml",
        r#"id = "yak"
title = "Yak"
severity = "warning"
cause = "For the test."
fix = "None."
[match]
when = 'message contains "yak shaving" || exception contains "YakException" || category contains "Yakety" || source contains "Yakkity" || scopes contains "YakScope"'
[[example]]
name = "in the message"
expect = 1
  [[example.event]]
  message = "more yak shaving"
[[example]]
name = "elsewhere"
expect = 0
  [[example.event]]
  message = "a yak, shaved"
"#,
    );
    let logs = [
        (
            "simple.log",
            concat!(
                "2024-03-02T10:15:00.000Z info: App.Thing[1]\n      more yak shaving\n",
                "2024-03-02T10:15:01.000Z info: App.Thing[1] one line: yak shaving\n",
                "2024-03-02T10:15:02.000Z fail: App.Thing[1]\n      failed\nSystem.YakException: no\n   at A.B()\n",
                "2024-03-02T10:15:03.000Z info: App.Yakety.Sax[1]\n      header only\n",
                "2024-03-02T10:15:04.000Z info: App.Thing[1]\n      first line\n      then yak shaving\n",
                "2024-03-02T10:15:05.000Z info: App.Thing[1]\n      nothing here\n",
                // The scope line is not searched as body text, its
                // literals are looked up in `scopes`: with a message below
                // it and without one.
                "2024-03-02T10:15:06.000Z info: App.Thing[1]\n      => SpanId:1 => YakScope:2\n      plain\n",
                "2024-03-02T10:15:07.000Z info: App.Thing[1]\n      => YakScope:3\n",
                "2024-03-02T10:15:08.000Z info: App.Thing[1]\n      => NoScope:4\n      yak, shaved\n",
            ),
            7,
        ),
        (
            "asrs.log.txt",
            concat!(
                "Microsoft.Azure.SignalR Information: 0 : [App.Thing]more yak shaving\n    DateTime=2024-03-02T10:15:00.0000000Z\n",
                "Microsoft.Azure.SignalR Information: 0 : [App.Thing]first line\nthen yak shaving\n    DateTime=2024-03-02T10:15:01.0000000Z\n",
                "Microsoft.Azure.SignalR Information: 0 : [App.Yakety.Sax]header only\n    DateTime=2024-03-02T10:15:02.0000000Z\n",
                "Yakkity.Source Information: 0 : [App.Thing]source only\n    DateTime=2024-03-02T10:15:03.0000000Z\n",
                "Microsoft.Azure.SignalR Information: 0 : [App.Thing]nothing here\n    Callstack=yak shaving\n    DateTime=2024-03-02T10:15:04.0000000Z\n",
            ),
            4,
        ),
        (
            // JSON: only Message to Exception is searched; `source` is a
            // `State` member there, outside that span.
            "server.json",
            concat!(
                r#"{"Timestamp":"2024-03-02T10:15:00.000Z","EventId":1,"LogLevel":"Error","Category":"App.Thing","Message":"failed","Exception":"System.YakException: no","State":{"Message":"failed"}}"#,
                "\n",
                r#"{"Timestamp":"2024-03-02T10:15:01.000Z","EventId":1,"LogLevel":"Information","Category":"App.Thing","Message":"plain","State":{"Message":"plain","source":"Yakkity.Json"}}"#,
                "\n",
                r#"{"Timestamp":"2024-03-02T10:15:02.000Z","EventId":1,"LogLevel":"Information","Category":"App.Thing","Message":"plain","State":{"Message":"yak shaving"}}"#,
                "\n",
            ),
            2,
        ),
    ];
    for (name, text, expected) in logs {
        assert_eq!(count_alone(&dir, "yak", name, text), expected, "{name}");
    }
}

/// A trend with `group_by` counts each group on its own: the group that
/// rises fires, the one that opens and closes does not.
#[test]
fn grouped_trends_count_each_group() {
    // Events as (minutes, seconds after 10:00, category, message).
    let events = |list: &[(u32, u32, &str, &str)]| -> String {
        list.iter()
            .map(|(m, s, category, message)| {
                format!(
                    "  [[example.event]]\n  time = \"2024-03-02T10:{m:02}:{s:02}Z\"\n  category = \"{category}\"\n  message = \"{message}\"\n"
                )
            })
            .collect()
    };
    // A opens one every 5 minutes; B opens and closes one every 5 minutes.
    let a_rises: Vec<_> = (0..10).map(|i| (i * 5, 0, "A", "up")).collect();
    let b_flaps: Vec<_> = (0..10)
        .flat_map(|i| [(i * 5, 0, "B", "up"), (i * 5, 30, "B", "down")])
        .collect();
    let both_slow = [
        (0, 0, "A", "up"),
        (15, 0, "A", "up"),
        (35, 0, "A", "up"),
        (5, 0, "B", "up"),
        (20, 0, "B", "up"),
        (40, 0, "B", "up"),
    ];
    let rule = format!(
        r#"id = "grouped-rise"
title = "Grouped rise"
severity = "warning"
cause = "For the test."
fix = "None."
[trend]
up           = 'message == "up"'
down         = 'message == "down"'
group_by     = ["category"]
bucket       = "5m"
rising_for   = "30m"
min_increase = 5
[[example]]
name = "A rises while B opens and closes"
expect = 1
{}{}
[[example]]
name = "A and B rise by 3 each: 6 together, but each under 5"
expect = 0
{}
[[example]]
name = "B alone opens and closes"
expect = 0
{}"#,
        events(&a_rises),
        events(&b_flaps),
        events(&both_slow),
        events(&b_flaps),
    );
    let dir = crate::util::rule_dir("grouped.toml", &rule);
    let o = bin()
        .args(["rules", "test"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.ends_with("3 passed, 0 failed\n"), "{out}");
}
