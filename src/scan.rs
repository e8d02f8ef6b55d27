//! Parsing one input in parallel, in order.
//!
//! A mapped input is cut into record-aligned chunks ([`crate::input::chunk`])
//! and the chunks are parsed on the rayon pool; a stream (stdin, gzip, a zip
//! member) is read in windows that are cut at the last record start, so memory
//! stays bounded however much is piped in. Each chunk gets its own collector
//! accumulator and chunk-local line numbers; accumulators are appended in input
//! order with the line offset of the chunks before them. Results are therefore
//! identical for every chunk size, window size and thread count.

use crate::event::Event;
use crate::input::chunk;
use crate::parse::{self, Diagnostics, RecordParser};
use crate::time::TimeContext;
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::{self, Read};

/// Something that looks at every event of an input and keeps what it needs.
pub trait Collector: Sync {
    /// What one chunk collects. Owns its data: events only borrow.
    type Acc: Send;

    /// An empty accumulator.
    fn start(&self) -> Self::Acc;

    /// Sees the text of a chunk before its events (whose `raw` texts are
    /// slices of it), e.g. to search it once rather than event by event,
    /// and where the chunk lies in its scan.
    fn chunk(&self, acc: &mut Self::Acc, text: &str, piece: Piece) {
        let _ = (acc, text, piece);
    }

    /// Called after the chunk's last event.
    fn chunk_end(&self, acc: &mut Self::Acc, piece: Piece) {
        let _ = (acc, piece);
    }

    /// Whether `event` must be whole when [`Collector::event`] sees it: it
    /// comes as [`crate::parse::RecordParser::parse_head`] left it, its
    /// message perhaps unfinished. Safe default: yes.
    fn needs_whole(&self, acc: &mut Self::Acc, event: &Event<'_>) -> bool {
        let _ = (acc, event);
        true
    }

    /// Sees one event (line numbers local to the chunk).
    fn event(&self, acc: &mut Self::Acc, event: &Event<'_>);

    /// Appends what the following chunk collected; its line numbers are
    /// shifted by `line_offset`.
    fn append(&self, acc: &mut Self::Acc, later: Self::Acc, line_offset: u64);
}

/// Which chunk of which scan a collector is given. Scans are numbered
/// across the process, so a thread that is handed chunk `index + 1` of
/// the same scan right after chunk `index` knows that the chunks it just
/// saw are all before this one in the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// The scan (one call of [`scan_bytes`]).
    pub scan: usize,
    /// The chunk's place in that scan.
    pub index: usize,
}

/// Numbers the scans of this process.
static SCANS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How an input is read: how it is cut up, and what its clock means.
#[derive(Debug, Clone, Copy)]
pub struct ScanOptions {
    /// The zone and date the user gave for this input's naive timestamps.
    pub clock: TimeContext,
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Streaming read window in bytes.
    pub window: usize,
    /// A streamed record longer than this is split (and reported).
    pub max_record: usize,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            clock: TimeContext::default(),
            chunk_size: 2 << 20,
            window: 32 << 20,
            max_record: 256 << 20,
        }
    }
}

/// The result of scanning one input.
#[derive(Debug)]
pub struct Scanned<A> {
    /// Parse diagnostics.
    pub diag: Diagnostics,
    /// What the collector gathered.
    pub acc: A,
}

impl<A> Scanned<A> {
    fn append<C: Collector<Acc = A>>(&mut self, collector: &C, later: Scanned<A>) {
        collector.append(&mut self.acc, later.acc, self.diag.lines);
        self.diag.append(later.diag);
    }
}

