//! Timestamps as logs write them.
//!
//! Logs disagree about time: the trace listener writes UTC with `Z`, ILogger
//! writes whatever `TimestampFormat` says (often local, often without a date),
//! NLog writes local time without an offset. A [`Timestamp`] keeps the wall
//! clock as written plus the offset *if the source gave one*, so a naive time
//! is never silently taken for UTC. Parsing is hand-written because it runs
//! once per record on the hot path; chrono only validates the numbers.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use std::cmp::Ordering;
use std::fmt;

/// A point in time as a log line gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// The wall-clock reading as written (date 1970-01-01 when the source had none).
    pub wall: NaiveDateTime,
    /// Seconds east of UTC, when the source said so (`Z`, `+01:00`).
    pub offset_secs: Option<i32>,
    /// False for time-of-day-only timestamps such as Serilog's `HH:mm:ss`.
    pub has_date: bool,
}

impl Timestamp {
    /// A timestamp whose instant is known.
    pub fn instant(wall: NaiveDateTime, offset_secs: i32) -> Self {
        Timestamp {
            wall,
            offset_secs: Some(offset_secs),
            has_date: true,
        }
    }

    /// True when the source gave an offset, so this is a real instant.
    pub fn is_instant(&self) -> bool {
        self.offset_secs.is_some()
    }

    /// The instant in UTC, when known.
    pub fn to_fixed(&self) -> Option<DateTime<FixedOffset>> {
        let off = FixedOffset::east_opt(self.offset_secs?)?;
        self.wall.and_local_timezone(off).single()
    }

    /// A key that orders timestamps of one input: instants by UTC, naive
    /// ones by their wall clock (as if UTC, which keeps their own order).
    /// (seconds, nanoseconds): cheap enough to compute on every comparison.
    pub fn sort_key(&self) -> (i64, u32) {
        let secs = self.wall.and_utc().timestamp() - i64::from(self.offset_secs.unwrap_or(0));
        (secs, self.wall.nanosecond())
    }

    /// [`Timestamp::sort_key`] as one number of nanoseconds, for arithmetic
    /// across inputs (clock offsets, windows).
    pub fn nanos(&self) -> i128 {
        let (s, n) = self.sort_key();
        i128::from(s) * 1_000_000_000 + i128::from(n)
    }

    /// The UTC instant `nanos` nanoseconds after the epoch.
    pub fn from_nanos(nanos: i128) -> Option<Timestamp> {
        let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).ok()?;
        let sub = nanos.rem_euclid(1_000_000_000) as u32;
        let t = DateTime::from_timestamp(secs, sub)?;
        Some(Timestamp::instant(t.naive_utc(), 0))
    }

    /// This time moved by `offset` nanoseconds (an input's clock lined up
    /// with the others): itself when `offset` is 0, else the UTC instant.
    pub fn shifted(self, offset: i128) -> Option<Timestamp> {
        if offset == 0 {
            Some(self)
        } else {
            Timestamp::from_nanos(self.nanos() + offset)
        }
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key()
            .cmp(&other.sort_key())
            .then_with(|| self.wall.cmp(&other.wall))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 with the offset when the instant is known; without an offset
    /// for naive local times; only the time of day when there was no date.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Written digit by digit into one buffer: chrono's `format` parses
        // its pattern on every call, and even `write!` per field cost a
        // tenth of the drops' ranking, which writes a time per drop and cause.
        let (d, t) = (self.wall.date(), self.wall.time());
        let mut out = Digits::new();
        if self.has_date {
            let year = d.year();
            match u32::try_from(year) {
                Ok(y) if y <= 9999 => out.num(y, 4),
                // Outside RFC 3339's years (chrono allows them).
                _ => write!(f, "{year:04}")?,
            }
            out.byte(b'-');
            out.num(d.month(), 2);
            out.byte(b'-');
            out.num(d.day(), 2);
            out.byte(b'T');
        }
        out.num(t.hour(), 2);
        out.byte(b':');
        out.num(t.minute(), 2);
        out.byte(b':');
        out.num(t.second(), 2);
        // Fraction digits as the source most likely had them: at least
        // milliseconds, trailing zeros beyond that dropped.
        let mut nanos = self.wall.nanosecond() % 1_000_000_000;
        if nanos != 0 {
            let mut digits = 9;
            while digits > 3 && nanos.is_multiple_of(10) {
                nanos /= 10;
                digits -= 1;
            }
            out.byte(b'.');
            out.num(nanos, digits);
        }
        if self.has_date {
            match self.offset_secs {
                Some(0) => out.byte(b'Z'),
                Some(s) => {
                    out.byte(if s < 0 { b'-' } else { b'+' });
                    let a = s.unsigned_abs();
                    out.num(a / 3600 % 100, 2);
                    out.byte(b':');
                    out.num((a % 3600) / 60, 2);
                }
                None => {}
            }
        }
        f.write_str(out.as_str())
    }
}

