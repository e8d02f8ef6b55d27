//! The SDK message catalog: real log templates of the Azure SignalR SDK and
//! the SignalR clients across versions (`data/sdk-messages.tsv`, compiled in).
//!
//! A message is recognised as its event (`ConnectionDropped`) whatever the
//! logger, level or SDK version printed it — including `asrs.log.txt`, whose
//! event id is always 0 — and its placeholders become fields
//! (`ServiceConnectionId`, `Endpoint`, `Error`). Templates are kept exact,
//! typos included. Recognition is lazy (only for events a rule asks about)
//! and goes through one Aho-Corasick pass over the message for each
//! template's longest literal, then a full match of the few candidates.

use crate::parse::bytemask::{first_word, masked_word};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::{LazyLock, OnceLock};

const TSV: &str = include_str!("../data/sdk-messages.tsv");

/// A piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Hole(String),
}

/// One message template.
#[derive(Debug, Clone)]
pub struct Template {
    /// The event name (`ConnectionDropped`).
    pub event: String,
    /// Categories that log it (without version notes).
    pub categories: Vec<String>,
    /// The component (`server-sdk-core`, `client-js`, …).
    pub component: String,
    /// The guide section the catalog relates it to.
    pub guide: String,
    /// The template as written.
    pub text: String,
    segs: Vec<Seg>,
    /// A searcher per literal segment (`None` for holes), built once.
    finders: Vec<Option<memchr::memmem::Finder<'static>>>,
    /// Quick tests that reject most messages before the segments are
    /// walked: a record whose message starts like many templates (every
    /// `Connection {Id} …`) is tried against about 50 of them.
    quick: Quick,
    /// Whether this is the first template with its text: the one an exact
    /// `{OriginalFormat}` stands for.
    first_of_text: bool,
}

/// What every message of a template has: a length, and the first and last
/// (up to) 8 bytes when it starts or ends with a literal, as words with the
/// mask of those bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Quick {
    min_len: usize,
    prefix: (u64, u64),
    suffix: (u64, u64),
    /// How far a message's last 8 bytes, read as a word, are shifted down
    /// to line up with `suffix`.
    suffix_shift: u32,
}

impl Quick {
    fn new(segs: &[Seg]) -> Quick {
        fn lit(s: Option<&Seg>) -> &[u8] {
            match s {
                Some(Seg::Lit(l)) => l.as_bytes(),
                _ => &[],
            }
        }
        let last = lit(segs.last());
        let suffix = masked_word(&last[last.len().saturating_sub(8)..]);
        Quick {
            min_len: segs
                .iter()
                .map(|s| match s {
                    Seg::Lit(l) => l.len(),
                    Seg::Hole(_) => 0,
                })
                .sum(),
            prefix: masked_word(lit(segs.first())),
            suffix,
            suffix_shift: 64 - suffix.1.count_ones(),
        }
    }

    /// False when `m` cannot be a message of the template. Messages of 8
    /// bytes or more (nearly all) are read as two whole words: a copy of
    /// a length only known at run time is a call to `memcpy`, several per
    /// template tried.
    fn admits(&self, m: &[u8]) -> bool {
        if m.len() < self.min_len {
            return false;
        }
        if let (Some(first), Some(last)) = (m.first_chunk::<8>(), m.last_chunk::<8>()) {
            let (first, last) = (u64::from_le_bytes(*first), u64::from_le_bytes(*last));
            // A shift of 64 (no suffix) would overflow; its mask is 0 then.
            let last = last.checked_shr(self.suffix_shift).unwrap_or(0);
            return first & self.prefix.1 == self.prefix.0 && last & self.suffix.1 == self.suffix.0;
        }
        first_word(m) & self.prefix.1 == self.prefix.0 && {
            let tail = (64 - self.suffix_shift as usize) / 8;
            first_word(&m[m.len() - tail..]) & self.suffix.1 == self.suffix.0
        }
    }
}

/// A recognised message: names from the catalog (`'c`), values borrowed
/// from the message (`'m`). Nothing is copied: every drop's ids are
/// recognised, and owned texts cost ten allocations a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized<'c, 'm> {
    /// The event name.
    pub event: &'c str,
    /// Placeholder values, plus the derived `connection`,
    /// `server_connection` and `hub`.
    pub fields: Vec<(&'c str, &'m str)>,
}

