//! The correlation forms, run over the hits one input's scan kept.
//!
//! Hits are ordered by time when the input has timestamps, by line
//! otherwise. Semantics:
//! - `[match]`: every hit is an occurrence.
//! - `[count]`: per group, `at_least` hits within `window` make an
//!   occurrence; counting then starts afresh.
//! - `[sequence]`: per key, each first-step hit starts an instance that
//!   advances step by step: a step that comes sooner than its `after` ends
//!   the instance (it happened in time), one later than its `within` never
//!   comes; an `absent` step ends it when it happens within its window and
//!   is passed when the window elapses (or the input ends) without it.
//!   `where` is checked on the completed steps.
//! - `[trend]`: per group, a running count (+1 per up, -1 per down)
//!   sampled per `bucket`; a run of non-decreasing buckets that lasts
//!   `rising_for` and rises by `min_increase` is an occurrence.

use super::compile::{Piece, Step};
use super::cond::{EventLookup, Lookup};
use super::engine::{Engine, Hit, Kept, Point, Slot};
use super::{Form, Rule};
use crate::event::{Value, format_duration};
use crate::redact::redact;
use crate::time::Timestamp;
use rayon::prelude::*;
use std::collections::HashMap;

/// One occurrence of a rule in one input.
#[derive(Debug, Clone)]
pub struct Occurrence {
    /// Index of the rule in the engine.
    pub rule: usize,
    /// The input.
    pub input: usize,
    /// The line it is reported at.
    pub line: u64,
    /// When.
    pub time: Option<Timestamp>,
    /// One line saying what happened (redacted).
    pub summary: String,
    /// Named values: captures, the join key, measured gaps (redacted).
    pub fields: Vec<(String, String)>,
    /// Lines that show it: its own events and the rule's evidence.
    pub evidence: Vec<EvidenceLine>,
}

/// A line shown as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceLine {
    /// The input.
    pub input: usize,
    /// The line.
    pub line: u64,
    /// When.
    pub time: Option<Timestamp>,
    /// A redacted excerpt.
    pub text: String,
}

/// What one rule found in one input.
#[derive(Debug, Clone, Default)]
pub struct RuleOutcome {
    /// Occurrences in total (may exceed `occurrences.len()` for match rules).
    pub count: u64,
    /// The occurrences kept.
    pub occurrences: Vec<Occurrence>,
    /// The earliest and latest occurrence times.
    pub first: Option<Timestamp>,
    /// See `first`.
    pub last: Option<Timestamp>,
    /// What the user should know (hits not all kept, untimed input).
    pub notes: Vec<String>,
    /// Every occurrence as a point, for rules that are drops or causes
    /// (all of them, not only the rendered ones).
    pub points: Vec<Point>,
}

/// How long an excerpt of a message may be.
const EXCERPT: usize = 200;

/// A one-line, redacted excerpt of an event's message.
pub fn excerpt(hit: &Hit) -> String {
    let event = hit.event();
    let msg = event.message.trim();
    let first = msg.lines().next().unwrap_or("");
    let mut s: String = first.chars().take(EXCERPT).collect();
    if s.len() < first.len() || msg.lines().nth(1).is_some() {
        s.push('…');
    }
    if s.trim().is_empty() {
        s = event
            .exception
            .as_deref()
            .and_then(|e| e.lines().next())
            .unwrap_or("")
            .chars()
            .take(EXCERPT)
            .collect();
    }
    redact(&s).into_owned()
}

fn evidence_line(input: usize, hit: &Hit) -> EvidenceLine {
    EvidenceLine {
        input,
        line: hit.line(),
        time: hit.time(),
        text: excerpt(hit),
    }
}

