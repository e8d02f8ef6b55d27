//! Scans one file in memory again and again on one thread, with or
//! without the built-in rules: a steady loop for counting instructions
//! (`benches/instructions.sh`), where wall-clock timings of small changes
//! drown in this machine's noise.
//!
//! ```text
//! cargo run --release --example scan_loop -- FILE FORMAT rules|parse N
//! ```

use asrs_logscan::parse::Format;
use asrs_logscan::rules::RuleSet;
use asrs_logscan::rules::engine::{Engine, RuleCollector};
use asrs_logscan::scan::{self, ScanOptions};
use asrs_logscan::summary::Summary;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, format, mode, n] = &args[..] else {
        eprintln!("usage: scan_loop FILE FORMAT rules|parse N");
        std::process::exit(2);
    };
    let format = Format::from_name(format).expect("a format name");
    let parser = format.parser().expect("a log format, not a capture");
    let n: usize = n.parse().expect("a number of scans");
    let bytes = std::fs::read(file).expect("a readable file");
    // One chunk: the scan stays on one thread.
    let opts = ScanOptions {
        chunk_size: bytes.len().max(1),
        ..ScanOptions::default()
    };
    let engine = Engine::new(RuleSet::load(&[], true).expect("built-in rules"), 20);
    let summary = Summary { anchors: false };
    let with_rules = (
        Summary { anchors: false },
        RuleCollector::new(&engine, 0, format),
    );
    for _ in 0..n {
        if mode == "rules" {
            std::hint::black_box(scan::scan_bytes(&bytes, parser, &opts, &with_rules));
        } else {
            std::hint::black_box(scan::scan_bytes(&bytes, parser, &opts, &summary));
        }
    }
}
