//! Running rules over events inside the parallel parse.
//!
//! Every single-event condition of every rule (a match's `when`, a count's
//! `when`, each sequence step, a trend's `up`/`down`, each evidence block) is
//! a *predicate*. Each condition of a predicate has a trigger
//! ([`super::cond::Trigger`]): literal needles, searched for in each
//! record's body (or each chunk) by one multi-literal searcher (`Needles`:
//! a strided gram search when all needles are long, Teddy otherwise), and
//! message starts, looked up at the start of each record's message
//! ([`Starts`]). Only conditions that a record
//! triggers (plus those without a trigger) are evaluated.
//! Only events that satisfy a predicate are copied and kept ([`Hit`]); the
//! correlation forms run over them after the scan ([`super::forms`]).

use super::cond::{Captures, Cond, EventLookup, Lookup as _};
use super::{Form, Rule, RuleSet};
use crate::catalog::Catalog;
use crate::event::Event;
use crate::parse::bytemask::{first_word, masked_word};
use crate::scan::{Collector, Piece};
use crate::time::Timestamp;
use aho_corasick::AhoCorasick;
use std::collections::HashMap;

/// Which part of a rule a predicate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// A `[match]` or `[count]` condition.
    Main,
    /// A `[sequence]` step.
    Step(usize),
    /// A `[trend]`'s `up`.
    Up,
    /// A `[trend]`'s `down`.
    Down,
    /// An `[[evidence]]` block.
    Evidence(usize),
}

/// One single-event condition list of one rule.
#[derive(Debug)]
pub struct Pred {
    /// Index of the rule in the engine's rule set.
    pub rule: usize,
    /// Which part of the rule.
    pub slot: Slot,
    conds: Vec<Cond>,
    /// How many hits to keep for correlation.
    keep: usize,
    /// Keep only time and line of hits (trends without groups).
    compact: bool,
    /// Keep a [`Point`] of every hit (match rules that are drops or causes).
    points: bool,
    /// Which of [`Engine::point_fields`] its points need: a drop's ids and
    /// a cause's `same` fields; the others stay `None` unlooked-up (most
    /// need the message recognised against the catalog).
    point_mask: Vec<bool>,
}

/// One condition of one predicate, as the prefilter sees it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    pred: u32,
    cond: u32,
    /// The condition needs captured request fields (never in log records).
    needs_capture: bool,
}

/// A kept event that satisfied a predicate: where and when, and for
/// predicates that need more (most), the event itself.
///
/// Trend and unjoined absent-step hits are only a line and a time: at 40
/// bytes instead of a whole event, millions of them stay cheap to keep and
/// to merge across chunks.
#[derive(Debug, Clone)]
pub struct Hit {
    line: u64,
    time: Option<Timestamp>,
    full: Option<Box<FullHit>>,
}

/// The event of a [`Hit`] that keeps it.
#[derive(Debug, Clone)]
struct FullHit {
    /// The event, copied (long texts cut to [`MAX_KEPT_TEXT`]).
    event: Event<'static>,
    /// Named regex captures from the condition.
    captures: Captures,
}

impl Hit {
    /// A hit that keeps its event and the condition's captures.
    pub fn full(event: Event<'static>, captures: Captures) -> Hit {
        Hit {
            line: event.line,
            time: event.time,
            full: Some(Box::new(FullHit { event, captures })),
        }
    }

    /// A hit that keeps only its line and time.
    pub fn compact(line: u64, time: Option<Timestamp>) -> Hit {
        Hit {
            line,
            time,
            full: None,
        }
    }

    /// The event's line.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The event's time.
    pub fn time(&self) -> Option<Timestamp> {
        self.time
    }

    /// The hit as one of several inputs' merged on the aligned clock: its
    /// line carries the input above [`INPUT_SHIFT`] bits (see
    /// [`split_line`]), its time is moved by `offset_nanos` (to UTC when
    /// moved at all).
    pub fn relocated(&self, input: usize, offset_nanos: i128) -> Hit {
        let mut h = self.clone();
        h.shift((input as u64) << INPUT_SHIFT);
        if offset_nanos != 0
            && let Some(t) = h.time
        {
            let moved = t.shifted(offset_nanos);
            h.time = moved;
            if let Some(f) = &mut h.full {
                f.event.time = moved;
            }
        }
        h
    }

    /// Moves the hit down by `lines` (a later chunk's hits).
    fn shift(&mut self, lines: u64) {
        self.line += lines;
        if let Some(f) = &mut self.full {
            f.event.line += lines;
        }
    }

    /// The event: the kept one, or for a compact hit one with only a line
    /// and a time.
    pub fn event(&self) -> std::borrow::Cow<'_, Event<'static>> {
        match &self.full {
            Some(f) => std::borrow::Cow::Borrowed(&f.event),
            None => std::borrow::Cow::Owned(Event {
                line: self.line,
                time: self.time,
                ..Event::default()
            }),
        }
    }

    /// The condition's named regex captures.
    pub fn captures(&self) -> &[(String, String)] {
        self.full.as_ref().map_or(&[], |f| &f.captures)
    }
}

/// What one predicate kept from one input.
#[derive(Debug, Clone, Default)]
pub struct PredHits {
    /// Every hit, kept or not.
    pub count: u64,
    /// The first hits, up to the predicate's limit.
    pub hits: Vec<Hit>,
    /// The last hit (for the time range when not all are kept).
    pub last: Option<Hit>,
    /// Every hit as a [`Point`], for predicates that keep points.
    pub points: Vec<Point>,
}

/// A hit as the drop correlator needs it: where, when, and the values of
/// [`Engine::point_fields`] — about a hundred bytes, so that every drop and
/// every cause of a long log can be kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The event's line.
    pub line: u64,
    /// The event's time.
    pub time: Option<Timestamp>,
    /// Values of the engine's point fields, in their order.
    pub values: Box<[Option<Box<str>>]>,
}

