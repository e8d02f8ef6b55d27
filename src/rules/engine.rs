//! Running rules over events inside the parallel parse.
//!
//! Every single-event condition of every rule (a match's `when`, a count's
//! `when`, each sequence step, a trend's `up`/`down`, each evidence block) is
//! a *predicate*. The literal needles of all predicates go into one
//! Aho-Corasick automaton: a record is scanned once, and only predicates
//! whose needles it contains (plus those without needles) are evaluated.
//! Only events that satisfy a predicate are copied and kept ([`Hit`]); the
//! correlation forms run over them after the scan ([`super::forms`]).

use super::cond::{Captures, Cond, EventLookup};
use super::{Form, Rule, RuleSet};
use crate::event::Event;
use crate::scan::Collector;
use crate::time::Timestamp;
use aho_corasick::AhoCorasick;

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
}

/// A kept event that satisfied a predicate.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The event, copied (long texts cut to [`MAX_KEPT_TEXT`]).
    pub event: Event<'static>,
    /// Named regex captures from the condition.
    pub captures: Captures,
}

impl Hit {
    /// The event's line.
    pub fn line(&self) -> u64 {
        self.event.line
    }

    /// The event's time.
    pub fn time(&self) -> Option<Timestamp> {
        self.event.time
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
}

/// What the rules kept from one input (or one chunk of it).
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// Per predicate, in engine order.
    pub preds: Vec<PredHits>,
    /// Candidate bits, reused from event to event.
    scratch: Vec<u64>,
}

/// Texts of kept events are cut to this many bytes.
pub const MAX_KEPT_TEXT: usize = 16 * 1024;

/// How many hits of a correlation predicate are kept per input.
pub const CORRELATION_LIMIT: usize = 200_000;

/// The compiled rules with their prefilter.
#[derive(Debug)]
pub struct Engine {
    /// The rules.
    pub rules: RuleSet,
    /// All predicates.
    pub preds: Vec<Pred>,
    ac: Option<AhoCorasick>,
    /// Needle number → predicates that need it.
    needle_preds: Vec<Vec<u32>>,
    /// Predicates with no needle: evaluated on every event.
    always: Vec<u32>,
    /// Occurrences per rule and input that are rendered in full.
    pub max_occurrences: usize,
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
            let mut add = |slot: Slot, conds: &[Cond], keep: usize| {
                preds.push(Pred {
                    rule: i,
                    slot,
                    conds: conds.to_vec(),
                    keep,
                });
            };
            match &rule.form {
                Form::Match(c) | Form::Count { when: c, .. } => add(Slot::Main, c, keep_main),
                Form::Sequence { steps, .. } => {
                    for (n, s) in steps.iter().enumerate() {
                        add(Slot::Step(n), &s.when, CORRELATION_LIMIT);
                    }
                }
                Form::Trend { up, down, .. } => {
                    add(Slot::Up, up, CORRELATION_LIMIT);
                    if !down.is_empty() {
                        add(Slot::Down, down, CORRELATION_LIMIT);
                    }
                }
            }
            for (n, e) in rule.evidence.iter().enumerate() {
                add(Slot::Evidence(n), &e.when, 10_000);
            }
        }
        let mut needles: Vec<String> = Vec::new();
        let mut needle_preds: Vec<Vec<u32>> = Vec::new();
        let mut always = Vec::new();
        for (p, pred) in preds.iter().enumerate() {
            let all: Option<Vec<&String>> = pred
                .conds
                .iter()
                .map(|c| c.needles.as_ref())
                .collect::<Option<Vec<_>>>()
                .map(|v| v.into_iter().flatten().collect());
            match all {
                Some(list) if !list.is_empty() => {
                    for n in list {
                        let at = match needles.iter().position(|x| x == n) {
                            Some(at) => at,
                            None => {
                                needles.push(n.clone());
                                needle_preds.push(Vec::new());
                                needles.len() - 1
                            }
                        };
                        if !needle_preds[at].contains(&(p as u32)) {
                            needle_preds[at].push(p as u32);
                        }
                    }
                }
                _ => always.push(p as u32),
            }
        }
        // A leftmost-first search skips needles that start inside a reported
        // match; every needle that could hide that way is implied by it.
        for x in 0..needles.len() {
            for y in 0..needles.len() {
                if x != y && can_start_inside(&needles[x], &needles[y]) {
                    let extra = needle_preds[y].clone();
                    for p in extra {
                        if !needle_preds[x].contains(&p) {
                            needle_preds[x].push(p);
                        }
                    }
                }
            }
        }
        let ac = (!needles.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(&needles)
                .expect("literal needles always build")
        });
        Engine {
            rules,
            preds,
            ac,
            needle_preds,
            always,
            max_occurrences: max_occurrences.max(1),
        }
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
            scratch: vec![0; self.preds.len().div_ceil(64)],
        }
    }

    /// Evaluates the candidate predicates on one event.
    pub fn see(&self, kept: &mut Kept, event: &Event<'_>, input: usize, format: &'static str) {
        if self.preds.is_empty() {
            return;
        }
        let bits = &mut kept.scratch;
        bits.iter_mut().for_each(|b| *b = 0);
        if event.raw.is_empty() {
            // Events without raw text (rule examples, captures): no prefilter.
            bits.iter_mut().for_each(|b| *b = u64::MAX);
        } else if let Some(ac) = &self.ac {
            for m in ac.find_iter(event.raw) {
                for &p in &self.needle_preds[m.pattern().as_usize()] {
                    bits[p as usize / 64] |= 1 << (p % 64);
                }
            }
        }
        for &p in &self.always {
            bits[p as usize / 64] |= 1 << (p % 64);
        }
        let lookup = EventLookup::new(event, input, format, &[]);
        for word in 0..bits.len() {
            let mut w = kept.scratch[word];
            while w != 0 {
                let p = word * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                if p >= self.preds.len() {
                    break;
                }
                let pred = &self.preds[p];
                let mut captures = Vec::new();
                if pred.conds.iter().any(|c| c.test(&lookup, &mut captures)) {
                    let slot = &mut kept.preds[p];
                    slot.count += 1;
                    let hit = Hit {
                        event: cut_long_texts(event.to_owned_event()),
                        captures,
                    };
                    if slot.hits.len() < pred.keep {
                        slot.hits.push(hit);
                    } else {
                        slot.last = Some(hit);
                    }
                }
            }
        }
    }
}