/// The catalog.
#[derive(Debug)]
pub struct Catalog {
    /// Every template with an event name.
    pub templates: Vec<Template>,
    by_text: HashMap<String, usize>,
    ac: AhoCorasick,
    /// Key literal number → templates keyed by it.
    key_templates: Vec<Vec<usize>>,
    names: Vec<String>,
    holes: Vec<String>,
    /// Per template, worked out on first use: the templates that could
    /// match one of its messages too and rank as high (see
    /// [`Catalog::recognize_matched`]).
    rivals: Vec<OnceLock<Box<[u32]>>>,
}

/// Placeholder names that identify a client connection.
const CLIENT_IDS: [&str; 4] = [
    "TransportConnectionId",
    "connectionId",
    "ConnectionId",
    "connectionToken",
];
/// Placeholder names that identify a server connection.
const SERVER_IDS: [&str; 2] = ["ServiceConnectionId", "ServerConnectionId"];
/// Placeholder names that hold a hub name.
const HUB_NAMES: [&str; 3] = ["hub", "hubName", "Hub"];

impl Catalog {
    /// The compiled-in catalog, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::parse(TSV));
        &CATALOG
    }

    /// Parses the TSV (columns `component, category, event_id, event_name,
    /// level, template, …`); rows without an event name or without literal
    /// text are left out.
    pub fn parse(tsv: &str) -> Catalog {
        let mut templates = Vec::new();
        for line in tsv.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() < 8 || cols[3].is_empty() || cols[1].starts_with('(') {
                continue;
            }
            let text = cols[5].replace("\\n", "\n").replace("\\x1e", "\u{1e}");
            let segs = segments(&text);
            if !segs
                .iter()
                .any(|s| matches!(s, Seg::Lit(l) if l.trim().len() >= 3))
            {
                continue;
            }
            let finders = segs
                .iter()
                .map(|s| match s {
                    Seg::Lit(l) => Some(memchr::memmem::Finder::new(l.as_bytes()).into_owned()),
                    Seg::Hole(_) => None,
                })
                .collect();
            templates.push(Template {
                event: cols[3].to_string(),
                categories: categories(cols[1]),
                component: cols[0].to_string(),
                guide: cols[7].to_string(),
                text,
                quick: Quick::new(&segs),
                segs,
                finders,
                first_of_text: false,
            });
        }
        let mut keys: Vec<String> = Vec::new();
        let mut key_templates: Vec<Vec<usize>> = Vec::new();
        let mut by_text = HashMap::new();
        for (i, t) in templates.iter_mut().enumerate() {
            t.first_of_text = *by_text.entry(t.text.clone()).or_insert(i) == i;
            let key = t.key().to_string();
            match keys.iter().position(|k| *k == key) {
                Some(k) => key_templates[k].push(i),
                None => {
                    keys.push(key);
                    key_templates.push(vec![i]);
                }
            }
        }
        let mut names: Vec<String> = templates.iter().map(|t| t.event.clone()).collect();
        names.sort();
        names.dedup();
        let mut holes: Vec<String> = templates
            .iter()
            .flat_map(|t| t.segs.iter())
            .filter_map(|s| match s {
                Seg::Hole(h) if !h.chars().all(|c| c.is_ascii_digit()) => Some(h.clone()),
                _ => None,
            })
            .collect();
        holes.sort();
        holes.dedup();
        Catalog {
            ac: AhoCorasick::new(&keys).expect("template literals build"),
            rivals: templates.iter().map(|_| OnceLock::new()).collect(),
            templates,
            by_text,
            key_templates,
            names,
            holes,
        }
    }

    /// How many templates.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// All event names, sorted.
    pub fn event_names(&self) -> &[String] {
        &self.names
    }

    /// All placeholder names (fields a recognised message may have).
    pub fn placeholders(&self) -> &[String] {
        &self.holes
    }

    /// The longest literal of each template of `event` (prefilter needles).
    pub fn literals_of(&self, event: &str) -> Vec<&str> {
        self.templates
            .iter()
            .filter(|t| t.event == event)
            .map(Template::key)
            .collect()
    }

    /// Indexes of the templates of the events named.
    pub fn templates_of(&self, events: &[String]) -> Vec<usize> {
        (0..self.templates.len())
            .filter(|&i| events.contains(&self.templates[i].event))
            .collect()
    }

    /// Few literals one of which every message of the given templates
    /// contains, for the prefilter: a literal all of them share when there
    /// is one (all versions of `ConnectionDropped` say "dropped"), else
    /// each template's longest. `None` when some template has no usable one.
    pub fn shared_literals(&self, templates: &[usize]) -> Option<Vec<String>> {
        let texts: Vec<Vec<&str>> = templates
            .iter()
            .map(|&i| self.templates[i].literals())
            .collect();
        let pieces = |t: usize| -> Vec<&str> {
            texts[t]
                .iter()
                .flat_map(|l| l.split(|c: char| !needle_char(c)))
                .collect()
        };
        let mut out: Vec<String> = Vec::new();
        let mut left: Vec<usize> = (0..texts.len()).collect();
        while let Some(&first) = left.first() {
            // The long piece of this template's text that the most remaining
            // templates share; short pieces match too much to be shared.
            let mut best: Option<(usize, &str)> = None;
            for piece in pieces(first) {
                for len in (MIN_SHARED..=piece.len()).rev() {
                    for start in 0..=piece.len() - len {
                        let Some(cand) = piece.get(start..start + len) else {
                            continue;
                        };
                        let covers = left
                            .iter()
                            .filter(|&&t| texts[t].iter().any(|l| l.contains(cand)))
                            .count();
                        if best.is_none_or(|(c, b)| {
                            covers > c || (covers == c && cand.len() > b.len())
                        }) {
                            best = Some((covers, cand));
                        }
                    }
                }
            }
            // No long piece: the template's own longest piece.
            let needle = match best {
                Some((_, b)) => b.to_string(),
                None => pieces(first)
                    .into_iter()
                    .max_by_key(|p| p.len())
                    .filter(|p| p.len() >= 3)?
                    .to_string(),
            };
            left.retain(|&t| !texts[t].iter().any(|l| l.contains(needle.as_str())));
            out.push(needle);
        }
        Some(out)
    }

    /// True when `message` is one of the given templates — the fast test
    /// for `event == "X"`, which need not recognise the message among all.
    /// A JSON console `{OriginalFormat}` decides alone when present.
    pub fn is_one_of(
        &self,
        templates: &[usize],
        message: &str,
        original_format: Option<&str>,
    ) -> bool {
        if let Some(f) = original_format {
            // The template `f` stands for, among the few given: comparing
            // their texts is cheaper than hashing `f` to look it up.
            return templates.iter().any(|&i| {
                let t = &self.templates[i];
                t.first_of_text && t.text == f
            });
        }
        let message = message.trim_end();
        templates
            .iter()
            .any(|&i| self.templates[i].matches(message))
    }

    /// Recognises a message logged under `category` (if known). An exact
    /// `{OriginalFormat}` (JSON console) is looked up directly.
    pub fn recognize<'m>(
        &self,
        category: Option<&str>,
        message: &'m str,
        original_format: Option<&str>,
    ) -> Option<Recognized<'_, 'm>> {
        let message = message.trim_end();
        if let Some(&i) = original_format.and_then(|f| self.by_text.get(f)) {
            let t = &self.templates[i];
            let fields = match_segs(t, message).unwrap_or_default();
            return Some(recognized(t, fields));
        }
        // Templates whose key is in the message and whose quick tests it
        // passes (which every message of the template does): most keys are
        // found in many messages, and a failed match allocates its values.
        let mut candidates: Vec<usize> = Vec::new();
        for m in self.ac.find_overlapping_iter(message) {
            for &t in &self.key_templates[m.pattern().as_usize()] {
                if self.templates[t].admits(message) && !candidates.contains(&t) {
                    candidates.push(t);
                }
            }
        }
        // Templates of the event's own category first, then the most
        // specific (most literal text) first.
        candidates.sort_by_cached_key(|&i| {
            let t = &self.templates[i];
            (!t.in_category(category), std::cmp::Reverse(t.literal_len()))
        });
        candidates.into_iter().find_map(|i| {
            match_segs(&self.templates[i], message).map(|f| recognized(&self.templates[i], f))
        })
    }

    /// What [`Catalog::recognize`] makes of `message`, knowing that
    /// template `t` matches it (an `event` test found that out), or `None`
    /// when only `recognize` can tell.
    ///
    /// `recognize` takes the first matching template of the event's
    /// category, most literal text first. When `t` is of the category, only
    /// templates of the category with at least as much literal text can
    /// come first, and of those only the ones that can match a message of
    /// `t` at all ([`Catalog::rivals`], usually none): when none of them
    /// matches, `t` is the answer, found without searching the message for
    /// every template's key. The drops' ids are recognised this way (34,483
    /// server connection drops in a GiB of ILogger text).
    pub fn recognize_matched<'m>(
        &self,
        t: usize,
        category: Option<&str>,
        message: &'m str,
    ) -> Option<Recognized<'_, 'm>> {
        let template = &self.templates[t];
        if !template.in_category(category) {
            return None;
        }
        let message = message.trim_end();
        let outranked = self.rivals(t).iter().any(|&u| {
            let u = &self.templates[u as usize];
            u.in_category(category) && u.matches(message)
        });
        if outranked {
            return None;
        }
        match_segs(template, message).map(|f| recognized(template, f))
    }

    /// The templates other than `t` with at least its literal text that
    /// may match a message `t` matches: those whose first and last
    /// literals do not rule it out ([`may_share_messages`]).
    fn rivals(&self, t: usize) -> &[u32] {
        self.rivals[t].get_or_init(|| {
            let template = &self.templates[t];
            (0..self.templates.len())
                .filter(|&u| {
                    let other = &self.templates[u];
                    u != t
                        && other.literal_len() >= template.literal_len()
                        && may_share_messages(template, other)
                })
                .map(|u| u as u32)
                .collect()
        })
    }
}

