//! Turning the text of one format into events.
//!
//! Every text format is described by a [`RecordParser`]: a context-free test
//! that says whether a line starts a record (which is also where chunks may
//! be cut, so results cannot depend on chunking), and a function that turns
//! the lines of one record into an [`Event`]. [`split_records`] drives both
//! over a chunk of text.

pub(crate) mod bytemask;
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

    /// The built-in format this parser reads, if it is one (the splitter
    /// then runs a copy of itself made for that format's parser).
    fn format(&self) -> Option<Format> {
        None
    }

    /// Parses one record, possibly leaving its `message` and `exception`
    /// unfinished for [`RecordParser::complete`], which the splitter calls
    /// only if a [`Sink`] needs them. An unfinished message must start as
    /// the finished one does whenever that is not empty (prefilters match
    /// message starts, and may then match more, never less); every other
    /// field is final. Most records are looked at only by the summary and
    /// the rules' prefilter, so an ILogger message's lines need not be
    /// joined and searched for an exception (10% of the ILogger console
    /// parse, by an experiment that skipped it). A parser with nothing
    /// costly to leave parses the whole record here.
    fn parse_head<'a>(
        &self,
        rec: &Record<'a, '_>,
        diag: &mut Diagnostics,
    ) -> Result<Event<'a>, Reject>;

    /// Finishes an event that [`RecordParser::parse_head`] made of `rec`.
    fn complete<'a>(&self, rec: &Record<'a, '_>, ev: &mut Event<'a>) {
        let _ = (rec, ev);
    }

    /// Parses one record whole.
    fn parse<'a>(&self, rec: &Record<'a, '_>, diag: &mut Diagnostics) -> Result<Event<'a>, Reject> {
        let mut ev = self.parse_head(rec, diag)?;
        self.complete(rec, &mut ev);
        Ok(ev)
    }
}

/// Where [`split_records`] sends events.
pub trait Sink<'a> {
    /// Whether `ev`, as [`RecordParser::parse_head`] left it, must be
    /// completed before [`Sink::event`] sees it.
    fn needs_whole(&mut self, ev: &Event<'a>) -> bool {
        let _ = ev;
        true
    }

    /// Sees one event.
    fn event(&mut self, ev: &Event<'a>);
}

/// A closure sees every event whole.
impl<'a, F: FnMut(&Event<'a>)> Sink<'a> for F {
    fn event(&mut self, ev: &Event<'a>) {
        self(ev)
    }
}

/// Splits `text` into records and parses each, handing them to `sink` in
/// order.
/// Line numbers are local to `text` (the first line is 1). Lines before the
/// first record start are counted as unparsed (blank lines are ignored).
/// Each event's timestamp is completed with `clock` (`--tz`, `--date`).
pub fn split_records<'a>(
    parser: &dyn RecordParser,
    text: &'a str,
    clock: &TimeContext,
    diag: &mut Diagnostics,
    sink: impl Sink<'a>,
) {
    // The big-log formats get a loop of their own, with the record-start
    // test and the parse inlined: a dynamic call per line and per record
    // cost 2–3% of the ILogger console parse (no difference measured on
    // the other two; kept for them as it costs nothing).
    match parser.format() {
        Some(Format::IloggerSimple) => {
            split(&ilogger_simple::IloggerSimple, text, clock, diag, sink)
        }
        Some(Format::TraceListener) => {
            split(&tracelistener::TraceListener, text, clock, diag, sink)
        }
        Some(Format::IloggerJson) => split(&ilogger_json::IloggerJson, text, clock, diag, sink),
        _ => split(parser, text, clock, diag, sink),
    }
}

fn split<'a, P: RecordParser + ?Sized>(
    parser: &P,
    text: &'a str,
    clock: &TimeContext,
    diag: &mut Diagnostics,
    mut sink: impl Sink<'a>,
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
                emit(parser, &rec, clock, diag, &mut sink);
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
        emit(parser, &rec, clock, diag, &mut sink);
    }
    diag.lines += line_no;
}

