//! The terminal report: comfy-table tables, most important first.
//!
//! Returns a `String`; printing is the binary's business.

use super::{InputReport, Report};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

/// Renders the report for a terminal `width` columns wide; `doctor` adds
/// the capture doctor's full table.
pub fn render(report: &Report, width: u16, doctor: bool) -> String {
    let mut out = String::new();
    let prefix = common_dir(report.inputs.iter().map(|i| i.path.as_str()));
    let short = |p: &str| p[prefix.len()..].to_string();
    super::drops_table::render(&mut out, report, width);
    findings(&mut out, report, width, &short);
    if !report.connections.is_empty() {
        let _ = writeln!(
            out,
            "Negotiate timing (one row per SignalR connection in the captures)\n{}\n",
            connections_table(report, width, &short)
        );
    }
    if prefix.is_empty() {
        let _ = writeln!(out, "Inputs");
    } else {
        let _ = writeln!(out, "Inputs (in {prefix})");
    }
    let _ = writeln!(out, "{}", inputs_table(report, width, &short));
    let _ = writeln!(out, "\nHow each input was read");
    for i in &report.inputs {
        let how = match (i.format, &i.detected_by, &i.error, &i.skipped) {
            (Some(f), Some(why), _, _) => format!("{f}: {why}"),
            (Some(f), None, _, _) => f.to_string(),
            (None, _, Some(e), _) => format!("not read: {e}"),
            (None, _, None, Some(s)) => format!("skipped: {s}"),
            (None, _, None, None) => "empty".to_string(),
        };
        let enc = match i.encoding {
            Some(e) if e != "utf-8" => format!(" [{e}]"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {}  {how}{enc}", short(&i.path));
    }
    if let Some(t) = categories_table(report, width, &short) {
        let _ = writeln!(out, "\nTop categories\n{t}");
    }
    if doctor {
        let mut d = new_table(width, &["guide section", "answerable", "to answer it"]);
        for s in &report.doctor.sections {
            d.add_row(vec![
                Cell::new(s.section),
                Cell::new(s.answerable),
                Cell::new(s.capture.join("\n")),
            ]);
        }
        let _ = writeln!(out, "\nCapture doctor: what these inputs can answer\n{d}");
        for a in report.doctor.timestamps.iter().chain(&report.doctor.inputs) {
            let _ = writeln!(out, "  • {a}");
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &report.notes {
            let _ = writeln!(out, "  {:<7}  {}", n.level, n.message);
        }
    }
    out
}

/// How many occurrences are shown per finding in the terminal.
const SHOWN: usize = 3;

/// The findings table, then each finding's cause, fix and evidence.
fn findings(out: &mut String, report: &Report, width: u16, short: &dyn Fn(&str) -> String) {
    if report.tool.rules == 0 {
        return;
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings ({} rules checked).\n", report.tool.rules);
        return;
    }
    let mut t = new_table(width, &["severity", "rule", "what", "count", "when"]);
    for f in &report.findings {
        let when = match (&f.first, &f.last) {
            (Some(a), Some(b)) if a != b => format!("{a}\n{b}"),
            (Some(a), _) => a.clone(),
            _ => String::new(),
        };
        t.add_row(vec![
            Cell::new(f.severity),
            Cell::new(&f.rule),
            Cell::new(&f.title),
            Cell::new(f.count).set_alignment(CellAlignment::Right),
            Cell::new(when),
        ]);
    }
    let _ = writeln!(out, "Findings\n{t}");
    let input_name = |i: usize| {
        report
            .inputs
            .get(i)
            .map_or_else(|| format!("input {i}"), |x| short(&x.path))
    };
    for f in &report.findings {
        let _ = writeln!(
            out,
            "\n{} {} — {}",
            f.severity.to_uppercase(),
            f.rule,
            f.title
        );
        let _ = writeln!(out, "  why: {}", f.cause);
        for (i, fix) in f.fix.iter().enumerate() {
            let _ = writeln!(out, "  fix {}: {fix}", i + 1);
        }
        for o in f.occurrences.iter().take(SHOWN) {
            let at = o
                .time
                .as_deref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  • {}:{}{at}  {}",
                input_name(o.input),
                o.line,
                o.summary
            );
            for e in o
                .evidence
                .iter()
                .filter(|e| !(e.input == o.input && e.line == o.line))
            {
                let _ = writeln!(out, "      {}:{}  {}", input_name(e.input), e.line, e.text);
            }
        }
        if f.count > SHOWN as u64 {
            let _ = writeln!(
                out,
                "  … {} more (--json lists up to --max-occurrences)",
                f.count - SHOWN as u64
            );
        }
    }
    out.push('\n');
}

/// The directory prefix (ending in `/`) that all paths share, if any.
fn common_dir<'a>(mut paths: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = paths.next() else {
        return String::new();
    };
    let mut len = first.rfind('/').map_or(0, |i| i + 1);
    for p in paths {
        while len > 0 && !p.starts_with(&first[..len]) {
            len = first[..len - 1].rfind('/').map_or(0, |i| i + 1);
        }
    }
    first[..len].to_string()
}