/// A short ASCII text built on the stack (a timestamp takes at most 35
/// bytes).
struct Digits {
    buf: [u8; 40],
    len: usize,
}

impl Digits {
    fn new() -> Digits {
        Digits {
            buf: [0; 40],
            len: 0,
        }
    }

    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `v` in decimal, zero-padded to `width` digits (`v` must fit them).
    fn num(&mut self, mut v: u32, width: usize) {
        for k in (0..width).rev() {
            self.buf[self.len + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        self.len += width;
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("only ASCII is written")
    }
}

/// A time zone the user gave for naive timestamps (`--tz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset east of UTC, in seconds (`+01:00`, `Z`, `UTC`).
    Fixed(i32),
    /// An IANA zone (`Europe/Berlin`), daylight saving time included.
    Iana(chrono_tz::Tz),
}

impl Zone {
    /// Reads `+01:00`, `-0530`, `+1`, `Z`, `UTC`, `GMT` or an IANA name.
    pub fn parse(text: &str) -> Result<Zone, String> {
        let t = text.trim();
        if matches!(t, "Z" | "z" | "UTC" | "utc" | "GMT") {
            return Ok(Zone::Fixed(0));
        }
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            let digits: String = rest.chars().filter(|c| *c != ':').collect();
            let (h, m) = match digits.len() {
                1 | 2 => (digits.parse::<i32>().ok(), Some(0)),
                4 => (digits[..2].parse().ok(), digits[2..].parse().ok()),
                _ => (None, None),
            };
            if let (Some(h), Some(m)) = (h, m)
                && h <= 23
                && m <= 59
            {
                return Ok(Zone::Fixed(sign * (h * 3600 + m * 60)));
            }
            return Err(format!(
                "`{text}` is not a UTC offset (use +01:00, -0530, Z)"
            ));
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Iana).map_err(|_| {
            format!("`{text}` is neither a UTC offset (+01:00) nor an IANA time zone name (Europe/Berlin)")
        })
    }

    /// The offset this zone had at the local wall-clock time `wall`. In a
    /// daylight-saving overlap the earlier reading wins; in a gap, the
    /// offset just before it.
    pub fn offset_at(&self, wall: NaiveDateTime) -> i32 {
        use chrono::{Offset, TimeZone};
        match self {
            Zone::Fixed(s) => *s,
            Zone::Iana(tz) => tz
                .offset_from_local_datetime(&wall)
                .earliest()
                .unwrap_or_else(|| tz.offset_from_utc_datetime(&wall))
                .fix()
                .local_minus_utc(),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(s) => {
                let sign = if *s < 0 { '-' } else { '+' };
                let a = s.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
            }
            Zone::Iana(tz) => f.write_str(tz.name()),
        }
    }
}

/// What the user told us about an input's clock: the zone of its naive
/// timestamps (`--tz`) and the date of its time-of-day-only ones (`--date`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeContext {
    /// Zone for timestamps without an offset.
    pub zone: Option<Zone>,
    /// Date for timestamps without a date.
    pub date: Option<NaiveDate>,
}

