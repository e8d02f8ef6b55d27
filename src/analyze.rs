//! The whole run over all inputs: open, sniff, detect, scan.
//!
//! Inputs are analyzed in parallel (and each input's chunks in parallel
//! inside that), and the results come back in the order the inputs were
//! given. An input that cannot be read becomes a result with an error; the
//! others are analyzed all the same.

use crate::input::encoding::{self, Encoding, Utf16Reader};
use crate::input::{self, Content, InputSpec, detect};
use crate::parse::{Diagnostics, Format};
use crate::rules::RuleSet;
use crate::rules::engine::{Engine, Kept, RuleCollector};
use crate::rules::forms::{self, RuleOutcome};
use crate::scan::{self, ScanOptions, Scanned};
use crate::summary::{InputSummary, Summary};
use crate::time::{TimeContext, Zone};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

/// What the user asked for that changes how inputs are read.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Read every input as this format instead of detecting it.
    pub format: Option<Format>,
    /// Chunking and streaming sizes.
    pub scan: ScanOptions,
    /// `--tz` and `--date`.
    pub clocks: ClockSettings,
    /// The index of the input being analyzed (set by [`analyze`]).
    pub input: usize,
    /// The rules to run (none when `None`).
    pub engine: Option<Arc<Engine>>,
    /// There is more than one input (set by [`analyze`]): keep what the
    /// keyed sequence rules kept, to run them again across inputs, and the
    /// evidence (negotiate requests, connection ids) that lines the inputs' clocks up.
    pub several_inputs: bool,
}

/// `--tz [FILE=]ZONE` and `--date [FILE=]DATE` as given: for every input,
/// or for the input whose path (or, when unambiguous, file name) is FILE.
#[derive(Debug, Clone, Default)]
pub struct ClockSettings {
    /// Zones: (FILE or `None` for all, zone).
    pub zones: Vec<(Option<String>, Zone)>,
    /// Dates: (FILE or `None` for all, date).
    pub dates: Vec<(Option<String>, NaiveDate)>,
    /// Clock offsets: (FILE, nanoseconds added to its times).
    pub offsets: Vec<(String, i128)>,
}

impl ClockSettings {
    /// Reads one `--tz` value.
    pub fn add_zone(&mut self, arg: &str) -> Result<(), String> {
        let (file, zone) = split_file(arg);
        self.zones.push((file, Zone::parse(zone)?));
        Ok(())
    }

    /// Reads one `--date` value.
    pub fn add_date(&mut self, arg: &str) -> Result<(), String> {
        let (file, date) = split_file(arg);
        let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
            .map_err(|_| format!("`{date}` is not a date (use YYYY-MM-DD)"))?;
        self.dates.push((file, d));
        Ok(())
    }

    /// Reads one `--offset FILE=±DURATION` value.
    pub fn add_offset(&mut self, arg: &str) -> Result<(), String> {
        let (Some(file), offset) = split_file(arg) else {
            return Err(format!(
                "`{arg}` needs the input it shifts: FILE=±DURATION (e.g. app.log=+3.5s)"
            ));
        };
        let nanos = crate::correlate::clocks::parse_offset(offset)
            .ok_or_else(|| format!("`{offset}` is not a duration (e.g. +3.5s, -8h, 250ms)"))?;
        self.offsets.push((file, nanos));
        Ok(())
    }

    /// The `--offset` of each input among `paths`, by index.
    pub fn offsets_of(&self, paths: &[&str]) -> Vec<(usize, i128)> {
        self.offsets
            .iter()
            .filter_map(|(file, nanos)| match matching(file, paths) {
                Matches::One(p) => paths.iter().position(|x| *x == p).map(|i| (i, *nanos)),
                _ => None,
            })
            .collect()
    }

