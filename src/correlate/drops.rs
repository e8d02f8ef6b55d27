//! Dropped connections and their likely causes.
//!
//! A drop is an occurrence of a `kind = "drop"` rule; a cause is an
//! occurrence of a rule with `[explains]`. Every drop looks up, for each
//! rule that explains its side, the nearest cause occurrence inside that
//! rule's window: first among occurrences that share the `same` fields
//! (the server connection id), then on time alone. Causes are indexed once
//! and sorted, and each drop is a few binary searches, so the cost grows
//! with the number of events, not events × drops. Nothing here knows a
//! rule id: a user's rule with `[explains]` is a cause like the built-ins.
//!
//! Ranking: a shared id ranks above a match on time alone, nearer ranks
//! above farther, and the rule's `weight` breaks ties.

use crate::analyze::InputResult;
use crate::event::push_duration;
use crate::rules::engine::{Engine, Point};
use crate::rules::{Rule, Side};
use rayon::prelude::*;
use serde::Serialize;

/// How many causes a drop lists.
const MAX_CAUSES: usize = 3;

/// Without timestamps, a cause found by order alone must be at most this
/// many lines before the drop.
const ORDER_LINES: u64 = 200;

/// On time alone, a cause this close to the drop is `medium` confidence.
const CLOSE_NANOS: i128 = 2_000_000_000;

/// One dropped connection (DESIGN.md `drops[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drop {
    /// When.
    pub time: Option<String>,
    /// `client`, `server` or `service`.
    pub side: &'static str,
    /// The connection id: the client's, or the server connection's for a
    /// server drop.
    pub connection: Option<String>,
    /// Input index.
    pub input: usize,
    /// Line (HAR entry, SAZ session).
    pub line: u64,
    /// Likely causes, most likely first.
    pub causes: Vec<Cause>,
    /// The rule that found the drop.
    pub rule: String,
    /// The server connection involved, when the line names one.
    pub server_connection: Option<String>,
    /// How many client connections the line drops (a server-side "Closing
    /// N client connection(s)" line), when more than one.
    pub clients: Option<u64>,
}

/// A likely cause of a drop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    /// The rule whose occurrence explains the drop.
    pub rule: String,
    /// `high` (shares an id), `medium` (close in time, or by order with a
    /// shared id) or `low`.
    pub confidence: &'static str,
    /// Where the cause is.
    pub evidence: Vec<Evidence>,
    /// One line saying why it explains the drop.
    pub why: String,
    /// When the cause happened.
    pub time: Option<String>,
}

/// A line of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// Input index.
    pub input: usize,
    /// Line.
    pub line: u64,
}

/// A point with the input it came from and its time on the aligned clock
/// (computed once: every drop looks it up in every cause index).
#[derive(Clone, Copy)]
struct At<'a> {
    input: usize,
    point: &'a Point,
    at: Option<i128>,
}

impl<'a> At<'a> {
    fn new(input: usize, point: &'a Point, offset: i128) -> At<'a> {
        At {
            input,
            point,
            at: point.time.map(|t| t.nanos() + offset),
        }
    }

    /// The time on the aligned clock.
    fn nanos(&self) -> Option<i128> {
        self.at
    }
}

/// Positions in a list of points, sorted by time or line: `(key, index)`.
type Sorted<K> = Vec<(K, usize)>;

/// One explaining rule's occurrences, indexed for nearest-in-window lookups.
///
/// The lists are sorted vectors, not maps of lists: a rule such as a server
/// connection drop has tens of thousands of occurrences with as many
/// distinct ids. Measured on 34,483 points: a list per id took 28 ms,
/// sorting by the ids' texts 16 ms, sorting by a hash of them 2 ms (the
/// hashes, computed once, take most of the rest: reading the points is
/// waiting on memory). Entries with equal hashes are told apart by their
/// values when looked up.
struct CauseIndex<'a> {
    /// The rule's index in the engine.
    index: usize,
    rule: &'a Rule,
    window: (i128, i128),
    /// Indexes of `engine.point_fields` that must match.
    same: Vec<usize>,
    points: Vec<At<'a>>,
    /// Per point, the hash of its `same` values (`None` unless it has all).
    keys: Vec<Option<u64>>,
    /// Timed points, by time.
    timed: Sorted<i128>,
    /// Timed points with all `same` values, by their key, then time.
    timed_same: Sorted<i128>,
    /// Untimed points (inputs without timestamps), by input, then line.
    ordered: Sorted<u64>,
    /// Untimed points with all `same` values, by input, key, then line.
    ordered_same: Sorted<u64>,
}

