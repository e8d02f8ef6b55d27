//! The `asrs-logscan` command: parse flags, run, set the exit code.

mod app;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = <cli::Cli as clap::Parser>::parse();
    match app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if app::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("asrs-logscan: {e:#}");
            ExitCode::from(2)
        }
    }
}