fn nanos_between(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<i64> {
    let (a, b) = (a?.sort_key(), b?.sort_key());
    Some((b.0 - a.0) * 1_000_000_000 + i64::from(b.1) - i64::from(a.1))
}

/// Field values of a hit for keys and groups.
fn key_of(hit: &Hit, names: &[String], input: usize, format: &'static str) -> Option<String> {
    if names.is_empty() {
        // Ungrouped: one key for all, and no event to look at.
        return Some(String::new());
    }
    let event = hit.event();
    let lookup = EventLookup::new(&event, input, format, hit.captures());
    let mut parts = Vec::with_capacity(names.len());
    for n in names {
        parts.push(lookup.get(n)?.to_text());
    }
    Some(parts.join("\u{1f}"))
}

/// Runs every rule's form over what the scan kept for input `input`.
/// `end` is the input's last timestamp (absent steps pass at the end).
/// The match rules' points are moved out of `kept` into the outcomes.
pub fn correlate(
    engine: &Engine,
    input: usize,
    format: &'static str,
    kept: &mut Kept,
    end: Option<Timestamp>,
) -> Vec<RuleOutcome> {
    let mut main_points: Vec<Vec<Point>> = vec![Vec::new(); engine.len()];
    for (p, hits) in kept.preds.iter_mut().enumerate() {
        if engine.preds[p].slot == Slot::Main {
            main_points[engine.preds[p].rule] = std::mem::take(&mut hits.points);
        }
    }
    let mut by_rule: Vec<Vec<(Slot, &super::engine::PredHits)>> = vec![Vec::new(); engine.len()];
    for (p, hits) in kept.preds.iter().enumerate() {
        by_rule[engine.preds[p].rule].push((engine.preds[p].slot, hits));
    }
    let cx = Cx {
        input,
        format,
        end,
        max: engine.max_occurrences,
    };
    // Rules are independent: correlate them in parallel.
    engine
        .rules
        .rules
        .par_iter()
        .zip(by_rule)
        .zip(main_points)
        .enumerate()
        .map(|(i, ((rule, preds), kept_points))| {
            let mut out = run(&cx, i, rule, &preds);
            if rule.drop.is_some() || rule.explains.is_some() {
                out.points = points(engine, rule, kept_points, &out.occurrences);
            }
            out.occurrences.truncate(cx.max);
            for (slot, h) in &preds {
                if *slot != Slot::Main && h.count > h.hits.len() as u64 {
                    out.notes.push(format!(
                        "rule `{}`: only the first {} of {} matching events were correlated",
                        rule.id,
                        h.hits.len(),
                        h.count
                    ));
                }
            }
            if !out.occurrences.is_empty() {
                add_evidence(&cx, rule, &preds, &mut out.occurrences);
            }
            out
        })
        .collect()
}

/// A drop or cause rule's occurrences as points: a match rule's were kept
/// by the scan (every hit); other forms' are their occurrences.
fn points(
    engine: &Engine,
    rule: &Rule,
    kept: Vec<Point>,
    occurrences: &[Occurrence],
) -> Vec<Point> {
    if matches!(rule.form, Form::Match(_)) {
        return kept;
    }
    occurrences
        .iter()
        .map(|o| Point {
            line: o.line,
            time: o.time,
            values: engine
                .point_fields
                .iter()
                .map(|f| {
                    o.fields
                        .iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.clone().into_boxed_str())
                })
                .collect(),
        })
        .collect()
}