impl Template {
    /// Whether an event of `category` may be this template's: its category
    /// starts with one of the template's.
    fn in_category(&self, category: Option<&str>) -> bool {
        category.is_some_and(|c| self.categories.iter().any(|tc| c.starts_with(tc.as_str())))
    }

    /// The literal every message of this template starts with, when the
    /// template starts with one (not with a placeholder).
    pub fn first_literal(&self) -> Option<&str> {
        match self.segs.first() {
            Some(Seg::Lit(l)) if !l.is_empty() => Some(l),
            _ => None,
        }
    }

    /// The literal every message of this template ends with, when the
    /// template ends with one (not with a placeholder).
    fn last_literal(&self) -> Option<&str> {
        match self.segs.last() {
            Some(Seg::Lit(l)) if !l.is_empty() => Some(l),
            _ => None,
        }
    }

    /// The longest literal segment.
    pub fn key(&self) -> &str {
        self.segs
            .iter()
            .filter_map(|s| match s {
                Seg::Lit(l) => Some(l.as_str()),
                Seg::Hole(_) => None,
            })
            .max_by_key(|l| l.len())
            .unwrap_or("")
    }

    /// False when `message` cannot be this template: its length, first or
    /// last bytes rule it out (the first step of [`Template::matches`]).
    pub fn admits(&self, message: &str) -> bool {
        self.quick.admits(message.as_bytes())
    }

