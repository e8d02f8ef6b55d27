//! Where inputs come from: directories, stdin, gzip, zip archives.

use crate::util::{parse_json, repo};
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

const SIMPLE: &str = "fixtures/logs/ilogger-simple/server-utc.log";

#[test]
fn directories_are_walked_in_name_order() {
    let run = parse_json([repo("fixtures/logs")], None);
    assert_eq!(run.code, 0);
    let paths: Vec<&str> = run.json["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 14);
    assert!(paths[0].ends_with("ilogger-json/server.json"));
    assert!(paths[4].ends_with("text/appservice-diagnostics-20240302.txt"));
    assert!(paths[13].ends_with("tracelistener/asrs.log.txt"));
}

#[test]
fn stdin_plain_and_gzipped() {
    let data = std::fs::read(repo(SIMPLE)).unwrap();
    let plain = parse_json(["-"], Some(data.clone()));
    assert_eq!(plain.input(0)["path"], "-");
    assert_eq!(plain.input(0)["records"], 10);
    assert_eq!(plain.input(0)["format"], "ilogger-simple");
    let gz = parse_json(["-"], Some(gzip(&data)));
    assert_eq!(gz.input(0)["records"], 10);
    assert_eq!(gz.input(0)["last"], "2024-03-02T10:17:44.902Z");
}

#[test]
fn gzip_files_are_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("server.log.gz");
    std::fs::write(&path, gzip(&std::fs::read(repo(SIMPLE)).unwrap())).unwrap();
    let run = parse_json([&path], None);
    assert_eq!(run.code, 0);
    assert_eq!(run.input(0)["records"], 10);
    assert_eq!(run.input(0)["format"], "ilogger-simple");
}

#[test]
fn zip_members_are_inputs_named_archive_colon_member() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    zip.add_directory("LogFiles/", opts).unwrap();
    zip.start_file("LogFiles/app.log", opts).unwrap();
    zip.write_all(&std::fs::read(repo(SIMPLE)).unwrap())
        .unwrap();
    zip.start_file("LogFiles/asrs.log.txt.gz", opts).unwrap();
    zip.write_all(&gzip(
        &std::fs::read(repo("fixtures/logs/tracelistener/asrs.log.txt")).unwrap(),
    ))
    .unwrap();
    zip.start_file("LogFiles/icon.png", opts).unwrap();
    zip.write_all(&[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 1, 2, 3, 0, 0, 0, 0, 0])
        .unwrap();
    zip.finish().unwrap();

    let run = parse_json([&path], None);
    assert_eq!(run.code, 0, "a binary member is skipped, not an error");
    let shown = path.display().to_string();
    assert_eq!(run.input(0)["path"], format!("{shown}:LogFiles/app.log"));
    assert_eq!(run.input(0)["records"], 10);
    assert_eq!(
        run.input(1)["path"],
        format!("{shown}:LogFiles/asrs.log.txt.gz")
    );
    assert_eq!(run.input(1)["format"], "tracelistener");
    assert_eq!(run.input(1)["records"], 7);
    assert!(run.input(2)["skipped"].as_str().unwrap().contains("binary"));
    assert_eq!(run.json["inputs"].as_array().unwrap().len(), 3);
}

#[test]
fn utf16_with_bom_is_converted() {
    let text = std::fs::read_to_string(repo(SIMPLE)).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("redirected.log");
    std::fs::write(&path, &bytes).unwrap();
    let run = parse_json([&path], None);
    assert_eq!(run.input(0)["records"], 10);
    assert_eq!(run.input(0)["encoding"], "utf-16le");
    let piped = parse_json(["-"], Some(bytes));
    assert_eq!(piped.input(0)["records"], 10);
    assert_eq!(piped.input(0)["last"], "2024-03-02T10:17:44.902Z");
}