impl TimeContext {
    /// Completes `t` with what the user said; timestamps the source gave
    /// fully are returned as they are.
    pub fn resolve(&self, mut t: Timestamp) -> Timestamp {
        if !t.has_date
            && let Some(d) = self.date
        {
            t.wall = d.and_time(t.wall.time());
            t.has_date = true;
        }
        if t.offset_secs.is_none()
            && t.has_date
            && let Some(z) = self.zone
        {
            t.offset_secs = Some(z.offset_at(t.wall));
        }
        t
    }

    /// True when there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.zone.is_none() && self.date.is_none()
    }
}

/// Parses the timestamps loggers write: ISO 8601 / RFC 3339 with `T` or a
/// space, 0–9 fraction digits, `Z`, `±HH:MM`, `±HHMM` or ` ±HH:MM` offsets;
/// US `MM/dd/yyyy HH:mm:ss[ AM|PM]`; and time of day alone (`HH:mm:ss[.f]`).
/// Surrounding brackets and white space are ignored.
pub fn parse(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if let Some(t) = Shape::with_last(|last| last.as_ref()?.read(b)) {
        return Some(t);
    }
    let t = parse_whole(b)?;
    if let Some(shape) = Shape::of(b, t) {
        Shape::with_last(|last| *last = Some(shape));
    }
    Some(t)
}

/// The text of a timestamp with its fraction's digits left open, and its
/// value without the fraction: a log's timestamps differ from the last
/// one's mostly in those digits (busy logs write many records a second),
/// so one that has the last one's [`Shape`] is read as its digits alone.
/// On the generated ILogger sample, timestamps took 1.53 M instead of
/// 2.31 M instructions per 2 MB (cachegrind), and all rules on 1 GiB of it
/// 485 instead of 524 ms of analysis (medians of ten alternating runs):
/// the memo of the last second it replaced copied and compared more, and
/// its chrono calls were long dependency chains. (That memo, kept for
/// fractions whose length varies, only cost instructions once this one
/// was there: parse only, −0.2% to −0.4% per 2 MB without it.)
///
/// Sound because [`parse_whole`] reads the fraction's digits only as the
/// fraction (1–9 digits after the one `.` or `,`): two texts that differ
/// in those digits alone parse to the same time but the fraction.
#[derive(Clone, Copy)]
struct Shape {
    len: usize,
    /// The text's [`Shape::WORDS`] overlapping 8-byte words (at
    /// [`Shape::word_at`]), the fraction's digits zeroed.
    words: [u64; Shape::WORDS],
    /// Per word, ones on the bytes that must match.
    masks: [u64; Shape::WORDS],
    /// The fraction's digits: where they start, how many (0 when none).
    digits: (usize, usize),
    /// The value with no fraction.
    whole: Timestamp,
}

impl Shape {
    /// Words of a shape: enough to cover the longest text it takes.
    const WORDS: usize = 5;
    /// The shortest and longest texts it takes (`.NET`'s round-trip `o`
    /// format is 33 bytes).
    const LEN: std::ops::RangeInclusive<usize> = 8..=8 * Shape::WORDS;

    /// Where word `i` of a text of `len` bytes starts: every 8 bytes, the
    /// last ones moved back to end at the text's end (overlapping).
    fn word_at(i: usize, len: usize) -> usize {
        (8 * i).min(len - 8)
    }

    fn word(b: &[u8], i: usize) -> u64 {
        let at = Shape::word_at(i, b.len());
        u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
    }