    /// True when `message` is this template (no values extracted).
    pub fn matches(&self, message: &str) -> bool {
        self.quick.admits(message.as_bytes()) && self.walk(message)
    }

    /// [`Template::matches`] without the quick tests. A placeholder may
    /// stand for an empty value (a logger writes an empty string as
    /// nothing), as in [`Catalog::recognize`]: `event == "X"` and the
    /// recognised `event` must agree.
    fn walk(&self, message: &str) -> bool {
        fn go(
            segs: &[Seg],
            finders: &[Option<memchr::memmem::Finder<'static>>],
            msg: &str,
        ) -> bool {
            match segs {
                [] => msg.is_empty(),
                [Seg::Lit(l), ..] => {
                    msg.starts_with(l.as_str()) && go(&segs[1..], &finders[1..], &msg[l.len()..])
                }
                [Seg::Hole(_)] => true,
                [Seg::Hole(_), Seg::Lit(l)] => msg.ends_with(l.as_str()),
                [Seg::Hole(_), Seg::Lit(l), ..] => {
                    let Some(f) = &finders[1] else { return false };
                    f.find_iter(msg.as_bytes())
                        .any(|at| go(&segs[2..], &finders[2..], &msg[at + l.len()..]))
                }
                [Seg::Hole(_), Seg::Hole(_), ..] => false,
            }
        }
        go(&self.segs, &self.finders, message)
    }

    /// The literal segments.
    fn literals(&self) -> Vec<&str> {
        self.segs
            .iter()
            .filter_map(|s| match s {
                Seg::Lit(l) => Some(l.as_str()),
                Seg::Hole(_) => None,
            })
            .collect()
    }

    fn literal_len(&self) -> usize {
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.len(),
                Seg::Hole(_) => 0,
            })
            .sum()
    }
}

