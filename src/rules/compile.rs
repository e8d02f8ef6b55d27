//! From a rule file to a checked, compiled [`Rule`].
//!
//! Every check reports with the span of the offending key or expression, and
//! all problems of a file are collected before giving up on it.

use super::cond::{self, Cond};
use super::error::RuleError;
use super::expr::{self, Expr, Kind, Lit, StrOp};
use super::fields::{self, did_you_mean};
use super::spec::{Conds, RuleFile, Texts};
use crate::event::{Event, Extra, Value};
use crate::parse::Format;
use regex::Regex;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;
use toml::Spanned;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Likely a problem.
    Warning,
    /// A problem.
    Error,
}

impl Severity {
    /// The contract name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// The severity with this name.
    pub fn from_name(s: &str) -> Option<Severity> {
        [Severity::Info, Severity::Warning, Severity::Error]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

/// Which side of a connection dropped (`kind = "drop"` rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// A client connection.
    Client,
    /// An app server's connection to the service.
    Server,
    /// Seen by the service (resource logs).
    Service,
}

impl Side {
    /// The contract name.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
            Side::Service => "service",
        }
    }

    fn from_name(s: &str) -> Option<Side> {
        [Side::Client, Side::Server, Side::Service]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

/// One step of a `[sequence]`.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its name (used as `name.field` in `where` and templates).
    pub name: String,
    /// Conditions, any of which marks the step.
    pub when: Vec<Cond>,
    /// Minimum gap from the previous step, nanoseconds.
    pub after: Option<i64>,
    /// Maximum gap from the previous step, nanoseconds.
    pub within: Option<i64>,
    /// The step must not happen.
    pub absent: bool,
}

/// A rule's form: what marks an occurrence.
#[derive(Debug, Clone)]
pub enum Form {
    /// Every event matching one of the conditions.
    Match(Vec<Cond>),
    /// `at_least` matching events within `window` for the same group.
    Count {
        /// Conditions (any of).
        when: Vec<Cond>,
        /// How many.
        at_least: u64,
        /// Within how long (nanoseconds).
        window: i64,
        /// Fields that make a group.
        group_by: Vec<String>,
    },
    /// Ordered steps joined on a key.
    Sequence {
        /// The join field.
        key: Option<String>,
        /// The steps.
        steps: Vec<Step>,
        /// Conditions across steps.
        where_: Option<Cond>,
    },
    /// A running count (up minus down) rising for a while.
    Trend {
        /// Events that add one.
        up: Vec<Cond>,
        /// Events that take one away.
        down: Vec<Cond>,
        /// Bucket size (nanoseconds).
        bucket: i64,
        /// How long the rise must last (nanoseconds).
        rising_for: i64,
        /// By how much at least.
        min_increase: i64,
        /// Fields that make a series.
        group_by: Vec<String>,
    },
}

impl Form {
    /// The form's name, as in the file.
    pub fn name(&self) -> &'static str {
        match self {
            Form::Match(_) => "match",
            Form::Count { .. } => "count",
            Form::Sequence { .. } => "sequence",
            Form::Trend { .. } => "trend",
        }
    }
}

/// Extra events shown beside each occurrence.
#[derive(Debug, Clone)]
pub struct EvidenceSpec {
    /// Relative to the occurrence (nanoseconds), start and end.
    pub window: (i64, i64),
    /// Conditions (any of).
    pub when: Vec<Cond>,
}

/// What drops a rule's occurrences can explain.
#[derive(Debug, Clone)]
pub struct Explains {
    /// The sides of drops it explains.
    pub drops: Vec<Side>,
    /// Relative to the drop (nanoseconds), start and end.
    pub window: (i64, i64),
    /// Fields that must be equal on both.
    pub same: Vec<String>,
    /// Tie-breaker.
    pub weight: f64,
}

/// Input of a rule's self-test.
#[derive(Debug, Clone)]
pub enum ExampleInput {
    /// Text in a format.
    Text {
        /// The format.
        format: Format,
        /// The text.
        text: String,
    },
    /// Events written out.
    Events(Vec<Event<'static>>),
}

/// A rule's self-test.
#[derive(Debug, Clone)]
pub struct Example {
    /// What it shows.
    pub name: String,
    /// The input.
    pub input: ExampleInput,
    /// How many occurrences it must produce.
    pub expect: u64,
}

/// A piece of a report template.
#[derive(Debug, Clone)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A `{expression}`.
    Expr(Cond),
}