impl<'a> CauseIndex<'a> {
    fn new(
        engine: &Engine,
        index: usize,
        rule: &'a Rule,
        points: Vec<At<'a>>,
    ) -> Option<CauseIndex<'a>> {
        let x = rule.explains.as_ref()?;
        let same: Vec<usize> = x
            .same
            .iter()
            .filter_map(|f| engine.point_fields.iter().position(|p| p == f))
            .collect();
        // In parallel: reading tens of thousands of points' values is
        // mostly waiting on memory.
        let keys = points.par_iter().map(|at| key(at.point, &same)).collect();
        let mut idx = CauseIndex {
            index,
            rule,
            window: (i128::from(x.window.0), i128::from(x.window.1)),
            same,
            points,
            keys,
            timed: Vec::new(),
            timed_same: Vec::new(),
            ordered: Vec::new(),
            ordered_same: Vec::new(),
        };
        for (i, at) in idx.points.iter().enumerate() {
            let keyed = idx.keys[i].is_some();
            // A drop without a time looks at its own input's untimed
            // causes (an input has timestamps or not); timed ones by time.
            match at.nanos() {
                Some(t) => {
                    idx.timed.push((t, i));
                    if keyed {
                        idx.timed_same.push((t, i));
                    }
                }
                None => {
                    let line = at.point.line;
                    idx.ordered.push((line, i));
                    if keyed {
                        idx.ordered_same.push((line, i));
                    }
                }
            }
        }
        let (keys, points) = (&idx.keys, &idx.points);
        idx.timed.sort_unstable();
        idx.timed_same
            .sort_unstable_by_key(|&(t, i)| (keys[i], t, i));
        idx.ordered
            .sort_unstable_by_key(|&(line, i)| (points[i].input, line, i));
        idx.ordered_same
            .sort_unstable_by_key(|&(line, i)| (points[i].input, keys[i], line, i));
        Some(idx)
    }

    /// The part of a list sorted by (key, …) whose points have `key`.
    fn with_key<'l, K>(&self, list: &'l [(K, usize)], key: u64) -> &'l [(K, usize)] {
        let from = list.partition_point(|&(_, i)| self.keys[i] < Some(key));
        let len = list[from..].partition_point(|&(_, i)| self.keys[i] == Some(key));
        &list[from..from + len]
    }

    /// Whether point `i` has the `same` values of `drop`.
    fn shares(&self, i: usize, drop: &Point) -> bool {
        let p = self.points[i].point;
        self.same
            .iter()
            .all(|&f| p.values.get(f) == drop.values.get(f))
    }

    /// The part of a list sorted by (input, …) from `input`.
    fn of_input<'l, K>(&self, list: &'l [(K, usize)], input: usize) -> &'l [(K, usize)] {
        let from = list.partition_point(|&(_, i)| self.points[i].input < input);
        let len = list[from..].partition_point(|&(_, i)| self.points[i].input == input);
        &list[from..from + len]
    }
}

/// A hash of a point's values of `fields`; `None` unless it has them all
/// (and there is at least one).
///
/// FxHash (as the summary's categories): equal hashes are told apart by the
/// values where it matters ([`CauseIndex::shares`]), so speed beats quality
/// here: the indexes hash every cause and drop point, tens of thousands of
/// ids per run.
fn key(p: &Point, fields: &[usize]) -> Option<u64> {
    use std::hash::Hasher;
    if fields.is_empty() {
        return None;
    }
    let mut h = crate::fxhash::FxHasher::default();
    for &f in fields {
        let v = p.values.get(f)?.as_deref()?;
        h.write(v.as_bytes());
        // The length ends each value: ("ab", "c") and ("a", "bc") differ.
        h.write_usize(v.len());
    }
    Some(h.finish())
}