/// Runs the sequence rule `index` over the hits of several inputs at once,
/// on the aligned clock, so that its steps may come from different inputs
/// (a negotiate in the browser's HAR, a drop in the app log). `parts` are
/// (input, format, kept, clock offset); `end` is the latest aligned time
/// of them (absent steps pass there). Every occurrence is returned, with
/// its input and line as the inputs number them.
pub fn correlate_across(
    engine: &Engine,
    index: usize,
    parts: &[(usize, &'static str, &Kept, i128)],
    end: Option<Timestamp>,
) -> Vec<Occurrence> {
    let rule = &engine.rules.rules[index];
    let mut merged: Vec<(Slot, super::engine::PredHits)> = Vec::new();
    for (p, pred) in engine.preds.iter().enumerate() {
        if pred.rule != index {
            continue;
        }
        let mut all = super::engine::PredHits::default();
        for (input, _, kept, offset) in parts {
            let h = &kept.preds[p];
            all.count += h.count;
            all.hits
                .extend(h.hits.iter().map(|hit| hit.relocated(*input, *offset)));
        }
        merged.push((pred.slot, all));
    }
    let refs: Vec<(Slot, &super::engine::PredHits)> = merged.iter().map(|(s, h)| (*s, h)).collect();
    let cx = Cx {
        input: 0,
        format: parts.first().map_or("", |p| p.1),
        end,
        max: usize::MAX,
    };
    let mut out = run(&cx, index, rule, &refs);
    if !out.occurrences.is_empty() {
        add_evidence(&cx, rule, &refs, &mut out.occurrences);
    }
    for o in &mut out.occurrences {
        (o.input, o.line) = super::engine::split_line(o.line);
        for e in &mut o.evidence {
            (e.input, e.line) = super::engine::split_line(e.line);
        }
    }
    out.occurrences
}

struct Cx {
    input: usize,
    format: &'static str,
    end: Option<Timestamp>,
    /// Occurrences rendered in full per rule; the rest are only counted.
    max: usize,
}

/// Hits of the given slots, in time order (line order without times),
/// tagged with their slot and their time as nanoseconds since the epoch.
fn ordered<'h>(
    preds: &[(Slot, &'h super::engine::PredHits)],
    want: impl Fn(Slot) -> bool,
    absent_first: bool,
) -> Vec<(Option<i64>, Slot, &'h Hit)> {
    let total = preds
        .iter()
        .filter(|(s, _)| want(*s))
        .map(|(_, h)| h.hits.len())
        .sum();
    ordered_into(
        preds,
        want,
        absent_first,
        || Vec::with_capacity(total),
        |out, at, slot, hit| out.push((at, slot, hit)),
    )
}

/// Gives the hits [`ordered`] lists to `each`, one by one, in that order,
/// and returns what `each` made of them in the state `new` starts. Nothing
/// is listed: a trend of 295,544 hits needs no list of them.
fn ordered_into<'h, S>(
    preds: &[(Slot, &'h super::engine::PredHits)],
    want: impl Fn(Slot) -> bool,
    absent_first: bool,
    new: impl Fn() -> S,
    mut each: impl FnMut(&mut S, Option<i64>, Slot, &'h Hit),
) -> S {
    // Later steps first for one event: it may advance an instance before
    // starting a new one. An absent first step goes first: an event that
    // is both the evidence against and the trigger does not trigger.
    let step_rank = |s: Slot| match s {
        Slot::Step(0) if absent_first => 0,
        Slot::Step(n) => usize::MAX - n,
        _ => 0,
    };
    // (time, line, step rank): the order.
    let key = |s: Slot, hit: &Hit| {
        // Nanoseconds fit an i64 until 2262; later times saturate.
        let at = hit
            .time()
            .map(|t| i64::try_from(t.nanos()).unwrap_or(i64::MAX));
        (at, hit.line(), step_rank(s))
    };
    let lists: Vec<(Slot, &'h [Hit])> = preds
        .iter()
        .filter(|(s, _)| want(*s))
        .map(|(s, h)| (*s, &h.hits[..]))
        .collect();
    // Each list is in line order, in a log with ordered times usually
    // sorted already: merged then, in one pass. A trend of 295,544 hits
    // took 23 ms to order when its keys were listed and sorted; merged,
    // 12 ms. A list out of order is found during the merge: what `each`
    // made so far is dropped, and the sorted hits are given again.
    let mut state = new();
    if merge(&lists, &key, |at, slot, hit| {
        each(&mut state, at, slot, hit)
    }) {
        return state;
    }
    let mut keyed: Vec<_> = lists
        .iter()
        .flat_map(|&(s, hits)| hits.iter().map(move |h| (key(s, h), s, h)))
        .collect();
    keyed.sort_by_key(|e| e.0);
    let mut state = new();
    for (k, slot, hit) in keyed {
        each(&mut state, k.0, slot, hit);
    }
    state
}

/// Gives `each` the hits of `lists` merged by `key`, as a stable sort of
/// them all would order them (on equal keys, the earlier list's first);
/// `false` as soon as a list proves not to be in key order.
fn merge<'h>(
    lists: &[(Slot, &'h [Hit])],
    key: &impl Fn(Slot, &Hit) -> (Option<i64>, u64, usize),
    mut each: impl FnMut(Option<i64>, Slot, &'h Hit),
) -> bool {
    let mut next = vec![0; lists.len()];
    let mut heads: Vec<_> = lists
        .iter()
        .map(|(s, hits)| hits.first().map(|h| key(*s, h)))
        .collect();
    while let Some(l) = (0..lists.len())
        .filter(|&l| heads[l].is_some())
        .min_by_key(|&l| heads[l])
    {
        let (slot, hits) = lists[l];
        let head = heads[l];
        each(head.and_then(|k| k.0), slot, &hits[next[l]]);
        next[l] += 1;
        heads[l] = hits.get(next[l]).map(|h| key(slot, h));
        if heads[l].is_some() && heads[l] < head {
            return false;
        }
    }
    true
}

fn run(
    cx: &Cx,
    index: usize,
    rule: &Rule,
    preds: &[(Slot, &super::engine::PredHits)],
) -> RuleOutcome {
    let mut out = RuleOutcome::default();
    match &rule.form {
        Form::Match(_) => {
            if let Some((_, h)) = preds.iter().find(|(s, _)| *s == Slot::Main) {
                out.count = h.count;
                for hit in &h.hits {
                    let occ = occurrence(
                        cx,
                        index,
                        rule,
                        hit,
                        &[],
                        vec![evidence_line(cx.input, hit)],
                    );
                    out.occurrences.push(occ);
                }
                let times = h.hits.iter().chain(h.last.as_ref()).filter_map(Hit::time);
                out.first = times.clone().min();
                out.last = times.max();
                return out;
            }
        }
        Form::Count {
            at_least,
            window,
            group_by,
            ..
        } => {
            let hits = ordered(preds, |s| s == Slot::Main, false);
            let mut groups: HashMap<String, Vec<&Hit>> = HashMap::new();
            for (_, _, hit) in hits {
                let Some(key) = key_of(hit, group_by, cx.input, cx.format) else {
                    continue;
                };
                let run = groups.entry(key.clone()).or_default();
                run.push(hit);
                if let Some(t) = hit.time() {
                    // The run is in time order, untimed hits first: those
                    // that fell out of the window are a prefix of its timed
                    // part. (Tested hit by hit, a dense rule's runs made
                    // this quadratic: 34,483 hits took 6.5 ms.)
                    let untimed = run.partition_point(|h| h.time().is_none());
                    let gone = run[untimed..].partition_point(|h| {
                        nanos_between(h.time(), Some(t)).is_some_and(|d| d > *window)
                    });
                    run.drain(untimed..untimed + gone);
                }
                if run.len() as u64 >= *at_least {
                    if out.occurrences.len() >= cx.max {
                        out.occurrences.push(light(index, cx.input, hit));
                        run.clear();
                        continue;
                    }
                    let evidence = run.iter().map(|h| evidence_line(cx.input, h)).collect();
                    let mut fields = Vec::new();
                    if !group_by.is_empty() {
                        fields.push((group_by.join(","), key.replace('\u{1f}', ", ")));
                    }
                    fields.push(("count".to_string(), run.len().to_string()));
                    if let (Some(a), Some(b)) = (run.first().and_then(|h| h.time()), hit.time()) {
                        fields.push((
                            "span".to_string(),
                            format_duration(nanos_between(Some(a), Some(b)).unwrap_or(0)),
                        ));
                    }
                    out.occurrences
                        .push(occurrence(cx, index, rule, hit, &fields, evidence));
                    run.clear();
                }
            }
        }
        Form::Sequence { key, steps, where_ } => {
            sequence(
                cx,
                index,
                rule,
                key.as_deref(),
                steps,
                where_.as_ref(),
                preds,
                &mut out,
            );
        }
        Form::Trend {
            bucket,
            rising_for,
            min_increase,
            group_by,
            ..
        } => {
            let mut trend = trend_groups(cx, preds, group_by, *bucket);
            if trend.untimed {
                out.notes.push(format!(
                    "rule `{}`: a trend needs timestamps; events without them were left out",
                    rule.id
                ));
            }
            trend.groups.sort_by(|a, b| a.key.cmp(&b.key));
            for g in &trend.groups {
                rises(
                    cx,
                    index,
                    rule,
                    g,
                    *bucket,
                    *rising_for,
                    *min_increase,
                    &mut out,
                );
            }
        }
    }
    out.count = out.occurrences.len() as u64;
    out.first = out.occurrences.iter().filter_map(|o| o.time).min();
    out.last = out.occurrences.iter().filter_map(|o| o.time).max();
    out
}

/// A trend's groups, made as its hits go by (one when ungrouped, which
/// looks no key up: it may see hundreds of thousands of hits).
#[derive(Default)]
struct Trend<'h> {
    groups: Vec<TrendGroup<'h>>,
    by_key: HashMap<String, usize>,
    /// Some hits had no time (and were left out).
    untimed: bool,
}

/// The groups of a trend over the up and down hits of `preds`.
fn trend_groups<'h>(
    cx: &Cx,
    preds: &[(Slot, &'h super::engine::PredHits)],
    group_by: &[String],
    bucket: i64,
) -> Trend<'h> {
    let want = |s: Slot| matches!(s, Slot::Up | Slot::Down);
    ordered_into(preds, want, false, Trend::default, |t, at, slot, hit| {
        let Some(at) = at else {
            t.untimed = true;
            return;
        };
        let g = if group_by.is_empty() {
            if t.groups.is_empty() {
                t.groups.push(TrendGroup::new(String::new(), at));
            }
            0
        } else {
            let Some(key) = key_of(hit, group_by, cx.input, cx.format) else {
                return;
            };
            match t.by_key.get(&key) {
                Some(&g) => g,
                None => {
                    t.by_key.insert(key.clone(), t.groups.len());
                    t.groups.push(TrendGroup::new(key, at));
                    t.groups.len() - 1
                }
            }
        };
        t.groups[g].add(at, slot == Slot::Up, hit, bucket);
    })
}

/// One group of a trend: its key, its running count, and the count at the
/// end of each bucket. Bucket 0 is the zero the count starts from; bucket
/// b > 0 holds the count at the end of the (b-1)th bucket-long period from
/// the group's first hit, and the last hit in that period.
struct TrendGroup<'h> {
    key: String,
    level: i64,
    start: i64,
    values: Vec<i64>,
    anchors: Vec<Option<&'h Hit>>,
}

impl<'h> TrendGroup<'h> {
    fn new(key: String, start: i64) -> Self {
        TrendGroup {
            key,
            level: 0,
            start,
            values: vec![0],
            anchors: vec![None],
        }
    }

    /// Counts a hit (`up` or down) at `at`, no earlier than the last.
    fn add(&mut self, at: i64, up: bool, hit: &'h Hit, bucket: i64) {
        self.level += if up { 1 } else { -1 };
        let b = ((at - self.start) / bucket) as usize + 1;
        if self.values.len() <= b {
            // Periods without hits keep the count of the one before.
            let carried = self.values[self.values.len() - 1];
            self.values.resize(b + 1, carried);
            self.anchors.resize(b + 1, None);
        }
        self.values[b] = self.level;
        self.anchors[b] = Some(hit);
    }
}

/// Every stretch of `g`'s buckets where its count never falls, lasts at
/// least `rising_for` and rises by at least `min_increase`.
#[allow(clippy::too_many_arguments)]
fn rises(
    cx: &Cx,
    index: usize,
    rule: &Rule,
    g: &TrendGroup<'_>,
    bucket: i64,
    rising_for: i64,
    min_increase: i64,
    out: &mut RuleOutcome,
) {
    let (values, anchors) = (&g.values, &g.anchors);
    let mut run_start = 0;
    for b in 1..=values.len() {
        let ends = b == values.len() || values[b] < values[b - 1];
        if !ends {
            continue;
        }
        let end = b - 1;
        let span = (end - run_start) as i64 * bucket;
        let rise = values[end] - values[run_start];
        if span >= rising_for
            && rise >= min_increase
            && let Some(hit) = anchors[..=end].iter().rev().flatten().next()
        {
            let fields = vec![
                ("from".to_string(), values[run_start].to_string()),
                ("to".to_string(), values[end].to_string()),
                ("over".to_string(), format_duration(span)),
            ];
            let mut occ = occurrence(
                cx,
                index,
                rule,
                hit,
                &fields,
                vec![evidence_line(cx.input, hit)],
            );
            if rule.summary.is_none() {
                occ.summary = format!(
                    "rose from {} to {} over {}",
                    values[run_start],
                    values[end],
                    format_duration(span)
                );
            }
            out.occurrences.push(occ);
        }
        run_start = b;
    }
}

struct Instance<'h> {
    next: usize,
    matched: Vec<Option<&'h Hit>>,
    last: &'h Hit,
}

#[allow(clippy::too_many_arguments)]
fn sequence(
    cx: &Cx,
    index: usize,
    rule: &Rule,
    key: Option<&str>,
    steps: &[Step],
    where_: Option<&super::cond::Cond>,
    preds: &[(Slot, &super::engine::PredHits)],
    out: &mut RuleOutcome,
) {
    const MAX_LIVE: usize = 64;
    // A step that must happen and never did: no instance can complete.
    // Said before any hit is keyed, as the other steps may have hundreds
    // of thousands (221,183 "connected" events and no failure: 10.8 ms).
    let never = |i: usize| {
        preds
            .iter()
            .all(|(slot, h)| *slot != Slot::Step(i) || h.hits.is_empty())
    };
    if (0..steps.len()).any(|i| !steps[i].absent && never(i)) {
        return;
    }
    let absent_first = steps.first().is_some_and(|s| s.absent);
    // With an absent first step, instances start at the second step.
    let first = usize::from(absent_first);
    let ends_absent = steps.last().is_some_and(|s| s.absent);
    let hits = ordered(preds, |s| matches!(s, Slot::Step(_)), absent_first);
    let names: Vec<String> = key.map(|k| vec![k.to_string()]).unwrap_or_default();
    let mut live: HashMap<String, Vec<Instance>> = HashMap::new();
    let mut done: Vec<Instance> = Vec::new();
    // Per key: when the absent first step last happened.
    let mut seen_absent: HashMap<String, Option<Timestamp>> = HashMap::new();
    for (_, slot, hit) in hits {
        let Slot::Step(s) = slot else { continue };
        let Some(k) = key_of(hit, &names, cx.input, cx.format) else {
            continue;
        };
        if absent_first && s == 0 {
            seen_absent.insert(k, hit.time());
            continue;
        }
        if s != first && live.get(&k).is_none_or(Vec::is_empty) {
            // Nothing under way for this key: a later step has nothing to
            // advance (most hits of an absent step are like this).
            continue;
        }
        let group = live.entry(k.clone()).or_default();
        pass_elapsed_absences(group, steps, hit.time(), &mut done);
        let mut keep = Vec::with_capacity(group.len() + 1);
        for mut inst in group.drain(..) {
            let step = &steps[inst.next];
            let gap = nanos_between(inst.last.time(), hit.time());
            if step.absent {
                if s == inst.next {
                    continue; // what must not happen happened
                }
                if s == inst.next + 1 {
                    inst.matched[s] = Some(hit);
                    inst.last = hit;
                    inst.next += 2;
                }
            } else if s == inst.next {
                if gap.is_some_and(|g| step.within.is_some_and(|w| g > w)) {
                    continue; // too late: this instance will never complete
                }
                if gap.is_some_and(|g| step.after.is_some_and(|a| g < a)) {
                    continue; // in time: the gap this rule looks for did not occur
                }
                inst.matched[s] = Some(hit);
                inst.last = hit;
                inst.next += 1;
            }
            if inst.next >= steps.len() {
                done.push(inst);
            } else {
                keep.push(inst);
            }
        }
        let excluded = absent_first
            && seen_absent.get(&k).is_some_and(|when| {
                match (steps[0].within, nanos_between(*when, hit.time())) {
                    (Some(w), Some(g)) => g <= w,
                    _ => true,
                }
            });
        // While one instance waits out an absence, the same key does not
        // start another: one outage is one occurrence.
        let waiting = ends_absent && !keep.is_empty();
        if s == first && !excluded && !waiting {
            let mut matched = vec![None; steps.len()];
            matched[s] = Some(hit);
            let inst = Instance {
                next: s + 1,
                matched,
                last: hit,
            };
            if inst.next >= steps.len() {
                done.push(inst);
            } else {
                keep.push(inst);
            }
        }
        if keep.len() > MAX_LIVE {
            keep.drain(..keep.len() - MAX_LIVE);
        }
        *group = keep;
    }
    // The input ended: absent steps whose window elapsed (or that cannot be
    // timed) are passed.
    for group in live.values_mut() {
        for inst in group.drain(..) {
            if steps[inst.next].absent && inst.next + 1 == steps.len() {
                let elapsed = match (
                    steps[inst.next].within,
                    nanos_between(inst.last.time(), cx.end),
                ) {
                    (Some(w), Some(g)) => g >= w,
                    _ => true,
                };
                if elapsed {
                    done.push(Instance {
                        next: steps.len(),
                        ..inst
                    });
                }
            }
        }
    }
    done.sort_by_key(|i| (i.last.time().map(|t| t.sort_key()), i.last.line()));
    for inst in done {
        let named: Vec<(&str, &Hit)> = steps
            .iter()
            .zip(&inst.matched)
            .filter_map(|(s, h)| h.map(|h| (s.name.as_str(), h)))
            .collect();
        let lookup = StepsLookup {
            steps: &named,
            input: cx.input,
            format: cx.format,
        };
        if let Some(w) = where_
            && !w.test(&lookup, &mut Vec::new())
        {
            continue;
        }
        let anchor = named.last().expect("a sequence has a first step").1;
        if out.occurrences.len() >= cx.max {
            out.occurrences.push(light(index, cx.input, anchor));
            continue;
        }
        let mut fields = Vec::new();
        if let Some(k) = key
            && let Some(v) = lookup.get(&format!("{}.{k}", named[0].0))
        {
            fields.push((k.to_string(), redact(&v.to_text()).into_owned()));
        }
        for pair in named.windows(2) {
            if let Some(g) = nanos_between(pair[0].1.time(), pair[1].1.time()) {
                fields.push((
                    format!("{}_to_{}", pair[0].0, pair[1].0),
                    format_duration(g),
                ));
            }
        }
        for (name, h) in &named {
            for (k, v) in h.captures() {
                fields.push((format!("{name}.{k}"), redact(v).into_owned()));
            }
        }
        let evidence = named
            .iter()
            .map(|(_, h)| evidence_line(cx.input, h))
            .collect();
        let anchor = named.last().expect("a sequence has a first step").1;
        let mut occ = occurrence(cx, index, rule, anchor, &fields, evidence);
        if let Some(t) = &rule.summary {
            occ.summary = render(t, &lookup);
        }
        out.occurrences.push(occ);
    }
}

/// Instances waiting at an absent step whose window has elapsed by `now`
/// pass it (and finish when it was the last step).
fn pass_elapsed_absences<'h>(
    group: &mut Vec<Instance<'h>>,
    steps: &[Step],
    now: Option<Timestamp>,
    done: &mut Vec<Instance<'h>>,
) {
    let mut i = 0;
    while i < group.len() {
        let inst = &group[i];
        let step = &steps[inst.next];
        let elapsed = step.absent
            && step
                .within
                .is_some_and(|w| nanos_between(inst.last.time(), now).is_some_and(|g| g > w));
        if !elapsed {
            i += 1;
        } else if inst.next + 1 == steps.len() {
            let mut inst = group.swap_remove(i);
            inst.next = steps.len();
            done.push(inst);
        } else {
            // Passed the absence: now wait for the step after it.
            group[i].next += 1;
        }
    }
}

/// `step.field` lookups over a completed sequence.
struct StepsLookup<'a> {
    steps: &'a [(&'a str, &'a Hit)],
    input: usize,
    format: &'static str,
}

impl Lookup for StepsLookup<'_> {
    fn get(&self, name: &str) -> Option<Value<'_>> {
        let (step, field) = name.split_once('.')?;
        let (_, hit) = self.steps.iter().find(|(s, _)| *s == step)?;
        let event = hit.event();
        EventLookup::new(&event, self.input, self.format, hit.captures())
            .get(field)
            .map(Value::into_owned)
    }
}

fn render(pieces: &[Piece], lookup: &dyn Lookup) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Expr(c) => s.push_str(
                &c.value(lookup)
                    .map_or_else(|| "?".to_string(), |v| v.to_text()),
            ),
        }
    }
    redact(&s).into_owned()
}