fn recognized<'c, 'm>(t: &'c Template, mut fields: Vec<(&'c str, &'m str)>) -> Recognized<'c, 'm> {
    let find = |names: &[&str], fields: &[(&'c str, &'m str)]| {
        names
            .iter()
            .find_map(|n| fields.iter().find(|(k, _)| k == n).map(|&(_, v)| v))
    };
    let derived = [
        ("connection", find(&CLIENT_IDS, &fields)),
        ("server_connection", find(&SERVER_IDS, &fields)),
        ("hub", find(&HUB_NAMES, &fields)),
    ];
    for (k, v) in derived {
        if let Some(v) = v {
            fields.push((k, v));
        }
    }
    Recognized {
        event: &t.event,
        fields,
    }
}

/// False when no message can be both `a`'s and `b`'s: both start with
/// literals and neither literal begins the other, or both end with
/// literals and neither ends the other.
fn may_share_messages(a: &Template, b: &Template) -> bool {
    let starts = match (a.first_literal(), b.first_literal()) {
        (Some(x), Some(y)) => x.starts_with(y) || y.starts_with(x),
        _ => true,
    };
    let ends = match (a.last_literal(), b.last_literal()) {
        (Some(x), Some(y)) => x.ends_with(y) || y.ends_with(x),
        _ => true,
    };
    starts && ends
}

/// The shortest literal shared between templates that the prefilter uses.
const MIN_SHARED: usize = 14;

/// Characters a prefilter needle may hold: they stand as written in every
/// format's raw text (JSON escapes quotes, `<>&+` and non-ASCII).
fn needle_char(c: char) -> bool {
    (' '..='~').contains(&c) && !matches!(c, '"' | '\'' | '\\' | '<' | '>' | '&' | '+' | '`')
}

/// `Microsoft.A | Microsoft.B (v1.0.6-v1.0.10)` → `[Microsoft.A, Microsoft.B]`.
fn categories(col: &str) -> Vec<String> {
    col.split(" | ")
        .map(|c| {
            let c = c.trim().trim_start_matches("(caller logger) ");
            c.split(" (").next().unwrap_or(c).trim().to_string()
        })
        .filter(|c| !c.is_empty() && !c.starts_with("..."))
        .collect()
}

/// Splits a template into literals and placeholders: `{Name}`,
/// `{Name:0.00}`, `{0}`, `{ pingName }`.
fn segments(text: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| after[..c].trim());
        match (close, name) {
            (Some(c), Some(n))
                if !n.is_empty()
                    && n.chars().all(|ch| {
                        ch.is_ascii_alphanumeric() || ch == '_' || ch == ':' || ch == '.'
                    }) =>
            {
                lit.push_str(&rest[..open]);
                if !lit.is_empty() {
                    out.push(Seg::Lit(std::mem::take(&mut lit)));
                }
                let name = n.split(':').next().unwrap_or(n).to_string();
                // Two holes in a row cannot be told apart: keep one.
                if !matches!(out.last(), Some(Seg::Hole(_))) {
                    out.push(Seg::Hole(name));
                }
                rest = &after[c + 1..];
            }
            _ => {
                lit.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Seg::Lit(lit));
    }
    out
}