    /// Checks that every FILE names exactly one of `paths`.
    pub fn check(&self, paths: &[&str]) -> Result<(), String> {
        let files = self.zones.iter().filter_map(|z| z.0.as_ref());
        let offsets = self.offsets.iter().map(|o| &o.0);
        for file in files
            .chain(self.dates.iter().filter_map(|d| d.0.as_ref()))
            .chain(offsets)
        {
            match matching(file, paths) {
                Matches::One(_) => {}
                Matches::None => return Err(format!("`{file}` names no input")),
                Matches::Many(n) => {
                    return Err(format!(
                        "`{file}` is the name of {n} inputs; give its path as on the command line"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The clock of the input at `path` among `paths`: a FILE= setting for
    /// it wins over one for all inputs.
    pub fn for_input(&self, path: &str, paths: &[&str]) -> TimeContext {
        let mine = |file: &Option<String>| match file {
            None => Some(false),
            Some(f) => matches!(matching(f, paths), Matches::One(p) if p == path).then_some(true),
        };
        fn pick<T: Copy>(
            items: &[(Option<String>, T)],
            mine: &dyn Fn(&Option<String>) -> Option<bool>,
        ) -> Option<T> {
            let mut best = None;
            for (file, v) in items {
                match mine(file) {
                    Some(true) => return Some(*v),
                    Some(false) => best = Some(*v),
                    None => {}
                }
            }
            best
        }
        TimeContext {
            zone: pick(&self.zones, &mine),
            date: pick(&self.dates, &mine),
        }
    }
}

/// `FILE=VALUE` or `VALUE` (zones and dates never contain `=`).
fn split_file(arg: &str) -> (Option<String>, &str) {
    match arg.rsplit_once('=') {
        Some((file, value)) => (Some(file.to_string()), value),
        None => (None, arg),
    }
}

enum Matches<'p> {
    None,
    One(&'p str),
    Many(usize),
}

/// The inputs FILE names: its exact path, else its file name.
fn matching<'p>(file: &str, paths: &[&'p str]) -> Matches<'p> {
    if let Some(p) = paths.iter().find(|p| **p == file) {
        return Matches::One(p);
    }
    let named: Vec<&&str> = paths
        .iter()
        .filter(|p| p.rsplit(['/', '\\', ':']).next() == Some(file))
        .collect();
    match named.as_slice() {
        [] => Matches::None,
        [one] => Matches::One(one),
        many => Matches::Many(many.len()),
    }
}

/// Everything learned about one input.
#[derive(Debug, Clone, Default)]
pub struct InputResult {
    /// The path as the report names it.
    pub path: String,
    /// The format it was read as.
    pub format: Option<Format>,
    /// Why that format (detected or forced).
    pub reason: Option<String>,
    /// The text encoding found.
    pub encoding: Option<Encoding>,
    /// Bytes read (after decompression and conversion).
    pub bytes: u64,
    /// Parse diagnostics.
    pub diag: Diagnostics,
    /// Levels, categories, time range.
    pub summary: InputSummary,
    /// Why the input could not be read (in full or from some point on).
    pub error: Option<String>,
    /// Why a file found in a directory was passed over.
    pub skipped: Option<String>,
    /// The zone and date applied to naive timestamps.
    pub clock: TimeContext,
    /// What each rule found (in engine order; empty without rules).
    pub rules: Vec<RuleOutcome>,
    /// SignalR connections rebuilt from a capture.
    pub connections: Vec<crate::signalr::connections::Connection>,
    /// The input file's mapping (unmapped when the last clone is dropped;
    /// see [`input::Mapping`]).
    pub mapping: Option<Arc<input::Mapping>>,
    /// What a capture is made of, for the capture doctor.
    pub capture: Option<CaptureFacts>,
    /// What the rules kept during the scan: the keyed sequence rules'
    /// hits are read again by the run across inputs; the rest (kept only
    /// when there is one input) is freed with the result. (Freed on a worker as soon as the forms had
    /// run, its hundreds of thousands of blocks left the allocator's free
    /// lists fragmented just when the drops' ranking allocated: all rules
    /// on 1 GiB of ILogger text spent ~10 ms more on the ranking and ~8 ms
    /// more on the JSON, which the worker's freeing slowed.)
    pub kept: Option<Kept>,
    /// How this input's clock lines up with the others (set by
    /// [`analyze`]; `None`: its times are compared as given).
    pub aligned: Option<crate::correlate::clocks::Clock>,
}

/// What a capture (HAR, SAZ) holds, beyond its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureFacts {
    /// The program that wrote it (`log.creator.name`, the SAZ comment).
    pub creator: Option<String>,
    /// Requests captured.
    pub exchanges: u64,
    /// Of those, HTTPS `CONNECT` tunnels (nothing inside them is visible).
    pub tunnels: u64,
}

/// Analyzes every input, in parallel, returning results in input order.
/// A directory argument of which nothing could be read gets a result of
/// its own with that error, after the others.
pub fn analyze(specs: &[InputSpec], opts: &AnalyzeOptions) -> Vec<InputResult> {
    let paths: Vec<&str> = specs.iter().map(|s| s.path.as_str()).collect();
    let mut results: Vec<InputResult> = specs
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let mut mine = opts.clone();
            mine.scan.clock = opts.clocks.for_input(&s.path, &paths);
            mine.input = i;
            mine.several_inputs = specs.len() > 1;
            analyze_one(s, &mine)
        })
        .collect();
    // The clocks are lined up once, here: the joint sequence run, the
    // drops and the report all use them.
    let clocks = crate::correlate::clocks::align(&results, &opts.clocks.offsets_of(&paths));
    for (r, c) in results.iter_mut().zip(clocks) {
        r.aligned = c;
    }
    if let Some(engine) = &opts.engine {
        across(engine, &mut results);
    }
    let mut dirs: Vec<&str> = specs.iter().filter_map(|s| s.found_in.as_deref()).collect();
    dirs.dedup();
    for dir in dirs {
        let found: Vec<&InputResult> = specs
            .iter()
            .zip(&results)
            .filter(|(s, _)| s.found_in.as_deref() == Some(dir))
            .map(|(_, r)| r)
            .collect();
        let read = found
            .iter()
            .any(|r| r.format.is_some() || r.error.is_some());
        if !read && found.iter().any(|r| r.skipped.is_some()) {
            let skipped = found.iter().filter(|r| r.skipped.is_some()).count();
            results.push(InputResult {
                path: dir.to_string(),
                error: Some(format!(
                    "nothing readable in this directory ({skipped} of {} files skipped as binary)",
                    found.len()
                )),
                ..InputResult::default()
            });
        }
    }
    results
}

