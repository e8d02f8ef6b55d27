//! The same input gives the same events, line numbers and diagnostics for
//! every chunk size, streaming window and thread count.

use crate::util::bin;
use asrs_logscan::event::Event;
use asrs_logscan::parse::{Diagnostics, Format};
use asrs_logscan::scan::{Collector, ScanOptions, scan_bytes, scan_stream};
use asrs_logscan::synth;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// One hash per event over every field a parser sets.
struct Digest;
impl Collector for Digest {
    type Acc = Vec<u64>;
    fn start(&self) -> Vec<u64> {
        Vec::new()
    }
    fn event(&self, acc: &mut Vec<u64>, e: &Event<'_>) {
        // The line is hashed after rebasing, in `append`; keep it apart.
        let mut h = DefaultHasher::new();
        (e.time, e.level, e.category.as_deref(), e.event_id).hash(&mut h);
        (&*e.message, e.exception.as_deref(), e.scopes.as_deref()).hash(&mut h);
        acc.push(e.line);
        acc.push(h.finish());
    }
    fn append(&self, acc: &mut Vec<u64>, later: Vec<u64>, off: u64) {
        acc.extend(later.chunks(2).flat_map(|p| [p[0] + off, p[1]]));
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

fn check_format(format: Format, size: u64) {
    let mut data = Vec::new();
    let written = synth::generate(format, size, 7, &mut data).unwrap();
    // A preamble line and a final record without a line ending, to make
    // the first and last chunks interesting.
    let mut bytes = b"preamble that is not a record\n".to_vec();
    bytes.extend_from_slice(data.strip_suffix(b"\n").unwrap_or(&data));
    let parser = format.parser().expect("a log format");
    let base: (Diagnostics, Vec<u64>) = {
        let s = in_pool(1, || {
            scan_bytes(&bytes, parser, &ScanOptions::default(), &Digest)
        });
        (s.diag, s.acc)
    };
    // The preamble is a record of its own in `text`, an unparsed line elsewhere.
    let preamble = u64::from(parser.preamble_is_record());
    assert_eq!(
        base.0.records,
        written.records + preamble,
        "{format}: every record parsed"
    );
    assert_eq!(
        base.0.unparsed_lines,
        1 - preamble,
        "{format}: only the preamble is unparsed"
    );
    assert_eq!(base.1.len() as u64, (written.records + preamble) * 2);
    for threads in [1, 2, 3] {
        for chunk_size in [1, 17, 4096, 1 << 20] {
            let opts = ScanOptions {
                chunk_size,
                ..ScanOptions::default()
            };
            let s = in_pool(threads, || scan_bytes(&bytes, parser, &opts, &Digest));
            assert_eq!(
                s.diag, base.0,
                "{format} chunk {chunk_size} threads {threads}"
            );
            assert!(
                s.acc == base.1,
                "{format} chunk {chunk_size} threads {threads}: events differ"
            );
        }
    }
    for window in [4096, 100_000, 1 << 20] {
        let opts = ScanOptions {
            chunk_size: 64 << 10,
            window,
            ..ScanOptions::default()
        };
        let (s, err) = in_pool(2, || {
            scan_stream(Vec::new(), &mut &bytes[..], parser, &opts, &Digest)
        });
        assert!(err.is_none());
        assert_eq!(s.diag, base.0, "{format} window {window}");
        assert!(s.acc == base.1, "{format} window {window}: events differ");
    }
}

#[test]
fn simple_console_is_chunking_invariant() {
    check_format(Format::IloggerSimple, 4 << 20);
}

#[test]
fn json_is_chunking_invariant() {
    check_format(Format::IloggerJson, 3 << 20);
}

#[test]
fn trace_listener_is_chunking_invariant() {
    check_format(Format::TraceListener, 4 << 20);
}

#[test]
fn text_is_chunking_invariant() {
    check_format(Format::Text, 2 << 20);
}

#[test]
fn systemd_is_chunking_invariant() {
    check_format(Format::IloggerSystemd, 2 << 20);
}

#[test]
fn the_binary_agrees_with_itself_across_chunk_sizes_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let mut f = std::fs::File::create(&path).unwrap();
    let written = synth::generate(Format::IloggerSimple, 2 << 20, 3, &mut f).unwrap();
    drop(f);
    let run = |extra: &[&str]| {
        let out = bin()
            .args(["--json", "--fail-on", "never"])
            .args(extra)
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let base = run(&[]);
    let report: serde_json::Value = serde_json::from_slice(&base).unwrap();
    assert_eq!(report["inputs"][0]["records"], written.records);
    assert_eq!(run(&["--chunk-size", "17", "--threads", "1"]), base);
    assert_eq!(run(&["--chunk-size", "4096", "--threads", "2"]), base);
    // The same bytes through stdin (streamed in small windows).
    let data = std::fs::read(&path).unwrap();
    let out = bin()
        .args(["--json", "--fail-on", "never", "--window", "65536", "-"])
        .write_stdin(data)
        .output()
        .unwrap();
    let piped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        piped["inputs"][0]["records"],
        report["inputs"][0]["records"]
    );
    assert_eq!(piped["inputs"][0]["levels"], report["inputs"][0]["levels"]);
    assert_eq!(piped["inputs"][0]["last"], report["inputs"][0]["last"]);
}
