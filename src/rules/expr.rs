//! The expression language of rule conditions, parsed with nom.
//!
//! ```text
//! expr    := or
//! or      := and ("||" and)*
//! and     := unary ("&&" unary)*
//! unary   := "!" unary | test
//! test    := sum [ ("=="|"!="|"<="|">="|"<"|">") sum
//!                | "in" "[" sum ("," sum)* "]"
//!                | ("contains"|"startswith"|"endswith"|"matches") sum ]
//! sum     := atom (("+"|"-") atom)*
//! atom    := "(" expr ")" | "exists(" field ")" | "len(" field ")"
//!          | string | duration | number | level | true | false | field
//! field   := name ("." name)*        name := [A-Za-z_][A-Za-z0-9_-]* | "{" name "}"
//! ```
//! Every node keeps its byte span in the expression text, so a mistake found
//! later (an unknown field, a bad regex) points at the exact characters.

use crate::event::Level;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{char, multispace0, satisfy};
use nom::combinator::{cut, opt, recognize};
use nom::error::{ContextError, ErrorKind, ParseError};
use nom::multi::separated_list1;
use nom::sequence::{delimited, pair, preceded};
use nom::{IResult, Parser};
use std::ops::Range;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A string operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
    /// `matches` (a regular expression)
    Matches,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `"text"` or `'text'`
    Str(String),
    /// `42`, `0.5`
    Num(f64),
    /// `5s`, `250ms`, `1h` — in nanoseconds.
    Dur(i64),
    /// `warning`
    Level(Level),
    /// `true`, `false`
    Bool(bool),
}

/// An expression node with its span in the expression text.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: Kind,
    /// Where it is (byte offsets into the expression text).
    pub span: Range<usize>,
}

/// The kinds of expression nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `!a`
    Not(Box<Expr>),
    /// `a == b` and the other comparisons.
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// `a in [b, c]`
    In(Box<Expr>, Vec<Expr>),
    /// `a contains b` and the other string tests.
    Str(StrOp, Box<Expr>, Box<Expr>),
    /// `a + b`
    Add(Box<Expr>, Box<Expr>),
    /// `a - b`
    Sub(Box<Expr>, Box<Expr>),
    /// `exists(field)`
    Exists(String),
    /// `len(field)`
    Len(String),
    /// A field name (`http.status`, `negotiate.time`, `{OriginalFormat}`).
    Field(String),
    /// A literal.
    Lit(Lit),
}

/// A parse error: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the expression text.
    pub at: usize,
    /// What was expected.
    pub expected: String,
}

/// nom's error type for this grammar: remembers the furthest position
/// reached and what was expected there.
#[derive(Debug, Clone)]
struct PErr<'a> {
    rest: &'a str,
    expected: &'static str,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(rest: &'a str, kind: ErrorKind) -> Self {
        let expected = match kind {
            ErrorKind::Tag => "an operator or keyword",
            ErrorKind::Char => "a punctuation mark",
            ErrorKind::Eof => "the end of the expression",
            _ => "an expression",
        };
        PErr { rest, expected }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }

    fn or(self, other: Self) -> Self {
        // The alternative that got further explains the mistake better.
        if other.rest.len() < self.rest.len() {
            other
        } else {
            self
        }
    }
}

impl<'a> ContextError<&'a str> for PErr<'a> {
    fn add_context(rest: &'a str, ctx: &'static str, other: Self) -> Self {
        if rest.len() <= other.rest.len() {
            PErr {
                rest,
                expected: ctx,
            }
        } else {
            other
        }
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// Parses a whole expression.
pub fn parse(text: &str) -> Result<Expr, SyntaxError> {
    let p = Ctx { full: text };
    match p.expr(text) {
        Ok((rest, e)) => {
            let (rest, _) = ws(rest).unwrap_or((rest, ""));
            if rest.is_empty() {
                Ok(e)
            } else {
                Err(SyntaxError {
                    at: text.len() - rest.len(),
                    expected:
                        "an operator (`&&`, `||`, `==`, `contains`, …) or the end of the expression"
                            .to_string(),
                })
            }
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(SyntaxError {
            at: text.len() - e.rest.len(),
            expected: e.expected.to_string(),
        }),
        Err(nom::Err::Incomplete(_)) => Err(SyntaxError {
            at: text.len(),
            expected: "more input".to_string(),
        }),
    }
}

fn ws(i: &str) -> Res<'_, &str> {
    multispace0(i)
}

/// Fails with `what` as the expectation when `p` fails.
fn expect<'a, O>(
    what: &'static str,
    mut p: impl Parser<&'a str, Output = O, Error = PErr<'a>>,
) -> impl Parser<&'a str, Output = O, Error = PErr<'a>> {
    move |i: &'a str| match p.parse(i) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Error(PErr {
            rest: i,
            expected: what,
        })),
        Err(nom::Err::Failure(_)) => Err(nom::Err::Failure(PErr {
            rest: i,
            expected: what,
        })),
        ok => ok,
    }
}

