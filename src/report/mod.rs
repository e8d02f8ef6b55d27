//! The report: one data model, rendered as terminal tables or JSON.
//!
//! [`Report`] is the JSON contract `asrs-logscan/report/v1` of DESIGN.md:
//! its field names are relied on by users' scripts, so fields are only ever
//! added. The terminal view ([`table::render`]) shows the same data.

pub mod doctor;
mod drops_json;
mod drops_table;
pub mod markdown;
mod notes;
pub mod rules;
pub mod table;
pub mod timeline;

use crate::analyze::InputResult;
use crate::event::Level;
use crate::rules::Severity;
use crate::rules::engine::Engine;
use crate::rules::forms::Occurrence;
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;

/// The file name of a path as the report names inputs (either separator).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The schema name written into every JSON report.
pub const SCHEMA: &str = "asrs-logscan/report/v1";

/// How many categories an input lists.
pub const TOP_CATEGORIES: usize = 5;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Which tool made it.
    pub tool: Tool,
    /// One entry per input, in the order given.
    pub inputs: Vec<InputReport>,
    /// Rule findings, most severe first.
    pub findings: Vec<Finding>,
    /// Dropped connections with their causes.
    pub drops: Vec<Drop>,
    /// SignalR connections rebuilt from captures.
    pub connections: Vec<Connection>,
    /// Things the user should know about the run.
    pub notes: Vec<Note>,
    /// The capture doctor: which guide sections these inputs can answer.
    pub doctor: doctor::Doctor,
    /// Per input, nanoseconds added to its times to align its clock.
    #[serde(skip)]
    pub offsets: Vec<i128>,
}

/// The tool and its knowledge.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// The tool's version.
    pub version: &'static str,
    /// How many rules were loaded.
    pub rules: usize,
    /// How many SDK message templates the catalog knows.
    pub catalog: usize,
}

/// One input in the report.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// The path as given.
    pub path: String,
    /// The format it was read as (`null` when it was not read).
    pub format: Option<&'static str>,
    /// Records parsed.
    pub records: u64,
    /// Lines that are part of no parsed record.
    pub unparsed_lines: u64,
    /// True when at least one record had a timestamp.
    pub has_timestamps: bool,
    /// The earliest timestamp.
    pub first: Option<String>,
    /// The latest timestamp.
    pub last: Option<String>,
    /// Why the input could not be read (in full or in part).
    pub error: Option<String>,
    /// Why the format was chosen.
    pub detected_by: Option<String>,
    /// The text encoding.
    pub encoding: Option<&'static str>,
    /// Bytes of text read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Records per level (`trace` … `critical`, and `none`).
    pub levels: BTreeMap<&'static str, u64>,
    /// The most frequent categories.
    pub top_categories: Vec<CategoryCount>,
    /// Why a file found in a directory or archive was passed over.
    pub skipped: Option<String>,
    /// Timestamps without an offset and no `--tz` (local, zone unknown).
    pub naive_timestamps: u64,
    /// Timestamps without a date and no `--date` (time of day only).
    pub time_of_day_timestamps: u64,
    /// Added to this input's times to line them up with the others
    /// (`+8h00m00.012s`), when known.
    pub clock_offset: Option<String>,
    /// Why: `set with --offset` or the shared evidence it was estimated from.
    pub clock_basis: Option<String>,
    /// The zone `--tz` gave this input's naive timestamps.
    pub time_zone: Option<String>,
    /// The date `--date` gave this input's time-of-day timestamps.
    pub date: Option<String>,
}

/// A category and how many records it has.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryCount {
    /// The category.
    pub category: String,
    /// Its records.
    pub count: u64,
}

/// A rule that fired, over all inputs.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule id.
    pub rule: String,
    /// `info`, `warning` or `error`.
    pub severity: &'static str,
    /// The rule's title.
    pub title: String,
    /// The guide section.
    pub guide: String,
    /// Occurrences in total.
    pub count: u64,
    /// The first occurrence's time.
    pub first: Option<String>,
    /// The last occurrence's time.
    pub last: Option<String>,
    /// Why it happens.
    pub cause: String,
    /// What to do.
    pub fix: Vec<String>,
    /// Where to read more.
    pub docs: Option<String>,
    /// Up to `--max-occurrences` occurrences.
    pub occurrences: Vec<OccurrenceReport>,
}

