//! The per-input overview: levels, categories and time range.
//!
//! This is the first [`Collector`]: it keeps counts only, so it costs a few
//! comparisons per event; categories are counted in a few recent slots
//! (logs cycle through a handful) and hashed only when those overflow.

use crate::event::{Event, Level};
use crate::fxhash::FxHasher;
use crate::scan::Collector;
use crate::time::Timestamp;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// How many categories are counted without hashing.
const RECENT: usize = 8;

/// Collects an [`InputSummary`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    /// Also keep negotiate requests as clock anchors (only worth it when
    /// there is another input to line up with).
    pub anchors: bool,
}

/// Counts over one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputSummary {
    /// Events per level, indexed by [`Level::index`].
    pub levels: [u64; 6],
    /// Events without a level.
    pub no_level: u64,
    /// Events per category (see also `recent`).
    categories: HashMap<String, u64, BuildHasherDefault<FxHasher>>,
    /// Events with a timestamp.
    pub timed: u64,
    /// Of those, timestamps without an offset (local time, zone unknown).
    pub naive: u64,
    /// Of those, timestamps without a date (time of day only).
    pub time_only: u64,
    /// The earliest timestamp.
    pub first: Option<Timestamp>,
    /// The latest timestamp.
    pub last: Option<Timestamp>,
    /// Recently seen categories and their counts, not yet in `categories`.
    recent: Vec<(String, u64)>,
    /// The slot of `recent` that the next category not in it replaces.
    evict: usize,
    /// Evidence another input may share, as (key, time): negotiate
    /// requests and client connections (see `anchor`), to estimate the
    /// clock offset between inputs.
    pub anchors: Vec<(String, Timestamp)>,
}

/// How many anchors an input keeps (the first ones): plenty to agree on
/// an offset, few enough to cost nothing on a long log.
const MAX_ANCHORS: usize = 1_000;

/// Evidence another input may share, as a key: `negotiate PATH` for a
/// negotiate request (a captured `POST …/negotiate` to the app, or the
/// ASP.NET Core hosting line `Request starting HTTP/1.1 POST
/// http://…/negotiate?…`), `connection ID` for a client connection (the
/// service's negotiate reply in a capture names it; the SDK logs
/// `Connection ID started.` when it connects).
fn anchor(event: &Event<'_>) -> Option<String> {
    let category = event.category.as_deref()?;
    match category {
        "http" => {
            let field = |n: &str| event.field(n).map(|v| v.to_text());
            let path = field("http.path")?;
            if let Some(id) = field("connection_id") {
                return Some(format!("connection {id}"));
            }
            let ok = field("http.method").as_deref() == Some("POST")
                && path.ends_with("/negotiate")
                && !field("http.host")?.ends_with(".service.signalr.net");
            ok.then(|| format!("negotiate {path}"))
        }
        "Microsoft.AspNetCore.Hosting.Diagnostics" => {
            memchr::memmem::find(event.message.as_bytes(), b"/negotiate")?;
            let rest = event.message.strip_prefix("Request starting ")?;
            let mut words = rest.split(' ');
            let (_, method, url) = (words.next()?, words.next()?, words.next()?);
            let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
            let path = after_scheme[after_scheme.find('/')?..].split('?').next()?;
            (method == "POST" && path.ends_with("/negotiate")).then(|| format!("negotiate {path}"))
        }
        c if c.contains("Azure.SignalR") => {
            let id = event
                .message
                .trim_end()
                .strip_prefix("Connection ")?
                .strip_suffix(" started.")?;
            (!id.contains(' ')).then(|| format!("connection {id}"))
        }
        _ => None,
    }
}

impl InputSummary {
    /// The count for one level.
    pub fn level(&self, level: Level) -> u64 {
        self.levels[level.index()]
    }

    /// Events per category, most frequent first (ties by name).
    pub fn categories(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .categories
            .iter()
            .map(|(k, n)| {
                let pending: u64 = self
                    .recent
                    .iter()
                    .filter(|(c, _)| c == k)
                    .map(|(_, m)| m)
                    .sum();
                (k.as_str(), n + pending)
            })
            .collect();
        for (c, n) in &self.recent {
            if !self.categories.contains_key(c) {
                v.push((c.as_str(), *n));
            }
        }
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }

    /// The `n` most frequent categories, most frequent first (ties by name).
    pub fn top_categories(&self, n: usize) -> Vec<(&str, u64)> {
        let mut v = self.categories();
        v.truncate(n);
        v
    }

    /// Moves the recent counts into `categories`.
    fn flush_recent(&mut self) {
        self.evict = 0;
        for (cat, n) in self.recent.drain(..) {
            *self.categories.entry(cat).or_insert(0) += n;
        }
    }

    /// Counts one event of `cat`.
    fn count_category(&mut self, cat: &str) {
        if let Some(slot) = self.recent.iter_mut().find(|(c, _)| c == cat) {
            slot.1 += 1;
            return;
        }
        if self.recent.len() < RECENT {
            self.recent.push((cat.to_string(), 1));
            return;
        }
        // One slot (round robin) moves its count to the map and takes the
        // new category into its own buffer: no allocation unless the
        // category is new to the map (measured: a flush of all slots,
        // with a new String per miss, cost 42,000 allocations per
        // 200 MB of a log with a dozen categories).
        let (old, n) = &mut self.recent[self.evict];
        self.evict = (self.evict + 1) % RECENT;
        match self.categories.get_mut(old.as_str()) {
            Some(total) => *total += *n,
            None => {
                self.categories.insert(old.clone(), *n);
            }
        }
        old.clear();
        old.push_str(cat);
        *n = 1;
    }