/// A keyword not followed by a name character (`in` but not `index`).
fn keyword<'a>(word: &'static str) -> impl Parser<&'a str, Output = &'a str, Error = PErr<'a>> {
    move |i: &'a str| {
        let (rest, w) = tag(word).parse(i)?;
        match rest.chars().next() {
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => Err(nom::Err::Error(PErr {
                rest: i,
                expected: "a keyword",
            })),
            _ => Ok((rest, w)),
        }
    }
}

struct Ctx<'t> {
    full: &'t str,
}

impl<'t> Ctx<'t> {
    fn at(&self, i: &str) -> usize {
        self.full.len() - i.len()
    }

    fn node(&self, kind: Kind, start: &str, end: &str) -> Expr {
        Expr {
            kind,
            span: self.at(start)..self.at(end),
        }
    }

    fn expr(&self, i: &'t str) -> Res<'t, Expr> {
        self.binary(i, "||", 0)
    }

    /// `level` 0 is `||`, 1 is `&&`.
    fn binary(&self, i: &'t str, op: &'static str, level: u8) -> Res<'t, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, mut lhs) = if level == 0 {
            self.binary(i, "&&", 1)?
        } else {
            self.unary(i)?
        };
        loop {
            let (j, _) = ws(i)?;
            let Ok((j, _)) = tag::<_, _, PErr>(op).parse(j) else {
                return Ok((i, lhs));
            };
            let (j, rhs) = if level == 0 {
                cut_expr(self.binary(j, "&&", 1))?
            } else {
                cut_expr(self.unary(j))?
            };
            let kind = if level == 0 {
                Kind::Or(Box::new(lhs), Box::new(rhs))
            } else {
                Kind::And(Box::new(lhs), Box::new(rhs))
            };
            lhs = self.node(kind, start, j);
            i = j;
        }
    }

    fn unary(&self, i: &'t str) -> Res<'t, Expr> {
        let (i, _) = ws(i)?;
        if let Ok((j, _)) = char::<_, PErr>('!').parse(i)
            && !j.starts_with('=')
        {
            let (j, e) = cut_expr(self.unary(j))?;
            return Ok((j, self.node(Kind::Not(Box::new(e)), i, j)));
        }
        self.test(i)
    }

    fn test(&self, i: &'t str) -> Res<'t, Expr> {
        let start = i;
        let (i, lhs) = self.sum(i)?;
        let (j, _) = ws(i)?;
        let cmp: Res<&str> = alt((
            tag("=="),
            tag("!="),
            tag("<="),
            tag(">="),
            tag("<"),
            tag(">"),
        ))
        .parse(j);
        if let Ok((k, op)) = cmp {
            let op = match op {
                "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<=" => CmpOp::Le,
                ">=" => CmpOp::Ge,
                "<" => CmpOp::Lt,
                _ => CmpOp::Gt,
            };
            let (k, rhs) = cut_expr(self.sum(k))?;
            return Ok((
                k,
                self.node(Kind::Cmp(op, Box::new(lhs), Box::new(rhs)), start, k),
            ));
        }
        if let Ok((k, _)) = keyword("in").parse(j) {
            let (k, _) = ws(k)?;
            let (k, _) = cut(expect("`[` to open the list", char('['))).parse(k)?;
            let full = self.full;
            let (k, items) = cut(separated_list1(delimited(ws, char(','), ws), |x| {
                Ctx { full }.sum(x)
            }))
            .parse(k)?;
            let (k, _) = ws(k)?;
            let (k, _) = cut(expect("`,` or `]` to close the list", char(']'))).parse(k)?;
            return Ok((k, self.node(Kind::In(Box::new(lhs), items), start, k)));
        }
        let str_op: Res<&str> = alt((
            keyword("contains"),
            keyword("startswith"),
            keyword("endswith"),
            keyword("matches"),
        ))
        .parse(j);
        if let Ok((k, op)) = str_op {
            let op = match op {
                "contains" => StrOp::Contains,
                "startswith" => StrOp::StartsWith,
                "endswith" => StrOp::EndsWith,
                _ => StrOp::Matches,
            };
            let (k, rhs) = cut_expr(self.sum(k))?;
            return Ok((
                k,
                self.node(Kind::Str(op, Box::new(lhs), Box::new(rhs)), start, k),
            ));
        }
        Ok((i, lhs))
    }

    fn sum(&self, i: &'t str) -> Res<'t, Expr> {
        let (i, _) = ws(i)?;
        let start = i;
        let (mut i, mut lhs) = self.atom(i)?;
        loop {
            let (j, _) = ws(i)?;
            let op = match j.chars().next() {
                Some(c @ ('+' | '-')) => c,
                _ => return Ok((i, lhs)),
            };
            let (j, rhs) = cut_expr(self.atom(&j[1..]))?;
            let kind = if op == '+' {
                Kind::Add(Box::new(lhs), Box::new(rhs))
            } else {
                Kind::Sub(Box::new(lhs), Box::new(rhs))
            };
            lhs = self.node(kind, start, j);
            i = j;
        }
    }

    fn atom(&self, i: &'t str) -> Res<'t, Expr> {
        let (i, _) = ws(i)?;
        if let Ok((j, _)) = char::<_, PErr>('(').parse(i) {
            let (j, e) = cut_expr(self.expr(j))?;
            let (j, _) = ws(j)?;
            let (j, _) = cut(expect("`)` to close the parenthesis", char(')'))).parse(j)?;
            return Ok((
                j,
                Expr {
                    span: self.at(i)..self.at(j),
                    kind: e.kind,
                },
            ));
        }
        for (name, is_len) in [("exists", false), ("len", true)] {
            if let Ok((j, _)) = pair(keyword(name), preceded(ws, char('('))).parse(i) {
                let (j, f) = cut(expect("a field name", preceded(ws, field_name))).parse(j)?;
                let (j, _) = ws(j)?;
                let (j, _) = cut(expect("`)` after the field name", char(')'))).parse(j)?;
                let kind = if is_len {
                    Kind::Len(f.to_string())
                } else {
                    Kind::Exists(f.to_string())
                };
                return Ok((j, self.node(kind, i, j)));
            }
        }
        if i.starts_with(['"', '\'']) {
            let (j, s) = string(i)?;
            return Ok((j, self.node(Kind::Lit(Lit::Str(s)), i, j)));
        }
        if i.starts_with(|c: char| c.is_ascii_digit()) {
            let (j, lit) = number_or_duration(i)?;
            return Ok((j, self.node(Kind::Lit(lit), i, j)));
        }
        let (j, name) = expect(
            "a field, string, number, duration, level, `(`, `exists(` or `len(`",
            field_name,
        )
        .parse(i)?;
        let kind = match name {
            "true" => Kind::Lit(Lit::Bool(true)),
            "false" => Kind::Lit(Lit::Bool(false)),
            _ => match level_literal(name) {
                Some(l) => Kind::Lit(Lit::Level(l)),
                None => Kind::Field(name.to_string()),
            },
        };
        Ok((j, self.node(kind, i, j)))
    }
}

/// Turns a recoverable error into a failure: after an operator, something
/// must follow, and backtracking would only hide the real mistake.
fn cut_expr<'a>(r: Res<'a, Expr>) -> Res<'a, Expr> {
    r.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

/// The level words, reserved in expressions.
pub fn level_literal(word: &str) -> Option<Level> {
    Level::ALL.into_iter().find(|l| l.name() == word)
}

fn name_part(i: &str) -> Res<'_, &str> {
    alt((
        recognize(pair(
            satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        )),
        recognize(delimited(
            char('{'),
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_'),
            char('}'),
        )),
    ))
    .parse(i)
}

fn field_name(i: &str) -> Res<'_, &str> {
    recognize(pair(
        name_part,
        nom::multi::many0(preceded(char('.'), name_part)),
    ))
    .parse(i)
}

