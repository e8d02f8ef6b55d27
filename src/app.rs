//! Running one command: build the options, analyze, print the report.

use crate::cli::{Cli, Command, RuleArgs, RulesCommand, ScanArgs};
use anyhow::{Context, Result, anyhow};
use asrs_logscan::analyze::{self, AnalyzeOptions};
use asrs_logscan::input;
use asrs_logscan::parse::Format;
use asrs_logscan::report::{self, Report};
use asrs_logscan::rules::engine::Engine;
use asrs_logscan::rules::{RuleErrors, RuleSet, examples};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Runs the command and returns the exit code.
pub(crate) fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        None => scan(cli.scan, false),
        Some(Command::Timeline { scan: args }) => scan(*args, true),
        Some(Command::Rules { action }) => rules(action),
    }
}

/// Analyzes the inputs and prints the report, or with `timeline` the
/// timeline.
fn scan(args: ScanArgs, timeline: bool) -> Result<u8> {
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot start the worker threads")?;
    }
    let mut set = match load_rules(&args.rules) {
        Ok(set) => set,
        Err(errors) => return Ok(rule_errors(&errors)),
    };
    set.select(&args.only, &args.skip).map_err(|e| anyhow!(e))?;
    let mut engine = Engine::new(set, args.max_occurrences);
    if args.no_drops {
        engine = engine.without_drops();
    }
    let engine = Arc::new(engine);
    let opts = options(&args, engine.clone())?;
    let specs = input::expand(&args.paths);
    let paths: Vec<&str> = specs.iter().map(|s| s.path.as_str()).collect();
    opts.clocks
        .check(&paths)
        .map_err(|e| anyhow!("--tz/--date/--offset: {e}"))?;
    let filter = filter(&args)?;
    let mut results = analyze::analyze(&specs, &opts);
    let mut report = Report::build(&results, Some(&engine), args.max_occurrences);
    // The files are unmapped on a worker while the report is written.
    let mappings: Vec<_> = results
        .iter_mut()
        .filter_map(|r| r.mapping.take())
        .collect();
    asrs_logscan::scan::free_later(mappings);
    if timeline {
        let t = report::timeline::build(&report, &filter);
        let text = if args.json {
            serde_json::to_string_pretty(&t).context("timeline as JSON")?
        } else {
            report::timeline::render(&t, &report)
        };
        print(&text)?;
        return Ok(report.exit_code(args.fail_on.severity()));
    }
    report.narrow(&filter);
    if args.json {
        // Written as it is made: a long log's drops list is tens of
        // megabytes, better not gathered into one text first.
        let mut out = std::io::stdout().lock();
        report.write_json(&mut out)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        let text = if args.markdown {
            report::markdown::render(&report)
        } else {
            report::table::render(&report, terminal_width(), args.doctor)
        };
        print(&text)?;
        std::mem::forget(text);
    }
    let code = report.exit_code(args.fail_on.severity());
    // The process ends next: freeing the report's millions of small
    // allocations one by one would only delay the exit (45 ms per GiB of
    // ILogger text, measured).
    std::mem::forget((report, results));
    Ok(code)
}

/// The analysis options the flags give: format, chunking, clocks.
fn options(args: &ScanArgs, engine: Arc<Engine>) -> Result<AnalyzeOptions> {
    let mut opts = AnalyzeOptions {
        format: args.format.as_deref().and_then(Format::from_name),
        engine: Some(engine),
        ..AnalyzeOptions::default()
    };
    if let Some(c) = args.chunk_size {
        opts.scan.chunk_size = c;
    }
    if let Some(w) = args.window {
        opts.scan.window = w;
    }
    for tz in &args.tz {
        opts.clocks
            .add_zone(tz)
            .map_err(|e| anyhow!("--tz {tz}: {e}"))?;
    }
    for date in &args.date {
        opts.clocks
            .add_date(date)
            .map_err(|e| anyhow!("--date {date}: {e}"))?;
    }
    for offset in &args.offset {
        opts.clocks
            .add_offset(offset)
            .map_err(|e| anyhow!("--offset {offset}: {e}"))?;
    }
    Ok(opts)
}

/// `--since`, `--until`, `--connection`, `--hub`.
fn filter(args: &ScanArgs) -> Result<report::timeline::Filter> {
    let f = &args.filter;
    let at = |t: &Option<String>, flag| t.as_deref().map(|t| instant(t, flag)).transpose();
    Ok(report::timeline::Filter {
        since: at(&f.since, "--since")?,
        until: at(&f.until, "--until")?,
        connection: f.connection.clone(),
        hub: f.hub.clone(),
    })
}

/// A `--since`/`--until` time as aligned nanoseconds.
fn instant(text: &str, flag: &str) -> Result<i128> {
    let t = asrs_logscan::time::parse(text)
        .ok_or_else(|| anyhow!("{flag} {text}: not a time (use e.g. 2024-01-15T08:30:00Z)"))?;
    Ok(t.nanos())
}

fn load_rules(args: &RuleArgs) -> Result<RuleSet, RuleErrors> {
    RuleSet::load(&args.dirs, !args.no_builtin_rules)
}

/// Prints rule errors; returns exit code 2.
fn rule_errors(errors: &RuleErrors) -> u8 {
    eprintln!("{errors}");
    2
}

/// The rules of `dirs`, or the built-ins when none is given.
fn rules_of(dirs: &[PathBuf]) -> Result<RuleSet, RuleErrors> {
    RuleSet::load(dirs, dirs.is_empty())
}

fn rules(action: RulesCommand) -> Result<u8> {
    match action {
        RulesCommand::Check { dirs } => match rules_of(&dirs) {
            Ok(set) => {
                print(&format!("ok: {} rules, no problems", set.rules.len()))?;
                Ok(0)
            }
            Err(e) => Ok(rule_errors(&e)),
        },
        RulesCommand::Test { dirs } => {
            let set = match rules_of(&dirs) {
                Ok(set) => set,
                Err(e) => return Ok(rule_errors(&e)),
            };
            let results = examples::run(&set);
            let failed = results.iter().filter(|r| !r.passed()).count();
            print(&report::rules::test_results(&results))?;
            Ok(u8::from(failed > 0))
        }
        RulesCommand::List { rules } => {
            let set = match load_rules(&rules) {
                Ok(set) => set,
                Err(e) => return Ok(rule_errors(&e)),
            };
            print(&report::rules::list(&set, terminal_width()))?;
            Ok(0)
        }
        RulesCommand::Show { id, rules } => {
            let set = match load_rules(&rules) {
                Ok(set) => set,
                Err(e) => return Ok(rule_errors(&e)),
            };
            let rule = set.find(&id).map_err(|e| anyhow!(e))?;
            print(&report::rules::show(rule))?;
            Ok(0)
        }
    }
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
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