/// One occurrence of a finding.
#[derive(Debug, Clone, Serialize)]
pub struct OccurrenceReport {
    /// Input index.
    pub input: usize,
    /// Line (or HAR entry / SAZ session).
    pub line: u64,
    /// When.
    pub time: Option<String>,
    /// What happened (redacted).
    pub summary: String,
    /// Named values (captures, keys, measured gaps; redacted).
    pub fields: BTreeMap<String, String>,
    /// The lines that show it.
    pub evidence: Vec<EvidenceReport>,
}

/// One evidence line.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceReport {
    /// Input index.
    pub input: usize,
    /// Line.
    pub line: u64,
    /// When.
    pub time: Option<String>,
    /// A redacted excerpt.
    pub text: String,
}

/// A dropped connection with its ranked causes (made by the correlator).
pub use crate::correlate::drops::{Cause, Drop, Evidence};

/// A SignalR connection rebuilt from a capture.
pub use crate::signalr::connections::Connection;

/// Something the user should know: unparsed lines, odd encodings, missing
/// timestamps, unreadable inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// `info`, `warning` or `error`.
    pub level: &'static str,
    /// What happened, in words.
    pub message: String,
    /// The input it is about (index into `inputs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<usize>,
    /// The line it is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

impl Report {
    /// Builds the report from analyzed inputs and the rules that ran.
    pub fn build(
        results: &[InputResult],
        engine: Option<&Engine>,
        max_occurrences: usize,
    ) -> Report {
        let shift: Vec<i128> = results
            .iter()
            .map(|r| r.aligned.as_ref().map_or(0, |c| c.offset_nanos))
            .collect();
        let inputs: Vec<InputReport> = results.iter().map(input_report).collect();
        let mut notes: Vec<Note> = results
            .iter()
            .enumerate()
            .flat_map(|(i, r)| notes::for_input(i, r))
            .collect();
        for (i, r) in results.iter().enumerate() {
            for outcome in &r.rules {
                for n in &outcome.notes {
                    notes.push(Note {
                        level: "warning",
                        message: format!("{}: {n}", r.path),
                        input: Some(i),
                        line: None,
                    });
                }
            }
        }
        let findings = engine
            .map(|e| findings(e, results, max_occurrences))
            .unwrap_or_default();
        for (i, r) in results.iter().enumerate() {
            if let Some(c) = &r.aligned {
                notes.push(Note {
                    level: "info",
                    message: format!(
                        "{}: times shifted by {} to line up with the other inputs ({}; --offset FILE=±DURATION overrides)",
                        r.path,
                        crate::correlate::clocks::describe(c.offset_nanos),
                        c.basis
                    ),
                    input: Some(i),
                    line: None,
                });
            }
        }
        let doctor = doctor::examine(results);
        notes.extend(doctor.brief().into_iter().map(|message| Note {
            level: "info",
            message: format!("doctor: {message}"),
            input: None,
            line: None,
        }));
        Report {
            schema: SCHEMA,
            tool: Tool {
                version: env!("CARGO_PKG_VERSION"),
                rules: engine.map_or(0, Engine::len),
                catalog: crate::catalog::Catalog::get().len(),
            },
            inputs,
            findings,
            drops: engine
                .filter(|e| e.drops)
                .map(|e| crate::correlate::drops::find(e, results, &shift))
                .unwrap_or_default(),
            connections: results
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    r.connections.iter().cloned().map(move |mut c| {
                        c.input = i;
                        c
                    })
                })
                .collect(),
            notes,
            doctor,
            offsets: shift,
        }
    }

    /// Input `i` by its file name (`input 3` when there is none such).
    pub fn input_name(&self, i: usize) -> String {
        self.inputs
            .get(i)
            .map_or_else(|| format!("input {i}"), |x| file_name(&x.path).to_string())
    }

    /// Keeps only what passes `filter` (`--since`, `--until`,
    /// `--connection`, `--hub`): finding occurrences (counts become those
    /// of the occurrences listed), drops and connections.
    pub fn narrow(&mut self, filter: &timeline::Filter) {
        if filter.is_empty() {
            return;
        }
        let offsets = &self.offsets;
        let at = |time: Option<&String>, input: usize| {
            timeline::aligned(
                time.map(String::as_str),
                offsets.get(input).copied().unwrap_or(0),
            )
        };
        for f in &mut self.findings {
            f.occurrences.retain(|o| {
                let ids: Vec<String> = ["connection", "server_connection"]
                    .iter()
                    .filter_map(|k| o.fields.get(*k).cloned())
                    .collect();
                filter.keeps_at(
                    at(o.time.as_ref(), o.input),
                    &ids,
                    o.fields.get("hub").map(String::as_str),
                )
            });
            f.count = f.occurrences.len() as u64;
            f.first = f.occurrences.iter().find_map(|o| o.time.clone());
            f.last = f.occurrences.iter().rev().find_map(|o| o.time.clone());
        }
        self.findings.retain(|f| f.count > 0);
        self.drops.retain(|d| {
            let ids: Vec<String> = [&d.connection, &d.server_connection]
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            filter.keeps_at(at(d.time.as_ref(), d.input), &ids, None)
        });
        self.connections.retain(|c| {
            let ids: Vec<String> = c.connection.iter().cloned().collect();
            filter.keeps_at(at(c.time.as_ref(), c.input), &ids, c.hub.as_deref())
        });
        self.notes.push(Note {
            level: "info",
            message: "filtered with --since/--until/--connection/--hub: findings count the occurrences listed (raise --max-occurrences to list more); drops and connections are those that match".to_string(),
            input: None,
            line: None,
        });
    }

    /// The exit code of DESIGN.md: 2 when an input could not be read, 1
    /// when a finding is at or above `fail_on`, 0 otherwise.
    pub fn exit_code(&self, fail_on: Option<&str>) -> u8 {
        if self.inputs.iter().any(|i| i.error.is_some()) {
            return 2;
        }
        let rank = |s: &str| match s {
            "info" => 0,
            "warning" => 1,
            _ => 2,
        };
        match fail_on {
            Some(level)
                if self
                    .findings
                    .iter()
                    .any(|f| rank(f.severity) >= rank(level)) =>
            {
                1
            }
            _ => 0,
        }
    }

    /// The report as pretty-printed JSON.
    pub fn to_json(&mut self) -> String {
        let mut out = Vec::with_capacity((64 << 10) + self.drops.len() * 1200);
        self.write_json(&mut out)
            .expect("writing to memory does not fail");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Writes the report as pretty-printed JSON to `w`.
    ///
    /// The drops, most of a long log's report (about a kilobyte each), are
    /// written apart: the rest of the report is written with an empty
    /// `drops` list (so `&mut`: the list is set aside meanwhile), and the
    /// drops, written as serde_json's pretty printer would at that depth
    /// ([`drops_json`]), take its place, a buffer at a time. The text is
    /// the same as writing it all at once (a test compares the two).
    ///
    /// One thread writing into one reused buffer beat writing blocks on
    /// the worker pool: on 1 GiB of ILogger text (34,483 drops, 37 MB of
    /// JSON) the blocks' fresh memory cost more in page faults than the
    /// second core saved (blocks 15 ms and 10 ms to write and free them,
    /// against 19 ms streamed; 12 ms with [`drops_json`]'s quick string
    /// test).
    pub fn write_json(&mut self, w: &mut dyn Write) -> std::io::Result<()> {
        let drops = std::mem::take(&mut self.drops);
        let mut head = Vec::with_capacity(64 << 10);
        let written = serde_json::to_writer_pretty(&mut head, self);
        self.drops = drops;
        written.expect("report types always serialize");
        if self.drops.is_empty() {
            return w.write_all(&head);
        }
        const EMPTY: &[u8] = b"\n  \"drops\": []";
        // Where the empty list's `[` is.
        let at = memchr::memmem::find(&head, EMPTY).expect("the report has a drops list")
            + EMPTY.len()
            - 2;
        w.write_all(&head[..at])?;
        w.write_all(b"[")?;
        const BUFFER: usize = 256 << 10;
        let mut text = Vec::with_capacity(BUFFER + (16 << 10));
        for (i, drop) in self.drops.iter().enumerate() {
            // Elements of a list two levels deep.
            text.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
            drops_json::write_drop(&mut text, drop);
            if text.len() >= BUFFER {
                w.write_all(&text)?;
                text.clear();
            }
        }
        w.write_all(&text)?;
        w.write_all(b"\n  ]")?;
        w.write_all(&head[at + 2..])
    }
}