/// A candidate cause of one drop.
struct Candidate<'a> {
    index: &'a CauseIndex<'a>,
    at: At<'a>,
    same: bool,
    /// Nanoseconds from the drop to the cause (negative: before), or the
    /// line distance (cause before the drop) for order-only matches.
    distance: i128,
    by_order: bool,
}

/// Finds every drop in `results` and its likely causes, in time order
/// (untimed drops after, by input and line). `offsets` (nanoseconds, by
/// input) line the inputs' clocks up.
pub fn find(engine: &Engine, results: &[InputResult], offsets: &[i128]) -> Vec<Drop> {
    let rules = &engine.rules.rules;
    let mut drops: Vec<(usize, At<'_>, Side)> = Vec::new();
    let mut by_rule: Vec<Vec<At<'_>>> = vec![Vec::new(); rules.len()];
    for (input, r) in results.iter().enumerate() {
        for (i, outcome) in r.rules.iter().enumerate() {
            let offset = offsets.get(input).copied().unwrap_or(0);
            for point in &outcome.points {
                let at = At::new(input, point, offset);
                if let Some(side) = rules[i].drop {
                    drops.push((i, at, side));
                }
                if rules[i].explains.is_some() {
                    by_rule[i].push(at);
                }
            }
        }
    }
    if drops.is_empty() {
        return Vec::new();
    }
    let indexes: Vec<CauseIndex<'_>> = rules
        .par_iter()
        .zip(by_rule)
        .enumerate()
        .filter_map(|(i, (rule, points))| CauseIndex::new(engine, i, rule, points))
        .collect();
    drops.sort_by_key(|(_, at, _)| (at.nanos().is_none(), at.nanos(), at.input, at.point.line));
    // Where the ids a drop reports are among the points' values: looked up
    // once, not per drop.
    let position = |name: &str| engine.point_fields.iter().position(|f| f == name);
    let (client, server, clients) = (
        position("connection"),
        position("server_connection"),
        position("ClientCount"),
    );
    let field = |p: &Point, at: Option<usize>| value(p, at).map(str::to_string);
    // Drops are independent: explained in parallel, collected in order.
    // Each worker reuses one list of candidates.
    drops
        .into_par_iter()
        .map_init(Vec::new, |candidates, (rule, at, side)| {
            candidates.clear();
            candidates.extend(
                indexes
                    .iter()
                    .filter(|x| {
                        x.rule
                            .explains
                            .as_ref()
                            .is_some_and(|e| e.drops.contains(&side))
                    })
                    .filter_map(|x| best(x, rule, at)),
            );
            candidates.sort_by(|a, b| {
                b.same
                    .cmp(&a.same)
                    .then(a.distance.abs().cmp(&b.distance.abs()))
                    .then(weight(b).total_cmp(&weight(a)))
            });
            candidates.truncate(MAX_CAUSES);
            let connection = match side {
                Side::Server => field(at.point, server),
                _ => field(at.point, client),
            };
            Drop {
                time: at.point.time.map(|t| t.to_string()),
                side: side.name(),
                connection,
                input: at.input,
                line: at.point.line,
                causes: candidates.iter().map(|c| cause(engine, c)).collect(),
                rule: rules[rule].id.clone(),
                server_connection: field(at.point, server),
                clients: value(at.point, clients)
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 1),
            }
        })
        .collect()
}

/// A point's value of the point field at `at`, if it has one.
fn value(p: &Point, at: Option<usize>) -> Option<&str> {
    p.values.get(at?)?.as_deref()
}

fn weight(c: &Candidate<'_>) -> f64 {
    c.index.rule.explains.as_ref().map_or(0.0, |x| x.weight)
}