/// Analyzes one input.
pub fn analyze_one(spec: &InputSpec, opts: &AnalyzeOptions) -> InputResult {
    let mut result = InputResult {
        path: spec.path.clone(),
        clock: opts.scan.clock,
        ..InputResult::default()
    };
    let outcome = input::with_content(&spec.origin, |content| match content {
        Content::Bytes(bytes) => analyze_bytes(bytes, spec, opts, &mut result),
        Content::Stream(reader) => analyze_stream(reader, spec, opts, &mut result),
    });
    match outcome {
        Ok(((), mapping)) => result.mapping = mapping.map(Arc::new),
        Err(why) => result.error = Some(why),
    }
    result
}

/// Checks the head of an input and picks its format; `None` when the
/// input is not to be parsed (empty, binary, unrecognised) and `result`
/// says why.
fn prepare(
    head: &[u8],
    spec: &InputSpec,
    opts: &AnalyzeOptions,
    result: &mut InputResult,
) -> Option<Format> {
    if head.is_empty() {
        return None;
    }
    let zip = head.starts_with(&crate::parse::saz::ZIP_MAGIC);
    if let (None, false, Some(why)) = (opts.format, zip, encoding::binary_reason(head)) {
        if spec.named {
            result.error = Some(format!("{why} (use --format to read it anyway)"));
        } else {
            result.skipped = Some(why);
        }
        return None;
    }
    let detection = match opts.format {
        Some(f) => detect::Detection {
            format: f,
            reason: "forced with --format".to_string(),
        },
        None => match detect::detect(head) {
            Ok(d) => d,
            Err(why) => {
                result.error = Some(format!("format not recognised: {why}"));
                return None;
            }
        },
    };
    result.format = Some(detection.format);
    result.reason = Some(detection.reason);
    Some(detection.format)
}

fn analyze_bytes(bytes: &[u8], spec: &InputSpec, opts: &AnalyzeOptions, result: &mut InputResult) {
    let enc = encoding::sniff(bytes);
    result.encoding = Some(enc);
    let text: Cow<[u8]> = match enc {
        Encoding::Utf16Le { .. } | Encoding::Utf16Be => Cow::Owned(encoding::utf16_to_utf8(
            &bytes[enc.bom_len()..],
            enc == Encoding::Utf16Be,
        )),
        _ => Cow::Borrowed(&bytes[enc.bom_len()..]),
    };
    result.bytes = text.len() as u64;
    let Some(format) = prepare(
        &text[..text.len().min(detect::SAMPLE_BYTES)],
        spec,
        opts,
        result,
    ) else {
        return;
    };
    let engine = engine_of(opts);
    let collector = collectors(&engine, opts, format);
    match format.parser() {
        Some(parser) => {
            let Scanned { diag, acc } = scan::scan_bytes(&text, parser, &opts.scan, &collector);
            result.diag = diag;
            finish(result, acc, &engine, opts, format);
        }
        None => analyze_capture(&text, &engine, &collector, opts, format, result),
    }
}