/// One finding per rule that fired, most severe first, then most frequent.
fn findings(engine: &Engine, results: &[InputResult], max: usize) -> Vec<Finding> {
    let mut out = Vec::new();
    for (index, rule) in engine.rules.rules.iter().enumerate() {
        let outcomes: Vec<_> = results.iter().filter_map(|r| r.rules.get(index)).collect();
        let count: u64 = outcomes.iter().map(|o| o.count).sum();
        if count == 0 {
            continue;
        }
        let mut occs: Vec<&Occurrence> = outcomes.iter().flat_map(|o| &o.occurrences).collect();
        occs.sort_by_key(|o| (o.time.map(|t| t.sort_key()), o.input, o.line));
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string());
        out.push(Finding {
            rule: rule.id.clone(),
            severity: rule.severity.name(),
            title: rule.title.clone(),
            guide: rule.guide.clone(),
            count,
            first: time(outcomes.iter().filter_map(|o| o.first).min()),
            last: time(outcomes.iter().filter_map(|o| o.last).max()),
            cause: rule.cause.clone(),
            fix: rule.fix.clone(),
            docs: rule.docs.clone(),
            occurrences: occs
                .into_iter()
                .take(max)
                .map(|o| OccurrenceReport {
                    input: o.input,
                    line: o.line,
                    time: time(o.time),
                    summary: o.summary.clone(),
                    fields: o.fields.iter().cloned().collect(),
                    evidence: o
                        .evidence
                        .iter()
                        .map(|e| EvidenceReport {
                            input: e.input,
                            line: e.line,
                            time: time(e.time),
                            text: e.text.clone(),
                        })
                        .collect(),
                })
                .collect(),
        });
    }
    out.sort_by(|a, b| {
        let sev = |f: &Finding| Severity::from_name(f.severity);
        sev(b)
            .cmp(&sev(a))
            .then(b.count.cmp(&a.count))
            .then(a.rule.cmp(&b.rule))
    });
    out
}

