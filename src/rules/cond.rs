//! Compiled conditions: checked at load, evaluated per event.
//!
//! A [`Cond`] is an expression whose field names are known, whose regexes
//! are compiled, and which knows the literal needles a record must contain
//! for it to be true (for the rules' multi-pattern prefilter).
//!
//! Semantics: a comparison with a field the event does not have is false
//! (`!=` too; use `!exists(f)` for absence); a field with several values
//! (`http.query.hub`) passes a test when any value does; `len()` of a
//! missing field is 0.

use super::expr::{CmpOp, Kind, Lit, StrOp};
use crate::catalog::{Catalog, Recognized};
use crate::event::{Event, Level, Value};
use regex::Regex;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};
use std::cmp::Ordering;

/// A compiled expression node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Box<Node>, Box<Node>),
    In(Box<Node>, Vec<Node>),
    Str(StrOp, Box<Node>, Box<Node>),
    Matches(Box<Node>, Regex),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    Exists(String),
    Len(String),
    Field(String),
    Lit(Value<'static>),
    /// `event == "X"` / `event in [...]`: the message is one of these
    /// catalog templates.
    EventIs(Vec<usize>),
    /// `field contains "literal"`, with its searcher built once.
    Contains(Box<Node>, Box<memchr::memmem::Finder<'static>>),
}

/// A compiled condition (or template expression).
#[derive(Debug, Clone)]
pub struct Cond {
    /// The expression as written.
    pub text: String,
    pub(crate) node: Node,
    /// What a record must show for the condition to hold; `None` when
    /// nothing is known (the condition is always evaluated).
    pub trigger: Option<Trigger>,
}

/// The prefilter's view of a condition: it can only hold for a record
/// whose text contains one of `needles` or whose message starts with one
/// of `starts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trigger {
    /// Literals searched for in the record's text.
    pub needles: Vec<String>,
    /// Literals looked up at the start of the message (`message startswith`,
    /// the first literals of an `event` test's templates): a probe per
    /// record instead of a needle the text search must find anywhere. With
    /// each, the catalog template it is the start of, if any: a message
    /// known whole must also pass that template's quick tests.
    pub starts: Vec<(String, Option<usize>)>,
    /// Some needle is a category, scopes or source text: those repeat in
    /// every record's header (every category starts "Microsoft."), so the
    /// search meets them, or their first bytes, on every record.
    pub weak: bool,
}

impl Trigger {
    /// True when the trigger rules some records out: it has a needle or a
    /// start, and no empty start (which every message has).
    pub fn narrows(&self) -> bool {
        (!self.needles.is_empty() || !self.starts.is_empty())
            && self.starts.iter().all(|(l, _)| !l.is_empty())
    }
}

/// Where field values come from.
pub trait Lookup {
    /// The value of `name`, if there is one.
    fn get(&self, name: &str) -> Option<Value<'_>>;

    /// True when the event's message is one of the catalog `templates`.
    fn event_is(&self, templates: &[usize]) -> bool {
        let _ = templates;
        false
    }
}

/// Named regex captures gathered while a condition is evaluated.
pub type Captures = Vec<(String, String)>;

/// One event seen by rules: the event plus what only the input knows, and
/// (computed on first use) what the SDK message catalog recognises in it.
pub struct EventLookup<'e, 'a> {
    event: &'e Event<'a>,
    input: usize,
    format: &'static str,
    captures: &'e [(String, String)],
    recognized: OnceCell<Option<Recognized<'static, 'e>>>,
    /// A template an `event` test found the message to match (see
    /// [`Catalog::recognize_matched`]).
    matched: std::cell::Cell<Option<usize>>,
    /// A JSON console record's `{OriginalFormat}` (its `State` is parsed
    /// once, not once per `event` test).
    original: OnceCell<Option<String>>,
}