fn emit<'a, P: RecordParser + ?Sized>(
    parser: &P,
    rec: &Record<'a, '_>,
    clock: &TimeContext,
    diag: &mut Diagnostics,
    sink: &mut impl Sink<'a>,
) {
    // The event is used where `parse_head` wrote it: binding it out of the
    // `Result` would copy its few hundred bytes for every record.
    match &mut parser.parse_head(rec, diag) {
        Ok(ev) => {
            ev.raw = rec.text;
            if let Some(t) = ev.time.as_mut()
                && !clock.is_empty()
            {
                *t = clock.resolve(*t);
            }
            diag.records += 1;
            if sink.needs_whole(ev) {
                parser.complete(rec, ev);
            }
            sink.event(ev);
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
    use std::borrow::Cow;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("nope"), None);
    }

    /// An event's message, exception and all else (as text).
    type Parts = (String, Option<String>, String);

    fn parts(ev: &Event<'_>) -> Parts {
        let mut rest = ev.clone();
        let message = std::mem::take(&mut rest.message).into_owned();
        let exception = rest.exception.take().map(Cow::into_owned);
        (message, exception, format!("{rest:?}"))
    }

    /// Takes events as `parse_head` leaves them, and whether each says
    /// its message is whole.
    struct Heads<'v>(&'v mut Vec<Parts>, &'v mut Vec<bool>);
    impl<'a> Sink<'a> for Heads<'_> {
        fn needs_whole(&mut self, _: &Event<'a>) -> bool {
            false
        }
        fn event(&mut self, ev: &Event<'a>) {
            self.0.push(parts(ev));
            self.1.push(ev.whole);
        }
    }

    #[test]
    fn heads_are_final_but_for_a_message_that_starts_as_the_whole_one() {
        let text = "\
2024-01-15T08:30:05.123+00:00 fail: A.B[1]
      => Span:1 => Conn:2
      Failed to connect.
      second line
      System.X.FooException (0x1): bad
         at A.B()
info: A.B[2]
      System.InvalidOperationException: only an exception
info: A.B[3]
info: A.B[4] => s one line System.X.BarException: inline
2022-11-11T15:10:37.634772560Z warn: A.B[5]
2022-11-11T15:10:37.634793760Z       stamped line
2022-11-11T15:10:37.634793760Z       and another
dbug: A.B[6]
      plain
";
        let (whole, heads, said_whole) = wholes_and_heads(Format::IloggerSimple, text);
        assert_eq!(whole.len(), 6);
        assert_eq!(said_whole, [false, true, true, true, false, true]);
        // Not vacuous: the heads left work undone, which the whole parse did.
        assert_eq!(whole[0].0, "Failed to connect.\nsecond line");
        assert_eq!(heads[0].0, "Failed to connect.");
        assert!(whole[0].1.is_some() && heads[0].1.is_none());
        assert_eq!(whole[1].0, "");
        assert_eq!(whole[3].1.as_deref(), Some("System.X.BarException: inline"));
        assert_eq!(whole[4].0, "stamped line\nand another");

        let trace = "\
Microsoft.Azure.SignalR Error: 0 : [A.B]Failed to connect.
second line
    ProcessId=1
    DateTime=2024-03-02T10:15:00.0000000Z
Microsoft.Azure.SignalR Verbose: 0 : [A.B]One line.
    DateTime=2024-03-02T10:15:01.0000000Z
";
        let (whole, heads, said_whole) = wholes_and_heads(Format::TraceListener, trace);
        assert_eq!(whole.len(), 2);
        assert_eq!(said_whole, [false, true]);
        assert_eq!(whole[0].0, "Failed to connect.\nsecond line");
        assert_eq!(heads[0].0, "Failed to connect.");
        assert_eq!(whole[1].0, heads[1].0);
    }

    /// The events of `text` parsed whole and as heads, after checking that
    /// each head is final but for a message that starts the whole one.
    fn wholes_and_heads(format: Format, text: &str) -> (Vec<Parts>, Vec<Parts>, Vec<bool>) {
        let parser = format.parser().unwrap();
        let clock = TimeContext::default();
        let mut whole = Vec::new();
        let mut diag = Diagnostics::default();
        split_records(parser, text, &clock, &mut diag, |e: &Event| {
            whole.push(parts(e))
        });
        let mut heads = Vec::new();
        let mut diag = Diagnostics::default();
        let mut said_whole = Vec::new();
        split_records(
            parser,
            text,
            &clock,
            &mut diag,
            Heads(&mut heads, &mut said_whole),
        );
        assert_eq!(heads.len(), whole.len());
        for (i, ((message, _, rest), (head, _, head_rest))) in whole.iter().zip(&heads).enumerate()
        {
            assert!(
                message.is_empty() || message.starts_with(head.as_str()),
                "{format} {i}: {head:?} does not start {message:?}"
            );
            assert_eq!(head_rest, rest, "{format} {i}: all else is final");
            // A head that says it is whole is the message, or the message
            // is empty (its one line was an exception's), which the quick
            // tests of no template with text admit anyway.
            if said_whole[i] {
                assert!(
                    message == head || message.is_empty(),
                    "{format} {i}: {head:?} said whole, is {message:?}"
                );
            }
        }
        (whole, heads, said_whole)
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
            |e: &Event| lines.push((e.line, e.message.to_string())),
        );
        assert_eq!(lines, vec![(3, "m1".to_string()), (5, "m2".to_string())]);
        assert_eq!(diag.records, 2);
        assert_eq!(diag.lines, 6);
        assert_eq!(diag.unparsed_lines, 1);
        assert_eq!(diag.unparsed_samples, vec![(1, "before the first record")]);
    }
}
