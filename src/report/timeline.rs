//! `asrs-logscan timeline`: what matters from every input on one aligned
//! timeline — findings, dropped connections with their likely cause, and
//! captured connections — one line each with `input:line`.
//!
//! Times are compared on the aligned clock (see `correlate::clocks`);
//! inputs without timestamps keep their order and follow the timed events.

use super::Report;
use serde::Serialize;
use std::fmt::Write;

/// What the user narrowed the timeline (and the report) to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only entries at or after this aligned time (nanoseconds).
    pub since: Option<i128>,
    /// Only entries at or before this aligned time.
    pub until: Option<i128>,
    /// Only entries about this connection (client or server id).
    pub connection: Option<String>,
    /// Only entries about this hub.
    pub hub: Option<String>,
}

impl Filter {
    /// True when no filter is set.
    pub fn is_empty(&self) -> bool {
        self.since.is_none()
            && self.until.is_none()
            && self.connection.is_none()
            && self.hub.is_none()
    }

    fn keeps(&self, e: &Entry) -> bool {
        self.keeps_at(e.aligned, &e.connections, e.hub.as_deref())
    }

    /// Whether something at aligned time `at`, about connections `ids` and
    /// `hub`, passes. Untimed things cannot be placed in a time window.
    pub fn keeps_at(&self, at: Option<i128>, ids: &[String], hub: Option<&str>) -> bool {
        let in_time = match at {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            None => self.since.is_none() && self.until.is_none(),
        };
        let conn = self
            .connection
            .as_deref()
            .is_none_or(|c| ids.iter().any(|x| x == c));
        let hub = self
            .hub
            .as_deref()
            .is_none_or(|h| hub.is_some_and(|x| x.eq_ignore_ascii_case(h)));
        in_time && conn && hub
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The time as the input gave it.
    pub time: Option<String>,
    /// The time on the aligned clock, when the input's clock was shifted.
    pub aligned_time: Option<String>,
    /// Input index.
    pub input: usize,
    /// Line (HAR entry, SAZ session).
    pub line: u64,
    /// `drop`, `connection`, or a finding's severity.
    pub kind: &'static str,
    /// What happened, in one line (redacted).
    pub what: String,
    /// Connection ids it is about.
    pub connections: Vec<String>,
    /// The hub it is about.
    pub hub: Option<String>,
    /// For an input without timestamps: how the entry was placed (the
    /// connection id it shares with a timed input).
    pub placed: Option<String>,
    /// Aligned nanoseconds, for ordering.
    #[serde(skip)]
    pub aligned: Option<i128>,
}

/// The timeline: entries in aligned time order, untimed ones after.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Always `asrs-logscan/timeline/v1`.
    pub schema: &'static str,
    /// The entries.
    pub entries: Vec<Entry>,
    /// What the user should know (untimed inputs, filters).
    pub notes: Vec<String>,
}

/// A report time string on the aligned clock.
pub(super) fn aligned(time: Option<&str>, offset: i128) -> Option<i128> {
    Some(crate::time::parse(time?)?.nanos() + offset)
}

