//! Generates big realistic logs for the parse benchmark.
//!
//! ```text
//! cargo run --release --example gen -- --format ilogger-simple --size-mb 1024 --out bench-data/simple.log
//! ```
//! Prints how many records and bytes were written.

use asrs_logscan::parse::Format;
use asrs_logscan::synth;
use std::io::Write;

fn main() {
    if let Err(e) = run() {
        eprintln!("gen: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut format = Format::IloggerSimple;
    let mut size_mb: u64 = 100;
    let mut seed = 1;
    let mut out: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--format" => {
                let name = value()?;
                format = Format::from_name(&name).ok_or(format!("unknown format {name}"))?;
            }
            "--size-mb" => size_mb = value()?.parse().map_err(|e| format!("--size-mb: {e}"))?,
            "--seed" => seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => out = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other}; use --format, --size-mb, --seed, --out"
                ));
            }
        }
    }
    let mut sink: Box<dyn Write> = match &out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("{p}: {e}"))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written =
        synth::generate(format, size_mb << 20, seed, &mut sink).map_err(|e| e.to_string())?;
    sink.flush().map_err(|e| e.to_string())?;
    eprintln!(
        "{format}: {} records, {} bytes",
        written.records, written.bytes
    );
    Ok(())
}