/// A checked, compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its id.
    pub id: String,
    /// One line saying what it found.
    pub title: String,
    /// The guide section it stands for.
    pub guide: String,
    /// How bad.
    pub severity: Severity,
    /// Where to read more.
    pub docs: Option<String>,
    /// Why this happens.
    pub cause: String,
    /// What to do.
    pub fix: Vec<String>,
    /// Free tags.
    pub tags: Vec<String>,
    /// How an occurrence is summarised.
    pub summary: Option<Vec<Piece>>,
    /// `kind = "drop"`: the side whose connections drop.
    pub drop: Option<Side>,
    /// The form.
    pub form: Form,
    /// Evidence to show.
    pub evidence: Vec<EvidenceSpec>,
    /// Drops it can explain.
    pub explains: Option<Explains>,
    /// Self-tests.
    pub examples: Vec<Example>,
    /// The file it came from.
    pub path: String,
}

/// Where a value of the TOML source is and how its text maps back.
#[derive(Clone)]
struct Place {
    span: Range<usize>,
    /// Byte offset of the string's first character in the source, when the
    /// string's text is the source's text (no escapes).
    content: Option<usize>,
}

struct Compiler<'s> {
    path: &'s str,
    src: &'s str,
    errors: Vec<RuleError>,
    /// Named captures the rule's regexes define.
    captures: Vec<String>,
}

/// What names a condition may use.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Fields of one event.
    Event,
    /// `step.field` for the given steps.
    Steps(&'a [String]),
}

impl<'s> Compiler<'s> {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut RuleError {
        self.errors
            .push(RuleError::at(self.path, self.src, span, message));
        self.errors.last_mut().expect("just pushed")
    }

    /// Where the string value at `span` is, and whether its characters map
    /// one to one onto the source.
    fn place(&self, span: Range<usize>) -> Place {
        let raw = self.src.get(span.clone()).unwrap_or("");
        let (quote, literal) = if raw.starts_with("'''") {
            ("'''", true)
        } else if raw.starts_with("\"\"\"") {
            ("\"\"\"", false)
        } else if raw.starts_with('\'') {
            ("'", true)
        } else {
            ("\"", false)
        };
        let mut start = span.start + quote.len();
        if quote.len() == 3 {
            let after = &self.src[start..];
            start += if after.starts_with("\r\n") {
                2
            } else {
                usize::from(after.starts_with('\n'))
            };
        }
        let inner =
            &raw[(start - span.start).min(raw.len())..raw.len().saturating_sub(quote.len())];
        let content = (literal || !inner.contains('\\')).then_some(start);
        Place { span, content }
    }

    /// The source span of bytes `r` of a string at `place`.
    fn sub(&self, place: &Place, r: Range<usize>) -> Range<usize> {
        match place.content {
            Some(base) => base + r.start..base + r.end.max(r.start + 1),
            None => place.span.clone(),
        }
    }

