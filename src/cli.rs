//! Command-line flags (clap). Only this module and `main.rs` know clap.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Diagnose Azure SignalR Service problems from logs and captures.
#[derive(Debug, Parser)]
#[command(
    name = "asrs-logscan",
    version,
    about,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    #[command(flatten)]
    pub(crate) scan: ScanArgs,
}

/// What `asrs-logscan PATH…` takes.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Files, directories (read recursively), .gz files, .zip archives, or - for stdin.
    #[arg(value_name = "PATH", required = true)]
    pub(crate) paths: Vec<String>,

    /// Read every input as this format instead of detecting it.
    #[arg(long, short = 'f', value_name = "NAME", value_parser = format_names())]
    pub(crate) format: Option<String>,

    /// Print the report as JSON (schema asrs-logscan/report/v1).
    #[arg(long, conflicts_with = "markdown")]
    pub(crate) json: bool,

    /// Print a short, redacted Markdown summary to paste into a support
    /// ticket or a GitHub issue.
    #[arg(long)]
    pub(crate) markdown: bool,

    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error, value_name = "SEVERITY")]
    pub(crate) fail_on: FailOn,

    /// Time zone of naive timestamps: an offset (+01:00) or IANA name
    /// (Europe/Berlin), for all inputs or one (FILE=ZONE). Repeatable.
    #[arg(long, value_name = "[FILE=]ZONE")]
    pub(crate) tz: Vec<String>,

    /// Date of timestamps that have only a time of day (YYYY-MM-DD), for all
    /// inputs or one (FILE=DATE). Repeatable.
    #[arg(long, value_name = "[FILE=]DATE")]
    pub(crate) date: Vec<String>,

    /// Shift one input's clock to line it up with the others, e.g.
    /// app.log=+3.5s (otherwise estimated from shared negotiate requests).
    /// Repeatable.
    #[arg(long, value_name = "FILE=±DURATION", allow_hyphen_values = true)]
    pub(crate) offset: Vec<String>,

    #[command(flatten)]
    pub(crate) filter: FilterArgs,

    #[command(flatten)]
    pub(crate) rules: RuleArgs,

    /// Run only these rules (comma-separated ids).
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    pub(crate) only: Vec<String>,

    /// Do not run these rules (comma-separated ids).
    #[arg(long, value_name = "ID,…", value_delimiter = ',')]
    pub(crate) skip: Vec<String>,

    /// Show the capture doctor in full: every guide section, whether these
    /// inputs can answer it, and what to capture if not.
    #[arg(long)]
    pub(crate) doctor: bool,

    /// Skip the dropped-connections analysis (findings only; faster on logs
    /// with many thousands of drops).
    #[arg(long)]
    pub(crate) no_drops: bool,

    /// Occurrences listed per finding (the count is always the true total).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub(crate) max_occurrences: usize,

    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    pub(crate) threads: Option<usize>,

    /// Target chunk size in bytes for parallel parsing (for testing).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub(crate) chunk_size: Option<usize>,

    /// Streaming read window in bytes (for testing).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub(crate) window: Option<usize>,
}

/// What the timeline is narrowed to.
#[derive(Debug, Args, Clone)]
pub(crate) struct FilterArgs {
    /// Only what happened at or after this time (RFC 3339, or a date and
    /// time; compared on the aligned clock).
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,

    /// Only what happened at or before this time.
    #[arg(long, value_name = "TIME")]
    pub(crate) until: Option<String>,

    /// Only what concerns this connection (client or server connection id).
    #[arg(long, value_name = "ID")]
    pub(crate) connection: Option<String>,

    /// Only what concerns this hub.
    #[arg(long, value_name = "NAME")]
    pub(crate) hub: Option<String>,
}

/// Which rules to load.
#[derive(Debug, Args, Clone)]
pub(crate) struct RuleArgs {
    /// Add the rule files in DIR (or one file); a rule with a built-in's id replaces it.
    #[arg(long = "rules", value_name = "DIR")]
    pub(crate) dirs: Vec<PathBuf>,

    /// Do not load the built-in rules.
    #[arg(long)]
    pub(crate) no_builtin_rules: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print what matters from all inputs on one aligned timeline: findings,
    /// dropped connections with their likely cause, captured connections.
    Timeline {
        #[command(flatten)]
        scan: Box<ScanArgs>,
    },
    /// Check, test, list and show rules.
    Rules {
        #[command(subcommand)]
        action: RulesCommand,
    },
}

/// `asrs-logscan rules …`
#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Check rule files (the built-ins without DIR) and report every problem.
    Check {
        /// Rule directories or files.
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Run the rules' own [[example]] tests (the built-ins without DIR).
    Test {
        /// Rule directories or files.
        #[arg(value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// List the rules: id, severity, form, guide section, file.
    List {
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Show one rule in full.
    Show {
        /// The rule id.
        id: String,
        #[command(flatten)]
        rules: RuleArgs,
    },
}

/// The `--fail-on` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Info,
    Warning,
    Error,
    /// Never exit 1 because of findings.
    Never,
}

impl FailOn {
    pub(crate) fn severity(self) -> Option<&'static str> {
        match self {
            FailOn::Info => Some("info"),
            FailOn::Warning => Some("warning"),
            FailOn::Error => Some("error"),
            FailOn::Never => None,
        }
    }
}

fn format_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(asrs_logscan::parse::Format::ALL.map(|f| f.name()))
}
