//! The "Dropped connections" table that opens the terminal report: drops
//! that share their most likely cause are one row ("3 client connections
//! … all after: a server connection dropped"), so a thousand drops from
//! one restart read as one line.

use super::{Drop, Report};
use comfy_table::{Cell, CellAlignment};
use std::fmt::Write;

/// How many groups the terminal shows; JSON lists every drop.
const SHOWN_GROUPS: usize = 20;

/// Drops with the same side and the same top cause (or, without a cause,
/// the same side and rule).
pub(super) struct Group<'r> {
    /// The drops, in report order (time, then input and line).
    pub(super) drops: Vec<&'r Drop>,
    /// Connections they drop (a line may close several).
    pub(super) connections: u64,
}

impl Group<'_> {
    /// "42 client connections" / "client connection X".
    pub(super) fn what(&self) -> String {
        let first = self.drops[0];
        let side = first.side;
        if self.connections == 1 {
            match &first.connection {
                Some(c) => format!("{side} connection {c}"),
                None => format!("a {side} connection"),
            }
        } else {
            format!("{} {side} connections", self.connections)
        }
    }

    /// The shared top cause in words with its confidence, or that none
    /// was found.
    pub(super) fn cause(&self) -> String {
        match self.drops[0].causes.first() {
            Some(c) => {
                let all = if self.drops.len() > 1 {
                    "all after: "
                } else {
                    ""
                };
                format!("{all}{} [{}]", c.why, c.confidence)
            }
            None => "no cause found in the inputs".to_string(),
        }
    }
}

/// The report's drops grouped, in order of each group's first drop.
pub(super) fn groups(report: &Report) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for d in &report.drops {
        let g = *index.entry(key(d)).or_insert_with(|| {
            groups.push(Group {
                drops: Vec::new(),
                connections: 0,
            });
            groups.len() - 1
        });
        groups[g].drops.push(d);
        groups[g].connections += d.clients.unwrap_or(1);
    }
    groups
}

/// A top cause: rule, input, line, confidence.
type CauseKey<'d> = (&'d str, usize, u64, &'d str);

/// Drops group by side and top cause: the same occurrence, found the
/// same way (a shared id and a mere coincidence in time are not one group).
fn key(d: &Drop) -> (&'static str, Option<CauseKey<'_>>, &str) {
    let cause = d.causes.first().map(|c| {
        let e = c.evidence.first();
        (
            c.rule.as_str(),
            e.map_or(0, |e| e.input),
            e.map_or(0, |e| e.line),
            c.confidence,
        )
    });
    let rule = if cause.is_some() { "" } else { d.rule.as_str() };
    (d.side, cause, rule)
}

/// Renders the table, or nothing when no drop was found.
pub(super) fn render(out: &mut String, report: &Report, width: u16) {
    if report.drops.is_empty() {
        return;
    }
    let groups = groups(report);
    let name = |i: usize| report.input_name(i);
    let mut t = super::table::new_table(width, &["when", "dropped", "likely cause", "lines"]);
    for g in groups.iter().take(SHOWN_GROUPS) {
        let first = g.drops[0];
        let last = g.drops[g.drops.len() - 1];
        let when = match (&first.time, &last.time) {
            (Some(a), Some(b)) if a != b => format!("{a}\n{b}"),
            (Some(a), _) => a.clone(),
            _ => "(no timestamps)".to_string(),
        };
        let more = first.causes.len().saturating_sub(1);
        let cause = if more > 0 {
            format!("{}\n(+{more} less likely)", g.cause())
        } else {
            g.cause()
        };
        let mut lines = format!("{}:{}", name(first.input), first.line);
        if g.drops.len() > 1 {
            let _ = write!(lines, " (+{} more)", g.drops.len() - 1);
        }
        if let Some(e) = first.causes.first().and_then(|c| c.evidence.first()) {
            let _ = write!(lines, "\ncause {}:{}", name(e.input), e.line);
        }
        t.add_row(vec![
            Cell::new(when),
            Cell::new(g.what()),
            Cell::new(cause),
            Cell::new(lines).set_alignment(CellAlignment::Left),
        ]);
    }
    let total: u64 = groups.iter().map(|g| g.connections).sum();
    let _ = writeln!(
        out,
        "Dropped connections ({total}, most likely cause first)\n{t}"
    );
    if groups.len() > SHOWN_GROUPS {
        let _ = writeln!(
            out,
            "  … {} more groups (--json lists every drop)",
            groups.len() - SHOWN_GROUPS
        );
    }
    out.push('\n');
}