    /// Runs `f` on this thread's last shape.
    fn with_last<R>(f: impl FnOnce(&mut Option<Shape>) -> R) -> R {
        thread_local! {
            static LAST: std::cell::RefCell<Option<Shape>> =
                const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(f)
    }

    /// The shape of `b`, which [`parse_whole`] read as `t`; `None` when the
    /// text is too short or too long, or its fraction is not one run of
    /// 1–9 digits after the text's only `.` or `,`.
    fn of(b: &[u8], t: Timestamp) -> Option<Shape> {
        if !Shape::LEN.contains(&b.len()) || t.wall.nanosecond() >= 1_000_000_000 {
            return None;
        }
        let mut marks = b
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, b'.' | b','));
        let digits = match (marks.next(), marks.next()) {
            (None, _) => (0, 0),
            (Some((at, _)), None) => {
                // The fraction as the whole parse reads it: 1–9 digits of
                // the value the parse found.
                let (nanos, rest) = fraction(&b[at..])?;
                let n = b.len() - rest.len() - (at + 1);
                if n > 9 || nanos != t.wall.nanosecond() {
                    return None;
                }
                (at + 1, n)
            }
            _ => return None,
        };
        if digits.1 == 0 && t.wall.nanosecond() != 0 {
            return None;
        }
        let mut shape = Shape {
            len: b.len(),
            words: [0; Shape::WORDS],
            masks: [0; Shape::WORDS],
            digits,
            whole: Timestamp {
                wall: t.wall.with_nanosecond(0)?,
                ..t
            },
        };
        for i in 0..Shape::WORDS {
            let at = Shape::word_at(i, b.len());
            let mut mask = u64::MAX;
            for k in 0..8 {
                if (digits.0..digits.0 + digits.1).contains(&(at + k)) {
                    mask &= !(0xff << (8 * k));
                }
            }
            shape.masks[i] = mask;
            shape.words[i] = Shape::word(b, i) & mask;
        }
        Some(shape)
    }

    /// `b` read with this shape: `None` unless it has the shape's bytes
    /// and digits where its fraction's are.
    ///
    /// Inlined: returned through memory, the timestamp's fields were
    /// stored in pieces and loaded whole, a store-forwarding stall that
    /// perf put at half of `parse`'s cycles (analysis of 1 GiB of ILogger
    /// text 479 → 468 ms, medians of eight alternating runs).
    #[inline(always)]
    fn read(&self, b: &[u8]) -> Option<Timestamp> {
        if b.len() != self.len {
            return None;
        }
        let mut differ = 0;
        for i in 0..Shape::WORDS {
            differ |= (Shape::word(b, i) & self.masks[i]) ^ self.words[i];
        }
        if differ != 0 {
            return None;
        }
        let (start, n) = self.digits;
        if n == 0 {
            return Some(self.whole);
        }
        let value = if n <= 8 && start + n >= 8 {
            eight_digits(b, start + n, n)?
        } else {
            num(&b[start..start + n])?
        };
        Some(Timestamp {
            wall: self.whole.wall.with_nanosecond(value * SCALE[n])?,
            ..self.whole
        })
    }
}

/// The `n` (at most 8) decimal digits that end at `end` (at least 8), as
/// a number, all eight bytes at once; `None` when one is not a digit. A
/// digit at a time, the trace listener's seven fraction digits were a
/// chain of seven dependent multiply-adds per record.
#[inline(always)]
fn eight_digits(b: &[u8], end: usize, n: usize) -> Option<u32> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let w = u64::from_le_bytes(b[end - 8..end].try_into().expect("8 bytes"));
    // The bytes before the digits (the low ones) read as '0'.
    let keep = u64::MAX << (8 * (8 - n));
    let w = (w & keep) | (ZEROS & !keep);
    // Every byte 0x30–0x39: high nibble 3, and still 3 after adding 6 (no
    // carry leaves a byte whose high nibble is 3).
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    if (w & HIGH) | ((w.wrapping_add(0x0606_0606_0606_0606) & HIGH) >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    // Pairs, then quads, then the whole (the first digit is the low byte).
    let v = w - ZEROS;
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const LOW: u64 = 0x0000_00FF_0000_00FF;
    let v = ((v & LOW).wrapping_mul(100 + (1_000_000 << 32)))
        .wrapping_add(((v >> 16) & LOW).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    Some(v as u32)
}

/// [`parse`] without the shortcut of the last [`Shape`].
fn parse_whole(text: &[u8]) -> Option<Timestamp> {
    let mut b = text.trim_ascii();
    if let [b'[', inner @ .., b']'] = b {
        b = inner.trim_ascii();
    }
    if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        return parse_after_date(cached_date(&b[..10])?, &b[10..]);
    }
    if b.len() >= 10 && (b[1] == b'/' || b[2] == b'/') {
        return parse_slash_date(b);
    }
    let (time, rest) = parse_time(b)?;
    let rest = skip_spaces(rest);
    if !rest.is_empty() {
        return None;
    }
    Some(Timestamp {
        wall: NaiveDate::from_ymd_opt(1970, 1, 1)?.and_time(time),
        offset_secs: None,
        has_date: false,
    })
}