/// What the rules kept from one input (or one chunk of it).
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Per predicate, in engine order.
    pub preds: Vec<PredHits>,
    /// Candidate bits, reused from event to event.
    scratch: Vec<u64>,
    /// The current chunk's needle matches: (offset, needle), in order.
    found: Vec<(usize, usize)>,
    /// Where the current chunk's text is (address, length).
    chunk: (usize, usize),
    /// The first entry of `found` not yet passed.
    cursor: usize,
    /// `scratch` holds the current event's candidates.
    prefiltered: bool,
    /// Per predicate, the hits kept by the chunks before this one that
    /// this thread scanned (see [`Run`]).
    before: Vec<usize>,
}

/// Where a relocated hit keeps its input in its line number.
pub const INPUT_SHIFT: u32 = 40;

/// The input and the line of a relocated hit's line number.
pub fn split_line(line: u64) -> (usize, u64) {
    (
        (line >> INPUT_SHIFT) as usize,
        line & ((1 << INPUT_SHIFT) - 1),
    )
}

/// Texts of kept events are cut to this many bytes.
pub const MAX_KEPT_TEXT: usize = 16 * 1024;

/// How many hits of a correlation predicate are kept per input.
pub const CORRELATION_LIMIT: usize = 50_000;

/// How many compact hits (of ungrouped trends and unjoined absent steps)
/// are kept per input.
pub const TREND_LIMIT: usize = 20_000_000;

/// How many hits of an evidence block are kept per input.
pub const EVIDENCE_LIMIT: usize = 2_000;

/// The compiled rules with their prefilter.
#[derive(Debug)]
pub struct Engine {
    /// The rules.
    pub rules: RuleSet,
    /// All predicates.
    pub preds: Vec<Pred>,
    ac: Option<Needles>,
    /// The literals a message may start with, and the units each triggers.
    starts: Starts,
    /// Every condition of every predicate.
    units: Vec<Unit>,
    /// Needle number → units that need it.
    needle_units: Vec<Vec<u32>>,
    /// Needles of tests on [`super::cond::HEADER_TEXT_FIELDS`] (with the
    /// number of each): when only a record's body is searched, these are
    /// also looked for in those fields.
    header_needles: Vec<(usize, String)>,
    /// Units without needles that can hold for a log record.
    always_logs: Vec<u32>,
    /// Units without needles, for events with captured request fields.
    always_captured: Vec<u32>,
    /// Occurrences per rule and input that are rendered in full.
    pub max_occurrences: usize,
    /// The fields a [`Point`] keeps: the connection ids of a drop and every
    /// field a cause must share with it (`[explains] same`).
    pub point_fields: Vec<String>,
    /// Whether drops and causes are kept for the correlator.
    pub drops: bool,
}

impl Engine {
    /// Builds the engine; match rules keep `max_occurrences` hits.
    pub fn new(rules: RuleSet, max_occurrences: usize) -> Engine {
        let mut preds = Vec::new();
        for (i, rule) in rules.rules.iter().enumerate() {
            let keep_main = match rule.form {
                Form::Match(_) => max_occurrences.max(1),
                _ => CORRELATION_LIMIT,
            };
            // Drops and causes of match rules are kept as points, all of
            // them; other forms' occurrences become points after the forms.
            let points = matches!(rule.form, Form::Match(_))
                && (rule.drop.is_some() || rule.explains.is_some());
            let mut add = |slot: Slot, conds: &[Cond], keep: usize, compact: bool| {
                preds.push(Pred {
                    rule: i,
                    slot,
                    conds: conds.to_vec(),
                    keep,
                    compact,
                    points: points && slot == Slot::Main,
                    point_mask: Vec::new(),
                });
            };
            match &rule.form {
                Form::Match(c) | Form::Count { when: c, .. } => {
                    add(Slot::Main, c, keep_main, false)
                }
                Form::Sequence { steps, key, .. } => {
                    for (n, s) in steps.iter().enumerate() {
                        // An absent step only says when something happened
                        // (it never joins an occurrence); without a join
                        // key its hits are kept compact, and all of them.
                        if s.absent && key.is_none() {
                            add(Slot::Step(n), &s.when, TREND_LIMIT, true);
                        } else {
                            add(Slot::Step(n), &s.when, CORRELATION_LIMIT, false);
                        }
                    }
                }
                Form::Trend {
                    up, down, group_by, ..
                } => {
                    // A trend only needs when, where and which group: its hits
                    // are kept compact, and many more of them.
                    let compact = group_by.is_empty();
                    let keep = if compact {
                        TREND_LIMIT
                    } else {
                        CORRELATION_LIMIT
                    };
                    add(Slot::Up, up, keep, compact);
                    if !down.is_empty() {
                        add(Slot::Down, down, keep, compact);
                    }
                }
            }
            for (n, e) in rule.evidence.iter().enumerate() {
                add(Slot::Evidence(n), &e.when, EVIDENCE_LIMIT, false);
            }
        }
        // Each condition of each predicate is a unit of the prefilter.
        let mut units = Vec::new();
        let mut needles: Vec<String> = Vec::new();
        let mut needle_units: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        let mut weak = Vec::new();
        let mut starts = Starts::default();
        for (p, pred) in preds.iter().enumerate() {
            for (c, cond) in pred.conds.iter().enumerate() {
                let u = units.len() as u32;
                units.push(Unit {
                    pred: p as u32,
                    cond: c as u32,
                    needs_capture: super::cond::needs_capture(&cond.node),
                });
                match cond.trigger.as_ref().filter(|t| t.narrows()) {
                    Some(trigger) => {
                        if trigger.weak {
                            weak.push(u);
                        }
                        for (lit, template) in &trigger.starts {
                            starts.add(lit, *template, u);
                        }
                        for n in &trigger.needles {
                            let at = match needles.iter().position(|x| x == n) {
                                Some(at) => at,
                                None => {
                                    needles.push(n.clone());
                                    needle_units.push(Vec::new());
                                    needles.len() - 1
                                }
                            };
                            if !needle_units[at].contains(&u) {
                                needle_units[at].push(u);
                            }
                        }
                    }
                    None => always.push(u),
                }
            }
        }
        let (needles, needle_units) = cover(needles, needle_units);
        let (needles, mut needle_units) = fit(needles, needle_units, TEDDY_GROUP);
        // The search reports one needle per start position (the first
        // listed); a needle that shares that start is implied by it.
        for x in 0..needles.len() {
            for y in 0..needles.len() {
                if x != y
                    && (needles[x].starts_with(needles[y].as_str())
                        || needles[y].starts_with(needles[x].as_str()))
                {
                    let extra = needle_units[y].clone();
                    for u in extra {
                        if !needle_units[x].contains(&u) {
                            needle_units[x].push(u);
                        }
                    }
                }
            }
        }
        let header_needles = needles
            .iter()
            .zip(&needle_units)
            .enumerate()
            .filter(|(_, (_, units))| units.iter().any(|u| weak.contains(u)))
            .map(|(n, (needle, _))| (n, needle.clone()))
            .collect();
        let ac = (!needles.is_empty()).then(|| Needles::new(&needles));
        let (always_logs, always_captured): (Vec<u32>, Vec<u32>) = (
            always
                .iter()
                .copied()
                .filter(|&u| !units[u as usize].needs_capture)
                .collect(),
            always,
        );
        let mut point_fields = vec!["connection".to_string(), "server_connection".to_string()];
        for x in rules.rules.iter().filter_map(|r| r.explains.as_ref()) {
            for f in &x.same {
                if !point_fields.contains(f) {
                    point_fields.push(f.clone());
                }
            }
        }
        // How many client connections one server-side line closes.
        point_fields.push("ClientCount".to_string());
        for pred in preds.iter_mut().filter(|p| p.points) {
            let rule = &rules.rules[pred.rule];
            let same = rule.explains.as_ref().map_or(&[][..], |x| &x.same[..]);
            pred.point_mask = point_fields
                .iter()
                .map(|f| rule.drop.is_some() || same.contains(f))
                .collect();
        }
        Engine {
            rules,
            preds,
            units,
            ac,
            starts,
            needle_units,
            header_needles,
            always_logs,
            always_captured,
            max_occurrences: max_occurrences.max(1),
            point_fields,
            drops: true,
        }
    }