fn string(i: &str) -> Res<'_, String> {
    let quote = i.chars().next().unwrap_or('"');
    let mut out = String::new();
    let mut chars = i.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, c @ ('\\' | '"' | '\''))) => out.push(c),
                Some((at, _)) => {
                    return Err(nom::Err::Failure(PErr {
                        rest: &i[at..],
                        expected: "an escape: \\n \\t \\r \\\\ \\\" \\'",
                    }));
                }
                None => break,
            },
            c if c == quote => return Ok((&i[at + 1..], out)),
            c => out.push(c),
        }
    }
    Err(nom::Err::Failure(PErr {
        rest: &i[i.len()..],
        expected: "the closing quote of the string",
    }))
}

/// `42`, `1.5`, or a duration: `250ms`, `5s`, `10m`, `1h`, `2d`.
fn number_or_duration(i: &str) -> Res<'_, Lit> {
    let (rest, digits) = recognize(pair(
        take_while1(|c: char| c.is_ascii_digit()),
        opt(pair(char('.'), take_while1(|c: char| c.is_ascii_digit()))),
    ))
    .parse(i)?;
    let value: f64 = digits.parse().unwrap_or(0.0);
    let (after, unit) = take_while(|c: char| c.is_ascii_alphabetic()).parse(rest)?;
    if unit.is_empty() {
        return Ok((rest, Lit::Num(value)));
    }
    match unit_nanos(unit) {
        Some(n) => Ok((after, Lit::Dur((value * n as f64).round() as i64))),
        None => Err(nom::Err::Failure(PErr {
            rest,
            expected: "a duration unit: ms, s, m, h or d",
        })),
    }
}