/// `yyyy-MM-dd` as a date. Consecutive records almost always share their
/// date, so the last one read on this thread is remembered.
fn cached_date(text: &[u8]) -> Option<NaiveDate> {
    thread_local! {
        static LAST: std::cell::Cell<Option<([u8; 10], NaiveDate)>> = const { std::cell::Cell::new(None) };
    }
    let key: [u8; 10] = text.try_into().ok()?;
    LAST.with(|last| {
        if let Some((k, d)) = last.get()
            && k == key
        {
            return Some(d);
        }
        let d = NaiveDate::from_ymd_opt(
            num(&text[0..4])? as i32,
            num(&text[5..7])?,
            num(&text[8..10])?,
        )?;
        last.set(Some((key, d)));
        Some(d)
    })
}

fn parse_after_date(date: NaiveDate, rest: &[u8]) -> Option<Timestamp> {
    if rest.is_empty() {
        return Some(Timestamp {
            wall: date.and_hms_opt(0, 0, 0)?,
            offset_secs: None,
            has_date: true,
        });
    }
    if rest[0] != b'T' && rest[0] != b' ' && rest[0] != b't' {
        return None;
    }
    let (time, rest) = parse_time(&rest[1..])?;
    with_offset(date, time, rest)
}

/// The timestamp of `date` and `time`, with the offset `rest` holds (and
/// nothing else).
fn with_offset(date: NaiveDate, time: NaiveTime, rest: &[u8]) -> Option<Timestamp> {
    let (offset, rest) = parse_offset(rest)?;
    if !skip_spaces(rest).is_empty() {
        return None;
    }
    Some(Timestamp {
        wall: date.and_time(time),
        offset_secs: offset,
        has_date: true,
    })
}

/// `MM/dd/yyyy HH:mm:ss[ AM|PM]` (en-US); `dd/MM/yyyy` when the first number
/// cannot be a month. Culture formats are guesses, so only these two.
fn parse_slash_date(b: &[u8]) -> Option<Timestamp> {
    let mut parts = b.splitn(3, |&c| c == b'/');
    let a = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let rest = parts.next()?;
    let year_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
    if year_len != 4 {
        return None;
    }
    let year = num(&rest[..4])? as i32;
    let (month, day) = if a > 12 { (m, a) } else { (a, m) };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let rest = skip_spaces(&rest[4..]);
    let (mut time, rest) = parse_time(rest)?;
    let rest = skip_spaces(rest);
    let rest = match rest {
        [b'P' | b'p', b'M' | b'm', tail @ ..] => {
            if time.hour() < 12 {
                time += chrono::Duration::hours(12);
            }
            tail
        }
        [b'A' | b'a', b'M' | b'm', tail @ ..] => {
            if time.hour() == 12 {
                time -= chrono::Duration::hours(12);
            }
            tail
        }
        other => other,
    };
    with_offset(date, time, rest)
}