/// Scans text held in memory (a mapped file).
pub fn scan_bytes<C: Collector>(
    bytes: &[u8],
    parser: &dyn RecordParser,
    opts: &ScanOptions,
    collector: &C,
) -> Scanned<C::Acc> {
    let is_start = |l: &[u8]| parser.is_record_start(l);
    let ranges = chunk::cut(bytes, opts.chunk_size, &is_start);
    let scan = SCANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Neighbouring chunks are appended as soon as both are done, on the
    // worker threads: appending is associative (each part's line numbers
    // are shifted by the lines before it), so the tree gives what an
    // in-order loop would, without a serial pass at the end — and hits
    // past a predicate's limit are freed by the threads that made them.
    ranges
        .into_par_iter()
        .enumerate()
        .map(|(index, r)| {
            let piece = Piece { scan, index };
            scan_chunk(&bytes[r], piece, parser, &opts.clock, collector)
        })
        .reduce(
            || Scanned {
                diag: Diagnostics::default(),
                acc: collector.start(),
            },
            |mut total, part| {
                total.append(collector, part);
                total
            },
        )
}

/// Frees `value` on the worker pool rather than here: a scan's leftovers
/// (a gigabyte's mapping, millions of small allocations) take tens of
/// milliseconds to release, which the caller's serial work that follows
/// need not wait for. Measured on 1 GiB of ILogger text: this and not
/// freeing the report at exit took 42 ms off together; leaking the
/// leftovers instead was 3% slower (later allocations then fault in fresh
/// pages), freeing them on a thread of their own 3% slower too.
pub fn free_later<T: Send + 'static>(value: T) {
    rayon::spawn(move || drop(value));
}

/// Scans a stream whose first bytes (`head`) were already read. A read
/// error ends the scan: what was read before it is returned with the error.
pub fn scan_stream<C: Collector>(
    head: Vec<u8>,
    reader: &mut dyn Read,
    parser: &dyn RecordParser,
    opts: &ScanOptions,
    collector: &C,
) -> (Scanned<C::Acc>, Option<io::Error>) {
    let is_start = |l: &[u8]| parser.is_record_start(l);
    let mut total = Scanned {
        diag: Diagnostics::default(),
        acc: collector.start(),
    };
    let mut buf = head;
    let mut want = opts.window.max(1);
    loop {
        let (eof, error) = fill(reader, &mut buf, want);
        if eof || error.is_some() {
            total.append(collector, scan_bytes(&buf, parser, opts, collector));
            return (total, error);
        }
        let cut = match chunk::last_record_start(&buf, &is_start) {
            Some(cut) => cut,
            None if buf.len() < opts.max_record => {
                // One record fills the window: read more before cutting.
                want = buf.len() * 2;
                continue;
            }
            None => {
                total.diag.oversized_records.add(total.diag.lines + 1);
                buf.len()
            }
        };
        total.append(collector, scan_bytes(&buf[..cut], parser, opts, collector));
        buf.drain(..cut);
        want = opts.window.max(1);
    }
}

/// Reads until `buf` holds `want` bytes; returns (reached end, error).
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> (bool, Option<io::Error>) {
    const STEP: usize = 1 << 16;
    while buf.len() < want {
        let len = buf.len();
        buf.resize(len + STEP.min(want - len).max(1), 0);
        match reader.read(&mut buf[len..]) {
            Ok(0) => {
                buf.truncate(len);
                return (true, None);
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => {
                buf.truncate(len);
                return (true, Some(e));
            }
        }
    }
    (false, None)
}

/// Parses one chunk. Invalid UTF-8 is replaced (U+FFFD) so the line is still
/// parsed; the lines where it happened are counted.
fn scan_chunk<C: Collector>(
    bytes: &[u8],
    piece: Piece,
    parser: &dyn RecordParser,
    clock: &TimeContext,
    collector: &C,
) -> Scanned<C::Acc> {
    let mut diag = Diagnostics::default();
    let mut acc = collector.start();
    // Every chunk is validated before it is borrowed as text. Its plain
    // ASCII prefix (usually all of it) is found in one pass that also rules
    // out NUL bytes; the rest is validated by simdutf8, at several times
    // std's speed (measured: parse only 505 → 464 ms per GiB), and searched
    // for NULs. One pass instead of two: parse only on 1 GiB of ILogger
    // text 366 → 356 ms (A/B medians; an earlier session measured no gain).
    let plain = parse::bytemask::plain_prefix(bytes);
    let rest = &bytes[plain..];
    let text = match simdutf8::basic::from_utf8(rest) {
        // SAFETY: `bytes[..plain]` is ASCII, and ASCII followed by valid
        // UTF-8 is valid UTF-8.
        Ok(_) => Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) }),
        Err(_) => {
            for_each_line(bytes, |n, line| {
                if std::str::from_utf8(line).is_err() {
                    diag.invalid_utf8.add(n);
                }
            });
            String::from_utf8_lossy(bytes)
        }
    };
    if memchr::memchr(0, rest).is_some() {
        for_each_line(bytes, |n, line| {
            if memchr::memchr(0, line).is_some() {
                diag.nul_lines.add(n);
            }
        });
    }
    collector.chunk(&mut acc, &text, piece);
    parse::split_records(
        parser,
        &text,
        clock,
        &mut diag,
        ChunkSink {
            collector,
            acc: &mut acc,
        },
    );
    collector.chunk_end(&mut acc, piece);
    Scanned { diag, acc }
}

