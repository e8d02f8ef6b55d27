//! `rules test`: running each rule's `[[example]]` blocks.
//!
//! An example is input text in a named format (parsed by the real parser)
//! or events written out; the rule runs alone over it and must produce the
//! expected number of occurrences.

use super::compile::ExampleInput;
use super::engine::{Engine, RuleCollector};
use super::{Rule, RuleSet, forms};
use crate::scan::{self, ScanOptions};
use crate::summary::Summary;

/// The outcome of one example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleResult {
    /// The rule's id.
    pub rule: String,
    /// The rule's file.
    pub path: String,
    /// The example's name.
    pub name: String,
    /// Occurrences expected.
    pub expect: u64,
    /// Occurrences found.
    pub got: u64,
}

impl ExampleResult {
    /// True when the rule did what the example says.
    pub fn passed(&self) -> bool {
        self.expect == self.got
    }
}

/// Runs every example of every rule in `set`.
pub fn run(set: &RuleSet) -> Vec<ExampleResult> {
    set.rules.iter().flat_map(run_rule).collect()
}

/// Runs one rule's examples.
pub fn run_rule(rule: &Rule) -> Vec<ExampleResult> {
    let engine = Engine::new(
        RuleSet {
            rules: vec![rule.clone()],
        },
        usize::MAX,
    );
    rule.examples
        .iter()
        .map(|ex| {
            let (mut kept, format, end) = match &ex.input {
                ExampleInput::Text { format, text } => {
                    let collector = RuleCollector::new(&engine, 0, *format);
                    let (summary, kept) = match format.parser() {
                        Some(parser) => {
                            scan::scan_bytes(
                                text.as_bytes(),
                                parser,
                                &ScanOptions::default(),
                                &(Summary::default(), collector),
                            )
                            .acc
                        }
                        // A capture that does not parse has no events: the
                        // example's expectation reports the mismatch.
                        None => crate::analyze::collect_capture(
                            &crate::parse::har::parse(text).unwrap_or_default().events,
                            &(Summary::default(), collector),
                        ),
                    };
                    (kept, format.name(), summary.last)
                }
                ExampleInput::Events(events) => {
                    let mut kept = engine.kept();
                    for e in events {
                        engine.see(&mut kept, e, 0, "events");
                    }
                    (kept, "events", events.iter().filter_map(|e| e.time).max())
                }
            };
            let outcome = forms::correlate(&engine, 0, format, &mut kept, end);
            ExampleResult {
                rule: rule.id.clone(),
                path: rule.path.clone(),
                name: ex.name.clone(),
                expect: ex.expect,
                got: outcome.first().map_or(0, |o| o.count),
            }
        })
        .collect()
}
