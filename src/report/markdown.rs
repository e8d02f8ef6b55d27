//! `--markdown`: a short summary to paste into a support ticket or a GitHub
//! issue as it is — time frame, findings, drops with their causes,
//! connection timing and what to capture next.
//!
//! Everything comes from the report, whose texts are redacted already;
//! inputs are named by file name only (directories often hold user names).

use super::Report;
use std::fmt::Write;

/// How many drop groups and findings the summary lists.
const LISTED: usize = 10;

/// A table cell: one line, pipes escaped.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A report time with a date, with its sort key.
fn dated(t: &Option<String>) -> Option<((i64, u32), &str)> {
    let s = t.as_deref()?;
    let parsed = crate::time::parse(s).filter(|p| p.has_date)?;
    Some((parsed.sort_key(), s))
}

/// Renders the summary.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let name = |i: usize| report.input_name(i);
    let _ = writeln!(
        out,
        "## Azure SignalR troubleshooting summary (asrs-logscan {})\n",
        report.tool.version
    );
    // The earliest and latest dated times (times of day alone and the
    // inputs' different clocks make this a rough frame, said so).
    let first = report.inputs.iter().filter_map(|i| dated(&i.first)).min();
    let last = report.inputs.iter().filter_map(|i| dated(&i.last)).max();
    if let (Some((_, a)), Some((_, b))) = (first, last) {
        let _ = writeln!(out, "**Time frame:** {a} – {b} (as the inputs give it)\n");
    }
    let _ = writeln!(out, "**Inputs:**\n");
    for (i, input) in report.inputs.iter().enumerate() {
        let records = match input.records {
            1 => "1 record".to_string(),
            n => format!("{n} records"),
        };
        let what = match (input.format, &input.error) {
            (Some(f), None) => format!("{f}, {records}"),
            (Some(f), Some(e)) => format!("{f}, {records}; {}", cell(e)),
            (None, Some(e)) => format!("not read: {}", cell(e)),
            (None, None) => "not read".to_string(),
        };
        let timed = if input.has_timestamps {
            ""
        } else {
            ", no timestamps"
        };
        let _ = writeln!(out, "- `{}`: {what}{timed}", name(i));
    }
    out.push('\n');

    if !report.drops.is_empty() {
        let groups = super::drops_table::groups(report);
        let total: u64 = groups.iter().map(|g| g.connections).sum();
        let _ = writeln!(out, "### Dropped connections ({total})\n");
        for g in groups.iter().take(LISTED) {
            let first = g.drops[0];
            let when = first.time.as_deref().unwrap_or("(no timestamp)");
            let at = first
                .causes
                .first()
                .and_then(|c| c.evidence.first())
                .map(|e| format!("; cause at `{}:{}`", name(e.input), e.line))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "- {when}: {} — {} (`{}:{}`{at})",
                g.what(),
                cell(&g.cause()),
                name(first.input),
                first.line
            );
        }
        if groups.len() > LISTED {
            let _ = writeln!(out, "- … {} more groups", groups.len() - LISTED);
        }
        out.push('\n');
    }

    if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "### Findings\n\nNone ({} rules checked).\n",
            report.tool.rules
        );
    } else {
        let _ = writeln!(
            out,
            "### Findings\n\n| severity | rule | what | count | first | last |\n|---|---|---|---|---|---|"
        );
        for f in report.findings.iter().take(LISTED) {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {} | {} |",
                f.severity,
                f.rule,
                cell(&f.title),
                f.count,
                f.first.as_deref().unwrap_or(""),
                f.last.as_deref().unwrap_or("")
            );
        }
        out.push('\n');
        for f in report.findings.iter().take(LISTED) {
            let example = f
                .occurrences
                .first()
                .map(|o| format!(" e.g. `{}:{}` {}", name(o.input), o.line, cell(&o.summary)))
                .unwrap_or_default();
            let fix = f.fix.first().map(|x| cell(x)).unwrap_or_default();
            let _ = writeln!(out, "- `{}`: {fix}{example}", f.rule);
        }
        out.push('\n');
    }

    if !report.connections.is_empty() {
        let _ = writeln!(
            out,
            "### Connection timing (captures)\n\n| capture | hub | transport | negotiate | to connect | token | statuses | end | problems |\n|---|---|---|---|---|---|---|---|---|"
        );
        let ms = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} ms"));
        for c in report.connections.iter().take(LISTED * 3) {
            let statuses: Vec<String> = c.statuses.iter().map(u16::to_string).collect();
            let _ = writeln!(
                out,
                "| `{}:{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
                name(c.input),
                c.line,
                cell(c.hub.as_deref().unwrap_or("-")),
                c.transport.as_deref().unwrap_or("-"),
                ms(c.negotiate_ms),
                ms(c.negotiate_to_connect_ms),
                c.token_length.map_or("-".to_string(), |n| format!("{n} B")),
                statuses.join(" "),
                c.end,
                cell(&c.problems.join("; "))
            );
        }
        out.push('\n');
    }

    let advice = report.doctor.brief();
    let timestamps = &report.doctor.timestamps;
    if !advice.is_empty() || !timestamps.is_empty() {
        let _ = writeln!(out, "### What to capture next\n");
        for a in timestamps.iter().chain(&advice) {
            let _ = writeln!(out, "- {}", cell(a));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "_Tokens, keys, cookies and Authorization headers are redacted; tokens appear as their length and claims._"
    );
    out
}
