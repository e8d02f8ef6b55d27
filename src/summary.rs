//! The per-input overview: levels, categories and time range.
//!
//! This is the first [`Collector`]: it keeps counts only, so it costs a few
//! comparisons per event and one allocation per new category per chunk.

use crate::event::{Event, Level};
use crate::scan::Collector;
use crate::time::Timestamp;
use std::collections::HashMap;

/// Collects an [`InputSummary`].
pub struct Summary;

/// Counts over one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSummary {
    /// Events per level, indexed by [`Level::index`].
    pub levels: [u64; 6],
    /// Events without a level.
    pub no_level: u64,
    /// Events per category.
    pub categories: HashMap<String, u64>,
    /// Events with a timestamp.
    pub timed: u64,
    /// The earliest timestamp.
    pub first: Option<Timestamp>,
    /// The latest timestamp.
    pub last: Option<Timestamp>,
}

impl InputSummary {
    /// The count for one level.
    pub fn level(&self, level: Level) -> u64 {
        self.levels[level.index()]
    }

    /// The `n` most frequent categories, most frequent first (ties by name).
    pub fn top_categories(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .categories
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    fn widen(&mut self, t: Timestamp) {
        if self.first.is_none_or(|f| t < f) {
            self.first = Some(t);
        }
        if self.last.is_none_or(|l| t > l) {
            self.last = Some(t);
        }
    }
}

impl Collector for Summary {
    type Acc = InputSummary;

    fn start(&self) -> InputSummary {
        InputSummary::default()
    }

    fn event(&self, acc: &mut InputSummary, event: &Event<'_>) {
        match event.level {
            Some(l) => acc.levels[l.index()] += 1,
            None => acc.no_level += 1,
        }
        if let Some(cat) = event.category.as_deref() {
            match acc.categories.get_mut(cat) {
                Some(n) => *n += 1,
                None => {
                    acc.categories.insert(cat.to_string(), 1);
                }
            }
        }
        if let Some(t) = event.time {
            acc.timed += 1;
            acc.widen(t);
        }
    }

    fn append(&self, acc: &mut InputSummary, later: InputSummary, _line_offset: u64) {
        for (a, b) in acc.levels.iter_mut().zip(later.levels) {
            *a += b;
        }
        acc.no_level += later.no_level;
        for (k, v) in later.categories {
            *acc.categories.entry(k).or_insert(0) += v;
        }
        acc.timed += later.timed;
        for t in [later.first, later.last].into_iter().flatten() {
            acc.widen(t);
        }
    }
}