/// `H:mm:ss`, `HH:mm:ss`, with an optional `.` or `,` fraction of 1–9 digits.
fn parse_time(b: &[u8]) -> Option<(NaiveTime, &[u8])> {
    let hour_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if !(1..=2).contains(&hour_len) || b.len() < hour_len + 6 {
        return None;
    }
    let h = num(&b[..hour_len])?;
    let b = &b[hour_len..];
    if b[0] != b':' || b[3] != b':' {
        return None;
    }
    let m = num(&b[1..3])?;
    let s = num(&b[4..6])?;
    let (nanos, rest) = fraction(&b[6..])?;
    // A leap second (60) is clamped rather than rejected.
    let time = NaiveTime::from_hms_nano_opt(h, m, s.min(59), nanos)?;
    Some((time, rest))
}

/// An optional `.` or `,` fraction of a second (1–9 digits read, more
/// skipped) as nanoseconds, and what follows it.
fn fraction(b: &[u8]) -> Option<(u32, &[u8])> {
    let [b'.' | b',', tail @ ..] = b else {
        return Some((0, b));
    };
    let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    // Digits, as counted: no test per digit, and the scale from a table
    // (`pow` is a loop; together a fifth of a timestamp's instructions).
    let used = digits.min(9);
    let value = tail[..used]
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    Some((value * SCALE[used], &tail[digits..]))
}

/// Nanoseconds per unit of a fraction of `n` digits.
const SCALE: [u32; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// `Z`, `+HH:MM`, `+HHMM`, `+HH`, optionally after one space; none at all.
fn parse_offset(b: &[u8]) -> Option<(Option<i32>, &[u8])> {
    let t = skip_spaces(b);
    match t {
        [b'Z' | b'z', rest @ ..] => Some((Some(0), rest)),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hh, mm, used) = match rest {
                [h1, h2, b':', m1, m2, ..] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?, 5),
                [h1, h2, m1, m2, ..] if m1.is_ascii_digit() && m2.is_ascii_digit() => {
                    (num(&[*h1, *h2])?, num(&[*m1, *m2])?, 4)
                }
                [h1, h2, ..] => (num(&[*h1, *h2])?, 0, 2),
                _ => return None,
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            let secs = (hh * 3600 + mm * 60) as i32;
            let secs = if *sign == b'-' { -secs } else { secs };
            Some((Some(secs), &rest[used..]))
        }
        _ => Some((None, b)),
    }
}

fn skip_spaces(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| **c == b' ').count();
    &b[n..]
}