/// An occurrence that is counted but not shown (past `--max-occurrences`).
fn light(rule: usize, input: usize, anchor: &Hit) -> Occurrence {
    Occurrence {
        rule,
        input,
        line: anchor.line(),
        time: anchor.time(),
        summary: String::new(),
        fields: Vec::new(),
        evidence: Vec::new(),
    }
}

fn occurrence(
    cx: &Cx,
    index: usize,
    rule: &Rule,
    anchor: &Hit,
    fields: &[(String, String)],
    evidence: Vec<EvidenceLine>,
) -> Occurrence {
    let event = anchor.event();
    let lookup = EventLookup::new(&event, cx.input, cx.format, anchor.captures());
    let summary = match &rule.summary {
        Some(t) if !matches!(rule.form, Form::Sequence { .. }) => render(t, &lookup),
        _ => excerpt(anchor),
    };
    let mut all = fields.to_vec();
    let recognized = lookup.recognized().map_or(&[][..], |r| &r.fields[..]);
    let captures = anchor
        .captures()
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in captures.chain(recognized.iter().copied()) {
        if !all
            .iter()
            .any(|(n, _)| n == k || n.ends_with(&format!(".{k}")))
        {
            all.push((k.to_string(), redact(v).into_owned()));
        }
    }
    // The ids a captured request carries as fields (the timeline and the
    // `--connection`/`--hub` filters look for them).
    for k in ["connection", "server_connection", "hub"] {
        if !all.iter().any(|(n, _)| n == k)
            && let Some(v) = lookup.get(k)
        {
            all.push((k.to_string(), redact(&v.to_text()).into_owned()));
        }
    }
    Occurrence {
        rule: index,
        input: cx.input,
        line: anchor.line(),
        time: anchor.time(),
        summary,
        fields: all,
        evidence,
    }
}