/// Matches the whole `message` against a template; returns the hole
/// values. Uses the template's prebuilt searchers: recognition runs for
/// every drop and cause a long log holds.
fn match_segs<'c, 'm>(t: &'c Template, message: &'m str) -> Option<Vec<(&'c str, &'m str)>> {
    fn go<'c, 'm>(
        segs: &'c [Seg],
        finders: &[Option<memchr::memmem::Finder<'static>>],
        msg: &'m str,
        out: &mut Vec<(&'c str, &'m str)>,
    ) -> bool {
        match segs {
            [] => msg.is_empty(),
            [Seg::Lit(l), ..] => msg
                .strip_prefix(l.as_str())
                .is_some_and(|m| go(&segs[1..], &finders[1..], m, out)),
            [Seg::Hole(h)] => {
                out.push((h, msg));
                true
            }
            // The final literal ends the message: the hole is the rest
            // (values may contain the literal).
            [Seg::Hole(h), Seg::Lit(l)] => match msg.strip_suffix(l.as_str()) {
                Some(v) => {
                    out.push((h, v));
                    true
                }
                None => false,
            },
            [Seg::Hole(h), Seg::Lit(l), ..] => {
                let Some(f) = &finders[1] else { return false };
                // Try every place the next literal occurs.
                for at in f.find_iter(msg.as_bytes()) {
                    let mark = out.len();
                    out.push((h, &msg[..at]));
                    if go(&segs[2..], &finders[2..], &msg[at + l.len()..], out) {
                        return true;
                    }
                    out.truncate(mark);
                }
                false
            }
            [Seg::Hole(_), Seg::Hole(_), ..] => false,
        }
    }
    let mut out = Vec::new();
    go(&t.segs, &t.finders, message, &mut out).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The template's text with every placeholder replaced by `value`.
    fn filled(t: &Template, value: &str) -> String {
        t.segs
            .iter()
            .map(|s| match s {
                Seg::Lit(l) => l.as_str(),
                Seg::Hole(_) => value,
            })
            .collect()
    }

    /// The quick tests never reject a message the segments accept, and the
    /// walk accepts just what the value-taking match accepts, empty values
    /// included: `event == "X"` agrees with the recognised event, and
    /// `recognize` may skip templates whose quick tests fail.
    #[test]
    fn quick_tests_only_reject_what_the_walk_rejects() {
        let catalog = Catalog::get();
        let mut messages = vec![String::new(), "x".to_string(), "Connection".to_string()];
        for t in &catalog.templates {
            for value in ["v1", ""] {
                let filled = filled(t, value);
                let mut half = filled.len() / 2;
                while !filled.is_char_boundary(half) {
                    half -= 1;
                }
                messages.push(format!("{filled} and more"));
                messages.push(filled[..half].to_string());
                messages.push(filled);
            }
        }
        let mut matched = 0;
        for t in &catalog.templates {
            for m in &messages {
                assert_eq!(t.matches(m), t.walk(m), "{:?} on {m:?}", t.text);
                let taken = match_segs(t, m).is_some();
                assert_eq!(t.walk(m), taken, "{:?} on {m:?}", t.text);
                matched += usize::from(t.matches(m));
            }
        }
        // Every template matches at least its own filled-in text.
        assert!(matched >= catalog.templates.len(), "{matched}");
    }

    /// Knowing a matching template gives what searching all of them gives,
    /// for every template's messages, every template that matches them and
    /// events of its category, of none and of another.
    #[test]
    fn a_matched_template_recognises_as_the_search_does() {
        let catalog = Catalog::get();
        // Per event of the template's own category: told by it alone, or not.
        let (mut shortcut, mut fallback) = (0, 0);
        for t in &catalog.templates {
            for value in ["v1", "", "Connection 7 started."] {
                let message = filled(t, value);
                for (u, other) in catalog.templates.iter().enumerate() {
                    if !other.matches(message.trim_end()) {
                        continue;
                    }
                    let own = other.categories.first().map(String::as_str);
                    for category in [own, None, Some("Elsewhere.Category")] {
                        let quick = catalog.recognize_matched(u, category, &message);
                        if category == own && own.is_some() {
                            *(if quick.is_some() {
                                &mut shortcut
                            } else {
                                &mut fallback
                            }) += 1;
                        }
                        if quick.is_some() {
                            let searched = catalog.recognize(category, &message, None);
                            assert_eq!(quick, searched, "{message:?} as {:?}", other.text);
                        }
                    }
                }
            }
        }
        assert!(shortcut > fallback, "{shortcut} vs {fallback}");
    }

    fn rec<'m>(cat: Option<&str>, msg: &'m str) -> Option<Recognized<'static, 'm>> {
        Catalog::get().recognize(cat, msg, None)
    }

    fn field<'r>(r: &'r Recognized, k: &str) -> Option<&'r str> {
        r.fields.iter().find(|(n, _)| *n == k).map(|&(_, v)| v)
    }

    #[test]
    fn the_catalog_loads() {
        let c = Catalog::get();
        assert!(c.len() > 500, "{}", c.len());
        assert!(c.event_names().iter().any(|n| n == "ConnectionDropped"));
        assert!(c.placeholders().iter().any(|n| n == "ServiceConnectionId"));
        assert!(!c.literals_of("ServiceTimeout").is_empty());
    }

    #[test]
    fn every_version_of_a_message_is_one_event() {
        let current = rec(
            Some("Microsoft.Azure.SignalR.ServiceConnection"),
            "Connection to 'https://contoso.service.signalr.net' was dropped, probably caused by network instability or service restart. Will reconnect after the back off period. Error detail: The remote party closed the WebSocket connection.. The remote party closed the WebSocket connection.. Id: 3c9f2a1e-0d4b-4b7e-9a61-5f2d1c0e8b77.",
        )
        .unwrap();
        assert_eq!(current.event, "ConnectionDropped");
        assert_eq!(
            field(&current, "ServiceConnectionId"),
            Some("3c9f2a1e-0d4b-4b7e-9a61-5f2d1c0e8b77")
        );
        assert_eq!(
            field(&current, "server_connection"),
            Some("3c9f2a1e-0d4b-4b7e-9a61-5f2d1c0e8b77")
        );
        assert_eq!(
            field(&current, "Endpoint"),
            Some("https://contoso.service.signalr.net")
        );
        let old = rec(None, "Connection 979e4c1a to the service was dropped.").unwrap();
        assert_eq!(old.event, "ConnectionDropped");
        let timeout = rec(
            None,
            "Service timeout. 30000.00ms elapsed without receiving a message from service.",
        )
        .unwrap();
        assert_eq!(timeout.event, "ServiceTimeout");
        let ended = rec(
            Some("Microsoft.Azure.SignalR.AspNet.ServiceConnection"),
            "Connection c1 ended.",
        )
        .unwrap();
        assert_eq!(ended.event, "ConnectedEnding");
        assert_eq!(field(&ended, "connection"), Some("c1"));
        assert!(rec(None, "Something nobody logs.").is_none());
    }

    #[test]
    fn original_format_is_exact() {
        let r = Catalog::get()
            .recognize(
                None,
                "Service connection abc connected.",
                Some("Service connection {ServiceConnectionId} connected."),
            )
            .unwrap();
        assert_eq!(r.event, "ServiceConnectionConnected");
        assert_eq!(field(&r, "ServiceConnectionId"), Some("abc"));
    }

    #[test]
    fn shared_literals_cover_every_version() {
        let c = Catalog::get();
        let t = c.templates_of(&["ConnectionDropped".to_string()]);
        assert!(t.len() >= 3, "{t:?}");
        let n = c.shared_literals(&t).unwrap();
        assert!(n.len() <= 2, "{n:?}");
        for &i in &t {
            let text = &c.templates[i].text;
            assert!(
                n.iter().any(|x| text.contains(x.as_str())),
                "{text} not covered by {n:?}"
            );
        }
    }

    #[test]
    fn template_segments() {
        assert_eq!(
            segments("Starting { pingName } ping timer. Duration: {KeepAliveInterval:0.00}ms"),
            vec![
                Seg::Lit("Starting ".into()),
                Seg::Hole("pingName".into()),
                Seg::Lit(" ping timer. Duration: ".into()),
                Seg::Hole("KeepAliveInterval".into()),
                Seg::Lit("ms".into())
            ]
        );
        assert_eq!(
            segments("{\"type\":7}"),
            vec![Seg::Lit("{\"type\":7}".into())]
        );
    }
}