/// A capture (a HAR's JSON document, a SAZ archive) is parsed whole, then
/// its events go through the same collectors as a log's records.
fn analyze_capture(
    bytes: &[u8],
    engine: &Engine,
    collector: &(Summary, RuleCollector<'_>),
    opts: &AnalyzeOptions,
    format: Format,
    result: &mut InputResult,
) {
    let text;
    let parsed = if format == Format::Saz {
        crate::parse::saz::parse(bytes)
    } else {
        // Validated as log chunks are (simdutf8); only invalid text is copied.
        text = match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                result.diag.invalid_utf8.add(1);
                String::from_utf8_lossy(bytes)
            }
        };
        crate::parse::har::parse(&text)
    };
    match parsed {
        Ok(parsed) => {
            let acc = collect_capture(&parsed.events, collector);
            result.capture = Some(CaptureFacts {
                creator: parsed.creator.clone(),
                exchanges: parsed.exchanges.len() as u64,
                tunnels: parsed.tunnels,
            });
            result.connections =
                crate::signalr::connections::rebuild(opts.input, &parsed.exchanges);
            let invalid = result.diag.invalid_utf8;
            result.diag = parsed.diag;
            result.diag.invalid_utf8 = invalid;
            finish(result, acc, engine, opts, format);
        }
        Err(why) => result.error = Some(why),
    }
}

/// Runs `collector` over a capture's events, in their order.
pub fn collect_capture<C: scan::Collector>(
    events: &[crate::event::Event<'_>],
    collector: &C,
) -> C::Acc {
    let mut acc = collector.start();
    for e in events {
        collector.event(&mut acc, e);
    }
    acc
}

fn analyze_stream(
    reader: &mut dyn Read,
    spec: &InputSpec,
    opts: &AnalyzeOptions,
    result: &mut InputResult,
) {
    let mut head = Vec::new();
    // Enough bytes to see a BOM, then the detection sample after it.
    if let Err(e) = read_up_to(reader, &mut head, 4) {
        result.error = Some(format!("cannot read: {}", input::io_reason(&e)));
        return;
    }
    let enc = encoding::sniff(&head);
    result.encoding = Some(enc);
    head.drain(..enc.bom_len());
    let mut converted;
    let reader: &mut dyn Read = if enc.is_utf16() {
        converted = Utf16Reader::new(
            std::io::Cursor::new(std::mem::take(&mut head)).chain(reader),
            enc == Encoding::Utf16Be,
        );
        &mut converted
    } else {
        reader
    };
    if let Err(e) = read_up_to(reader, &mut head, detect::SAMPLE_BYTES) {
        result.error = Some(format!("cannot read: {}", input::io_reason(&e)));
    }
    let Some(format) = prepare(&head, spec, opts, result) else {
        result.bytes = head.len() as u64;
        return;
    };
    let mut counted = CountingReader {
        inner: reader,
        count: head.len() as u64,
    };
    let engine = engine_of(opts);
    let collector = collectors(&engine, opts, format);
    let Some(parser) = format.parser() else {
        // A capture is read whole, however it arrives.
        if let Err(e) = counted.read_to_end(&mut head) {
            result.error = Some(format!("cannot read: {}", input::io_reason(&e)));
            return;
        }
        result.bytes = counted.count;
        return analyze_capture(&head, &engine, &collector, opts, format, result);
    };
    let (scanned, error) = scan::scan_stream(head, &mut counted, parser, &opts.scan, &collector);
    result.bytes = counted.count;
    result.diag = scanned.diag;
    finish(result, scanned.acc, &engine, opts, format);
    if let Some(e) = error {
        result.error = Some(format!(
            "read failed after {} bytes: {}; the report covers what was read before",
            counted.count,
            input::io_reason(&e)
        ));
    }
}

/// The rules to run, or none.
fn engine_of(opts: &AnalyzeOptions) -> Arc<Engine> {
    opts.engine
        .clone()
        .unwrap_or_else(|| Arc::new(Engine::new(RuleSet::default(), 0)))
}

/// The per-input collectors: the summary and the rules.
fn collectors<'e>(
    engine: &'e Engine,
    opts: &AnalyzeOptions,
    format: Format,
) -> (Summary, RuleCollector<'e>) {
    (
        Summary {
            anchors: opts.several_inputs,
        },
        RuleCollector::new(engine, opts.input, format),
    )
}

