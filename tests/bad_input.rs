//! Bad input never panics, is named in a clear message (with the line where
//! it applies), and never stops the other inputs from being reported.

use crate::util::{parse_json, repo};
use std::io::Write;
use std::path::{Path, PathBuf};

const GOOD: &str = "fixtures/logs/tracelistener/asrs.log.txt";

fn temp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `bad` followed by a good input; checks the good one is still read.
fn with_good(bad: &Path) -> crate::util::Run {
    let run = parse_json([bad.to_path_buf(), repo(GOOD)], None);
    assert_eq!(
        run.input(1)["records"],
        7,
        "the other input is still analyzed"
    );
    run
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = with_good(&temp_file(&dir, "empty.log", b""));
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 0);
    assert!(run.input(0)["error"].is_null());
    assert!(
        run.notes().contains("empty.log: empty input"),
        "{}",
        run.notes()
    );
}

#[test]
fn binary_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let run = with_good(&temp_file(&dir, "core.dump", &bytes));
    assert_eq!(run.code, 2);
    let err = run.input(0)["error"].as_str().unwrap();
    assert!(
        err.contains("binary data") && err.contains("--format"),
        "{err}"
    );
    assert!(run.notes().contains("core.dump: binary data"));
}

#[test]
fn invalid_utf8_is_replaced_and_the_line_still_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"info: A.B[1]\n      good\nwarn: A.B[2]\n      caf\xe9 in Latin-1\ninfo: A.B[3]\n      after\n";
    let run = with_good(&temp_file(&dir, "latin1.log", text));
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 3);
    assert_eq!(run.input(0)["levels"]["warning"], 1);
    assert!(
        run.notes()
            .contains("latin1.log: 1 line with invalid UTF-8"),
        "{}",
        run.notes()
    );
    assert!(run.notes().contains("first at line 4"));
}

#[test]
fn nul_bytes_are_reported_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"info: A.B[1]\n      good\n\0\0\0\0info: A.B[2]\n      after the crash\ninfo: A.B[3]\n      more\n";
    let run = with_good(&temp_file(&dir, "crashed.log", text));
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 2);
    assert!(
        run.notes().contains("crashed.log: 1 line with NUL bytes"),
        "{}",
        run.notes()
    );
    assert!(run.notes().contains("(first at line 3)"));
}

#[test]
fn a_100_mb_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(b"info: Big.Payload[1]\n      ").unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&block).unwrap();
    }
    f.write_all(b"\ninfo: After[2]\n      done\n").unwrap();
    drop(f);
    let run = with_good(&path);
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 2);
    let notes = run.notes();
    assert!(
        notes.contains("huge.log: 1 line with more than 1 MiB (the longest is 100.0 MiB)"),
        "{notes}"
    );
    assert!(notes.contains("first at line 2"));
}

#[test]
fn an_oversized_line_on_stdin_is_streamed() {
    let mut data = b"info: Big.Payload[1]\n      ".to_vec();
    data.extend(std::iter::repeat_n(b'y', 3 << 20));
    data.extend_from_slice(b"\ninfo: After[2]\n      done\n");
    let run = parse_json(["--window", "65536", "-"], Some(data));
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 2);
    assert_eq!(run.input(0)["lines"], 4);
}

#[test]
fn truncated_json_record() {
    let dir = tempfile::tempdir().unwrap();
    let text = b"{\"EventId\":1,\"LogLevel\":\"Information\",\"Category\":\"A\",\"Message\":\"one\"}\n{\"EventId\":2,\"LogLevel\":\"Error\",\"Category\":\"A\",\"Message\":\"cut off her";
    let run = with_good(&temp_file(&dir, "cut.json", text));
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 1);
    assert_eq!(run.input(0)["unparsed_lines"], 1);
    let notes = run.notes();
    assert!(
        notes.contains("cut.json: the record at line 2 is cut off by the end of the input"),
        "{notes}"
    );
    assert!(
        notes.contains("cut.json: 1 line not parsed (first at line 2"),
        "{notes}"
    );
}

#[test]
fn directory_with_nothing_readable() {
    let empty = tempfile::tempdir().unwrap();
    let run = with_good(empty.path());
    assert_eq!(run.code, 2);
    assert_eq!(run.input(0)["error"], "directory contains no files");

    let binaries = tempfile::tempdir().unwrap();
    temp_file(&binaries, "a.bin", &[0u8; 64]);
    temp_file(&binaries, "b.bin", &[1u8; 64]);
    let run = parse_json([binaries.path().to_path_buf(), repo(GOOD)], None);
    assert_eq!(run.code, 2);
    assert!(run.input(0)["skipped"].as_str().unwrap().contains("binary"));
    assert_eq!(run.input(2)["records"], 7);
    let dir_entry = &run.json["inputs"][3];
    assert_eq!(dir_entry["path"], binaries.path().display().to_string());
    assert!(
        dir_entry["error"]
            .as_str()
            .unwrap()
            .starts_with("nothing readable in this directory (2 of 2")
    );
}

#[test]
fn missing_and_unreadable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let run = with_good(&missing);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.input(0)["error"],
        "cannot read: No such file or directory"
    );
    assert_eq!(run.input(0)["path"], missing.display().to_string());

    let link = dir.path().join("dangling.log");
    std::os::unix::fs::symlink(dir.path().join("gone"), &link).unwrap();
    let run = with_good(&link);
    assert_eq!(run.code, 2);
    assert!(
        run.input(0)["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot read")
    );

    use std::os::unix::fs::PermissionsExt;
    let locked = temp_file(&dir, "locked.log", b"info: A[1]\n      x\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("skipped the permission check: running as root, every file is readable");
        return;
    }
    let run = with_good(&locked);
    assert_eq!(run.code, 2);
    assert_eq!(run.input(0)["error"], "cannot read: Permission denied");
}

#[test]
fn corrupt_and_truncated_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let mut junk = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    junk.extend_from_slice(b"this is not deflate data at all, not even close");
    let run = with_good(&temp_file(&dir, "corrupt.log.gz", &junk));
    assert_eq!(run.code, 2);
    let err = run.input(0)["error"].as_str().unwrap();
    assert!(
        err.contains("cannot read") || err.contains("read failed"),
        "{err}"
    );

    // A gzip cut in half: what was before the cut is still reported.
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "info: A.B[{i}]\n      message number {i} with some padding text\n"
        ));
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(text.as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let run = with_good(&temp_file(&dir, "cut.log.gz", &gz[..gz.len() / 2]));
    assert_eq!(run.code, 2);
    let err = run.input(0)["error"].as_str().unwrap();
    assert!(
        err.starts_with("read failed after") && err.contains("what was read before"),
        "{err}"
    );
    let records = run.input(0)["records"].as_u64().unwrap();
    assert!(records > 1000 && records < 20_000, "{records}");
}

#[test]
fn corrupt_zip() {
    let dir = tempfile::tempdir().unwrap();
    let run = with_good(&temp_file(
        &dir,
        "logs.zip",
        b"PK\x03\x04 this is not really a zip archive",
    ));
    assert_eq!(run.code, 2);
    assert!(
        run.input(0)["error"]
            .as_str()
            .unwrap()
            .starts_with("corrupt zip archive")
    );
}

#[test]
fn no_paths_is_a_usage_error() {
    let out = crate::util::bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PATH"));
}
