//! Running one command: build the options, analyze, print the report.

use crate::cli::Cli;
use anyhow::{Context, Result};
use asrs_logscan::analyze::{self, AnalyzeOptions};
use asrs_logscan::input;
use asrs_logscan::parse::Format;
use asrs_logscan::report::{self, Report};
use std::io::Write;

/// Runs the scan and returns the exit code.
pub(crate) fn run(cli: Cli) -> Result<u8> {
    if let Some(n) = cli.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let mut opts = AnalyzeOptions {
        format: cli.format.as_deref().and_then(Format::from_name),
        ..AnalyzeOptions::default()
    };
    if let Some(c) = cli.chunk_size {
        opts.scan.chunk_size = c;
    }
    if let Some(w) = cli.window {
        opts.scan.window = w;
    }
    for tz in &cli.tz {
        opts.clocks
            .add_zone(tz)
            .map_err(|e| anyhow::anyhow!("--tz {tz}: {e}"))?;
    }
    for date in &cli.date {
        opts.clocks
            .add_date(date)
            .map_err(|e| anyhow::anyhow!("--date {date}: {e}"))?;
    }
    let specs = input::expand(&cli.paths);
    let paths: Vec<&str> = specs.iter().map(|s| s.path.as_str()).collect();
    opts.clocks
        .check(&paths)
        .map_err(|e| anyhow::anyhow!("--tz/--date: {e}"))?;
    let results = analyze::analyze(&specs, &opts);
    let report = Report::build(&results);
    let text = if cli.json {
        report.to_json()
    } else {
        report::table::render(&report, terminal_width())
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(report.exit_code(cli.fail_on.severity()))
}

/// The terminal's width from `COLUMNS`, or 120.
fn terminal_width() -> u16 {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(120)
}

/// True when the error is stdout closing early (`| head`): not a failure.
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