    fn duration(&mut self, v: &Spanned<String>, what: &str) -> Option<i64> {
        match expr::parse_duration(v.get_ref()) {
            Some(d) if d >= 0 => Some(d),
            Some(_) => {
                self.err(v.span(), format!("{what} cannot be negative"));
                None
            }
            None => {
                self.err(
                    v.span(),
                    format!(
                        "`{}` is not a duration (use 250ms, 5s, 10m, 1h or 2d)",
                        v.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// `"-30s..2s"`
    fn window(&mut self, v: &Spanned<String>) -> Option<(i64, i64)> {
        let text = v.get_ref();
        let parsed = text
            .split_once("..")
            .and_then(|(a, b)| Some((expr::parse_duration(a)?, expr::parse_duration(b)?)));
        match parsed {
            Some((a, b)) if a <= b => Some((a, b)),
            Some(_) => {
                self.err(
                    v.span(),
                    format!("the window `{text}` ends before it starts"),
                );
                None
            }
            None => {
                self.err(
                    v.span(),
                    format!("`{text}` is not a window (use START..END, e.g. \"-30s..2s\")"),
                )
                .hint("durations relative to the occurrence, negative before it");
                None
            }
        }
    }

    fn field_name(&mut self, name: &str, span: Range<usize>, scope: Scope<'_>) {
        let field = match scope {
            Scope::Event => name,
            Scope::Steps(steps) => match name.split_once('.') {
                Some((step, rest)) if steps.iter().any(|s| s == step) => rest,
                _ => {
                    let step = name.split('.').next().unwrap_or(name);
                    let hint = did_you_mean(step, steps.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            format!(
                                "name the step first, e.g. `{}.time`; the steps are {}",
                                steps.first().map_or("step", String::as_str),
                                steps
                                    .iter()
                                    .map(|s| format!("`{s}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        });
                    self.err(span, format!("`{name}` does not start with a step name"))
                        .hint(hint);
                    return;
                }
            },
        };
        if fields::is_known(field, &self.captures) {
            return;
        }
        let captures = self.captures.clone();
        let candidates = fields::EVENT_FIELDS
            .iter()
            .copied()
            .chain(captures.iter().map(String::as_str));
        let e = self.err(span, format!("unknown field `{field}`"));
        match did_you_mean(field, candidates) {
            Some(s) => {
                e.hint(format!("did you mean `{s}`?"));
            }
            None => {
                e.hint("see the rule reference in the README for the fields");
            }
        }
    }

    /// Checks names and regexes in `e`; collects compiled regexes in order.
    /// An `event` literal must be an event of the catalog.
    fn event_name(&mut self, field: &Expr, value: &Expr, place: &Place) {
        let is_event =
            matches!(&field.kind, Kind::Field(f) if f == "event" || f.ends_with(".event"));
        if let (true, Kind::Lit(Lit::Str(name))) = (is_event, &value.kind) {
            let names = crate::catalog::Catalog::get().event_names();
            if !names.iter().any(|n| n == name) {
                let span = self.sub(place, value.span.clone());
                let e = self.err(
                    span,
                    format!("no event `{name}` in the SDK message catalog"),
                );
                if let Some(s) = did_you_mean(name, names.iter().map(String::as_str)) {
                    e.hint(format!("did you mean `{s}`?"));
                }
            }
        }
    }

    fn check(&mut self, e: &Expr, place: &Place, scope: Scope<'_>, regexes: &mut VecDeque<Regex>) {
        if let Kind::Cmp(_, a, b) = &e.kind {
            self.event_name(a, b, place);
            self.event_name(b, a, place);
        }
        if let Kind::In(a, items) = &e.kind {
            for i in items {
                self.event_name(a, i, place);
            }
        }
        match &e.kind {
            Kind::Or(a, b)
            | Kind::And(a, b)
            | Kind::Cmp(_, a, b)
            | Kind::Add(a, b)
            | Kind::Sub(a, b) => {
                self.check(a, place, scope, regexes);
                self.check(b, place, scope, regexes);
            }
            Kind::Str(StrOp::Matches, a, b) => {
                self.check(a, place, scope, regexes);
                match &b.kind {
                    Kind::Lit(Lit::Str(re)) => match Regex::new(re) {
                        Ok(r) => regexes.push_back(r),
                        Err(err) => {
                            let detail = err.to_string();
                            let last = detail
                                .lines()
                                .rev()
                                .find(|l| !l.trim().is_empty())
                                .unwrap_or("");
                            let msg = format!(
                                "invalid regular expression: {}",
                                last.trim().trim_start_matches("error: ")
                            );
                            let span = self.sub(place, b.span.clone());
                            self.err(span, msg);
                            regexes.push_back(Regex::new("$^").expect("valid"));
                        }
                    },
                    _ => {
                        let span = self.sub(place, b.span.clone());
                        self.err(span, "`matches` needs a regular expression in quotes");
                        regexes.push_back(Regex::new("$^").expect("valid"));
                    }
                }
            }
            Kind::Not(a) => self.check(a, place, scope, regexes),
            Kind::In(a, items) => {
                self.check(a, place, scope, regexes);
                for i in items {
                    self.check(i, place, scope, regexes);
                }
            }
            Kind::Str(_, a, b) => {
                self.check(a, place, scope, regexes);
                self.check(b, place, scope, regexes);
            }
            Kind::Exists(f) | Kind::Len(f) | Kind::Field(f) => {
                let span = self.sub(place, e.span.clone());
                self.field_name(f, span, scope);
            }
            Kind::Lit(_) => {}
        }
    }

    /// Compiles one expression written at `place`; `test` requires it to
    /// be a condition (true or false) rather than a value.
    fn expression(
        &mut self,
        text: &str,
        place: &Place,
        scope: Scope<'_>,
        test: bool,
    ) -> Option<Cond> {
        let parsed = match expr::parse(text) {
            Ok(e) => e,
            Err(se) => {
                let span = self.sub(place, se.at..se.at + 1);
                let near = text[se.at.min(text.len())..]
                    .chars()
                    .take(12)
                    .collect::<String>();
                let msg = if near.is_empty() {
                    format!("incomplete expression: expected {}", se.expected)
                } else {
                    format!("expected {} here", se.expected)
                };
                self.err(span, msg);
                return None;
            }
        };
        let before = self.errors.len();
        let mut regexes = VecDeque::new();
        self.check(&parsed, place, scope, &mut regexes);
        let is_test = matches!(
            parsed.kind,
            Kind::Or(..)
                | Kind::And(..)
                | Kind::Not(_)
                | Kind::Cmp(..)
                | Kind::In(..)
                | Kind::Str(..)
                | Kind::Exists(_)
                | Kind::Lit(Lit::Bool(_))
        );
        if test && !is_test {
            let span = self.sub(place, parsed.span.clone());
            self.err(span, "a condition must be a test").hint(
                "compare it (`==`, `>=`, `contains`, `in [...]`, `matches`) or use `exists(field)`",
            );
        }
        if self.errors.len() > before {
            return None;
        }
        let node = cond::lower(&parsed.kind, &mut regexes);
        let trigger = cond::trigger(&node);
        Some(Cond {
            text: text.to_string(),
            node,
            trigger,
        })
    }

    fn conds(&mut self, c: &Spanned<Conds>, scope: Scope<'_>) -> Vec<Cond> {
        let items = c.get_ref().items(c.span());
        items
            .iter()
            .filter_map(|(text, span)| {
                let place = self.place(span.clone());
                self.expression(text, &place, scope, true)
            })
            .collect()
    }

    fn fields_list(&mut self, t: &Spanned<Texts>, scope: Scope<'_>) -> Vec<String> {
        let items = t.get_ref().items(t.span());
        for (name, span) in &items {
            self.field_name(name, span.clone(), scope);
        }
        items.into_iter().map(|(n, _)| n).collect()
    }

    fn template(&mut self, t: &Spanned<String>, scope: Scope<'_>) -> Vec<Piece> {
        let text = t.get_ref();
        let place = self.place(t.span());
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < text.len() {
            let rest = &text[i..];
            if rest.starts_with("{{") || rest.starts_with("}}") {
                lit.push_str(&rest[..1]);
                i += 2;
            } else if rest.starts_with('{') {
                let Some(close) = matching_brace(rest) else {
                    let span = self.sub(&place, i..i + 1);
                    self.err(span, "`{` opens an expression that is never closed")
                        .hint("write `{{` for a literal brace");
                    break;
                };
                if !lit.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut lit)));
                }
                let inner = &rest[1..close];
                let inner_place = Place {
                    span: place.span.clone(),
                    content: place.content.map(|c| c + i + 1),
                };
                if let Some(c) = self.expression(inner, &inner_place, scope, false) {
                    pieces.push(Piece::Expr(c));
                }
                i += close + 1;
            } else {
                let ch = rest.chars().next().expect("non-empty");
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Text(lit));
        }
        pieces
    }

    /// Named captures of every `matches` in the rule's conditions, so that
    /// later references to them are known fields.
    fn collect_captures(&mut self, texts: &[String]) {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match &e.kind {
                Kind::Str(StrOp::Matches, a, b) => {
                    walk(a, out);
                    if let Kind::Lit(Lit::Str(re)) = &b.kind
                        && let Ok(r) = Regex::new(re)
                    {
                        out.extend(r.capture_names().flatten().map(str::to_string));
                    }
                }
                Kind::Or(a, b)
                | Kind::And(a, b)
                | Kind::Cmp(_, a, b)
                | Kind::Add(a, b)
                | Kind::Sub(a, b)
                | Kind::Str(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Kind::Not(a) => walk(a, out),
                Kind::In(a, items) => {
                    walk(a, out);
                    items.iter().for_each(|i| walk(i, out));
                }
                _ => {}
            }
        }
        for t in texts {
            if let Ok(e) = expr::parse(t) {
                walk(&e, &mut self.captures);
            }
        }
    }
}

/// The index of the `}` closing the `{` at the start of `s`, skipping `{…}`
/// inside (field names like `{OriginalFormat}`) and quoted strings.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A TOML error with its place, and a did-you-mean for unknown keys.
fn toml_error(path: &str, src: &str, e: &toml::de::Error) -> RuleError {
    let message = e.message().trim().to_string();
    let span = e.span().unwrap_or(0..0);
    let mut err = RuleError::at(path, src, span, message.clone());
    if message == "missing field `expect`" {
        err = err.help("put `expect = N` before the [[example.event]] tables: after them it belongs to the last event");
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, expected)) = rest.split_once('`')
    {
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        err.message = format!("unknown key `{name}`");
        err = match did_you_mean(name, candidates.iter().copied()) {
            Some(s) => err.help(format!("did you mean `{s}`?")),
            None => err.help(format!(
                "expected one of {}",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
    }
    err
}

/// Compiles one rule file; `Err` holds every problem found.
pub fn compile(path: &str, src: &str) -> Result<Rule, Vec<RuleError>> {
    let file: RuleFile = toml::from_str(src).map_err(|e| vec![toml_error(path, src, &e)])?;
    let mut c = Compiler {
        path,
        src,
        errors: Vec::new(),
        captures: Vec::new(),
    };
    let mut all_conds: Vec<String> = Vec::new();
    let mut gather = |x: &Option<&Spanned<Conds>>| {
        if let Some(x) = x {
            all_conds.extend(x.get_ref().items(0..0).into_iter().map(|(t, _)| t));
        }
    };
    gather(&file.match_.as_ref().map(|m| &m.get_ref().when));
    gather(&file.count.as_ref().map(|m| &m.get_ref().when));
    gather(&file.trend.as_ref().map(|m| &m.get_ref().up));
    gather(&file.trend.as_ref().and_then(|m| m.get_ref().down.as_ref()));
    if let Some(s) = &file.sequence {
        for st in &s.get_ref().step {
            gather(&Some(&st.get_ref().when));
        }
    }
    for e in &file.evidence {
        gather(&Some(&e.get_ref().when));
    }
    c.collect_captures(&all_conds);

    let id = file.id.get_ref().clone();
    if id.is_empty()
        || !id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
    {
        c.err(
            file.id.span(),
            format!("the id `{id}` must be lowercase letters, digits and `-`"),
        );
    }
    let severity = match Severity::from_name(file.severity.get_ref()) {
        Some(s) => s,
        None => {
            let got = file.severity.get_ref().clone();
            let e = c.err(file.severity.span(), format!("unknown severity `{got}`"));
            match did_you_mean(&got, ["info", "warning", "error"]) {
                Some(s) => e.hint(format!("did you mean `{s}`? (info, warning or error)")),
                None => e.hint("use info, warning or error"),
            };
            Severity::Info
        }
    };
    let drop = match (&file.kind, &file.side) {
        (None, None) => None,
        (Some(k), side) if k.get_ref() == "drop" => match side {
            Some(s) => match Side::from_name(s.get_ref()) {
                Some(side) => Some(side),
                None => {
                    c.err(s.span(), format!("unknown side `{}`", s.get_ref()))
                        .hint("use client, server or service");
                    None
                }
            },
            None => {
                c.err(
                    k.span(),
                    "a drop rule needs `side` (client, server or service)",
                );
                None
            }
        },
        (Some(k), _) => {
            c.err(k.span(), format!("unknown kind `{}`", k.get_ref()))
                .hint("the only kind is \"drop\"");
            None
        }
        (None, Some(s)) => {
            c.err(
                s.span(),
                "`side` belongs to drop rules: add `kind = \"drop\"`",
            );
            None
        }
    };

    // Exactly one form.
    let forms: Vec<(&str, Range<usize>)> = [
        file.match_.as_ref().map(|f| ("match", f.span())),
        file.count.as_ref().map(|f| ("count", f.span())),
        file.sequence.as_ref().map(|f| ("sequence", f.span())),
        file.trend.as_ref().map(|f| ("trend", f.span())),
    ]
    .into_iter()
    .flatten()
    .collect();
    if forms.is_empty() {
        c.err(file.id.span(), "the rule has no form")
            .hint("add one of [match], [count], [sequence] or [trend]");
    }
    for (name, span) in forms.iter().skip(1) {
        c.err(
            span.clone(),
            format!(
                "a rule has exactly one form, but this one also has [{}]",
                forms[0].0
            ),
        )
        .hint(format!("move [{name}] into a rule file of its own"));
    }

    let mut step_names: Vec<String> = Vec::new();
    let form = if let Some(m) = &file.match_ {
        Some(Form::Match(c.conds(&m.get_ref().when, Scope::Event)))
    } else if let Some(k) = &file.count {
        let k = k.get_ref();
        let when = c.conds(&k.when, Scope::Event);
        let window = c.duration(&k.window, "window").unwrap_or(0);
        if *k.at_least.get_ref() < 1 {
            c.err(k.at_least.span(), "`at_least` must be 1 or more");
        }
        let group_by = k
            .group_by
            .as_ref()
            .map(|g| c.fields_list(g, Scope::Event))
            .unwrap_or_default();
        Some(Form::Count {
            when,
            at_least: (*k.at_least.get_ref()).max(1) as u64,
            window,
            group_by,
        })
    } else if let Some(s) = &file.sequence {
        let spec = s.get_ref();
        if spec.step.len() < 2 {
            c.err(s.span(), "a sequence needs at least two [[sequence.step]]");
        }
        let mut steps = Vec::new();
        for st in &spec.step {
            let st = st.get_ref();
            let name = st.name.get_ref().clone();
            if step_names.contains(&name) {
                c.err(st.name.span(), format!("two steps are named `{name}`"));
            }
            if name.contains('.') || name.is_empty() || expr::level_literal(&name).is_some() {
                c.err(
                    st.name.span(),
                    format!("`{name}` cannot name a step (use a plain word)"),
                );
            }
            step_names.push(name.clone());
            let when = c.conds(&st.when, Scope::Event);
            let after = st.after.as_ref().and_then(|a| c.duration(a, "after"));
            let within = st.within.as_ref().and_then(|w| c.duration(w, "within"));
            if let (Some(a), Some(w)) = (after, within)
                && a >= w
                && let Some(span) = st.after.as_ref().map(Spanned::span)
            {
                c.err(span, "`after` must be shorter than `within`");
            }
            steps.push(Step {
                name,
                when,
                after,
                within,
                absent: st.absent,
            });
        }
        if steps.len() >= 2 && steps[0].absent && steps[1].absent {
            c.err(
                spec.step[1].span(),
                "after an absent first step, the second step must happen",
            );
        }
        if steps.len() == 1 && steps[0].absent {
            c.err(
                spec.step[0].span(),
                "a sequence of one absent step never happens",
            );
        }
        let key = spec.key.as_ref().map(|k| {
            c.field_name(k.get_ref(), k.span(), Scope::Event);
            k.get_ref().clone()
        });
        let names = step_names.clone();
        let where_ = spec.where_.as_ref().and_then(|w| {
            let place = c.place(w.span());
            c.expression(w.get_ref(), &place, Scope::Steps(&names), true)
        });
        Some(Form::Sequence { key, steps, where_ })
    } else if let Some(t) = &file.trend {
        let t = t.get_ref();
        let up = c.conds(&t.up, Scope::Event);
        let down = t
            .down
            .as_ref()
            .map(|d| c.conds(d, Scope::Event))
            .unwrap_or_default();
        let bucket = c.duration(&t.bucket, "bucket").unwrap_or(0);
        if bucket == 0 {
            c.err(t.bucket.span(), "`bucket` must be longer than zero");
        }
        let rising_for = c.duration(&t.rising_for, "rising_for").unwrap_or(0);
        let min_increase = t.min_increase.as_ref().map_or(1, |m| *m.get_ref());
        let group_by = t
            .group_by
            .as_ref()
            .map(|g| c.fields_list(g, Scope::Event))
            .unwrap_or_default();
        Some(Form::Trend {
            up,
            down,
            bucket: bucket.max(1),
            rising_for,
            min_increase,
            group_by,
        })
    } else {
        None
    };

    let evidence = file
        .evidence
        .iter()
        .map(|e| {
            let e = e.get_ref();
            EvidenceSpec {
                window: e
                    .window
                    .as_ref()
                    .and_then(|w| c.window(w))
                    .unwrap_or((-30_000_000_000, 0)),
                when: c.conds(&e.when, Scope::Event),
            }
        })
        .collect();

    let explains = file.explains.as_ref().map(|x| {
        let x = x.get_ref();
        let drops = x
            .drops
            .get_ref()
            .items(x.drops.span())
            .into_iter()
            .filter_map(|(s, span)| {
                let side = Side::from_name(&s);
                if side.is_none() {
                    c.err(span, format!("unknown side `{s}`"))
                        .hint("use client, server or service");
                }
                side
            })
            .collect();
        let window = c.window(&x.window).unwrap_or((0, 0));
        let same = x
            .same
            .as_ref()
            .map(|s| c.fields_list(s, Scope::Event))
            .unwrap_or_default();
        Explains {
            drops,
            window,
            same,
            weight: x.weight.unwrap_or(1.0),
        }
    });

    let summary = file.summary.as_ref().map(|t| {
        let names = step_names.clone();
        let scope = if names.is_empty() {
            Scope::Event
        } else {
            Scope::Steps(&names)
        };
        c.template(t, scope)
    });

    let mut examples = Vec::new();
    for ex in &file.example {
        if let Some(e) = example(&mut c, ex) {
            examples.push(e);
        }
    }
    if !file.example.is_empty() || c.errors.is_empty() {
        let fires = examples.iter().any(|e| e.expect > 0);
        let quiet = examples.iter().any(|e| e.expect == 0);
        if !(fires && quiet) && c.errors.is_empty() {
            c.err(file.id.span(), format!("rule `{id}` needs an [[example]] that fires (expect ≥ 1) and one that must not (expect = 0)"))
                .hint("examples are the rule's own tests: `asrs-logscan rules test` runs them");
        }
    }

    let fix = file
        .fix
        .get_ref()
        .items(file.fix.span())
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    match (form, c.errors.is_empty()) {
        (Some(form), true) => Ok(Rule {
            id,
            title: file.title.into_inner(),
            guide: file.guide.map(Spanned::into_inner).unwrap_or_default(),
            severity,
            docs: file.docs,
            cause: file.cause.into_inner(),
            fix,
            tags: file.tags,
            summary,
            drop,
            form,
            evidence,
            explains,
            examples,
            path: path.to_string(),
        }),
        _ => Err(c.errors),
    }
}

fn example(c: &mut Compiler<'_>, ex: &Spanned<super::spec::ExampleSpec>) -> Option<Example> {
    let spec = ex.get_ref();
    if *spec.expect.get_ref() < 0 {
        c.err(
            spec.expect.span(),
            "`expect` is a count of occurrences: 0 or more",
        );
        return None;
    }
    let input = match (&spec.text, spec.event.is_empty()) {
        (Some(text), true) => {
            let format = match &spec.format {
                Some(f) => match Format::from_name(f.get_ref()) {
                    Some(Format::Saz) => {
                        c.err(f.span(), "a SAZ is a zip archive and cannot be example text")
                            .hint("write the exchanges as HAR text (`format = \"har\"`): SAZ sessions are analyzed the same way");
                        return None;
                    }
                    Some(fmt) => fmt,
                    None => {
                        let names = Format::ALL.map(|f| f.name());
                        let e = c.err(f.span(), format!("unknown format `{}`", f.get_ref()));
                        match did_you_mean(f.get_ref(), names) {
                            Some(s) => e.hint(format!("did you mean `{s}`?")),
                            None => e.hint(format!("one of {}", names.join(", "))),
                        };
                        return None;
                    }
                },
                None => match crate::input::detect::detect(text.get_ref().as_bytes()) {
                    Ok(d) => d.format,
                    Err(_) => {
                        c.err(
                            text.span(),
                            "cannot tell the format of this text: add `format = \"…\"`",
                        );
                        return None;
                    }
                },
            };
            ExampleInput::Text {
                format,
                text: text.get_ref().clone(),
            }
        }
        (None, false) => {
            let mut events = Vec::new();
            for (n, table) in spec.event.iter().enumerate() {
                events.push(example_event(c, table, n as u64 + 1)?);
            }
            ExampleInput::Events(events)
        }
        (Some(_), false) => {
            c.err(
                ex.span(),
                "an example has either `text` or [[example.event]], not both",
            );
            return None;
        }
        (None, true) => {
            c.err(
                ex.span(),
                "an example needs `text` (with `format`) or [[example.event]] tables",
            );
            return None;
        }
    };
    Some(Example {
        name: spec.name.clone(),
        input,
        expect: *spec.expect.get_ref() as u64,
    })
}

/// An event written as a TOML table: the common fields by name, anything
/// else (dotted or nested: `http.status`, `http = { status = 404 }`) as a
/// named value.
fn example_event(
    c: &mut Compiler<'_>,
    table: &Spanned<toml::Table>,
    line: u64,
) -> Option<Event<'static>> {
    let mut ev = Event {
        line,
        ..Event::default()
    };
    let mut extra: Vec<(String, Value<'static>)> = Vec::new();
    let mut flat = Vec::new();
    flatten("", table.get_ref(), &mut flat);
    let span = table.span();
    for (key, value) in flat {
        let text = match &value {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Datetime(d) => Some(d.to_string()),
            _ => None,
        };
        match key.as_str() {
            "time" => match text.as_deref().and_then(crate::time::parse) {
                Some(t) => ev.time = Some(t),
                None => {
                    c.err(span.clone(), format!("`time = {value}` is not a timestamp"));
                    return None;
                }
            },
            "level" => match text.as_deref().and_then(expr::level_literal) {
                Some(l) => ev.level = Some(l),
                None => {
                    c.err(
                        span.clone(),
                        format!("`level = {value}` is not a level (trace … critical)"),
                    );
                    return None;
                }
            },
            "message" => ev.message = Cow::Owned(text.unwrap_or_else(|| value.to_string())),
            "category" => ev.category = text.map(Cow::Owned),
            "exception" => ev.exception = text.map(Cow::Owned),
            "scopes" => ev.scopes = text.map(Cow::Owned),
            "event_id" => ev.event_id = value.as_integer().and_then(|i| i32::try_from(i).ok()),
            _ if fields::is_known(&key, &c.captures) => {
                extra.push((key.clone(), example_value(&key, &value)))
            }
            _ => {
                let e = c.err(
                    span.clone(),
                    format!("unknown field `{key}` in an example event"),
                );
                if let Some(s) = did_you_mean(&key, fields::EVENT_FIELDS.iter().copied()) {
                    e.hint(format!("did you mean `{s}`?"));
                }
                return None;
            }
        }
    }
    if !extra.is_empty() {
        ev.extra = Extra::Fields(extra);
    }
    Some(ev)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) if !(key == "http.query" && t.is_empty()) => {
                flatten(&key, t, out)
            }
            other => out.push((key, other.clone())),
        }
    }
}

/// A TOML value as a field value; times and durations are read from
/// strings for the fields that hold them.
fn example_value(key: &str, v: &toml::Value) -> Value<'static> {
    const TIMES: [&str; 4] = ["time", "token.exp", "token.iat", "token.nbf"];
    const DURATIONS: [&str; 3] = ["http.duration", "http.wait", "token.lifetime"];
    match v {
        toml::Value::String(s) if TIMES.contains(&key) => {
            crate::time::parse(s).map_or_else(|| Value::Str(Cow::Owned(s.clone())), Value::Time)
        }
        toml::Value::String(s) if DURATIONS.contains(&key) => {
            expr::parse_duration(s).map_or_else(|| Value::Str(Cow::Owned(s.clone())), Value::Dur)
        }
        toml::Value::String(s) => Value::Str(Cow::Owned(s.clone())),
        toml::Value::Integer(i) => Value::Num(*i as f64),
        toml::Value::Float(f) => Value::Num(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => crate::time::parse(&d.to_string())
            .map_or_else(|| Value::Str(Cow::Owned(d.to_string())), Value::Time),
        toml::Value::Array(items) => {
            Value::List(items.iter().map(|i| example_value(key, i)).collect())
        }
        toml::Value::Table(_) => Value::Str(Cow::Owned(v.to_string())),
    }
}
