//! Notes about each input: what could not be read, and how to get more.
//!
//! Every diagnostic the parse counted becomes a sentence with the line where
//! it first happened, so nothing the tool passed over goes unmentioned.

use super::Note;
use crate::analyze::InputResult;
use crate::parse::Format;
use crate::parse::diagnostics::{Counted, LONG_LINE};

fn note(level: &'static str, input: usize, line: Option<u64>, message: String) -> Note {
    Note {
        level,
        message,
        input: Some(input),
        line,
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The notes for input number `i`.
pub(super) fn for_input(i: usize, r: &InputResult) -> Vec<Note> {
    let mut out = Vec::new();
    let path = &r.path;
    if let Some(e) = &r.error {
        out.push(note("error", i, None, format!("{path}: {e}")));
    }
    if let Some(why) = &r.skipped {
        out.push(note("info", i, None, format!("{path}: skipped: {why}")));
    }
    if r.error.is_none() && r.skipped.is_none() && r.bytes == 0 {
        out.push(note("info", i, None, format!("{path}: empty input")));
    }
    let d = &r.diag;
    if d.unparsed_lines > 0 {
        let (line, why) = d.unparsed_samples[0];
        let lines: Vec<String> = d
            .unparsed_samples
            .iter()
            .map(|(l, _)| l.to_string())
            .collect();
        out.push(note(
            "warning",
            i,
            Some(line),
            format!(
                "{path}: {} not parsed (first at line {line}: {why}; starting at lines {})",
                plural(d.unparsed_lines, "line", "lines"),
                lines.join(", ")
            ),
        ));
    }
    let counted: [(&Counted, &str, String); 5] = [
        (
            &d.invalid_utf8,
            "warning",
            "invalid UTF-8; the bad bytes were replaced with U+FFFD and the lines parsed"
                .to_string(),
        ),
        (
            &d.nul_lines,
            "warning",
            "NUL bytes (a crash or a preallocated file?)".to_string(),
        ),
        (
            &d.long_lines,
            "info",
            format!(
                "more than {} MiB (the longest is {:.1} MiB); parsed whole",
                LONG_LINE >> 20,
                d.longest_line as f64 / f64::from(1 << 20)
            ),
        ),
        (
            &d.bad_timestamps,
            "warning",
            "a timestamp that could not be read".to_string(),
        ),
        (
            &d.oversized_records,
            "warning",
            "a record too long to keep whole while streaming; it was split".to_string(),
        ),
    ];
    for (c, level, what) in counted {
        if let Some(line) = c.first {
            out.push(note(
                level,
                i,
                Some(line),
                format!(
                    "{path}: {} with {what} (first at line {line})",
                    plural(c.count, "line", "lines")
                ),
            ));
        }
    }
    let unit = if r.format == Some(Format::Saz) {
        "session"
    } else {
        "line"
    };
    for (line, why) in &d.problems {
        let at = line.map(|l| format!(" ({unit} {l})")).unwrap_or_default();
        out.push(note("warning", i, *line, format!("{path}: {why}{at}")));
    }
    if let Some(line) = d.truncated {
        out.push(note(
            "warning",
            i,
            Some(line),
            format!("{path}: the record at line {line} is cut off by the end of the input"),
        ));
    }
    let name = super::file_name(path);
    if r.summary.naive > 0 {
        out.push(note(
            "warning",
            i,
            None,
            format!(
                "{path}: {} local times without a time zone; to compare them with other inputs pass --tz {name}=ZONE (an offset such as +01:00 or a zone such as Europe/Berlin)",
                plural(r.summary.naive, "record has", "records have")
            ),
        ));
    }
    if r.summary.time_only > 0 {
        out.push(note(
            "warning",
            i,
            None,
            format!(
                "{path}: {} a time of day but no date; pass --date {name}=YYYY-MM-DD to date them",
                plural(r.summary.time_only, "record has", "records have")
            ),
        ));
    }
    if r.diag.records > 0 && r.summary.timed == 0 {
        let how = match r.format {
            Some(Format::TraceListener) => {
                "add traceOutputOptions=\"DateTime\" to the listener in web.config to get them"
            }
            Some(Format::IloggerSimple | Format::IloggerSystemd | Format::IloggerJson) => {
                "set the console formatter's TimestampFormat (e.g. \"yyyy-MM-ddTHH:mm:ss.fffzzz \") to get them"
            }
            Some(Format::Text) => {
                "configure the logger to write them (for Serilog, {Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} in the output template)"
            }
            Some(Format::Har) => "the capture's entries have no readable startedDateTime",
            Some(Format::Saz) => "the sessions' N_m.xml timers are missing or unset",
            None => "",
        };
        out.push(note(
            "info",
            i,
            None,
            format!("{path}: no timestamps; events are ordered by line only; {how}"),
        ));
    }
    out
}
