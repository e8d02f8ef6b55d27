//! A fast path for the common JSON console record: one object on one line.
//!
//! serde_json reads every byte of a record, `State` included (over half of
//! it, and a copy of the message), eight at a time: that was 40% of the
//! CPU time of all rules on JSON console logs. This reader jumps from quote
//! to quote with 64-byte masks of `"` and `\` ([`super::bytemask`]) and
//! only walks the few bytes between strings.
//!
//! It accepts exactly what serde accepts into the parser's `Entry`, or
//! gives up (`None`) and leaves the record to serde, which then also
//! writes the error. It gives up on anything unusual rather than decide
//! it: a control byte anywhere (indented objects, raw tabs in strings), a
//! key with escapes, a known key twice, a value of the wrong type, an
//! invalid escape or number, nesting deeper than [`MAX_DEPTH`], a cut-off
//! object, text glued to its end. Strings with escapes are decoded by serde
//! itself. A test compares both readers on valid and broken records.

use super::bytemask;
use super::ilogger_json::{Entry, Text};
use std::borrow::Cow;

/// Nesting this deep is left to serde (whose limit is 128).
const MAX_DEPTH: usize = 100;

/// Reads the object at the start of `text` into `fields` (written in
/// place: a record is too short to also copy them); returns where it ends.
/// On `None` the fields hold whatever was read before giving up.
pub(super) fn read<'a>(text: &'a str, fields: &mut Entry<'a>) -> Option<usize> {
    let mut r = Reader::new(text);
    r.object(fields)?;
    let end = r.pos;
    // serde's stream takes a value only when a delimiter or the end follows.
    if !matches!(
        r.b.get(end),
        None | Some(b' ' | b'\n' | b'\t' | b'\r' | b'"' | b'[' | b']' | b'{' | b'}' | b',' | b':')
    ) {
        return None;
    }
    r.quotes.load_through(end);
    (!r.quotes.control).then_some(end)
}

/// The raw value of member `key` of the JSON object `text` (the last one,
/// should the key repeat), or `Some(None)` when it has none. `None` when
/// this reader cannot tell (see the module doc): serde must look.
pub(crate) fn member<'a>(text: &'a str, key: &str) -> Option<Option<&'a str>> {
    let mut r = Reader::new(text);
    let mut found = None;
    r.keyed_members(|r, k| {
        let start = r.pos;
        r.value(1)?;
        if k == key {
            found = Some(&r.text[start..r.pos]);
        }
        Some(())
    })?;
    r.ws();
    r.quotes.load_through(r.pos);
    (r.pos == r.b.len() && !r.quotes.control).then_some(found)
}

/// The positions of `"` and `\` in the text, found 64 bytes at a time;
/// and whether a byte below 0x20 was among the bytes looked at.
struct Quotes<'a> {
    b: &'a [u8],
    base: usize,
    mask: u64,
    control: bool,
}

impl<'a> Quotes<'a> {
    fn new(b: &'a [u8]) -> Self {
        let mut q = Quotes {
            b,
            base: 0,
            mask: 0,
            control: false,
        };
        q.load(0);
        q
    }

    fn load(&mut self, base: usize) {
        // Padding is a space: neither a quote, a backslash nor a control.
        let (mask, control) = bytemask::with_block(self.b, base, b' ', |b| {
            bytemask::either_and_any_below(b, b'"', b'\\', 0x20)
        });
        self.base = base;
        self.mask = mask;
        self.control |= control;
    }

    /// Whether there is a block after the current one.
    fn more(&self) -> bool {
        self.base + 64 < self.b.len()
    }

    /// The first quote or backslash at or after `from`.
    fn next_from(&mut self, from: usize) -> Option<usize> {
        loop {
            if from < self.base + 64 {
                let m = self.mask & (!0u64 << from.saturating_sub(self.base));
                if m != 0 {
                    return Some(self.base + m.trailing_zeros() as usize);
                }
            }
            if !self.more() {
                return None;
            }
            self.load(self.base + 64);
        }
    }