    /// Whether rule `rule` is a sequence with a join key: one whose steps
    /// may come from different inputs.
    pub fn joins_across(&self, rule: usize) -> bool {
        matches!(
            self.rules.rules.get(rule).map(|r| &r.form),
            Some(Form::Sequence { key: Some(_), .. })
        )
    }

    /// The engine without the dropped-connections analysis: no points are
    /// kept, the correlator does not run (`--no-drops`).
    pub fn without_drops(mut self) -> Engine {
        for p in &mut self.preds {
            p.points = false;
        }
        self.drops = false;
        self
    }

    /// The rule a predicate belongs to.
    pub fn rule(&self, pred: usize) -> &Rule {
        &self.rules.rules[self.preds[pred].rule]
    }

    /// How many rules are loaded.
    pub fn len(&self) -> usize {
        self.rules.rules.len()
    }

    /// True when no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.rules.is_empty()
    }

    /// Empty results for one input.
    pub fn kept(&self) -> Kept {
        Kept {
            preds: vec![PredHits::default(); self.preds.len()],
            scratch: vec![0; self.units.len().div_ceil(64)],
            ..Kept::default()
        }
    }

    /// Searches a chunk's text for all needles at once: events whose raw
    /// text lies in it then only look up their matches.
    pub fn chunk(&self, kept: &mut Kept, text: &str) {
        kept.found.clear();
        kept.cursor = 0;
        kept.chunk = (text.as_ptr() as usize, text.len());
        if let Some(ac) = &self.ac {
            ac.each_at(text, |pattern, at| kept.found.push((at, pattern)));
            kept.found.sort_unstable();
        }
    }

    /// Finds the units whose conditions may hold on `event` (into
    /// `kept.scratch`); true when there is any. Looks at the event's raw
    /// text, body, header fields and message start only, so the event's
    /// message may be unfinished (see [`crate::parse::RecordParser::parse_head`]).
    pub fn prefilter(&self, kept: &mut Kept, event: &Event<'_>) -> bool {
        if self.units.is_empty() {
            return false;
        }
        let captured = matches!(event.extra, crate::event::Extra::Fields(_));
        let bits = &mut kept.scratch;
        bits.iter_mut().for_each(|b| *b = 0);
        let mut set = |u: u32| bits[u as usize / 64] |= 1 << (u % 64);
        if event.raw.is_empty() {
            // Events without raw text (rule examples, captures): no prefilter.
            (0..self.units.len() as u32).for_each(&mut set);
        } else if let Some(ac) = &self.ac {
            let mut found =
                |needle: usize| self.needle_units[needle].iter().copied().for_each(&mut set);
            let at = event.raw.as_ptr() as usize;
            let (base, len) = kept.chunk;
            if let Some(body) = event.body {
                ac.each_at(body, |needle, _| found(needle));
                // Tests on header fields: their literals are not in bodies.
                for (n, needle) in &self.header_needles {
                    let has = |name: &&str| {
                        event.field(name).is_some_and(|v| match v {
                            crate::event::Value::Str(s) => s.contains(needle.as_str()),
                            other => other.to_text().contains(needle.as_str()),
                        })
                    };
                    if super::cond::HEADER_TEXT_FIELDS.iter().any(has) {
                        found(*n);
                    }
                }
            } else if at >= base && at + event.raw.len() <= base + len {
                // Matches of the chunk-wide search that start in this record.
                let (start, end) = (at - base, at - base + event.raw.len());
                while kept.cursor < kept.found.len() && kept.found[kept.cursor].0 < start {
                    kept.cursor += 1;
                }
                let mut i = kept.cursor;
                while i < kept.found.len() && kept.found[i].0 < end {
                    found(kept.found[i].1);
                    i += 1;
                }
            } else {
                ac.each_at(event.raw, |needle, _| found(needle));
            }
        }
        if !event.raw.is_empty() {
            self.starts.each_unit(&event.message, event.whole, &mut set);
        }
        let always = if captured {
            &self.always_captured
        } else {
            &self.always_logs
        };
        always.iter().copied().for_each(&mut set);
        kept.scratch.iter().any(|&w| w != 0)
    }

    /// Evaluates the candidate conditions on one event (whole), after
    /// [`Engine::prefilter`] if the caller has not run it on this event.
    pub fn see(&self, kept: &mut Kept, event: &Event<'_>, input: usize, format: &'static str) {
        if !std::mem::take(&mut kept.prefiltered) {
            self.prefilter(kept, event);
        }
        if kept.scratch.iter().all(|&w| w == 0) {
            return;
        }
        let captured = matches!(event.extra, crate::event::Extra::Fields(_));
        let lookup = EventLookup::new(event, input, format, &[]);
        let mut done_pred = u32::MAX;
        for word in 0..kept.scratch.len() {
            let mut w = kept.scratch[word];
            while w != 0 {
                let u = word * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let unit = self.units[u];
                if unit.pred == done_pred || (unit.needs_capture && !captured) {
                    continue;
                }
                let pred = &self.preds[unit.pred as usize];
                let mut captures = Vec::new();
                if !pred.conds[unit.cond as usize].test(&lookup, &mut captures) {
                    continue;
                }
                // One hit per predicate and event, whichever condition held.
                done_pred = unit.pred;
                let before = kept.before.get(unit.pred as usize).copied().unwrap_or(0);
                let slot = &mut kept.preds[unit.pred as usize];
                slot.count += 1;
                if pred.points {
                    slot.points.push(Point {
                        line: event.line,
                        time: event.time,
                        values: self
                            .point_fields
                            .iter()
                            .zip(&pred.point_mask)
                            .map(|(f, &needed)| {
                                needed
                                    .then(|| lookup.get(f).map(|v| v.to_text().into_boxed_str()))
                                    .flatten()
                            })
                            .collect(),
                    });
                }
                let compact = || Hit::compact(event.line, event.time);
                if slot.hits.len() + before >= pred.keep {
                    // Past the limit only the time range is needed.
                    slot.last = Some(compact());
                } else if pred.compact {
                    slot.hits.push(compact());
                } else {
                    slot.hits
                        .push(Hit::full(cut_long_texts(event.to_owned_event()), captures));
                }
            }
        }
    }
}