/// The nearest occurrence of one explaining rule for a drop found by rule
/// `drop_rule`: sharing the `same` fields if any does, else on time (or
/// order) alone. A rule's occurrence does not explain itself; another
/// rule's on the same line may (the 401 that ends a long poll is the
/// expired token's evidence).
fn best<'a>(x: &'a CauseIndex<'a>, drop_rule: usize, drop: At<'a>) -> Option<Candidate<'a>> {
    let key = key(drop.point, &x.same);
    let is_self = |i: usize| {
        let p = &x.points[i];
        x.index == drop_rule && p.input == drop.input && p.point.line == drop.point.line
    };
    // Among points of the same key, those whose values differ (a hash
    // collision) are passed over like the drop itself.
    let not_shared = |i: usize| is_self(i) || !x.shares(i, drop.point);
    let candidate = |i: usize, same: bool, distance: i128, by_order: bool| Candidate {
        index: x,
        at: x.points[i],
        same,
        distance,
        by_order,
    };
    match drop.nanos() {
        Some(t) => {
            let (lo, hi) = (t + x.window.0, t + x.window.1);
            if let Some(k) = key
                && let Some((ct, i)) =
                    nearest_in(x.with_key(&x.timed_same, k), t, lo, hi, &not_shared)
            {
                return Some(candidate(i, true, ct - t, false));
            }
            nearest_in(&x.timed, t, lo, hi, &is_self)
                .map(|(ct, i)| candidate(i, false, ct - t, false))
        }
        None => {
            // No time: the nearest cause before the drop in the same input.
            let line = drop.point.line;
            let before = |list: &[(u64, usize)], skip: &dyn Fn(usize) -> bool| {
                let end = list.partition_point(|(l, _)| *l <= line);
                list[..end].iter().rev().find(|(_, i)| !skip(*i)).copied()
            };
            if let Some(k) = key
                && let Some((l, i)) = before(
                    x.with_key(x.of_input(&x.ordered_same, drop.input), k),
                    &not_shared,
                )
            {
                return Some(candidate(i, true, i128::from(line - l), true));
            }
            let (l, i) = before(x.of_input(&x.ordered, drop.input), &is_self)?;
            (line - l <= ORDER_LINES).then(|| candidate(i, false, i128::from(line - l), true))
        }
    }
}

/// The entry of a time-sorted list nearest to `t` within `lo..=hi` that is
/// not to be skipped (the drop itself).
fn nearest_in(
    list: &[(i128, usize)],
    t: i128,
    lo: i128,
    hi: i128,
    skip: &dyn Fn(usize) -> bool,
) -> Option<(i128, usize)> {
    let p = list.partition_point(|(ct, _)| *ct <= t);
    let before = list[..p]
        .iter()
        .rev()
        .take_while(|(ct, _)| *ct >= lo)
        .find(|(_, i)| !skip(*i));
    let after = list[p..]
        .iter()
        .take_while(|(ct, _)| *ct <= hi)
        .find(|(_, i)| !skip(*i));
    match (before, after) {
        (Some(b), Some(a)) => Some(if a.0 - t < t - b.0 { *a } else { *b }),
        (b, a) => b.or(a).copied(),
    }
}

fn cause(engine: &Engine, c: &Candidate<'_>) -> Cause {
    let rule = c.index.rule;
    let confidence = match (c.same, c.by_order) {
        (true, false) => "high",
        (true, true) => "medium",
        (false, false) if c.distance.abs() <= CLOSE_NANOS => "medium",
        _ => "low",
    };
    // One text, written in place: a drop list of tens of thousands of
    // causes made the pieces' own allocations a good part of the ranking.
    use std::fmt::Write;
    let mut why = String::with_capacity(rule.title.len() + 96);
    why.push_str(&rule.title);
    if c.same {
        for &f in &c.index.same {
            if let Some(v) = c.at.point.values.get(f).and_then(|v| v.as_deref()) {
                let _ = write!(why, ", same {} {v}", engine.point_fields[f]);
            }
        }
    }
    why.push_str(", ");
    if c.by_order {
        match c.distance {
            0 => why.push_str("on the same line (no timestamps: by order)"),
            n => {
                let s = if n == 1 { "" } else { "s" };
                let _ = write!(why, "{n} line{s} before the drop (no timestamps: by order)");
            }
        }
    } else {
        match c.distance {
            0 => why.push_str("at the same moment"),
            d if d < 0 => {
                push_duration(&mut why, -d as i64);
                why.push_str(" before the drop");
            }
            d => {
                push_duration(&mut why, d as i64);
                why.push_str(" after the drop");
            }
        }
    }
    Cause {
        rule: rule.id.clone(),
        confidence,
        evidence: vec![Evidence {
            input: c.at.input,
            line: c.at.point.line,
        }],
        why,
        time: c.at.point.time.map(|t| t.to_string()),
    }
}