/// One row per rebuilt connection; what breaks the guide's limits is
/// marked with `!` and spelled out in the last column.
fn connections_table(report: &Report, width: u16, short: &dyn Fn(&str) -> String) -> Table {
    use crate::signalr::connections::{CONNECT_LIMIT_MS, TOKEN_LIMIT};
    // A HAR numbers entries, a SAZ sessions: the column says which.
    let mut formats = report
        .connections
        .iter()
        .filter_map(|c| report.inputs.get(c.input).and_then(|i| i.format));
    let first = formats.next();
    let number = match (first, formats.all(|f| Some(f) == first)) {
        (Some("saz"), true) => "session",
        (Some("har"), true) => "entry",
        _ => "entry/session",
    };
    let mut t = new_table(
        width,
        &[
            number,
            "hub",
            "transport",
            "negotiate",
            "to connect",
            "token",
            "statuses",
            "end",
            "problems",
        ],
    );
    let ms = |v: Option<f64>, limit: Option<f64>| match v {
        Some(v) => {
            let mark = if limit.is_some_and(|l| v > l) {
                " !"
            } else {
                ""
            };
            if v >= 1000.0 {
                format!("{:.2} s{mark}", v / 1000.0)
            } else {
                format!("{v:.0} ms{mark}")
            }
        }
        None => "-".to_string(),
    };
    for c in &report.connections {
        let input = report
            .inputs
            .get(c.input)
            .map(|i| short(&i.path))
            .unwrap_or_default();
        let token = match (c.token_length, c.token_lifetime_s) {
            (Some(len), life) => {
                let mark = if len > TOKEN_LIMIT { " !" } else { "" };
                match life {
                    Some(s) => format!(
                        "{len} B{mark}, {}",
                        crate::event::format_duration(s * 1_000_000_000)
                    ),
                    None => format!("{len} B{mark}"),
                }
            }
            (None, _) => "-".to_string(),
        };
        let statuses: Vec<String> = c.statuses.iter().map(u16::to_string).collect();
        let entry = if report.inputs.len() > 1 {
            // The file name is enough to tell captures apart in a narrow column.
            let name = super::file_name(&input);
            format!("{name}:{}", c.line)
        } else {
            c.line.to_string()
        };
        t.add_row(vec![
            Cell::new(entry),
            Cell::new(c.hub.as_deref().unwrap_or("-")),
            Cell::new(c.transport.as_deref().unwrap_or("-")),
            Cell::new(ms(c.negotiate_ms, None)).set_alignment(CellAlignment::Right),
            Cell::new(ms(c.negotiate_to_connect_ms, Some(CONNECT_LIMIT_MS)))
                .set_alignment(CellAlignment::Right),
            Cell::new(token),
            Cell::new(statuses.join(" ")),
            Cell::new(c.end),
            Cell::new(c.problems.join("; ")),
        ]);
    }
    t
}

pub(super) fn new_table(width: u16, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.iter().copied().map(Cell::new));
    t
}

fn inputs_table(report: &Report, width: u16, short: &dyn Fn(&str) -> String) -> Table {
    let mut t = new_table(
        width,
        &[
            "input",
            "format",
            "records",
            "unparsed",
            "time range",
            "levels",
        ],
    );
    for i in &report.inputs {
        t.add_row(vec![
            Cell::new(short(&i.path)),
            Cell::new(format_cell(i)),
            Cell::new(i.records).set_alignment(CellAlignment::Right),
            Cell::new(i.unparsed_lines).set_alignment(CellAlignment::Right),
            Cell::new(time_range(i)),
            Cell::new(levels(i)),
        ]);
    }
    t
}

fn format_cell(i: &InputReport) -> String {
    match (i.format, &i.error, &i.skipped) {
        (Some(f), _, _) => f.to_string(),
        (None, Some(_), _) => "unreadable".to_string(),
        (None, None, Some(_)) => "skipped".to_string(),
        (None, None, None) => "empty".to_string(),
    }
}

fn time_range(i: &InputReport) -> String {
    match (&i.first, &i.last) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (Some(a), Some(b)) => format!("{a}\n{b}"),
        _ if i.records > 0 => "no timestamps".to_string(),
        _ => String::new(),
    }
}

/// Counts per level, most severe first.
fn levels(i: &InputReport) -> String {
    let order = [
        "critical", "error", "warning", "info", "debug", "trace", "none",
    ];
    order
        .iter()
        .filter_map(|l| {
            i.levels
                .get(l)
                .filter(|n| **n > 0)
                .map(|n| format!("{l} {n}"))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn categories_table(report: &Report, width: u16, short: &dyn Fn(&str) -> String) -> Option<Table> {
    let mut t = new_table(width, &["input", "category", "records"]);
    let mut any = false;
    for i in &report.inputs {
        for (n, c) in i.top_categories.iter().enumerate() {
            any = true;
            let name = if n == 0 {
                short(&i.path)
            } else {
                String::new()
            };
            t.add_row(vec![
                Cell::new(name),
                Cell::new(&c.category),
                Cell::new(c.count).set_alignment(CellAlignment::Right),
            ]);
        }
    }
    any.then_some(t)
}

#[cfg(test)]
mod tests {
    use super::common_dir;

    #[test]
    fn common_directory_prefix() {
        assert_eq!(common_dir(["a/b/c.log", "a/b/d.log"].into_iter()), "a/b/");
        assert_eq!(common_dir(["a/b/c.log", "a/x/d.log"].into_iter()), "a/");
        assert_eq!(common_dir(["a/b/c.log", "c.log"].into_iter()), "");
        assert_eq!(common_dir(["-"].into_iter()), "");
    }
}