/// The message starts of all triggers, by first byte: a record costs one
/// index and a compare of two words per literal that starts with its
/// message's first byte.
///
/// A start that is an `event` test's template's first literal keeps the
/// template: when the parser says the message is whole, the unit is only
/// triggered if the message also passes the template's quick tests
/// (length, last bytes). Many templates begin alike ("Connection {Id} …"),
/// and a record of one ("Connection … started.") otherwise costs the
/// condition tests of all the others.
#[derive(Debug)]
struct Starts {
    /// Per first byte: each start literal and what it triggers.
    by_first: Vec<Vec<Start>>,
}

/// A start literal, its first (up to) sixteen bytes as two words with
/// their masks, and what it triggers. Most records' messages differ from
/// a start in those bytes, and most starts are no longer: word compares
/// tell, where `starts_with` is a call to `memcmp` (2% of a scan).
#[derive(Debug, Clone)]
struct Start {
    lit: Box<str>,
    head: [(u64, u64); 2],
    units: Vec<Triggered>,
}

/// A unit a start triggers, with the template the start comes from
/// (`None`: a `message startswith`).
type Triggered = (u32, Option<usize>);

impl Default for Starts {
    fn default() -> Self {
        Starts {
            by_first: vec![Vec::new(); 256],
        }
    }
}

impl Starts {
    /// Unit `unit` is triggered by messages that start with `lit` (and,
    /// when whole, pass the quick tests of catalog template `template`).
    fn add(&mut self, lit: &str, template: Option<usize>, unit: u32) {
        let Some(&first) = lit.as_bytes().first() else {
            return;
        };
        let bucket = &mut self.by_first[usize::from(first)];
        let entry = (unit, template);
        match bucket.iter_mut().find(|s| *s.lit == *lit) {
            Some(s) if s.units.contains(&entry) => {}
            Some(s) => s.units.push(entry),
            None => bucket.push(Start {
                lit: lit.into(),
                head: [
                    masked_word(lit.as_bytes()),
                    masked_word(lit.as_bytes().get(8..).unwrap_or_default()),
                ],
                units: vec![entry],
            }),
        }
    }

    /// Calls `found` with every unit that `message` triggers (`whole`: the
    /// parser says the message is final).
    fn each_unit(&self, message: &str, whole: bool, found: &mut impl FnMut(u32)) {
        let Some(&first) = message.as_bytes().first() else {
            return;
        };
        let bucket = &self.by_first[usize::from(first)];
        if bucket.is_empty() {
            return;
        }
        let catalog = Catalog::get();
        let mut trimmed: Option<&str> = None;
        let m = message.as_bytes();
        let head = [first_word(m), first_word(m.get(8..).unwrap_or_default())];
        for start in bucket {
            let [(w0, m0), (w1, m1)] = start.head;
            if head[0] & m0 != w0
                || head[1] & m1 != w1
                || m.len() < start.lit.len()
                || (start.lit.len() > 16 && !message.starts_with(&*start.lit))
            {
                continue;
            }
            for &(unit, template) in &start.units {
                let ruled_out = |t: usize| {
                    // Trimmed as the `event` test reads it, once per message.
                    let trimmed = *trimmed.get_or_insert_with(|| message.trim_end());
                    whole && !catalog.templates[t].admits(trimmed)
                };
                if !template.is_some_and(ruled_out) {
                    found(unit);
                }
            }
        }
    }
}

/// Replaces the needles by fewer ones: a needle that contains another is
/// implied by it, so the needles that others contain (chosen greedily, most
/// needles covered first) find every record the full set finds. Fewer
/// needles search faster; the extra candidates cost only condition checks.
/// (Covering with shorter substrings than the needles themselves was
/// measured: fewer needles, but more candidates and slower overall.)
fn cover(needles: Vec<String>, units: Vec<Vec<u32>>) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut candidates: Vec<&str> = needles.iter().map(String::as_str).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut covered = vec![false; needles.len()];
    let mut out_needles: Vec<String> = Vec::new();
    let mut out_units: Vec<Vec<u32>> = Vec::new();
    while covered.iter().any(|c| !c) {
        let best = candidates
            .iter()
            .map(|c| {
                let n = needles
                    .iter()
                    .zip(&covered)
                    .filter(|(x, done)| !**done && x.contains(*c))
                    .count();
                (n, c.len(), *c)
            })
            .max()
            .expect("every needle is its own candidate");
        let mut merged = Vec::new();
        for (i, n) in needles.iter().enumerate() {
            if !covered[i] && n.contains(best.2) {
                covered[i] = true;
                for &u in &units[i] {
                    if !merged.contains(&u) {
                        merged.push(u);
                    }
                }
            }
        }
        out_needles.push(best.2.to_string());
        out_units.push(merged);
    }
    (out_needles, out_units)
}