/// Builds the timeline of a report.
pub fn build(report: &Report, filter: &Filter) -> Timeline {
    let offset = |i: usize| report.offsets.get(i).copied().unwrap_or(0);
    let mut entries: Vec<Entry> = Vec::new();
    let mut push = |time: Option<&String>,
                    input: usize,
                    line: u64,
                    kind,
                    what: String,
                    connections: Vec<String>,
                    hub: Option<String>| {
        let at = aligned(time.map(String::as_str), offset(input));
        let shifted = offset(input) != 0;
        entries.push(Entry {
            time: time.cloned(),
            aligned_time: at.filter(|_| shifted).and_then(utc),
            input,
            line,
            kind,
            what,
            connections,
            hub,
            placed: None,
            aligned: at,
        });
    };
    let drop_rules: Vec<&str> = report.drops.iter().map(|d| d.rule.as_str()).collect();
    for f in &report.findings {
        // Drops are listed with their causes below.
        if drop_rules.contains(&f.rule.as_str()) {
            continue;
        }
        for o in &f.occurrences {
            let ids = ["connection", "server_connection"]
                .iter()
                .filter_map(|k| o.fields.get(*k).cloned())
                .collect();
            push(
                o.time.as_ref(),
                o.input,
                o.line,
                f.severity,
                format!("{}: {}", f.rule, o.summary),
                ids,
                o.fields.get("hub").cloned(),
            );
        }
    }
    for d in &report.drops {
        let who = match (&d.connection, d.clients) {
            (_, Some(n)) => format!("{n} {} connections", d.side),
            (Some(c), None) => format!("{} connection {c}", d.side),
            (None, None) => format!("a {} connection", d.side),
        };
        let cause = d.causes.first().map_or_else(
            || "no cause found".to_string(),
            |c| format!("likely: {} [{}]", c.why, c.confidence),
        );
        let ids = [&d.connection, &d.server_connection]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        push(
            d.time.as_ref(),
            d.input,
            d.line,
            "drop",
            format!("{who} dropped — {cause}"),
            ids,
            None,
        );
    }
    for c in &report.connections {
        let statuses: Vec<String> = c.statuses.iter().map(u16::to_string).collect();
        let timing = match (c.negotiate_ms, c.negotiate_to_connect_ms) {
            (Some(n), Some(t)) => format!(", negotiate {n:.0} ms, connect after {t:.0} ms"),
            _ => String::new(),
        };
        let problems = if c.problems.is_empty() {
            String::new()
        } else {
            format!(" — {}", c.problems.join("; "))
        };
        push(
            c.time.as_ref(),
            c.input,
            c.line,
            "connection",
            format!(
                "{} connection, hub {}: {}{timing}, {}{problems}",
                c.transport.as_deref().unwrap_or("SignalR"),
                c.hub.as_deref().unwrap_or("-"),
                statuses.join(" "),
                c.end
            ),
            c.connection.iter().cloned().collect(),
            c.hub.clone(),
        );
    }
    let placed_inputs = place_untimed(&mut entries);
    entries.retain(|e| filter.keeps(e));
    entries.sort_by_key(|e| (e.aligned.is_none(), e.aligned, e.input, e.line));
    let mut notes = Vec::new();
    for (i, input) in report.inputs.iter().enumerate() {
        let listed = entries.iter().any(|e| e.input == i);
        if listed && !input.has_timestamps {
            notes.push(if placed_inputs.contains(&i) {
                format!(
                    "{}: no timestamps; placed by the connection ids it shares with timed inputs (each entry at the last shared one before it, in its own order)",
                    input.path
                )
            } else {
                format!(
                    "{}: no timestamps; its entries follow the timed ones, in its own order",
                    input.path
                )
            });
        }
        if let (Some(o), Some(b)) = (&input.clock_offset, &input.clock_basis) {
            notes.push(format!("{}: clock shifted by {o} ({b})", input.path));
        }
    }
    if !filter.is_empty() {
        notes.push(
            "filtered: only the entries that match --since/--until/--connection/--hub".to_string(),
        );
    }
    Timeline {
        schema: "asrs-logscan/timeline/v1",
        entries,
        notes,
    }
}

/// Places the entries of inputs without timestamps by the evidence they
/// share with timed inputs: an entry naming a connection id that a timed
/// entry names takes that entry's time; the entries after it, in the
/// input's own order, take the same time until the next shared id. Returns
/// the inputs placed.
fn place_untimed(entries: &mut [Entry]) -> Vec<usize> {
    let mut known: std::collections::HashMap<&str, i128> = std::collections::HashMap::new();
    for e in entries.iter() {
        if let Some(t) = e.aligned {
            for id in &e.connections {
                known
                    .entry(id.as_str())
                    .and_modify(|x| *x = (*x).min(t))
                    .or_insert(t);
            }
        }
    }
    let known: std::collections::HashMap<String, i128> =
        known.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    let mut untimed: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].time.is_none())
        .collect();
    untimed.sort_by_key(|&i| (entries[i].input, entries[i].line));
    let mut placed = Vec::new();
    let mut current: Option<(usize, i128, String)> = None;
    for i in untimed {
        let input = entries[i].input;
        if current.as_ref().is_some_and(|c| c.0 != input) {
            current = None;
        }
        let shared = entries[i]
            .connections
            .iter()
            .find_map(|id| known.get(id).map(|t| (*t, id.clone())));
        if let Some((t, id)) = shared {
            current = Some((input, t, id));
        }
        if let Some((_, t, id)) = &current {
            entries[i].aligned = Some(*t);
            entries[i].placed = Some(format!("by shared connection {id}"));
            if !placed.contains(&input) {
                placed.push(input);
            }
        }
    }
    placed
}

/// Aligned nanoseconds as RFC 3339 UTC.
fn utc(nanos: i128) -> Option<String> {
    crate::time::Timestamp::from_nanos(nanos).map(|t| t.to_string())
}

/// The timeline as text, one line per entry.
pub fn render(t: &Timeline, report: &Report) -> String {
    let mut out = String::new();
    let name = |i: usize| report.input_name(i);
    for e in &t.entries {
        let when = match (&e.aligned_time, &e.time, &e.placed) {
            (Some(a), Some(own), _) => format!("{a} (own clock {own})"),
            (_, Some(own), _) => own.clone(),
            (_, None, Some(how)) => format!(
                "{} (no timestamp; placed {how})",
                e.aligned.and_then(utc).unwrap_or_default()
            ),
            _ => "(no timestamp)".to_string(),
        };
        let _ = writeln!(
            out,
            "{when}  {}:{}  {:<10} {}",
            name(e.input),
            e.line,
            e.kind,
            e.what
        );
    }
    if t.entries.is_empty() {
        out.push_str("Nothing on the timeline.\n");
    }
    for n in &t.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