impl<'e, 'a> EventLookup<'e, 'a> {
    /// Looks at `event` of input `input` in `format`, with the regex
    /// captures an earlier condition took from it.
    pub fn new(
        event: &'e Event<'a>,
        input: usize,
        format: &'static str,
        captures: &'e [(String, String)],
    ) -> Self {
        EventLookup {
            event,
            input,
            format,
            captures,
            recognized: OnceCell::new(),
            matched: std::cell::Cell::new(None),
            original: OnceCell::new(),
        }
    }

    /// The `{OriginalFormat}` of a JSON console record, if it has one.
    fn original_format(&self) -> Option<&str> {
        self.original
            .get_or_init(|| match &self.event.extra {
                crate::event::Extra::None | crate::event::Extra::Trace { .. } => None,
                _ => match self.event.field("{OriginalFormat}") {
                    Some(Value::Str(s)) => Some(s.into_owned()),
                    _ => None,
                },
            })
            .as_deref()
    }

    /// What the catalog makes of the event's message.
    pub fn recognized(&self) -> Option<&Recognized<'static, 'e>> {
        self.recognized
            .get_or_init(|| {
                let catalog = Catalog::get();
                let category = self.event.category.as_deref();
                let original = self.original_format();
                if original.is_none()
                    && let Some(t) = self.matched.get()
                    && let Some(r) = catalog.recognize_matched(t, category, &self.event.message)
                {
                    return Some(r);
                }
                catalog.recognize(category, &self.event.message, original)
            })
            .as_ref()
    }
}

impl Lookup for EventLookup<'_, '_> {
    fn event_is(&self, templates: &[usize]) -> bool {
        if let Some(r) = self.recognized.get() {
            let catalog = Catalog::get();
            return r.as_ref().is_some_and(|r| {
                templates
                    .iter()
                    .any(|&i| catalog.templates[i].event == r.event)
            });
        }
        let catalog = Catalog::get();
        if let Some(original) = self.original_format() {
            return catalog.is_one_of(templates, &self.event.message, Some(original));
        }
        // The templates are tried one by one: each fails at its first
        // literal unless the message starts with it, which is cheaper than
        // recognising the message among all templates.
        let message = self.event.message.trim_end();
        let found = templates
            .iter()
            .find(|&&t| catalog.templates[t].matches(message));
        if let Some(&t) = found {
            self.matched.set(Some(t));
        }
        found.is_some()
    }

    fn get(&self, name: &str) -> Option<Value<'_>> {
        match name {
            "format" => return Some(Value::Str(Cow::Borrowed(self.format))),
            "input" => return Some(Value::Num(self.input as f64)),
            "event" => {
                return self
                    .recognized()
                    .map(|r| Value::Str(Cow::Borrowed(r.event)));
            }
            _ => {}
        }
        if let Some((_, v)) = self.captures.iter().find(|(k, _)| k == name) {
            return Some(Value::Str(Cow::Borrowed(v)));
        }
        if let Some(v) = self.event.field(name) {
            return Some(v);
        }
        if super::fields::is_catalog_field(name) {
            let r = self.recognized()?;
            return r
                .fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|&(_, v)| Value::Str(Cow::Borrowed(v)));
        }
        None
    }
}

struct Ctx<'l> {
    lookup: &'l dyn Lookup,
    captures: RefCell<Captures>,
}

impl Ctx<'_> {
    fn field(&self, name: &str) -> Option<Value<'_>> {
        if let Some((_, v)) = self.captures.borrow().iter().find(|(k, _)| k == name) {
            return Some(Value::Str(Cow::Owned(v.clone())));
        }
        self.lookup.get(name)
    }
}

impl Cond {
    /// Evaluates the condition; named captures of `matches` tests that took
    /// part are added to `captures` when it holds.
    pub fn test(&self, lookup: &dyn Lookup, captures: &mut Captures) -> bool {
        let ctx = Ctx {
            lookup,
            captures: RefCell::new(Vec::new()),
        };
        let ok = truth(&eval(&self.node, &ctx));
        if ok {
            captures.extend(ctx.captures.into_inner());
        }
        ok
    }