    /// Widens the time range to include `t`. Logs are mostly in order, so
    /// the common case is one comparison — of the wall clocks when `t` has
    /// the last time's offset (then they order as the instants do), which
    /// spares working out the instant of every record (a fifth of the
    /// summary's instructions).
    fn widen(&mut self, t: Timestamp) {
        let later = match self.last {
            None => {
                self.first = Some(t);
                self.last = Some(t);
                return;
            }
            Some(l) if l.offset_secs == t.offset_secs => t.wall >= l.wall,
            Some(l) => t.sort_key() >= l.sort_key(),
        };
        if later {
            self.last = Some(t);
        } else if self.first.is_none_or(|f| t.sort_key() < f.sort_key()) {
            self.first = Some(t);
        }
    }
}

impl Collector for Summary {
    type Acc = InputSummary;

    fn start(&self) -> InputSummary {
        InputSummary::default()
    }

    fn needs_whole(&self, _acc: &mut InputSummary, _event: &Event<'_>) -> bool {
        // Anchors read messages; the rest is in the header.
        self.anchors
    }

    fn event(&self, acc: &mut InputSummary, event: &Event<'_>) {
        match event.level {
            Some(l) => acc.levels[l.index()] += 1,
            None => acc.no_level += 1,
        }
        if let Some(cat) = event.category.as_deref() {
            acc.count_category(cat);
        }
        if let Some(t) = event.time {
            if self.anchors
                && acc.anchors.len() < MAX_ANCHORS
                && let Some(key) = anchor(event)
            {
                acc.anchors.push((key, t));
            }
            acc.timed += 1;
            if !t.has_date {
                acc.time_only += 1;
            } else if t.offset_secs.is_none() {
                acc.naive += 1;
            }
            acc.widen(t);
        }
    }

    fn append(&self, acc: &mut InputSummary, mut later: InputSummary, _line_offset: u64) {
        acc.flush_recent();
        later.flush_recent();
        for (a, b) in acc.levels.iter_mut().zip(later.levels) {
            *a += b;
        }
        acc.no_level += later.no_level;
        for (k, v) in later.categories {
            *acc.categories.entry(k).or_insert(0) += v;
        }
        let room = MAX_ANCHORS.saturating_sub(acc.anchors.len());
        acc.anchors.extend(later.anchors.into_iter().take(room));
        acc.timed += later.timed;
        acc.naive += later.naive;
        acc.time_only += later.time_only;
        for t in [later.first, later.last].into_iter().flatten() {
            acc.widen(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn ev(cat: &str, time: &str) -> Event<'static> {
        Event {
            category: Some(Cow::Owned(cat.to_string())),
            time: crate::time::parse(time),
            level: Some(Level::Info),
            ..Event::default()
        }
    }

    #[test]
    fn categories_and_range_survive_runs_and_appends() {
        let mut a = Summary::default().start();
        for (c, t) in [
            ("A", "10:00:02"),
            ("A", "10:00:01"),
            ("B", "10:00:03"),
            ("A", "10:00:04"),
        ] {
            Summary::default().event(&mut a, &ev(c, t));
        }
        assert_eq!(a.categories(), vec![("A", 3), ("B", 1)]);
        let mut b = Summary::default().start();
        Summary::default().event(&mut b, &ev("B", "09:59:59"));
        Summary::default().event(&mut b, &ev("B", "10:00:00"));
        let mut total = Summary::default().start();
        Summary::default().append(&mut total, a, 0);
        Summary::default().append(&mut total, b, 4);
        assert_eq!(total.categories(), vec![("A", 3), ("B", 3)]);
        assert_eq!(total.first.unwrap().to_string(), "09:59:59");
        assert_eq!(total.last.unwrap().to_string(), "10:00:04");
        assert_eq!((total.level(Level::Info), total.timed), (6, 6));
    }

    /// The range is that of the instants, whatever the order and the
    /// offsets: wall clocks are compared only between equal offsets.
    #[test]
    fn the_range_orders_instants_across_offsets() {
        let times = [
            "2024-03-02T10:00:00+01:00", // 09:00 UTC
            "2024-03-02T09:30:00Z",
            "2024-03-02T08:59:59.5Z", // the first
            "2024-03-02T10:00:00.250+01:00",
            "2024-03-02T12:00:00+03:00", // 09:00 UTC
            "2024-03-02T11:00:00+01:00", // 10:00 UTC, the last
            "2024-03-02T09:59:59Z",
            "2024-03-02T07:00:00-02:00", // 09:00 UTC
        ];
        let instant = |t: &str| crate::time::parse(t).unwrap().sort_key();
        let (min, max) = times.iter().fold((times[0], times[0]), |(lo, hi), &t| {
            (
                if instant(t) < instant(lo) { t } else { lo },
                if instant(t) > instant(hi) { t } else { hi },
            )
        });
        for rotation in 0..times.len() {
            let mut acc = Summary::default().start();
            for t in times.iter().cycle().skip(rotation).take(times.len()) {
                Summary::default().event(&mut acc, &ev("A", t));
            }
            assert_eq!(acc.first.unwrap().sort_key(), instant(min), "{rotation}");
            assert_eq!(acc.last.unwrap().sort_key(), instant(max), "{rotation}");
        }
    }

    #[test]
    fn more_categories_than_recent_slots_are_all_counted() {
        let mut a = Summary::default().start();
        for round in 0..3 {
            for i in 0..RECENT + 3 {
                Summary::default().event(&mut a, &ev(&format!("C{i:02}"), "10:00:00"));
            }
            assert_eq!(a.categories().len(), RECENT + 3, "round {round}");
        }
        assert!(a.categories().iter().all(|&(_, n)| n == 3));
    }
}