/// Keeps the summary and runs the rules' correlation forms over what the
/// scan kept.
fn finish(
    result: &mut InputResult,
    acc: (InputSummary, Kept),
    engine: &Engine,
    opts: &AnalyzeOptions,
    format: Format,
) {
    let (summary, mut kept) = acc;
    if !engine.is_empty() {
        result.rules = forms::correlate(engine, opts.input, format.name(), &mut kept, summary.last);
    }
    if opts.several_inputs {
        // Only the keyed sequence rules' hits are read again (by the run
        // across inputs): the rest goes now, or the hits of every input
        // would stay until the end (four 256 MB inputs: 1189 instead of
        // 1133 MB at the peak).
        for (p, h) in kept.preds.iter_mut().enumerate() {
            if !engine.joins_across(engine.preds[p].rule) {
                *h = Default::default();
            }
        }
    }
    result.kept = Some(kept);
    result.summary = summary;
}

/// Runs the keyed sequence rules again over all timed inputs at once, on
/// the aligned clock, so that a sequence's steps may come from different
/// inputs. The rule's per-input outcomes are replaced by the occurrences
/// of the joint run, each counted in the input of its last step. Nothing
/// changes when at most one input holds the rule's hits.
fn across(engine: &Engine, results: &mut [InputResult]) {
    for rule in (0..engine.len()).filter(|&r| engine.joins_across(r)) {
        let parts: Vec<(usize, &'static str, &Kept, i128)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let kept = r.kept.as_ref().filter(|_| r.summary.timed > 0)?;
                let has_hits = engine
                    .preds
                    .iter()
                    .enumerate()
                    .any(|(p, pred)| pred.rule == rule && !kept.preds[p].hits.is_empty());
                let offset = r.aligned.as_ref().map_or(0, |c| c.offset_nanos);
                has_hits.then(|| (i, r.format.map_or("", Format::name), kept, offset))
            })
            .collect();
        if parts.len() < 2 {
            continue;
        }
        let inputs: Vec<usize> = parts.iter().map(|p| p.0).collect();
        // The latest time of them all, on the aligned clock.
        let end = parts
            .iter()
            .filter_map(|(i, _, _, offset)| results[*i].summary.last?.shifted(*offset))
            .max_by_key(|t| t.sort_key());
        let occurrences = forms::correlate_across(engine, rule, &parts, end);
        for i in inputs {
            let Some(outcome) = results[i].rules.get_mut(rule) else {
                continue;
            };
            let mine: Vec<forms::Occurrence> = occurrences
                .iter()
                .filter(|o| o.input == i)
                .cloned()
                .collect();
            outcome.count = mine.len() as u64;
            outcome.first = mine.iter().filter_map(|o| o.time).min();
            outcome.last = mine.iter().filter_map(|o| o.time).max();
            outcome.occurrences = mine;
            outcome.occurrences.truncate(engine.max_occurrences);
        }
    }
}

/// Reads until `buf` holds `want` bytes or the input ends.
fn read_up_to(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<()> {
    let have = buf.len();
    if have >= want {
        return Ok(());
    }
    (&mut *reader)
        .take((want - have) as u64)
        .read_to_end(buf)
        .map(|_| ())
}

/// Counts the bytes a stream delivers.
struct CountingReader<'a> {
    inner: &'a mut dyn Read,
    count: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_settings_match_paths_and_file_names() {
        let mut c = ClockSettings::default();
        c.add_zone("+02:00").unwrap();
        c.add_zone("logs/app.log=Europe/Berlin").unwrap();
        c.add_date("client.txt=2024-03-02").unwrap();
        let paths = ["logs/app.log", "other/client.txt", "x.zip:LogFiles/app.log"];
        assert!(c.check(&paths).is_ok());
        let app = c.for_input("logs/app.log", &paths);
        assert_eq!(app.zone.unwrap().to_string(), "Europe/Berlin");
        assert_eq!(app.date, None);
        let client = c.for_input("other/client.txt", &paths);
        assert_eq!(client.zone, Some(Zone::Fixed(7200)));
        assert_eq!(client.date, NaiveDate::from_ymd_opt(2024, 3, 2));
        let mut bad = ClockSettings::default();
        bad.add_zone("app.log=UTC").unwrap();
        assert!(bad.check(&paths).unwrap_err().contains("2 inputs"));
        bad.zones[0].0 = Some("nope.log".into());
        assert!(bad.check(&paths).unwrap_err().contains("names no input"));
        assert!(c.add_date("2024-13-01").is_err());
        assert!(c.add_zone("Nowhere/Land").is_err());
    }
}