/// Adds the rule's `[[evidence]]` hits near each occurrence (by time, or
/// the 50 lines before it when the input has no timestamps).
fn add_evidence(
    cx: &Cx,
    rule: &Rule,
    preds: &[(Slot, &super::engine::PredHits)],
    occs: &mut [Occurrence],
) {
    const PER_BLOCK: usize = 5;
    for (n, spec) in rule.evidence.iter().enumerate() {
        let Some((_, hits)) = preds.iter().find(|(s, _)| *s == Slot::Evidence(n)) else {
            continue;
        };
        for occ in occs.iter_mut() {
            let near: Vec<&Hit> = hits
                .hits
                .iter()
                .filter(|h| match (occ.time, h.time()) {
                    (Some(_), Some(_)) => nanos_between(occ.time, h.time())
                        .is_some_and(|d| d >= spec.window.0 && d <= spec.window.1),
                    _ => h.line() <= occ.line && h.line() + 50 >= occ.line,
                })
                .collect();
            for h in near.iter().rev().take(PER_BLOCK).rev() {
                let line = evidence_line(cx.input, h);
                if !occ.evidence.contains(&line) {
                    occ.evidence.push(line);
                }
            }
        }
    }
    for occ in occs.iter_mut() {
        occ.evidence.sort_by_key(|e| e.line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::engine::PredHits;

    /// Pseudo-random numbers below `n`, from `seed`.
    fn numbers(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        }
    }

    /// How many rounds of a test gave the hits in time order (merged) and
    /// how many not (sorted): both ways must be tried.
    #[derive(Default)]
    struct Ways {
        merged: u32,
        sorted: u32,
    }

    impl Ways {
        fn count(&mut self, lists: &[PredHits]) {
            let in_time_order = |h: &PredHits| {
                h.hits
                    .is_sorted_by_key(|x| (x.time().map(|t| t.nanos()), x.line()))
            };
            if lists.iter().all(in_time_order) {
                self.merged += 1;
            } else {
                self.sorted += 1;
            }
        }

        /// Each way was taken more than `n` times.
        fn assert_both_over(&self, n: u32) {
            assert!(
                self.merged > n && self.sorted > n,
                "both ways tried: {} merged, {} sorted",
                self.merged,
                self.sorted
            );
        }
    }

    #[test]
    fn ordering_is_a_stable_sort_by_time_line_and_step() {
        let mut next = numbers(11);
        let mut ways = Ways::default();
        for round in 0..300 {
            // Three steps' hits; lines shared between lists now and then
            // (one event, several steps), times sometimes going back.
            let lists: Vec<PredHits> = (0..3)
                .map(|_| {
                    let mut line = 0;
                    let mut second = 0;
                    let hits = (0..next(7))
                        .map(|_| {
                            line += next(3);
                            second = if round % 3 == 0 {
                                next(5)
                            } else {
                                second + next(2)
                            };
                            let t = crate::time::parse(&format!("10:00:0{second}"));
                            Hit::compact(line, t.filter(|_| next(9) > 0))
                        })
                        .collect();
                    PredHits {
                        hits,
                        ..PredHits::default()
                    }
                })
                .collect();
            let preds: Vec<(Slot, &PredHits)> = lists
                .iter()
                .enumerate()
                .map(|(n, h)| (Slot::Step(n), h))
                .collect();
            let absent_first = round % 2 == 0;
            let rank = |n: usize| {
                if n == 0 && absent_first {
                    0
                } else {
                    usize::MAX - n
                }
            };
            let mut want: Vec<(Option<i64>, u64, usize)> = lists
                .iter()
                .enumerate()
                .flat_map(|(n, h)| {
                    h.hits.iter().map(move |hit| {
                        let at = hit.time().map(|t| t.nanos() as i64);
                        (at, hit.line(), n)
                    })
                })
                .collect();
            want.sort_by_key(|&(at, line, n)| (at, line, rank(n)));
            let got: Vec<(Option<i64>, u64, usize)> = ordered(&preds, |_| true, absent_first)
                .into_iter()
                .map(|(at, slot, hit)| {
                    let Slot::Step(n) = slot else { unreachable!() };
                    (at, hit.line(), n)
                })
                .collect();
            assert_eq!(got, want, "round {round}");
            ways.count(&lists);
        }
        ways.assert_both_over(50);
    }

    #[test]
    fn hits_are_ordered_by_time_then_line_whether_lists_are_sorted_or_not() {
        let at = |s: &str| crate::time::parse(s);
        let hits = |v: &[(u64, &str)]| PredHits {
            hits: v.iter().map(|&(l, t)| Hit::compact(l, at(t))).collect(),
            ..PredHits::default()
        };
        let up = hits(&[(1, "10:00:01"), (4, "10:00:03"), (6, "10:00:03")]);
        let down = hits(&[(2, "10:00:02"), (4, "10:00:03"), (5, "10:00:03")]);
        // Times that go back: the sort, not the merge.
        let late = hits(&[(3, "10:00:09"), (7, "10:00:00")]);
        let lines = |preds: &[(Slot, &PredHits)]| -> Vec<u64> {
            ordered(preds, |_| true, false)
                .iter()
                .map(|(_, _, h)| h.line())
                .collect()
        };
        assert_eq!(
            lines(&[(Slot::Up, &up), (Slot::Down, &down)]),
            [1, 2, 4, 4, 5, 6]
        );
        // One event in both lists: the earlier list's first, as a stable
        // sort has it.
        let slots: Vec<Slot> = ordered(&[(Slot::Down, &down), (Slot::Up, &up)], |_| true, false)
            .iter()
            .map(|(_, s, _)| *s)
            .collect();
        assert_eq!(slots[2..4], [Slot::Down, Slot::Up]);
        assert_eq!(
            lines(&[(Slot::Up, &up), (Slot::Down, &late)]),
            [7, 1, 4, 6, 3]
        );
    }

    /// The trend's per-bucket counts, made from the hits as they go by,
    /// are those of a direct count over the sorted hits — also when a list
    /// is out of time order and the hits are given again sorted.
    #[test]
    fn trend_buckets_count_the_sorted_hits_whatever_their_order() {
        let cx = Cx {
            input: 0,
            format: "ilogger-simple",
            end: None,
            max: 10,
        };
        let at = |sec: u32| crate::time::parse(&format!("10:{:02}:{:02}", sec / 60, sec % 60));
        let mut next = numbers(7);
        let bucket = 60_000_000_000; // one minute
        let mut ways = Ways::default();
        for round in 0..200 {
            let lists: Vec<PredHits> = (0..2)
                .map(|_| {
                    let mut sec = 0;
                    let hits = (0..next(40))
                        .map(|line| {
                            sec = if round % 4 == 0 {
                                next(600) as u32
                            } else {
                                sec + next(50) as u32
                            };
                            Hit::compact(line * 2, at(sec).filter(|_| next(20) > 0))
                        })
                        .collect();
                    PredHits {
                        hits,
                        ..PredHits::default()
                    }
                })
                .collect();
            let preds = [(Slot::Up, &lists[0]), (Slot::Down, &lists[1])];
            let trend = trend_groups(&cx, &preds, &[], bucket);
            // The direct count: every timed hit, sorted, bucket by bucket.
            let mut all: Vec<(i64, u64, i64)> = lists
                .iter()
                .zip([1, -1])
                .flat_map(|(h, step)| {
                    h.hits
                        .iter()
                        .filter_map(move |hit| Some((hit.time()?.nanos() as i64, hit.line(), step)))
                })
                .collect();
            all.sort();
            let untimed = lists
                .iter()
                .any(|h| h.hits.iter().any(|x| x.time().is_none()));
            assert_eq!(trend.untimed, untimed, "round {round}");
            let Some(&(start, _, _)) = all.first() else {
                assert!(trend.groups.is_empty());
                continue;
            };
            let last = ((all[all.len() - 1].0 - start) / bucket) as usize + 1;
            let mut want = vec![0i64; last + 1];
            let mut anchors = vec![None; last + 1];
            let mut level = 0;
            for &(t, line, step) in &all {
                level += step;
                let b = ((t - start) / bucket) as usize + 1;
                want[b..].iter_mut().for_each(|v| *v = level);
                anchors[b] = Some(line);
            }
            let [g] = &trend.groups[..] else {
                panic!("one group")
            };
            assert_eq!(g.values, want, "round {round}");
            let got: Vec<Option<u64>> = g.anchors.iter().map(|a| a.map(Hit::line)).collect();
            assert_eq!(got, anchors, "round {round}");
            ways.count(&lists);
        }
        ways.assert_both_over(30);
    }
}
