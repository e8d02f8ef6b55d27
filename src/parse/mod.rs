//! Turning the text of one format into events.
//!
//! Every text format is described by a [`RecordParser`]: a context-free test
//! that says whether a line starts a record (which is also where chunks may
//! be cut, so results cannot depend on chunking), and a function that turns
//! the lines of one record into an [`Event`]. [`split_records`] drives both
//! over a chunk of text.

mod bytemask;
pub mod capture;
pub mod diagnostics;
pub mod har;
mod ilogger_json;
mod ilogger_simple;
mod ilogger_systemd;
pub(crate) mod json_fast;
mod line_ends;
pub mod saz;
mod text;
mod text_util;
mod tracelistener;

use crate::event::{Event, Level};
use crate::time::TimeContext;
pub use diagnostics::Diagnostics;
use std::fmt;
pub(crate) use text::dialect as text_dialect;
pub(crate) use text_util::strip_cr;

/// The input formats (the names are part of the public contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// .NET SimpleConsoleFormatter and the pre-.NET 5 ConsoleLogger.
    IloggerSimple,
    /// .NET SystemdConsoleFormatter.
    IloggerSystemd,
    /// .NET JsonConsoleFormatter, compact or indented.
    IloggerJson,
    /// TextWriterTraceListener output such as `asrs.log.txt`.
    TraceListener,
    /// Any other line-oriented log: Serilog, NLog, App Service, browser
    /// consoles, bare exceptions.
    Text,
    /// An HTTP Archive capture (browser DevTools, Fiddler, Charles, …).
    Har,
    /// A Fiddler session archive (`.saz`).
    Saz,
}

impl Format {
    /// Every format this build can parse.
    pub const ALL: [Format; 7] = [
        Format::IloggerSimple,
        Format::IloggerSystemd,
        Format::IloggerJson,
        Format::TraceListener,
        Format::Text,
        Format::Har,
        Format::Saz,
    ];

    /// The contract name (`--format`, JSON `inputs[].format`).
    pub fn name(self) -> &'static str {
        match self {
            Format::IloggerSimple => "ilogger-simple",
            Format::IloggerSystemd => "ilogger-systemd",
            Format::IloggerJson => "ilogger-json",
            Format::TraceListener => "tracelistener",
            Format::Text => "text",
            Format::Har => "har",
            Format::Saz => "saz",
        }
    }

    /// The format with this contract name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The record parser of a line-oriented log format; `None` for
    /// captures, which are documents read whole (see [`har`]).
    pub fn parser(self) -> Option<&'static dyn RecordParser> {
        Some(match self {
            Format::IloggerSimple => &ilogger_simple::IloggerSimple,
            Format::IloggerSystemd => &ilogger_systemd::IloggerSystemd,
            Format::IloggerJson => &ilogger_json::IloggerJson,
            Format::TraceListener => &tracelistener::TraceListener,
            Format::Text => &text::Text,
            Format::Har | Format::Saz => return None,
        })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a record could not become an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    /// A short reason, shown with the line number.
    pub why: &'static str,
}

/// What the record-start test learned about a record's first line, handed
/// to [`RecordParser::parse`] so that the line is not read twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Start {
    /// The level, if the first line says.
    pub level: Option<Level>,
    /// The event id, if the first line says.
    pub event_id: i32,
    /// Format-specific byte offsets into the first line.
    pub marks: [usize; 6],
}

/// One record as the splitter found it.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a, 'r> {
    /// What the record-start test found in the first line.
    pub start: Start,
    /// All its text, without the final line ending.
    pub text: &'a str,
    /// Its lines without line endings; the first is the record start.
    pub lines: &'r [&'a str],
    /// The line number of the first line.
    pub line: u64,
}

/// One text format.
pub trait RecordParser: Sync {
    /// `Some` when `line` (without its line ending) starts a record. Must
    /// look at nothing but the line: chunk cuts rely on it.
    fn record_start(&self, line: &[u8]) -> Option<Start>;

    /// True when the parser sets every event's [`Event::body`] it can (the
    /// rules' prefilter then searches bodies record by record instead of
    /// whole chunks).
    fn marks_bodies(&self) -> bool {
        false
    }

    /// True when `line` starts a record.
    fn is_record_start(&self, line: &[u8]) -> bool {
        self.record_start(line).is_some()
    }

    /// True when lines before the first record start form a record of their
    /// own (passed to `parse` with a default [`Start`]) rather than being
    /// counted as unparsed.
    fn preamble_is_record(&self) -> bool {
        false
    }