    /// Evaluates the expression to a value (for templates and keys).
    pub fn value(&self, lookup: &dyn Lookup) -> Option<Value<'static>> {
        let ctx = Ctx {
            lookup,
            captures: RefCell::new(Vec::new()),
        };
        eval(&self.node, &ctx).map(Value::into_owned)
    }
}

fn truth(v: &Option<Value<'_>>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

fn eval<'c>(node: &'c Node, ctx: &'c Ctx<'_>) -> Option<Value<'c>> {
    let b = |v: bool| Some(Value::Bool(v));
    match node {
        Node::Or(a, c) => b(truth(&eval(a, ctx)) || truth(&eval(c, ctx))),
        Node::And(a, c) => b(truth(&eval(a, ctx)) && truth(&eval(c, ctx))),
        Node::Not(a) => b(!truth(&eval(a, ctx))),
        Node::Cmp(op, l, r) => {
            let (l, r) = (eval(l, ctx)?, eval(r, ctx)?);
            b(any_pair(&l, &r, &|x, y| match compare(x, y) {
                Some(o) => match op {
                    CmpOp::Eq => o == Ordering::Equal,
                    CmpOp::Ne => o != Ordering::Equal,
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    CmpOp::Ge => o != Ordering::Less,
                },
                None => false,
            }))
        }
        Node::In(l, items) => {
            let l = eval(l, ctx)?;
            b(items.iter().any(|item| {
                eval(item, ctx).is_some_and(|r| {
                    any_pair(&l, &r, &|x, y| compare(x, y) == Some(Ordering::Equal))
                })
            }))
        }
        Node::Contains(l, finder) => {
            let l = eval(l, ctx)?;
            b(any_text(&l, &mut |t| finder.find(t.as_bytes()).is_some()))
        }
        Node::Str(op, l, r) => {
            let (l, r) = (eval(l, ctx)?, eval(r, ctx)?);
            b(any_pair(&l, &r, &|x, y| match (x, y) {
                (Value::Str(x), Value::Str(y)) => match op {
                    StrOp::Contains => x.contains(y.as_ref()),
                    StrOp::StartsWith => x.starts_with(y.as_ref()),
                    StrOp::EndsWith => x.ends_with(y.as_ref()),
                    StrOp::Matches => false,
                },
                _ => false,
            }))
        }
        Node::Matches(l, re) => {
            let l = eval(l, ctx)?;
            b(any_text(&l, &mut |text| {
                if !re.is_match(text) {
                    return false;
                }
                if re.captures_len() == 1 {
                    return true;
                }
                let Some(c) = re.captures(text) else {
                    return false;
                };
                let mut caps = ctx.captures.borrow_mut();
                for name in re.capture_names().flatten() {
                    if let Some(m) = c.name(name) {
                        caps.retain(|(k, _)| k != name);
                        caps.push((name.to_string(), m.as_str().to_string()));
                    }
                }
                true
            }))
        }
        Node::Add(l, r) => arith(eval(l, ctx)?, eval(r, ctx)?, true),
        Node::Sub(l, r) => arith(eval(l, ctx)?, eval(r, ctx)?, false),
        Node::Exists(f) => b(ctx.field(f).is_some()),
        Node::Len(f) => Some(Value::Num(match ctx.field(f) {
            None => 0.0,
            Some(Value::List(v)) => v.len() as f64,
            Some(Value::Str(s)) => s.chars().count() as f64,
            Some(_) => 1.0,
        })),
        Node::Field(f) => ctx.field(f),
        // Borrowed, not cloned: a literal string is compared on every
        // candidate event.
        Node::Lit(Value::Str(s)) => Some(Value::Str(Cow::Borrowed(s))),
        Node::Lit(v) => Some(v.clone()),
        Node::EventIs(templates) => b(ctx.lookup.event_is(templates)),
    }
}

/// True when `f` holds for one of the texts a value offers to a string
/// test (without collecting them: this runs on every candidate event).
fn any_text(v: &Value<'_>, f: &mut dyn FnMut(&str) -> bool) -> bool {
    match v {
        Value::Str(s) => f(s),
        Value::List(items) => items.iter().any(|i| any_text(i, f)),
        other => f(&other.to_text()),
    }
}