fn unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return None,
    })
}

/// Parses a duration as written in rule files (`"5s"`, `"-30s"`, `"1h"`).
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match number_or_duration(t) {
        Ok(("", Lit::Dur(n))) => Some(if neg { -n } else { n }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(e: &Expr) -> String {
        match &e.kind {
            Kind::Or(a, b) => format!("({} || {})", shape(a), shape(b)),
            Kind::And(a, b) => format!("({} && {})", shape(a), shape(b)),
            Kind::Not(a) => format!("!{}", shape(a)),
            Kind::Cmp(op, a, b) => format!("({} {op:?} {})", shape(a), shape(b)),
            Kind::In(a, l) => format!(
                "({} in [{}])",
                shape(a),
                l.iter().map(shape).collect::<Vec<_>>().join(",")
            ),
            Kind::Str(op, a, b) => format!("({} {op:?} {})", shape(a), shape(b)),
            Kind::Add(a, b) => format!("({} + {})", shape(a), shape(b)),
            Kind::Sub(a, b) => format!("({} - {})", shape(a), shape(b)),
            Kind::Exists(f) => format!("exists({f})"),
            Kind::Len(f) => format!("len({f})"),
            Kind::Field(f) => f.clone(),
            Kind::Lit(l) => format!("{l:?}"),
        }
    }

    fn p(s: &str) -> String {
        shape(&parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}")))
    }

    #[test]
    fn precedence_and_forms() {
        assert_eq!(p("a || b && !c"), "(a || (b && !c))");
        assert_eq!(
            p("http.status == 404 && http.path endswith '/negotiate'"),
            "((http.status Eq Num(404.0)) && (http.path EndsWith Str(\"/negotiate\")))"
        );
        assert_eq!(p("level >= warning"), "(level Ge Level(Warning))");
        assert_eq!(
            p("http.status in [413, 414]"),
            "(http.status in [Num(413.0),Num(414.0)])"
        );
        assert_eq!(
            p("u.time >= t.token.exp - 2m"),
            "(u.time Ge (t.token.exp - Dur(120000000000)))"
        );
        assert_eq!(
            p("len(http.query.hub) > 1"),
            "(len(http.query.hub) Gt Num(1.0))"
        );
        assert_eq!(
            p("exists( State.{OriginalFormat} )"),
            "exists(State.{OriginalFormat})"
        );
        assert_eq!(p("(a == \"x\\\"y\")"), "(a Eq Str(\"x\\\"y\"))");
        assert_eq!(
            p("message matches 'Id: (?P<id>\\\\S+)'"),
            "(message Matches Str(\"Id: (?P<id>\\\\S+)\"))"
        );
        assert_eq!(p("index in ['a']"), "(index in [Str(\"a\")])");
        assert_eq!(p("a != 1.5"), "(a Ne Num(1.5))");
    }

    #[test]
    fn spans_point_at_nodes() {
        let e = parse("  level >= warning && categry == 'x'").unwrap();
        let Kind::And(_, rhs) = e.kind else { panic!() };
        let Kind::Cmp(_, field, _) = rhs.kind else {
            panic!()
        };
        assert_eq!(field.span, 22..29);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse("http.status == ").unwrap_err();
        assert_eq!(e.at, 15);
        assert!(e.expected.contains("a field, string"), "{e:?}");
        let e = parse("a == 'open").unwrap_err();
        assert_eq!(
            (e.at, e.expected.as_str()),
            (10, "the closing quote of the string")
        );
        let e = parse("(a == 1").unwrap_err();
        assert_eq!(
            (e.at, e.expected.as_str()),
            (7, "`)` to close the parenthesis")
        );
        let e = parse("a == 5x").unwrap_err();
        assert_eq!(
            (e.at, e.expected.as_str()),
            (6, "a duration unit: ms, s, m, h or d")
        );
        let e = parse("a in [1, 2").unwrap_err();
        assert_eq!(e.expected, "`,` or `]` to close the list");
        let e = parse("a b").unwrap_err();
        assert_eq!(e.at, 2);
        assert!(parse("a &&").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s"), Some(5_000_000_000));
        assert_eq!(parse_duration("-30s"), Some(-30_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("5"), None);
        assert_eq!(parse_duration("5 s"), None);
        assert_eq!(parse_duration("5y"), None);
    }
}
