//! The generic `text` reader on what users paste from other loggers, time
//! zones (`--tz`), dates (`--date`) and encodings, end to end.

use crate::util::{parse_json, repo, shared_examples};
use serde_json::Value;

fn dir() -> std::path::PathBuf {
    repo("fixtures/logs/text")
}

/// (records, [critical, error, warning, info, debug, trace, none], first, last)
type Summary<'a> = (u64, [u64; 7], Option<&'a str>, Option<&'a str>);

fn summary(input: &Value) -> Summary<'_> {
    let l = &input["levels"];
    let n = |k: &str| l[k].as_u64().unwrap();
    (
        input["records"].as_u64().unwrap(),
        [
            n("critical"),
            n("error"),
            n("warning"),
            n("info"),
            n("debug"),
            n("trace"),
            n("none"),
        ],
        input["first"].as_str(),
        input["last"].as_str(),
    )
}

#[test]
fn each_logger_fixture() {
    let files = [
        "serilog-console.log",
        "serilog-file.log",
        "nlog-local.log",
        "appservice-diagnostics-20240302.txt",
        "browser-console.txt",
        "jquery-console.txt",
        "functions-host.log",
        "bare-exception.txt",
    ];
    let run = parse_json(files.iter().map(|f| dir().join(f)), None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (i, file) in files.iter().enumerate() {
        assert_eq!(run.input(i)["format"], "text", "{file}");
        assert_eq!(run.input(i)["unparsed_lines"], 0, "{file}");
    }
    let expect: [Summary; 8] = [
        (6, [0, 1, 1, 3, 1, 0, 0], Some("10:15:00"), Some("10:16:05")),
        (
            4,
            [1, 1, 0, 2, 0, 0, 0],
            Some("2024-03-02T11:15:00.233+01:00"),
            Some("2024-03-02T11:16:05.010+01:00"),
        ),
        (
            5,
            [0, 1, 1, 2, 1, 0, 0],
            Some("2024-03-02T11:15:00.2331"),
            Some("2024-03-02T11:15:31.2504"),
        ),
        (
            4,
            [0, 1, 1, 2, 0, 0, 0],
            Some("2024-03-02T10:15:00.233Z"),
            Some("2024-03-02T10:16:05.010Z"),
        ),
        (
            7,
            [0, 2, 1, 4, 0, 0, 0],
            Some("2024-03-02T10:15:03.402Z"),
            Some("2024-03-02T10:16:05.512Z"),
        ),
        (5, [0, 0, 0, 0, 0, 0, 5], Some("11:15:03"), Some("11:16:02")),
        (
            3,
            [0, 1, 0, 2, 0, 0, 0],
            Some("2024-03-02T10:15:03.402"),
            Some("2024-03-02T10:15:09.870"),
        ),
        (1, [0, 1, 0, 0, 0, 0, 0], None, None),
    ];
    for (i, e) in expect.iter().enumerate() {
        assert_eq!(summary(run.input(i)), *e, "{}", files[i]);
    }
    assert_eq!(run.input(2)["naive_timestamps"], 5);
    assert_eq!(run.input(5)["time_of_day_timestamps"], 5);
    assert_eq!(
        run.input(3)["top_categories"][0]["category"],
        "Microsoft.Azure.SignalR.ServiceConnection"
    );
    assert!(run.input(7)["has_timestamps"] == false);
    let notes = run.notes();
    assert!(notes.contains("nlog-local.log: 5 records have local times without a time zone; to compare them with other inputs pass --tz nlog-local.log=ZONE"), "{notes}");
    assert!(notes.contains("serilog-console.log: 6 records have a time of day but no date; pass --date serilog-console.log=YYYY-MM-DD"), "{notes}");
    assert!(
        notes.contains("bare-exception.txt: no timestamps"),
        "{notes}"
    );
    let reasons: Vec<&str> = (0..files.len())
        .map(|i| run.input(i)["detected_by"].as_str().unwrap())
        .collect();
    for (reason, logger) in reasons.iter().zip([
        "Serilog console",
        "Serilog file",
        "NLog",
        "App Service",
        "JavaScript client",
        "jQuery",
        "Functions host",
        "read as one text record",
    ]) {
        assert!(reason.contains(logger), "{reason} should name {logger}");
    }
}

#[test]
fn local_times_with_tz_become_instants() {
    let nlog = dir().join("nlog-local.log");
    let run = parse_json(
        [
            "--tz".into(),
            "nlog-local.log=Europe/Berlin".into(),
            nlog.clone(),
        ],
        None,
    );
    let i = run.input(0);
    assert_eq!(i["first"], "2024-03-02T11:15:00.2331+01:00");
    assert_eq!(i["last"], "2024-03-02T11:15:31.2504+01:00");
    assert_eq!(i["naive_timestamps"], 0);
    assert_eq!(i["time_zone"], "Europe/Berlin");
    assert!(!run.notes().contains("without a time zone"));
    // A fixed offset, given for all inputs, by full path.
    let run = parse_json(
        [
            "--tz".into(),
            format!("{}=-05:00", nlog.display()).into(),
            nlog.clone(),
        ],
        None,
    );
    assert_eq!(run.input(0)["first"], "2024-03-02T11:15:00.2331-05:00");
    // Offsets written by the source are never overridden.
    let serilog = dir().join("serilog-file.log");
    let run = parse_json(["--tz".into(), "UTC".into(), serilog], None);
    assert_eq!(run.input(0)["first"], "2024-03-02T11:15:00.233+01:00");
}

#[test]
fn time_of_day_logs_take_the_date_the_user_gives() {
    let run = parse_json(
        [
            "--date".into(),
            "2024-03-02".into(),
            "--tz".into(),
            "serilog-console.log=+01:00".into(),
            dir().join("serilog-console.log"),
            dir().join("jquery-console.txt"),
        ],
        None,
    );
    assert_eq!(run.input(0)["first"], "2024-03-02T10:15:00+01:00");
    assert_eq!(run.input(0)["date"], "2024-03-02");
    // The jQuery client's toTimeString() carries its own offset.
    assert_eq!(run.input(1)["first"], "2024-03-02T11:15:03+01:00");
    assert_eq!(run.input(1)["time_of_day_timestamps"], 0);
}

#[test]
fn bad_tz_and_date_values_are_usage_errors() {
    let f = dir().join("nlog-local.log");
    for (flag, value, says) in [
        ("--tz", "Mars/Olympus", "neither a UTC offset"),
        ("--tz", "other.log=UTC", "`other.log` names no input"),
        ("--date", "02/03/2024", "not a date"),
    ] {
        let out = crate::util::bin()
            .args([flag, value])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}

#[test]
fn utf16_file_from_powershell() {
    let run = parse_json([dir().join("powershell-utf16.log")], None);
    let i = run.input(0);
    assert_eq!(i["encoding"], "utf-16le");
    assert_eq!(i["format"], "ilogger-simple");
    assert_eq!(i["records"], 3);
    assert_eq!(i["levels"]["warning"], 1);
    assert_eq!(i["unparsed_lines"], 0);
}

#[test]
fn shared_examples_of_other_loggers() {
    let Some(ex) = shared_examples() else { return };
    let run = parse_json(
        [
            "serilog-console.log",
            "serilog-file.log",
            "nlog.log",
            "azureappservices-diagnostics-20240115.txt",
        ]
        .map(|f| ex.join(f)),
        None,
    );
    let expect = [
        (3, [0, 1, 1, 1, 0, 0, 0], Some("08:30:05"), Some("08:30:07")),
        (
            3,
            [0, 1, 0, 1, 1, 0, 0],
            Some("2024-01-15T08:30:05.123+01:00"),
            Some("2024-01-15T08:30:07+01:00"),
        ),
        (
            2,
            [0, 1, 0, 1, 0, 0, 0],
            Some("2024-01-15T08:30:05.1234"),
            Some("2024-01-15T08:30:06.0071"),
        ),
        (
            3,
            [0, 1, 0, 2, 0, 0, 0],
            Some("2024-01-15T08:30:05.123Z"),
            Some("2024-01-15T08:30:07.450Z"),
        ),
    ];
    for (i, e) in expect.iter().enumerate() {
        assert_eq!(run.input(i)["format"], "text");
        assert_eq!(summary(run.input(i)), *e, "example {i}");
    }
}