/// A collector and its chunk's accumulator, as the splitter's sink.
struct ChunkSink<'c, C: Collector> {
    collector: &'c C,
    acc: &'c mut C::Acc,
}

impl<'a, C: Collector> parse::Sink<'a> for ChunkSink<'_, C> {
    fn needs_whole(&mut self, ev: &Event<'a>) -> bool {
        self.collector.needs_whole(self.acc, ev)
    }

    fn event(&mut self, ev: &Event<'a>) {
        self.collector.event(self.acc, ev)
    }
}

/// Calls `f` with each line and its 1-based number (slow paths only).
fn for_each_line(bytes: &[u8], mut f: impl FnMut(u64, &[u8])) {
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        f(n as u64 + 1, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Format;

    /// Collects (line, message) of every event.
    struct All;
    impl Collector for All {
        type Acc = Vec<(u64, String)>;
        fn start(&self) -> Self::Acc {
            Vec::new()
        }
        fn event(&self, acc: &mut Self::Acc, e: &Event<'_>) {
            acc.push((e.line, e.message.to_string()));
        }
        fn append(&self, acc: &mut Self::Acc, later: Self::Acc, off: u64) {
            acc.extend(later.into_iter().map(|(l, m)| (l + off, m)));
        }
    }

    #[test]
    fn stream_and_bytes_agree_for_any_window() {
        let mut text = String::from("preamble\n");
        for i in 0..200 {
            text.push_str(&format!("info: A.B[{i}]\n      message {i}\n      more\n"));
        }
        let parser = Format::IloggerSimple.parser().unwrap();
        let base = scan_bytes(text.as_bytes(), parser, &ScanOptions::default(), &All);
        assert_eq!(base.acc.len(), 200);
        assert_eq!(base.acc[1], (5, "message 1\nmore".to_string()));
        for window in [1, 7, 64, 1000, 1 << 20] {
            let opts = ScanOptions {
                chunk_size: 13,
                window,
                max_record: 1 << 20,
                ..ScanOptions::default()
            };
            let (s, err) = scan_stream(Vec::new(), &mut text.as_bytes(), parser, &opts, &All);
            assert!(err.is_none());
            assert_eq!(s.acc, base.acc, "window {window}");
            assert_eq!(s.diag, base.diag, "window {window}");
        }
    }

    #[test]
    fn invalid_utf8_and_nul_lines_are_counted_and_parsed() {
        let bytes =
            b"info: A[1]\n      ok\ninfo: A[2]\n      bad \xff byte\ninfo: A[3]\n      nul\0here\n";
        let s = scan_bytes(
            bytes,
            Format::IloggerSimple.parser().unwrap(),
            &ScanOptions::default(),
            &All,
        );
        assert_eq!(s.acc.len(), 3);
        assert_eq!(s.acc[1].1, "bad \u{fffd} byte");
        assert_eq!(s.diag.invalid_utf8.first, Some(4));
        assert_eq!(s.diag.nul_lines.first, Some(6));
    }
}
