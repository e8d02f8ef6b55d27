//! Helpers shared by the end-to-end tests.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The binary under test.
pub(crate) fn bin() -> Command {
    Command::cargo_bin("asrs-logscan").expect("binary built")
}

/// Path of a file in this repository.
pub(crate) fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `../shared/reference/examples`, or `None` (with a message) when the
/// shared folder is not next to the repository.
pub(crate) fn shared_examples() -> Option<PathBuf> {
    let p = repo("../shared/reference/examples");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

/// The outcome of a run with `--json`.
pub(crate) struct Run {
    pub(crate) json: Value,
    pub(crate) code: i32,
    pub(crate) stderr: String,
}

impl Run {
    /// The report entry of input `i`.
    pub(crate) fn input(&self, i: usize) -> &Value {
        &self.json["inputs"][i]
    }

    /// The finding of rule `id`, if it fired.
    pub(crate) fn finding(&self, id: &str) -> Option<&Value> {
        self.json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == id)
    }

    /// All note messages joined, for `contains` checks.
    pub(crate) fn notes(&self) -> String {
        self.json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                format!(
                    "{}: {}",
                    n["level"].as_str().unwrap(),
                    n["message"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Runs a scan for its parse results: `--json --fail-on never`, so that the
/// built-in rules' findings do not change the exit code.
pub(crate) fn parse_json<I, S>(args: I, stdin: Option<Vec<u8>>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut all: Vec<std::ffi::OsString> = vec!["--fail-on".into(), "never".into()];
    all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
    run_json(all, stdin)
}

/// Runs the binary with `--json` and the arguments, optionally feeding stdin.
pub(crate) fn run_json<I, S>(args: I, stdin: Option<Vec<u8>>) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = bin();
    cmd.arg("--json").args(args);
    if let Some(data) = stdin {
        cmd.write_stdin(data);
    }
    let out = cmd.output().expect("binary runs");
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(
        code,
        101,
        "panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run {
        json,
        code,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A rules directory holding one rule file, `file`, with `toml`.
pub(crate) fn rule_dir(file: &str, toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), toml).unwrap();
    dir
}

/// A rules directory with one rule, `show-everything`, that matches every
/// event and summarises it with the fields where secrets would show.
pub(crate) fn show_everything() -> tempfile::TempDir {
    rule_dir(
        "everything.toml",
        r#"id = "show-everything"
title = "Every event"
severity = "info"
cause = "For the test."
fix = "None."
summary = "{message} {http.url} {http.query.access_token} {token.claims}"
[match]
when = 'level >= trace'
[[example]]
name = "an event"
expect = 1
  [[example.event]]
  level = "info"
  message = "m"
[[example]]
name = "no level"
expect = 0
  [[example.event]]
  message = "m"
"#,
    )
}
