//! Text for the `rules` subcommands: test results, the rule list, one rule.

use crate::rules::examples::ExampleResult;
use crate::rules::{Rule, RuleSet};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::fmt::Write;

/// `rules test`: one line per example, failures first in detail, a total.
pub fn test_results(results: &[ExampleResult]) -> String {
    let mut out = String::new();
    for r in results {
        let mark = if r.passed() { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{mark} {}: {}", r.rule, r.name);
        if !r.passed() {
            let _ = writeln!(
                out,
                "     expected {} occurrence{}, got {} ({})",
                r.expect,
                if r.expect == 1 { "" } else { "s" },
                r.got,
                r.path
            );
        }
    }
    let failed = results.iter().filter(|r| !r.passed()).count();
    let _ = write!(out, "{} passed, {failed} failed", results.len() - failed);
    out
}

/// `rules list`.
pub fn list(set: &RuleSet, width: u16) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(vec!["id", "severity", "form", "guide section", "file"]);
    for r in &set.rules {
        t.add_row(vec![
            r.id.clone(),
            r.severity.name().to_string(),
            r.form.name().to_string(),
            r.guide.clone(),
            r.path.clone(),
        ]);
    }
    format!("{t}\n{} rules", set.rules.len())
}

/// `rules show ID`.
pub fn show(r: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({}, {})", r.id, r.severity.name(), r.form.name());
    let _ = writeln!(out, "{}", r.title);
    if !r.guide.is_empty() {
        let _ = writeln!(out, "guide:  {}", r.guide);
    }
    if let Some(d) = &r.docs {
        let _ = writeln!(out, "docs:   {d}");
    }
    if let Some(side) = r.drop {
        let _ = writeln!(out, "drops:  {} connections", side.name());
    }
    if let Some(x) = &r.explains {
        let sides: Vec<&str> = x.drops.iter().map(|s| s.name()).collect();
        let _ = writeln!(out, "explains: {} drops", sides.join(", "));
    }
    let _ = writeln!(out, "file:   {}", r.path);
    let _ = writeln!(out, "\ncause:\n  {}", r.cause);
    let _ = writeln!(out, "\nfix:");
    for (i, f) in r.fix.iter().enumerate() {
        let _ = writeln!(out, "  {}. {f}", i + 1);
    }
    let _ = write!(out, "\nexamples: {}", r.examples.len());
    out
}