/// The most needles one Teddy searcher takes: each group more is another
/// pass over all the text.
const TEDDY_GROUP: usize = 64;

/// Shared text that may stand for two needles when they would not fit one
/// searcher: this long, it stays about as rare as either.
const MIN_SHARED: usize = 12;

/// Merges needles until at most `cap` remain, each time the two that share
/// the longest text (at least [`MIN_SHARED`] bytes), which then stands for
/// both: a record holding either holds it. One more needle than a searcher
/// takes costs a whole second pass (measured: +6% of all-rules time for 66
/// needles); a few extra candidates cost far less.
fn fit(
    mut needles: Vec<String>,
    mut units: Vec<Vec<u32>>,
    cap: usize,
) -> (Vec<String>, Vec<Vec<u32>>) {
    while needles.len() > cap {
        // Only pairs that share a MIN_SHARED-byte window can merge.
        let mut by_gram: HashMap<&[u8], Vec<usize>> = HashMap::new();
        for (i, n) in needles.iter().enumerate() {
            for g in n.as_bytes().windows(MIN_SHARED) {
                let list = by_gram.entry(g).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        let mut pairs: Vec<(usize, usize)> = by_gram
            .values()
            .flat_map(|l| {
                l.iter()
                    .enumerate()
                    .flat_map(move |(k, &x)| l[k + 1..].iter().map(move |&y| (x, y)))
            })
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut best: Option<(usize, usize, usize, usize)> = None; // (len, x, y, at in x)
        for (x, y) in pairs {
            if let Some((len, at)) = longest_shared(&needles[x], &needles[y])
                && len >= MIN_SHARED
                && best.is_none_or(|b| len > b.0)
            {
                best = Some((len, x, y, at));
            }
        }
        let Some((len, x, y, at)) = best else {
            break;
        };
        needles[x] = needles[x][at..at + len].to_string();
        let moved = units.remove(y);
        needles.remove(y);
        for u in moved {
            if !units[x].contains(&u) {
                units[x].push(u);
            }
        }
    }
    (needles, units)
}

/// The longest common substring of two needles (length, start in `a`), on
/// character boundaries.
fn longest_shared(a: &str, b: &str) -> Option<(usize, usize)> {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev = vec![0usize; b.len() + 1];
    let mut best = (0, 0);
    for i in 1..=a.len() {
        let mut cur = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                cur[j] = prev[j - 1] + 1;
                if cur[j] > best.0 {
                    best = (cur[j], i - cur[j]);
                }
            }
        }
        prev = cur;
    }
    let s = std::str::from_utf8(&a[best.1..best.1 + best.0]).ok()?;
    (!s.is_empty()).then_some((s.len(), best.1))
}

/// The prefilter's multi-literal search: a strided gram search when all
/// needles are long enough; when only some are (a user's rule with a short
/// literal beside the built-in rules), the gram search for the long ones
/// and a searcher of their own for the short ones; else SIMD Teddy
/// searchers of up to 64 needles each when the machine allows,
/// Aho-Corasick otherwise. Leftmost-first within each Teddy or
/// Aho-Corasick searcher.
#[derive(Debug)]
enum Needles {
    Grams(super::grams::Grams),
    Packed(Vec<(usize, aho_corasick::packed::Searcher)>),
    Automaton(AhoCorasick),
    /// One needle.
    One(memchr::memmem::Finder<'static>),
    /// Two searches over the same text, each with the indexes its needles
    /// have in the full list. Measured on 1 GiB of ILogger text, all rules
    /// plus one rule of `message contains " 429 "`: with every needle in
    /// Teddy the search made the run 21% slower than the built-in rules
    /// alone.
    Split {
        long: (super::grams::Grams, Vec<usize>),
        short: (Box<Needles>, Vec<usize>),
    },
}

/// Needles per Teddy searcher (its maximum).
const GROUP: usize = 64;

impl Needles {
    fn new(needles: &[String]) -> Needles {
        // How common each gram is in the SDK's message templates (what log
        // text mostly consists of): counted once per process, not per
        // engine (`rules test` builds one per rule).
        static TEMPLATE_GRAMS: std::sync::LazyLock<HashMap<u64, u32>> =
            std::sync::LazyLock::new(|| {
                let texts: Vec<&str> = Catalog::get()
                    .templates
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect();
                super::grams::counts(&texts)
            });
        if let Some(g) = super::grams::Grams::new(needles, &TEMPLATE_GRAMS) {
            return Needles::Grams(g);
        }
        let (long, short): (Vec<usize>, Vec<usize>) =
            (0..needles.len()).partition(|&i| needles[i].len() >= super::grams::MIN_LEN);
        let pick =
            |ids: &[usize]| -> Vec<String> { ids.iter().map(|&i| needles[i].clone()).collect() };
        if !long.is_empty()
            && !short.is_empty()
            && let Some(g) = super::grams::Grams::new(&pick(&long), &TEMPLATE_GRAMS)
        {
            let searcher = Needles::simd(&pick(&short));
            return Needles::Split {
                long: (g, long),
                short: (Box::new(searcher), short),
            };
        }
        Needles::simd(needles)
    }