/// A decimal number of at most 9 digits; `None` for anything else.
fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever was read before (seconds, fractions and offsets of every
    /// kind), a timestamp parses as the whole parse reads it.
    #[test]
    fn what_was_read_before_changes_nothing() {
        let whole = |s: &str| -> Option<Timestamp> {
            let b = s.as_bytes().trim_ascii();
            parse_after_date(cached_date(b.get(..10)?)?, &b[10..])
        };
        let mut texts = Vec::new();
        for sep in ["T", " ", "t"] {
            for second in ["05", "06", "60"] {
                for frac in [
                    "",
                    ".1",
                    ".029",
                    ",0290000",
                    ".123456789",
                    ".1234567891234",
                    ".",
                ] {
                    for off in ["", "Z", "+00:00", "-0530", "+01", " +01:00", " x", "+25:00"] {
                        texts.push(format!("2024-01-15{sep}08:30:{second}{frac}{off}"));
                    }
                }
            }
        }
        texts.push("2024-01-15T8:30:05.1Z".to_string());
        texts.push("2024-02-30T08:30:05Z".to_string());
        texts.push("2024-01-15T08:30:05".to_string());
        let mut parsed = 0;
        for (i, a) in texts.iter().enumerate() {
            for b in texts.iter().skip(i % 7).step_by(5) {
                parse(a);
                assert_eq!(parse(b), whole(b), "{b:?} after {a:?}");
                parsed += usize::from(parse(b).is_some());
            }
        }
        assert!(parsed > 1000, "{parsed}");
    }

    /// A text read with the last text's shape parses as the whole parse
    /// reads it, whichever byte of the last text it changes and to what;
    /// and the shortcut is taken when only the fraction's digits changed.
    #[test]
    fn last_shape_shortcut_matches_the_whole_parse() {
        let texts = [
            "2024-01-15T08:30:05.029+00:00",
            "2024-01-15T08:30:05.0290000+00:00",
            "2024-01-15 08:30:05,029",
            "[2024-01-15T08:30:05.029Z]",
            "  2024-01-15T08:30:05.123456789Z ",
            "2024-01-15T08:30:05Z",
            "2024-01-15T08:30:60.5Z",
            "01/15/2024 08:30:05.25 PM",
            "15/01/2024 12:30:05.1 AM",
            "08:30:05.029",
            "8:30:05.1",
            "2024-01-15T08:30:05.0290000000001+00:00",
            "2024-01-15T08:30:05.029 +01:00",
            "2024-01-15T08:30:05.12345678Z",
            "9:30:05.12345678",
        ];
        let subs = b"0159.,: -+ZaT\t";
        let (mut checked, mut shortcut) = (0, 0);
        for text in texts {
            assert!(parse_whole(text.as_bytes()).is_some(), "{text}");
            for at in 0..text.len() {
                for &c in subs {
                    let mut b = text.as_bytes().to_vec();
                    b[at] = c;
                    let Ok(m) = std::str::from_utf8(&b) else {
                        continue;
                    };
                    parse(text);
                    let fast = Shape::with_last(|l| l.as_ref().and_then(|s| s.read(&b)));
                    shortcut += usize::from(fast.is_some());
                    assert_eq!(parse(m), parse_whole(&b), "{m:?} after {text:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 2000, "{checked}");
        assert!(shortcut > 100, "{shortcut}");
        // Without a fraction, only the same text is read as the last one.
        parse("2024-01-15T08:30:05Z");
        assert_eq!(parse("2024-01-15T08:30:06Z").unwrap().wall.second(), 6);
    }

    /// The eight-at-once digits read as `str::parse` does, for every count
    /// of digits, and refuse any non-digit byte among them (but not the
    /// bytes before them).
    #[test]
    fn eight_digits_reads_what_parse_reads() {
        for n in 1..=8 {
            for value in [0u32, 1, 7, 10, 99, 1234, 5_000_000, 12_345_678, 99_999_999] {
                let digits = format!("{value:0n$}");
                if digits.len() != n {
                    continue;
                }
                let text = format!("2024:05.\u{ff}{digits}");
                let b = text.as_bytes();
                assert_eq!(eight_digits(b, b.len(), n), Some(value), "{text}");
                for at in b.len() - n..b.len() {
                    for bad in [b'/', b':', b'a', 0x80, 0xff, b' '] {
                        let mut m = b.to_vec();
                        m[at] = bad;
                        assert_eq!(eight_digits(&m, m.len(), n), None, "{m:?}");
                    }
                }
            }
        }
    }

    fn show(s: &str) -> String {
        parse(s)
            .map(|t| t.to_string())
            .unwrap_or_else(|| "none".into())
    }

    #[test]
    fn iso_forms() {
        assert_eq!(
            show("2024-01-15T08:30:05.1234567Z"),
            "2024-01-15T08:30:05.1234567Z"
        );
        assert_eq!(
            show("2024-01-15T08:30:05.123+00:00"),
            "2024-01-15T08:30:05.123Z"
        );
        assert_eq!(
            show("2024-01-15 08:30:05.123 +01:00"),
            "2024-01-15T08:30:05.123+01:00"
        );
        assert_eq!(
            show("2024-01-15T08:30:07.000+01:00"),
            "2024-01-15T08:30:07+01:00"
        );
        assert_eq!(show("2024-01-15 08:30:05.1234"), "2024-01-15T08:30:05.1234");
        assert_eq!(
            show("2024-01-15T08:30:05-0530"),
            "2024-01-15T08:30:05-05:30"
        );
        assert_eq!(show("[2024-01-15T08:30:05Z]"), "2024-01-15T08:30:05Z");
    }

    #[test]
    fn time_only_and_us_dates() {
        assert_eq!(show("08:30:05"), "08:30:05");
        assert_eq!(show("8:30:05.5"), "08:30:05.500");
        assert_eq!(show("01/15/2024 08:30:05 PM"), "2024-01-15T20:30:05");
        assert_eq!(show("15/01/2024 08:30:05"), "2024-01-15T08:30:05");
        assert_eq!(show("1/15/2024 12:30:05 AM"), "2024-01-15T00:30:05");
    }

    #[test]
    fn rejects_non_times() {
        for s in [
            "",
            "info",
            "2024-13-01T00:00:00",
            "08:30",
            "12:34:56 and more",
            "2024-01-15X",
        ] {
            assert!(parse(s).is_none(), "{s:?} should not parse");
        }
    }

    #[test]
    fn display_writes_what_the_source_had() {
        for (text, shown) in [
            ("2024-01-15T08:30:05.0290000Z", "2024-01-15T08:30:05.029Z"),
            (
                "2024-01-15T08:30:05.1234567+05:30",
                "2024-01-15T08:30:05.1234567+05:30",
            ),
            (
                "2024-01-15T08:30:05.100-08:00",
                "2024-01-15T08:30:05.100-08:00",
            ),
            (
                "2024-01-15T08:30:05.000000001Z",
                "2024-01-15T08:30:05.000000001Z",
            ),
            ("2024-01-15 08:30:05.5", "2024-01-15T08:30:05.500"),
            ("08:30:05.123456", "08:30:05.123456"),
            ("2024-12-31T23:59:59Z", "2024-12-31T23:59:59Z"),
        ] {
            assert_eq!(parse(text).unwrap().to_string(), shown, "{text}");
        }
        let far = Timestamp::instant(
            NaiveDate::from_ymd_opt(12345, 1, 2)
                .unwrap()
                .and_hms_opt(3, 4, 5)
                .unwrap(),
            -3600,
        );
        assert_eq!(far.to_string(), "12345-01-02T03:04:05-01:00");
    }

    #[test]
    fn zones_and_context() {
        assert_eq!(Zone::parse("+01:00"), Ok(Zone::Fixed(3600)));
        assert_eq!(Zone::parse("-0530"), Ok(Zone::Fixed(-19800)));
        assert_eq!(Zone::parse("UTC"), Ok(Zone::Fixed(0)));
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+25:00").is_err());
        let berlin = TimeContext {
            zone: Some(Zone::parse("Europe/Berlin").unwrap()),
            date: None,
        };
        let winter = berlin.resolve(parse("2024-01-15 08:30:05").unwrap());
        assert_eq!(winter.to_string(), "2024-01-15T08:30:05+01:00");
        let summer = berlin.resolve(parse("2024-07-15 08:30:05").unwrap());
        assert_eq!(summer.to_string(), "2024-07-15T08:30:05+02:00");
        let given = berlin.resolve(parse("2024-07-15T08:30:05Z").unwrap());
        assert_eq!(given.to_string(), "2024-07-15T08:30:05Z");
        let dated = TimeContext {
            zone: Some(Zone::Fixed(0)),
            date: NaiveDate::from_ymd_opt(2024, 3, 2),
        };
        assert_eq!(
            dated.resolve(parse("08:30:05").unwrap()).to_string(),
            "2024-03-02T08:30:05Z"
        );
        assert_eq!(
            TimeContext::default()
                .resolve(parse("08:30:05").unwrap())
                .to_string(),
            "08:30:05"
        );
    }

    #[test]
    fn orders_instants_by_utc() {
        let a = parse("2024-01-15T09:00:00+01:00").unwrap();
        let b = parse("2024-01-15T08:30:00Z").unwrap();
        assert!(a < b);
    }
}