fn input_report(r: &InputResult) -> InputReport {
    let mut levels: BTreeMap<&'static str, u64> = Level::ALL
        .iter()
        .map(|l| (l.name(), r.summary.level(*l)))
        .collect();
    levels.insert("none", r.summary.no_level);
    InputReport {
        path: r.path.clone(),
        format: r.format.map(|f| f.name()),
        records: r.diag.records,
        unparsed_lines: r.diag.unparsed_lines,
        has_timestamps: r.summary.timed > 0,
        first: r.summary.first.map(|t| t.to_string()),
        last: r.summary.last.map(|t| t.to_string()),
        error: r.error.clone(),
        detected_by: r.reason.clone(),
        encoding: r.encoding.map(|e| e.name()),
        bytes: r.bytes,
        lines: r.diag.lines,
        levels,
        top_categories: r
            .summary
            .top_categories(TOP_CATEGORIES)
            .into_iter()
            .map(|(c, n)| CategoryCount {
                category: c.to_string(),
                count: n,
            })
            .collect(),
        skipped: r.skipped.clone(),
        naive_timestamps: r.summary.naive,
        time_of_day_timestamps: r.summary.time_only,
        clock_offset: r
            .aligned
            .as_ref()
            .map(|c| crate::correlate::clocks::describe(c.offset_nanos)),
        clock_basis: r.aligned.as_ref().map(|c| c.basis.clone()),
        time_zone: r.clock.zone.map(|z| z.to_string()),
        date: r.clock.date.map(|d| d.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{self, AnalyzeOptions};
    use crate::rules::RuleSet;
    use std::sync::Arc;

    /// The drops written in parallel and spliced in give the very text of
    /// the whole report written at once.
    #[test]
    fn json_with_drops_written_apart_is_the_same_text() {
        let engine = Arc::new(Engine::new(RuleSet::load(&[], true).unwrap(), 5));
        let opts = AnalyzeOptions {
            engine: Some(engine.clone()),
            ..AnalyzeOptions::default()
        };
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/drops");
        let specs = crate::input::expand(&[dir.to_string()]);
        let results = analyze::analyze(&specs, &opts);
        let mut report = Report::build(&results, Some(&engine), 5);
        assert!(report.drops.len() > 2, "{}", report.drops.len());
        let whole = serde_json::to_string_pretty(&report).unwrap();
        assert_eq!(report.to_json(), whole);
        // Enough drops for several blocks.
        report.drops = (0..300).flat_map(|_| report.drops.clone()).collect();
        let whole = serde_json::to_string_pretty(&report).unwrap();
        assert_eq!(report.to_json(), whole);
        report.drops.clear();
        let whole = serde_json::to_string_pretty(&report).unwrap();
        assert_eq!(report.to_json(), whole);
    }
}