    /// Parses one record.
    fn parse<'a>(&self, rec: &Record<'a, '_>, diag: &mut Diagnostics) -> Result<Event<'a>, Reject>;
}

/// Splits `text` into records and parses each, calling `on_event` in order.
/// Line numbers are local to `text` (the first line is 1). Lines before the
/// first record start are counted as unparsed (blank lines are ignored).
/// Each event's timestamp is completed with `clock` (`--tz`, `--date`).
pub fn split_records<'a>(
    parser: &dyn RecordParser,
    text: &'a str,
    clock: &TimeContext,
    diag: &mut Diagnostics,
    mut on_event: impl FnMut(&Event<'a>),
) {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut line_no = 0u64;
    // The record being gathered: where it starts, its first line, its lines.
    let mut start = 0;
    let mut first = 0;
    let mut found = Start::default();
    let mut lines: Vec<&'a str> = Vec::with_capacity(16);
    let mut ends = line_ends::LineEnds::new(bytes);
    while pos < bytes.len() {
        let end = ends.next().unwrap_or(bytes.len());
        line_no += 1;
        let line = text_util::strip_cr(&bytes[pos..end]);
        if line.len() > diagnostics::LONG_LINE {
            diag.long_lines.add(line_no);
        }
        diag.longest_line = diag.longest_line.max(line.len() as u64);
        if let Some(s) = parser.record_start(line) {
            if !lines.is_empty() {
                let rec = Record {
                    start: found,
                    text: text_util::trim_eol(&text[start..pos]),
                    lines: &lines,
                    line: first,
                };
                emit(parser, &rec, clock, diag, &mut on_event);
                lines.clear();
            }
            start = pos;
            first = line_no;
            found = s;
            lines.push(&text[pos..pos + line.len()]);
        } else if !lines.is_empty() {
            lines.push(&text[pos..pos + line.len()]);
        } else if text_util::is_blank(line) {
            // Blank lines carry nothing.
        } else if parser.preamble_is_record() {
            start = pos;
            first = line_no;
            found = Start::default();
            lines.push(&text[pos..pos + line.len()]);
        } else {
            diag.unparsed(line_no, 1, "before the first record");
        }
        pos = end + 1;
    }
    if !lines.is_empty() {
        let rec = Record {
            start: found,
            text: text_util::trim_eol(&text[start..]),
            lines: &lines,
            line: first,
        };
        emit(parser, &rec, clock, diag, &mut on_event);
    }
    diag.lines += line_no;
}

fn emit<'a>(
    parser: &dyn RecordParser,
    rec: &Record<'a, '_>,
    clock: &TimeContext,
    diag: &mut Diagnostics,
    on_event: &mut impl FnMut(&Event<'a>),
) {
    // The event is used where `parse` wrote it: binding it out of the
    // `Result` would copy its few hundred bytes for every record.
    match &mut parser.parse(rec, diag) {
        Ok(ev) => {
            ev.raw = rec.text;
            if let Some(t) = ev.time.as_mut()
                && !clock.is_empty()
            {
                *t = clock.resolve(*t);
            }
            diag.records += 1;
            on_event(ev);
        }
        Err(r) => diag.unparsed(rec.line, rec.lines.len() as u64, r.why),
    }
}

/// Parses `text` as one record (for tests of single parsers).
#[cfg(test)]
pub(crate) fn parse_one<'a>(
    parser: &dyn RecordParser,
    text: &'a str,
    line: u64,
    diag: &mut Diagnostics,
) -> Result<Event<'a>, Reject> {
    let lines: Vec<&str> = text_util::lines(text).collect();
    let start = parser.record_start(lines[0].as_bytes()).ok_or(Reject {
        why: "not a record start",
    })?;
    parser.parse(
        &Record {
            start,
            text,
            lines: &lines,
            line,
        },
        diag,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("nope"), None);
    }

    #[test]
    fn split_counts_preamble_and_records() {
        let text = "junk\n\ninfo: A[1]\n      m1\nwarn: B[2]\n      m2\n";
        let mut diag = Diagnostics::default();
        let mut lines = Vec::new();
        split_records(
            Format::IloggerSimple.parser().unwrap(),
            text,
            &TimeContext::default(),
            &mut diag,
            |e| lines.push((e.line, e.message.to_string())),
        );
        assert_eq!(lines, vec![(3, "m1".to_string()), (5, "m2".to_string())]);
        assert_eq!(diag.records, 2);
        assert_eq!(diag.lines, 6);
        assert_eq!(diag.unparsed_lines, 1);
        assert_eq!(diag.unparsed_samples, vec![(1, "before the first record")]);
    }
}