    /// A searcher that looks at every byte: `memmem` for one needle,
    /// Teddy for more, Aho-Corasick where Teddy cannot run.
    fn simd(needles: &[String]) -> Needles {
        if let [one] = needles {
            return Needles::One(memchr::memmem::Finder::new(one.as_bytes()).into_owned());
        }
        let mut packed = Vec::new();
        for (n, group) in needles.chunks(GROUP).enumerate() {
            let searcher = aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .builder()
                .extend(group)
                .build();
            match searcher {
                Some(s) => packed.push((n * GROUP, s)),
                None => {
                    return Needles::Automaton(
                        AhoCorasick::builder()
                            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                            .build(needles)
                            .expect("literal needles always build"),
                    );
                }
            }
        }
        Needles::Packed(packed)
    }

    /// Calls `found` with every needle that starts anywhere in `text` and
    /// where, overlaps included: each searcher restarts one byte after the
    /// start of its last match.
    fn each_at(&self, text: &str, mut found: impl FnMut(usize, usize)) {
        match self {
            Needles::Grams(g) => g.each_at(text.as_bytes(), found),
            Needles::Packed(searchers) => {
                for (base, s) in searchers {
                    let mut pos = 0;
                    while pos < text.len() {
                        let Some(m) = s.find_in(text, aho_corasick::Span::from(pos..text.len()))
                        else {
                            break;
                        };
                        found(base + m.pattern().as_usize(), m.start());
                        pos = m.start() + 1;
                    }
                }
            }
            Needles::Automaton(ac) => {
                let mut pos = 0;
                while pos < text.len() {
                    let Some(m) = ac.find(aho_corasick::Input::new(text).range(pos..)) else {
                        break;
                    };
                    found(m.pattern().as_usize(), m.start());
                    pos = m.start() + 1;
                }
            }
            Needles::One(finder) => {
                let mut pos = 0;
                while let Some(at) = finder.find(&text.as_bytes()[pos..]) {
                    found(0, pos + at);
                    pos += at + 1;
                }
            }
            Needles::Split { long, short } => {
                long.0
                    .each_at(text.as_bytes(), |n, at| found(long.1[n], at));
                // As a trait object: the short searcher is never split
                // itself, but the compiler must not instantiate this
                // function for ever deeper closures.
                let mut short_found = |n: usize, at: usize| found(short.1[n], at);
                let short_found: &mut dyn FnMut(usize, usize) = &mut short_found;
                short.0.each_at(text, short_found);
            }
        }
    }
}

fn cut_long_texts(mut e: Event<'static>) -> Event<'static> {
    fn cut(s: &mut std::borrow::Cow<'static, str>) {
        if let std::borrow::Cow::Owned(short) = crate::event::shorten(s, MAX_KEPT_TEXT) {
            *s = std::borrow::Cow::Owned(short);
        }
    }
    cut(&mut e.message);
    // Kept events are shown by their message; of the exception, the first
    // line says what it was.
    if let Some(x) = e.exception.as_mut() {
        if let Some(first) = x.lines().next().filter(|f| f.len() < x.len()) {
            *x = std::borrow::Cow::Owned(first.to_string());
        }
        cut(x);
    }
    e
}

/// What the chunks one thread scanned one after another, up to now, kept
/// per predicate. The merge keeps the first hits of an input (up to the
/// predicate's limit), so a chunk whose predecessors kept the limit can
/// keep none: they are all before it. Without this every chunk copied up
/// to the limit of whole events, nearly all freed again by the merge.
struct Run {
    scan: usize,
    /// The chunk that continues the run.
    next: usize,
    kept: Vec<usize>,
}

thread_local! {
    static RUN: std::cell::RefCell<Option<Run>> = const { std::cell::RefCell::new(None) };
}

/// The engine as a scan [`Collector`] for one input.
pub struct RuleCollector<'e> {
    /// The engine.
    pub engine: &'e Engine,
    /// The input's index.
    pub input: usize,
    /// The input's format name.
    pub format: &'static str,
    /// The format's parser marks event bodies: search them, not chunks.
    pub bodies: bool,
}

impl<'e> RuleCollector<'e> {
    /// The collector for input `input`, read as `format`.
    pub fn new(engine: &'e Engine, input: usize, format: crate::parse::Format) -> Self {
        RuleCollector {
            engine,
            input,
            format: format.name(),
            bodies: format.parser().is_some_and(|p| p.marks_bodies()),
        }
    }
}

impl Collector for RuleCollector<'_> {
    type Acc = Kept;

    fn start(&self) -> Kept {
        self.engine.kept()
    }

    fn chunk(&self, acc: &mut Kept, text: &str, piece: Piece) {
        // With bodies marked, each record's body is searched on its own:
        // the headers and footers between them (a third to a half of the
        // text) are not searched at all. The chunk is then taken as empty,
        // so an event without a body (a JSON record whose message had
        // escapes) has no chunk-wide matches and is searched whole.
        self.engine.chunk(acc, if self.bodies { "" } else { text });
        acc.before = RUN.with(|run| match &*run.borrow() {
            Some(r) if r.scan == piece.scan && r.next == piece.index => r.kept.clone(),
            _ => Vec::new(),
        });
    }

    fn chunk_end(&self, acc: &mut Kept, piece: Piece) {
        let kept = acc
            .preds
            .iter()
            .enumerate()
            .map(|(p, h)| acc.before.get(p).copied().unwrap_or(0) + h.hits.len())
            .collect();
        RUN.with(|run| {
            *run.borrow_mut() = Some(Run {
                scan: piece.scan,
                next: piece.index + 1,
                kept,
            })
        });
    }

    fn needs_whole(&self, acc: &mut Kept, event: &Event<'_>) -> bool {
        // `event` reuses these candidates.
        acc.prefiltered = true;
        self.engine.prefilter(acc, event)
    }

    fn event(&self, acc: &mut Kept, event: &Event<'_>) {
        self.engine.see(acc, event, self.input, self.format);
    }