    /// Loads the blocks up to `end`, so that `control` covers them.
    fn load_through(&mut self, end: usize) {
        while self.base + 64 < end && self.more() {
            self.load(self.base + 64);
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    pos: usize,
    quotes: Quotes<'a>,
}

/// A string's span: the opening and closing quotes' positions, and whether
/// it has escapes.
struct Span {
    open: usize,
    close: usize,
    escaped: bool,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.pos), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.pos) == Some(&c)).then(|| self.pos += 1)
    }

    fn new(text: &'a str) -> Self {
        Reader {
            text,
            b: text.as_bytes(),
            pos: 0,
            quotes: Quotes::new(text.as_bytes()),
        }
    }

    fn object(&mut self, f: &mut Entry<'a>) -> Option<()> {
        let mut seen = 0u8;
        self.keyed_members(|r, key| {
            let bit = match key {
                "Timestamp" => r.text_value(&mut f.timestamp).map(|_| 0),
                "EventId" => r.event_id(&mut f.event_id).map(|_| 1),
                "LogLevel" => r.text_value(&mut f.log_level).map(|_| 2),
                "Category" => r.text_value(&mut f.category).map(|_| 3),
                "Message" => r.text_value(&mut f.message).map(|_| 4),
                "Exception" => r.text_value(&mut f.exception).map(|_| 5),
                "State" => r.raw(&mut f.state).map(|_| 6),
                "Scopes" => r.raw(&mut f.scopes).map(|_| 7),
                _ => return r.value(1),
            }?;
            if seen & 1 << bit != 0 {
                return None; // serde rejects a duplicate field
            }
            seen |= 1 << bit;
            Some(())
        })
    }

    /// The members of the object that starts at `pos` (after white space),
    /// each read by `value` after its key (unescaped keys only) and colon.
    fn keyed_members(
        &mut self,
        mut value: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.ws();
        if self.b.get(self.pos) != Some(&b'{') {
            return None;
        }
        self.members(b'}', |r| {
            r.ws();
            let key = r.string()?;
            if key.escaped {
                return None;
            }
            r.eat(b':')?;
            r.ws();
            value(r, &r.text[key.open + 1..key.close])
        })
    }

    /// The members of the object or array whose opening bracket is at
    /// `pos`, each read by `item`, up to the `close` bracket.
    fn members(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.pos += 1;
        self.ws();
        if self.b.get(self.pos) == Some(&close) {
            self.pos += 1;
            return Some(());
        }
        loop {
            item(self)?;
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(&c) if c == close => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// The string at `pos`, leaving `pos` after it.
    fn string(&mut self) -> Option<Span> {
        let open = self.pos;
        if self.b.get(open) != Some(&b'"') {
            return None;
        }
        let mut from = open + 1;
        let mut escaped = false;
        loop {
            let at = self.quotes.next_from(from)?;
            if self.b[at] == b'"' {
                self.pos = at + 1;
                return Some(Span {
                    open,
                    close: at,
                    escaped,
                });
            }
            escaped = true;
            from = match self.b.get(at + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at + 2,
                b'u' if self
                    .b
                    .get(at + 2..at + 6)?
                    .iter()
                    .all(u8::is_ascii_hexdigit) =>
                {
                    at + 6
                }
                _ => return None,
            };
        }
    }

    /// A member that may be `null` (`None`), else what `read` reads.
    fn nullable<T>(
        &mut self,
        out: &mut Option<T>,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<()> {
        *out = if self.literal(b"null") {
            None
        } else {
            Some(read(self)?)
        };
        Some(())
    }

    /// A string member (or `null`), borrowed when it has no escapes.
    fn text_value(&mut self, out: &mut Option<Cow<'a, str>>) -> Option<()> {
        self.nullable(out, |r| {
            let s = r.string()?;
            Some(if s.escaped {
                serde_json::from_str::<Text<'a>>(&r.text[s.open..=s.close])
                    .ok()?
                    .0
            } else {
                Cow::Borrowed(&r.text[s.open + 1..s.close])
            })
        })
    }

    /// `EventId`: an integer that fits an `i64`, or `null`.
    fn event_id(&mut self, out: &mut Option<i64>) -> Option<()> {
        self.nullable(out, |r| {
            let start = r.pos;
            if !r.number()? {
                return None; // a fraction or exponent: serde wants an integer
            }
            let digits = &r.text[start..r.pos];
            if digits == "-0" {
                return None; // serde reads `-0` as a float, to keep its sign
            }
            digits.parse().ok()
        })
    }

    /// Any value (or `null`), as its raw text.
    fn raw(&mut self, out: &mut Option<&'a str>) -> Option<()> {
        self.nullable(out, |r| {
            let start = r.pos;
            r.value(1)?;
            Some(&r.text[start..r.pos])
        })
    }

    /// Skips a value nested `depth` deep.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.b.get(self.pos)? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.members(b'}', |r| {
                r.ws();
                r.string()?;
                r.eat(b':')?;
                r.value(depth + 1)
            }),
            b'[' => self.members(b']', |r| r.value(depth + 1)),
            b't' => self.literal(b"true").then_some(()),
            b'f' => self.literal(b"false").then_some(()),
            b'n' => self.literal(b"null").then_some(()),
            _ => self.number().map(|_| ()),
        }
    }

    /// Consumes `word` if it is next.
    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.b[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    /// A JSON number: `Some(true)` for an integer, `Some(false)` with a
    /// fraction or exponent, `None` when it is not one.
    fn number(&mut self) -> Option<bool> {
        let b = self.b;
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => i = digits(i),
            _ => return None,
        }
        let mut integer = true;
        if b.get(i) == Some(&b'.') {
            let end = digits(i + 1);
            if end == i + 1 {
                return None;
            }
            (i, integer) = (end, false);
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let end = digits(i);
            if end == i {
                return None;
            }
            (i, integer) = (end, false);
        }
        self.pos = i;
        Some(integer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::ilogger_json::with_serde;

    /// Records the fast reader must read itself.
    const PLAIN: [&str; 6] = [
        r#"{"Timestamp":"2024-01-15T08:30:05.029+00:00","EventId":25,"LogLevel":"Debug","Category":"Microsoft.Azure.SignalR.ServiceConnection","Message":"Sent a ping message to service.","State":{"Message":"Sent a ping message to service.","{OriginalFormat}":"Sent a ping message to service."}}"#,
        r#"{"EventId":0,"LogLevel":"Warning","Category":"C","Message":"Connection \u00270HN\u0027 was \"dropped\" \\ / \n","Exception":"System.Exception: boom\r\n   at X()","State":{"Message":"m","ConnectionId":"0HN","n":-1.5e3,"ok":true,"no":false,"none":null,"list":[1,[],{},"a\u00e9"]},"Scopes":[{"Message":"SpanId:1","SpanId":"1"},"plain",7]}"#,
        r#"{}"#,
        r#"{"Message":null,"Exception":null,"State":null,"Scopes":null,"EventId":null,"Timestamp":null}"#,
        r#"{ "Message" : "spaced" , "EventId" : -7 , "Other" : { "deep" : [ [ [ ] ] ] } }"#,
        r#"{"Message":"héllo wörld ✓","EventId":9223372036854775807,"Unknown":"x","Unknown":"y"}"#,
    ];

    /// The fast reader, where it reads, agrees with serde, borrowing too.
    fn agree(text: &str) -> bool {
        let mut fast = Entry::default();
        let Some(used) = read(text, &mut fast) else {
            return false;
        };
        let (slow, slow_used) = with_serde(text)
            .unwrap_or_else(|r| panic!("fast accepted what serde rejects ({}): {text:?}", r.why));
        assert_eq!((&fast, used), (&slow, slow_used), "{text:?}");
        let borrowed = |f: &Entry| {
            [
                &f.timestamp,
                &f.log_level,
                &f.category,
                &f.message,
                &f.exception,
            ]
            .map(|c| matches!(c, Some(Cow::Borrowed(_))))
        };
        assert_eq!(borrowed(&fast), borrowed(&slow), "{text:?}");
        true
    }

    #[test]
    fn plain_records_are_read_as_serde_reads_them() {
        for text in PLAIN {
            assert!(agree(text), "left to serde: {text}");
        }
    }

    #[test]
    fn what_serde_rejects_or_reads_differently_is_left_to_it() {
        let left = [
            r#"{"Message":"a","Message":"b"}"#,       // duplicate field
            r#"{"Mess\u0061ge":"escaped key"}"#,      // key with an escape
            r#"{"Message":5}"#,                       // wrong type
            r#"{"EventId":1.5}"#,                     // not an integer
            r#"{"EventId":9223372036854775808}"#,     // too big
            r#"{"EventId":012}"#,                     // leading zero
            r#"{"EventId":"25"}"#,                    // a string
            r#"{"Message":"tab	inside"}"#,            // raw control byte
            "{\n  \"Message\": \"indented\"\n}",      // newlines between tokens
            r#"{"Message":"bad \q escape"}"#,         // invalid escape
            r#"{"Message":"short \u12 escape"}"#,     // short \u
            r#"{"Message":"lone \ud800 surrogate"}"#, // serde decodes: rejects
            r#"{"Message":"cut"#,                     // cut off
            r#"{"Message":"x"}garbage"#,              // glued text
            r#"{"Message":"x",}"#,                    // trailing comma
            r#"{"State":{"a":tru}}"#,                 // bad literal
        ];
        for text in left {
            let mut fields = Entry::default();
            let fast = read(text, &mut fields);
            assert!(fast.is_none(), "fast read {text:?} as {fields:?}");
        }
        // Lone surrogates inside State are only skipped, by serde too.
        assert!(agree(r#"{"State":{"a":"\ud800"}}"#));
        // A delimiter after the object is the next value's business.
        assert!(agree(r#"{"Message":"x"} {"Message":"y"}"#));
    }

    /// A member as serde finds it: the last of a repeated key; `None` for
    /// an object serde rejects.
    fn serde_member<'a>(text: &'a str, key: &str) -> Option<Option<&'a str>> {
        let map: std::collections::HashMap<Cow<'a, str>, &'a serde_json::value::RawValue> =
            serde_json::from_str(text).ok()?;
        Some(map.get(key).map(|r| r.get()))
    }

    #[test]
    fn members_are_found_as_serde_finds_them() {
        let objects = [
            r#"{"Message":"m","{OriginalFormat}":"Connection '{Id}'","k":[1,{"k":2}],"k":null}"#,
            r#" { "k" : { "deep" : [ true , false ] } , "a" : -1.5e3 } "#,
            r#"{}"#,
        ];
        let keys = ["Message", "{OriginalFormat}", "k", "a", "deep", "missing"];
        let mut fast = 0;
        for text in objects {
            for at in 0..=text.len() {
                for &b in &[
                    None,
                    Some(b'"'),
                    Some(b','),
                    Some(b'}'),
                    Some(b'\\'),
                    Some(b'x'),
                ] {
                    let mut t = text.as_bytes().to_vec();
                    match b {
                        None => t.truncate(at),
                        Some(b) if at < t.len() => t[at] = b,
                        Some(_) => continue,
                    }
                    let Ok(t) = String::from_utf8(t) else {
                        continue;
                    };
                    for key in keys {
                        if let Some(found) = member(&t, key) {
                            assert_eq!(Some(found), serde_member(&t, key), "{key} in {t:?}");
                            fast += 1;
                        }
                    }
                }
            }
        }
        assert!(fast > 300, "{fast}");
    }

    /// Every prefix and every one-byte change of the plain records: the
    /// fast reader either agrees with serde or leaves the record to it.
    #[test]
    fn cut_and_mutated_records_never_disagree() {
        let bytes = [
            b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'-', b'e', b'a', b'u', b' ',
            b'\t', 1,
        ];
        let mut fast = 0;
        for text in PLAIN {
            for end in 0..text.len() {
                if text.is_char_boundary(end) {
                    agree(&text[..end]);
                }
            }
            for at in 0..text.len() {
                if !text.is_char_boundary(at) || !text.is_char_boundary(at + 1) {
                    continue;
                }
                for &b in &bytes {
                    let mut t = text.as_bytes().to_vec();
                    t[at] = b;
                    if let Ok(t) = String::from_utf8(t) {
                        fast += usize::from(agree(&t));
                    }
                }
            }
        }
        // Most changes land inside strings and leave the record readable.
        assert!(fast > 1000, "{fast}");
    }
}
