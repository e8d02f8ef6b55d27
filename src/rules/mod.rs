//! Rules: one TOML file per troubleshooting-guide section or cause.
//!
//! A rule file is read by serde ([`spec`]), checked and compiled
//! ([`compile`]) into conditions ([`cond`]) written in a small expression
//! language ([`expr`]); the [`engine`] evaluates single-event conditions
//! inside the parallel parse (behind one multi-pattern prefilter) and the
//! correlation forms afterwards ([`forms`]). Built-in rules are compiled
//! into the binary from `rules/`; `--rules DIR` adds files, and a file with
//! a built-in's id replaces it.

pub mod compile;
pub mod cond;
pub mod engine;
pub mod error;
pub mod examples;
pub mod expr;
pub mod fields;
pub mod forms;
mod grams;
mod spec;

pub use compile::{Form, Rule, Severity, Side};
pub use error::{RuleError, RuleErrors};

use std::path::{Path, PathBuf};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// A set of loaded rules, built-ins first, each id once.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    /// The rules, in load order.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<RuleSet, RuleErrors> {
        let mut set = RuleSet::default();
        let mut errors = Vec::new();
        for (name, src) in builtin::BUILTIN {
            match compile::compile(&format!("builtin:rules/{name}"), src) {
                Ok(r) => set.rules.push(r),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// Loads the built-ins (when `builtin`) and every `*.toml` in `paths`
    /// (files or directories, read recursively in name order). A user rule
    /// with a built-in's id replaces it; two user rules with one id are an
    /// error. All errors of all files are returned together.
    pub fn load(paths: &[PathBuf], builtin: bool) -> Result<RuleSet, RuleErrors> {
        let mut set = if builtin {
            RuleSet::builtin()?
        } else {
            RuleSet::default()
        };
        let builtin_count = set.rules.len();
        let mut errors = Vec::new();
        let mut files = Vec::new();
        for p in paths {
            if let Err(e) = rule_files(p, &mut files) {
                errors.push(e);
            }
        }
        for path in files {
            let shown = path.display().to_string();
            let src = match std::fs::read_to_string(&path) {
                Ok(s) => s,
                Err(e) => {
                    errors.push(RuleError::file(
                        &shown,
                        format!("cannot read: {}", crate::input::io_reason(&e)),
                    ));
                    continue;
                }
            };
            match compile::compile(&shown, &src) {
                Ok(rule) => {
                    let same = set.rules.iter().position(|r| r.id == rule.id);
                    match same {
                        Some(i) if i < builtin_count => set.rules[i] = rule,
                        Some(i) => {
                            let at = src.find(&format!("\"{}\"", rule.id)).unwrap_or(0);
                            errors.push(
                                RuleError::at(
                                    &shown,
                                    &src,
                                    at..at + rule.id.len() + 2,
                                    format!("rule id `{}` is already used", rule.id),
                                )
                                .help(format!("by {}", set.rules[i].path)),
                            );
                        }
                        None => set.rules.push(rule),
                    }
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(RuleErrors(errors))
        }
    }

    /// Keeps only the rules named in `only` (when not empty) and drops those
    /// in `skip`; an unknown id is an error with a suggestion.
    pub fn select(&mut self, only: &[String], skip: &[String]) -> Result<(), String> {
        for id in only.iter().chain(skip) {
            self.find(id)?;
        }
        if !only.is_empty() {
            self.rules.retain(|r| only.contains(&r.id));
        }
        self.rules.retain(|r| !skip.contains(&r.id));
        Ok(())
    }

    /// The rule with this id, or an error with a suggestion.
    pub fn find(&self, id: &str) -> Result<&Rule, String> {
        self.rules.iter().find(|r| r.id == id).ok_or_else(|| {
            match fields::did_you_mean(id, self.rules.iter().map(|r| r.id.as_str())) {
                Some(s) => format!("no rule `{id}`; did you mean `{s}`?"),
                None => format!("no rule `{id}` (`asrs-logscan rules list` shows them)"),
            }
        })
    }
}

/// Collects `*.toml` files under `p` in name order.
fn rule_files(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let shown = p.display().to_string();
    let meta = std::fs::metadata(p).map_err(|e| {
        RuleError::file(
            &shown,
            format!("cannot read rules: {}", crate::input::io_reason(&e)),
        )
    })?;
    if meta.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| {
            RuleError::file(
                &shown,
                format!("cannot list rules: {}", crate::input::io_reason(&e)),
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            rule_files(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "toml") {
            out.push(e);
        }
    }
    Ok(())
}