    fn append(&self, acc: &mut Kept, later: Kept, line_offset: u64) {
        for (p, (mine, theirs)) in acc.preds.iter_mut().zip(later.preds).enumerate() {
            let keep = self.engine.preds[p].keep;
            mine.count += theirs.count;
            let shift = |mut h: Hit| {
                h.shift(line_offset);
                h
            };
            mine.points.extend(theirs.points.into_iter().map(|mut p| {
                p.line += line_offset;
                p
            }));
            let their_latest = theirs
                .hits
                .last()
                .map(|h| shift(Hit::compact(h.line(), h.time())));
            let mut rest = theirs.hits.into_iter().map(shift);
            while mine.hits.len() < keep {
                match rest.next() {
                    Some(h) => mine.hits.push(h),
                    None => break,
                }
            }
            // `last` is the latest hit when not all are kept. A part whose
            // chunks skipped hits (see [`Run`]) may have kept fewer than the
            // limit and still have a `last`, with later hits of its own
            // after it: the latest of all candidates wins.
            let overflow = rest.next_back();
            if mine.last.is_some() || theirs.last.is_some() || overflow.is_some() {
                mine.last = [
                    mine.last.take(),
                    theirs.last.map(shift),
                    overflow,
                    their_latest,
                ]
                .into_iter()
                .flatten()
                .max_by_key(Hit::line);
            }
        }
    }
}

/// Two collectors side by side (the summary and the rules).
impl<A: Collector, B: Collector> Collector for (A, B) {
    type Acc = (A::Acc, B::Acc);

    fn start(&self) -> Self::Acc {
        (self.0.start(), self.1.start())
    }

    fn chunk(&self, acc: &mut Self::Acc, text: &str, piece: Piece) {
        self.0.chunk(&mut acc.0, text, piece);
        self.1.chunk(&mut acc.1, text, piece);
    }

    fn chunk_end(&self, acc: &mut Self::Acc, piece: Piece) {
        self.0.chunk_end(&mut acc.0, piece);
        self.1.chunk_end(&mut acc.1, piece);
    }

    fn needs_whole(&self, acc: &mut Self::Acc, event: &Event<'_>) -> bool {
        self.0.needs_whole(&mut acc.0, event) || self.1.needs_whole(&mut acc.1, event)
    }

    fn event(&self, acc: &mut Self::Acc, event: &Event<'_>) {
        self.0.event(&mut acc.0, event);
        self.1.event(&mut acc.1, event);
    }

    fn append(&self, acc: &mut Self::Acc, later: Self::Acc, line_offset: u64) {
        self.0.append(&mut acc.0, later.0, line_offset);
        self.1.append(&mut acc.1, later.1, line_offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_that_do_not_fit_one_searcher_share_their_text() {
        let needles: Vec<String> = [
            "Error while processing messages from ",
            "Error when processing messages",
            "Application is shutting down...",
            "Application started. Press Ctrl",
            "short",
        ]
        .map(String::from)
        .to_vec();
        let units = vec![vec![0], vec![1], vec![2], vec![3], vec![4]];
        let (n, u) = fit(needles.clone(), units.clone(), 5);
        assert_eq!((n, u), (needles.clone(), units.clone()), "fits: unchanged");
        let (n, u) = fit(needles.clone(), units.clone(), 4);
        assert_eq!(n[0], " processing messages", "the longest shared text");
        assert_eq!(u[0], [0, 1]);
        assert_eq!(n.len(), 4);
        let (n, _) = fit(needles.clone(), units.clone(), 3);
        assert!(n.contains(&"Application ".to_string()), "{n:?}");
        // Nothing shares 12 bytes with "short": it stays, over the cap.
        let (n, _) = fit(needles, units, 1);
        assert_eq!(n.len(), 3);
    }

    /// Every searcher the needles may get — gram search alone, gram search
    /// with one or several short needles beside it, short needles alone —
    /// finds every occurrence of every needle, overlaps included, as a
    /// naive search does (the needles are prefix-free, so no two start at
    /// the same byte).
    #[test]
    fn split_searchers_find_what_a_naive_search_finds() {
        let long = ["was dropped, probably", "Service timeout", "ababababab"];
        let sets: Vec<Vec<&str>> = vec![
            long.to_vec(),
            [&long[..], &[" 429 "]].concat(),
            [&long[..], &[" 429 ", "aba", "xyz"]].concat(),
            vec![" 429 ", "xyz"],
            vec!["aba"],
        ];
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % n as u64) as usize
        };
        for set in &sets {
            let needles: Vec<String> = set.iter().map(|s| s.to_string()).collect();
            let searcher = Needles::new(&needles);
            let kind = match &searcher {
                Needles::Grams(_) => "grams",
                Needles::Split { .. } => "split",
                Needles::One(_) => "one",
                Needles::Packed(_) | Needles::Automaton(_) => "simd",
            };
            let expected_kind = match (
                set.iter().any(|n| n.len() >= 9),
                set.iter().any(|n| n.len() < 9),
            ) {
                (true, false) => "grams",
                (true, true) => "split",
                (false, _) if set.len() == 1 => "one",
                _ => "simd",
            };
            assert_eq!(kind, expected_kind, "{set:?}");
            for _ in 0..200 {
                let mut text = String::new();
                for _ in 0..next(12) {
                    match next(3) {
                        0 => text.push_str(set[next(set.len())]),
                        1 => text.push_str(&set[next(set.len())][..2]),
                        _ => text.push_str(["ab", " 42", "Service ", "x", "was "][next(5)]),
                    }
                }
                let mut got = Vec::new();
                searcher.each_at(&text, |n, at| got.push((at, n)));
                got.sort_unstable();
                let mut naive = Vec::new();
                for (n, needle) in set.iter().enumerate() {
                    for at in 0..text.len() {
                        if text[at..].starts_with(needle) {
                            naive.push((at, n));
                        }
                    }
                }
                naive.sort_unstable();
                assert_eq!(got, naive, "{set:?} in {text:?}");
            }
        }
    }

    /// A match rule `id` for messages containing `needle`.
    fn contains_rule(id: &str, needle: &str) -> Rule {
        crate::rules::compile::compile(
            "t.toml",
            &format!(
                "id = \"{id}\"\ntitle = \"t\"\nseverity = \"info\"\ncause = \"c\"\nfix = \"f\"\n[match]\nwhen = 'message contains \"{needle}\"'\n[[example]]\nname = \"a\"\nexpect = 1\n  [[example.event]]\n  message = \"{needle}\"\n[[example]]\nname = \"b\"\nexpect = 0\n  [[example.event]]\n  message = \"zzz\"\n"
            ),
        )
        .unwrap()
    }