/// True when an occurrence of `y` can start inside an occurrence of `x`
/// (so a non-overlapping search that reports `x` may not report `y`).
fn can_start_inside(x: &str, y: &str) -> bool {
    (0..x.len()).filter(|&k| x.is_char_boundary(k)).any(|k| {
        let rest = &x[k..];
        rest.starts_with(y) || y.starts_with(rest)
    })
}

fn cut_long_texts(mut e: Event<'static>) -> Event<'static> {
    fn cut(s: &mut std::borrow::Cow<'static, str>) {
        if s.len() > MAX_KEPT_TEXT {
            let mut end = MAX_KEPT_TEXT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            *s = std::borrow::Cow::Owned(format!("{}…", &s[..end]));
        }
    }
    cut(&mut e.message);
    if let Some(x) = e.exception.as_mut() {
        cut(x);
    }
    e
}

/// The engine as a scan [`Collector`] for one input.
pub struct RuleCollector<'e> {
    /// The engine.
    pub engine: &'e Engine,
    /// The input's index.
    pub input: usize,
    /// The input's format name.
    pub format: &'static str,
}

impl Collector for RuleCollector<'_> {
    type Acc = Kept;

    fn start(&self) -> Kept {
        self.engine.kept()
    }

    fn event(&self, acc: &mut Kept, event: &Event<'_>) {
        self.engine.see(acc, event, self.input, self.format);
    }

    fn append(&self, acc: &mut Kept, later: Kept, line_offset: u64) {
        for (p, (mine, theirs)) in acc.preds.iter_mut().zip(later.preds).enumerate() {
            let keep = self.engine.preds[p].keep;
            mine.count += theirs.count;
            let shift = |mut h: Hit| {
                h.event.line += line_offset;
                h
            };
            let mut rest = theirs.hits.into_iter().map(shift);
            while mine.hits.len() < keep {
                match rest.next() {
                    Some(h) => mine.hits.push(h),
                    None => break,
                }
            }
            if let Some(h) = rest.next_back().or(theirs.last.map(shift)) {
                mine.last = Some(h);
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
    fn overlapping_needles_are_implied() {
        assert!(can_start_inside("was dropped", "dropped, probably"));
        assert!(can_start_inside("Connection to", "to service"));
        assert!(can_start_inside("abc", "abc and more"));
        assert!(can_start_inside("timeout. 30", "out"));
        assert!(!can_start_inside("was dropped", "connected"));
    }
}