/// True when `f` holds for some element of `l` (a list or one value) and `r`.
fn any_pair(l: &Value<'_>, r: &Value<'_>, f: &dyn Fn(&Value<'_>, &Value<'_>) -> bool) -> bool {
    match (l, r) {
        (Value::List(items), r) => items.iter().any(|x| any_pair(x, r, f)),
        (l, Value::List(items)) => items.iter().any(|y| any_pair(l, y, f)),
        (l, r) => f(l, r),
    }
}

/// Orders two values of comparable kinds; `None` when they are not.
fn compare(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    use Value as V;
    match (a, b) {
        (V::Num(x), V::Num(y)) => x.partial_cmp(y),
        (V::Dur(x), V::Dur(y)) => Some(x.cmp(y)),
        (V::Time(x), V::Time(y)) => Some(x.cmp(y)),
        (V::Level(x), V::Level(y)) => Some(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Some(x.cmp(y)),
        (V::Str(x), V::Str(y)) => Some(x.as_ref().cmp(y.as_ref())),
        (V::Str(s), V::Num(n)) => s.trim().parse::<f64>().ok()?.partial_cmp(n),
        (V::Num(n), V::Str(s)) => n.partial_cmp(&s.trim().parse::<f64>().ok()?),
        (V::Level(l), V::Str(s)) => Some(l.cmp(&level_named(s)?)),
        (V::Str(s), V::Level(l)) => Some(level_named(s)?.cmp(l)),
        _ => None,
    }
}

fn level_named(s: &str) -> Option<Level> {
    Level::ALL
        .into_iter()
        .find(|l| l.name().eq_ignore_ascii_case(s.trim()))
}

/// `+` and `-` on times, durations and numbers.
fn arith<'c>(a: Value<'c>, b: Value<'c>, add: bool) -> Option<Value<'c>> {
    use Value as V;
    let sign = if add { 1 } else { -1 };
    match (a, b) {
        (V::Num(x), V::Num(y)) => Some(V::Num(x + f64::from(sign) * y)),
        (V::Dur(x), V::Dur(y)) => Some(V::Dur(x + i64::from(sign) * y)),
        (V::Time(t), V::Dur(d)) => {
            let mut t = t;
            t.wall = t
                .wall
                .checked_add_signed(chrono::Duration::nanoseconds(i64::from(sign) * d))?;
            Some(V::Time(t))
        }
        (V::Dur(d), V::Time(t)) if add => arith(V::Time(t), V::Dur(d), true),
        (V::Time(x), V::Time(y)) if !add => {
            let (xs, xn) = x.sort_key();
            let (ys, yn) = y.sort_key();
            Some(V::Dur(
                (xs - ys) * 1_000_000_000 + i64::from(xn) - i64::from(yn),
            ))
        }
        _ => None,
    }
}

/// Builds the compiled node of a checked expression.
pub(crate) fn lower(kind: &Kind, regexes: &mut std::collections::VecDeque<Regex>) -> Node {
    let bx = |k: &super::expr::Expr, r: &mut std::collections::VecDeque<Regex>| {
        Box::new(lower(&k.kind, r))
    };
    match kind {
        Kind::Or(a, b) => Node::Or(bx(a, regexes), bx(b, regexes)),
        Kind::And(a, b) => Node::And(bx(a, regexes), bx(b, regexes)),
        Kind::Not(a) => Node::Not(bx(a, regexes)),
        Kind::Cmp(CmpOp::Eq, a, b) if event_names(a, std::slice::from_ref(b)).is_some() => {
            Node::EventIs(
                Catalog::get()
                    .templates_of(&event_names(a, std::slice::from_ref(b)).unwrap_or_default()),
            )
        }
        Kind::In(a, items) if event_names(a, items).is_some() => {
            Node::EventIs(Catalog::get().templates_of(&event_names(a, items).unwrap_or_default()))
        }
        Kind::Cmp(op, a, b) => Node::Cmp(*op, bx(a, regexes), bx(b, regexes)),
        Kind::In(a, items) => Node::In(
            bx(a, regexes),
            items.iter().map(|i| lower(&i.kind, regexes)).collect(),
        ),
        Kind::Str(StrOp::Matches, a, _) => {
            let l = bx(a, regexes);
            Node::Matches(
                l,
                regexes
                    .pop_front()
                    .expect("one regex compiled per `matches`"),
            )
        }
        Kind::Str(StrOp::Contains, a, b) if matches!(&b.kind, Kind::Lit(Lit::Str(_))) => {
            let Kind::Lit(Lit::Str(needle)) = &b.kind else {
                unreachable!("checked by the guard")
            };
            Node::Contains(
                bx(a, regexes),
                Box::new(memchr::memmem::Finder::new(needle.as_bytes()).into_owned()),
            )
        }
        Kind::Str(op, a, b) => Node::Str(*op, bx(a, regexes), bx(b, regexes)),
        Kind::Add(a, b) => Node::Add(bx(a, regexes), bx(b, regexes)),
        Kind::Sub(a, b) => Node::Sub(bx(a, regexes), bx(b, regexes)),
        Kind::Exists(f) => Node::Exists(f.clone()),
        Kind::Len(f) => Node::Len(f.clone()),
        Kind::Field(f) => Node::Field(f.clone()),
        Kind::Lit(l) => Node::Lit(match l {
            Lit::Str(s) => Value::Str(Cow::Owned(s.clone())),
            Lit::Num(n) => Value::Num(*n),
            Lit::Dur(d) => Value::Dur(*d),
            Lit::Level(l) => Value::Level(*l),
            Lit::Bool(b) => Value::Bool(*b),
        }),
    }
}

/// True when `node` can only hold for events that carry captured request
/// fields (`http.*`, `token.*`, `ws.*`, `transport`): such a condition is not
/// evaluated on log records, which never have them.
pub(crate) fn needs_capture(node: &Node) -> bool {
    fn captured(name: &str) -> bool {
        name.starts_with("http.")
            || name.starts_with("token.")
            || name.starts_with("ws.")
            || name == "transport"
    }
    fn on_field(n: &Node) -> bool {
        matches!(n, Node::Field(f) if captured(f))
    }
    match node {
        Node::And(a, b) => needs_capture(a) || needs_capture(b),
        Node::Or(a, b) => needs_capture(a) && needs_capture(b),
        Node::Cmp(_, a, b) => on_field(a) || on_field(b) || needs_capture(a) || needs_capture(b),
        Node::In(a, _) | Node::Str(_, a, _) | Node::Matches(a, _) | Node::Contains(a, _) => {
            on_field(a) || needs_capture(a)
        }
        Node::Add(a, b) | Node::Sub(a, b) => on_field(a) || on_field(b),
        Node::Exists(f) | Node::Len(f) => captured(f),
        _ => false,
    }
}

/// The event names of `event == "X"` / `event in [...]`, when the test has
/// that shape (literal names only).
fn event_names(field: &super::expr::Expr, values: &[super::expr::Expr]) -> Option<Vec<String>> {
    if !matches!(&field.kind, Kind::Field(f) if f == "event") {
        return None;
    }
    values
        .iter()
        .map(|v| match &v.kind {
            Kind::Lit(Lit::Str(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// What a record must show for `node` to hold, if known. An `event` test
/// whose templates all start with a literal is looked up at the message's
/// start; everything else is searched for as needles.
pub(crate) fn trigger(node: &Node) -> Option<Trigger> {
    let starts = |starts: Vec<(String, Option<usize>)>| {
        Some(Trigger {
            starts,
            ..Trigger::default()
        })
    };
    match node {
        Node::EventIs(templates) if !templates.is_empty() => {
            let catalog = Catalog::get();
            let firsts: Option<Vec<(String, Option<usize>)>> = templates
                .iter()
                .map(|&t| {
                    let first = catalog.templates[t].first_literal()?;
                    Some((first.to_string(), Some(t)))
                })
                .collect();
            match firsts {
                Some(firsts) => starts(firsts),
                None => needles(node).map(|needles| Trigger {
                    needles,
                    ..Trigger::default()
                }),
            }
        }
        Node::Str(StrOp::StartsWith, f, l) if matches!(&**f, Node::Field(n) if n == "message") => {
            match &**l {
                Node::Lit(Value::Str(s)) if !s.is_empty() => starts(vec![(s.to_string(), None)]),
                _ => None,
            }
        }
        Node::And(a, b) => match (trigger(a), trigger(b)) {
            // Either side will do: a start lookup costs the search nothing,
            // else needles that are not in every header, else the rarer
            // (longer) needles.
            (Some(x), Some(y)) => {
                let shortest = |t: &Trigger| t.needles.iter().map(String::len).min().unwrap_or(0);
                let cost = |t: &Trigger| {
                    (
                        !t.needles.is_empty(),
                        t.weak,
                        std::cmp::Reverse(shortest(t)),
                    )
                };
                Some(if cost(&y) < cost(&x) { y } else { x })
            }
            (x, y) => x.or(y),
        },
        // In log records a side that needs captured request fields is false,
        // so the other side's trigger is enough (captured events bypass the
        // prefilter).
        Node::Or(a, b) if needs_capture(a) => trigger(b),
        Node::Or(a, b) if needs_capture(b) => trigger(a),
        Node::Or(a, b) => {
            let mut x = trigger(a)?;
            let y = trigger(b)?;
            x.needles.extend(y.needles);
            x.starts.extend(y.starts);
            x.weak |= y.weak;
            Some(x)
        }
        other => needles(other).map(|needles| Trigger {
            needles,
            weak: tests_header_text(other),
            ..Trigger::default()
        }),
    }
}

/// The text fields that do not come from a record's body (its message,
/// exception and, for ILogger console output, scopes): literals of tests
/// on them are looked for in these fields, not by searching bodies.
pub(crate) const HEADER_TEXT_FIELDS: [&str; 3] = ["category", "scopes", "source"];

/// True when the test `node` looks at one of [`HEADER_TEXT_FIELDS`].
fn tests_header_text(node: &Node) -> bool {
    let header = |n: &Node| matches!(n, Node::Field(f) if HEADER_TEXT_FIELDS.contains(&f.as_str()));
    match node {
        Node::Cmp(_, a, b) | Node::Str(_, a, b) => header(a) || header(b),
        Node::In(a, _) | Node::Contains(a, _) | Node::Matches(a, _) => header(a),
        _ => false,
    }
}

/// The literals a record must contain for the test `node` to hold, if
/// known (`and` and `or` are [`trigger`]'s). Only
/// literals that appear verbatim in every format's raw text qualify: no
/// characters JSON would escape, no line breaks, at least 3 bytes.
pub(crate) fn needles(node: &Node) -> Option<Vec<String>> {
    fn raw_field(n: &Node) -> bool {
        matches!(n, Node::Field(f) if super::fields::is_raw_text(f))
    }
    fn is_event(n: &Node) -> bool {
        matches!(n, Node::Field(f) if f == "event")
    }
    fn event_needles(n: &Node) -> Option<Vec<String>> {
        match n {
            Node::Lit(Value::Str(name)) => {
                let lits = Catalog::get().literals_of(name);
                if lits.is_empty() {
                    return None;
                }
                lits.into_iter().map(|l| usable(l.as_bytes())).collect()
            }
            _ => None,
        }
    }
    fn lit(n: &Node) -> Option<String> {
        match n {
            Node::Lit(Value::Str(s)) => usable(s.as_bytes()),
            _ => None,
        }
    }
    match node {
        Node::EventIs(templates) => Catalog::get().shared_literals(templates),
        Node::Cmp(CmpOp::Eq, e, l) | Node::Cmp(CmpOp::Eq, l, e) if is_event(e) => event_needles(l),
        Node::In(e, items) if is_event(e) => {
            let lists: Option<Vec<Vec<String>>> = items.iter().map(event_needles).collect();
            lists.map(|l| l.into_iter().flatten().collect())
        }
        Node::Str(StrOp::Contains | StrOp::StartsWith | StrOp::EndsWith, f, l) if raw_field(f) => {
            lit(l).map(|s| vec![s])
        }
        Node::Contains(f, finder) if raw_field(f) => usable(finder.needle()).map(|s| vec![s]),
        Node::Cmp(CmpOp::Eq, f, l) | Node::Cmp(CmpOp::Eq, l, f) if raw_field(f) => {
            lit(l).map(|s| vec![s])
        }
        Node::In(f, items) if raw_field(f) => items.iter().map(lit).collect(),
        Node::Matches(f, re) if raw_field(f) => regex_needles(re.as_str()),
        _ => None,
    }
}

/// The longest part of a literal that every format's raw text holds as
/// written: printable ASCII without the characters JSON escapes and without
/// line breaks; at least 3 bytes.
fn usable(b: &[u8]) -> Option<String> {
    let ok = |c: &u8| {
        (0x20..0x7f).contains(c)
            && !matches!(c, b'"' | b'\'' | b'\\' | b'<' | b'>' | b'&' | b'+' | b'`')
    };
    let best = b.split(|c| !ok(c)).max_by_key(|run| run.len())?;
    (best.len() >= 3).then(|| String::from_utf8_lossy(best).into_owned())
}

/// Literals one of which every match of `pattern` contains (its prefixes),
/// when the regex syntax says so and they are usable as needles.
fn regex_needles(pattern: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::parse(pattern).ok()?;
    let seq = regex_syntax::hir::literal::Extractor::new().extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    lits.iter().map(|l| usable(l.as_bytes())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_from_literals_and_regexes() {
        assert_eq!(
            usable(b"Connection to service '"),
            Some("Connection to service ".to_string())
        );
        assert_eq!(usable(b"'x'"), None);
        assert_eq!(
            regex_needles(r"was dropped.*Id: (?P<conn>[0-9a-f-]{36})"),
            Some(vec!["was dropped".to_string()])
        );
        assert_eq!(
            regex_needles(r"^Connection (?P<c>\S+) started"),
            Some(vec!["Connection ".to_string()])
        );
        assert_eq!(regex_needles(r"\d+ failed"), None);
        assert_eq!(regex_needles(r"(?i)ab"), None);
    }

    #[test]
    fn event_tests_are_looked_up_at_the_message_start() {
        let node = |text: &str| {
            let e = crate::rules::expr::parse(text).unwrap();
            lower(&e.kind, &mut Default::default())
        };
        let started = trigger(&node(r#"event == "ConnectedStarting""#)).unwrap();
        assert!(started.needles.is_empty(), "{started:?}");
        assert!(
            started
                .starts
                .iter()
                .any(|(l, t)| l == "Connection " && t.is_some()),
            "{started:?}"
        );
        // Of an `and`, the side looked up at the start is taken.
        let both = trigger(&node(
            r#"message contains "zzz" && event == "ConnectedStarting""#,
        ))
        .unwrap();
        assert_eq!(both, started);
        // Of an `or`, both sides are needed.
        let either = trigger(&node(
            r#"message contains "zzz" || event == "ConnectedStarting""#,
        ))
        .unwrap();
        assert_eq!(either.needles, ["zzz"]);
        assert_eq!(either.starts, started.starts);
        assert_eq!(trigger(&node(r#"level >= error"#)), None);
        let begins = trigger(&node(r#"message startswith "Application started""#)).unwrap();
        assert_eq!(begins.starts, [("Application started".to_string(), None)]);
        // A category is in every header: the message's needle is taken.
        let category = trigger(&node(
            r#"category startswith "Microsoft.Hosting.Lifetime" && message contains "Host terminated""#,
        ))
        .unwrap();
        assert_eq!(category.needles, ["Host terminated"]);
        assert!(!category.weak);
    }
}