    /// The start lookup's word compares say what `starts_with` says, for
    /// starts up to and beyond the sixteen bytes they cover.
    #[test]
    fn start_lookup_is_starts_with() {
        let lits = [
            "C",
            "Conn",
            "Connecti",
            "Connection",
            "Connection to '",
            "Connection to the service",
        ];
        let mut starts = Starts::default();
        for (u, lit) in lits.iter().enumerate() {
            starts.add(lit, None, u as u32);
        }
        let messages = [
            "",
            "C",
            "Co",
            "Conn",
            "Connecti",
            "Connectio",
            "Connection",
            "Connection ",
            "Connection to '",
            "Connection to 'x'",
            "Connection to the",
            "Connection to the service",
            "Connection to the service was dropped",
            "Connection To the service",
            "Xonnection",
        ];
        for m in messages {
            let mut got = Vec::new();
            starts.each_unit(m, false, &mut |u| got.push(u));
            let want: Vec<u32> = (0..lits.len() as u32)
                .filter(|&u| m.starts_with(lits[u as usize]))
                .collect();
            assert_eq!(got, want, "{m:?}");
        }
    }

    /// A message the parser says is whole triggers an `event` test only
    /// if it passes the quick tests of a template it starts like; an
    /// unfinished one on its start alone.
    #[test]
    fn whole_messages_must_pass_a_templates_quick_tests() {
        let rule = crate::rules::compile::compile(
            "t.toml",
            "id = \"t\"\ntitle = \"t\"\nseverity = \"info\"\ncause = \"c\"\nfix = \"f\"\n[match]\nwhen = 'event == \"ConnectionDropped\"'\n[[example]]\nname = \"a\"\nexpect = 1\n  [[example.event]]\n  message = \"Connection 1 to the service was dropped.\"\n[[example]]\nname = \"b\"\nexpect = 0\n  [[example.event]]\n  message = \"zzz\"\n",
        )
        .unwrap();
        let engine = Engine::new(RuleSet { rules: vec![rule] }, 10);
        let mut kept = engine.kept();
        let triggers = |kept: &mut Kept, message: &str, whole: bool| {
            let ev = Event {
                message: message.into(),
                raw: message,
                body: Some(message),
                whole,
                ..Event::default()
            };
            engine.prefilter(kept, &ev)
        };
        let started = "Connection client1 started.";
        assert!(!triggers(&mut kept, started, true));
        // Not whole: later lines might make it a drop.
        assert!(triggers(&mut kept, started, false));
        let dropped = "Connection 979e4c1a to the service was dropped.";
        assert!(triggers(&mut kept, dropped, true));
        assert!(triggers(&mut kept, &format!("{dropped}  "), true));
    }

    #[test]
    fn every_needle_is_found_overlaps_included() {
        let set = RuleSet {
            rules: vec![
                contains_rule("a", "was dropped"),
                contains_rule("b", "dropped, probably"),
                contains_rule("c", "was drop"),
            ],
        };
        let engine = Engine::new(set, 10);
        let mut kept = engine.kept();
        let ev = Event {
            message: "Connection was dropped, probably.".into(),
            raw: "Connection was dropped, probably.",
            ..Event::default()
        };
        engine.see(&mut kept, &ev, 0, "text");
        let counts: Vec<u64> = kept.preds.iter().map(|p| p.count).collect();
        assert_eq!(counts, [1, 1, 1]);
    }

    /// Chunks a thread scans one after another skip the hits their
    /// predecessors already kept to the limit; the result is the first hits
    /// of the input all the same, scan after scan.
    #[test]
    fn chunks_after_a_full_run_keep_nothing_yet_the_first_hits_survive() {
        use crate::parse::Format;
        use crate::scan::{ScanOptions, scan_bytes};
        let engine = Engine::new(
            RuleSet {
                rules: vec![contains_rule("x", "boom")],
            },
            3,
        );
        let text: String = (0..40)
            .map(|i| format!("2024-01-01T10:00:{i:02}.000Z info: A[1]\n      boom {i}\n"))
            .collect();
        let collector = RuleCollector::new(&engine, 0, Format::IloggerSimple);
        let parser = Format::IloggerSimple.parser().unwrap();
        // Which thread takes which chunks varies from run to run: many
        // rounds make the orders that matter likely.
        for round in 0..60 {
            let opts = ScanOptions {
                chunk_size: [60, 130, 250, 1 << 20][round % 4],
                ..ScanOptions::default()
            };
            let kept = scan_bytes(text.as_bytes(), parser, &opts, &collector).acc;
            let hits = &kept.preds[0];
            let lines: Vec<u64> = hits.hits.iter().map(Hit::line).collect();
            assert_eq!(lines, [1, 3, 5], "round {round}");
            assert_eq!(hits.count, 40, "round {round}");
            assert_eq!(hits.last.as_ref().map(Hit::line), Some(79), "round {round}");
        }
    }

    #[test]
    fn the_last_hit_survives_parts_that_each_kept_too_many() {
        use crate::parse::Format;
        use crate::scan::{ScanOptions, scan_bytes};
        let rule = contains_rule("x", "boom");
        // One occurrence kept: every chunk of several hits keeps a `last`.
        let engine = Engine::new(RuleSet { rules: vec![rule] }, 1);
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "2024-01-01T10:00:{i:02}.000Z info: A[1]\n      boom {i}\n"
            ));
        }
        let collector = RuleCollector::new(&engine, 0, Format::IloggerSimple);
        for chunk_size in [60, 200, 500, 1 << 20] {
            let opts = ScanOptions {
                chunk_size,
                ..ScanOptions::default()
            };
            let parser = Format::IloggerSimple.parser().unwrap();
            let kept = scan_bytes(text.as_bytes(), parser, &opts, &collector).acc;
            let hits = &kept.preds[0];
            assert_eq!(hits.count, 40, "chunk size {chunk_size}");
            assert_eq!(hits.hits[0].line(), 1, "chunk size {chunk_size}");
            assert_eq!(
                hits.last.as_ref().map(Hit::line),
                Some(79),
                "chunk size {chunk_size}"
            );
        }
    }
}
