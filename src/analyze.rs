//! The whole run over all inputs: open, sniff, detect, scan.
//!
//! Inputs are analyzed in parallel (and each input's chunks in parallel
//! inside that), and the results come back in the order the inputs were
//! given. An input that cannot be read becomes a result with an error; the
//! others are analyzed all the same.

use crate::input::encoding::{self, Encoding, Utf16Reader};
use crate::input::{self, Content, InputSpec, detect};
use crate::parse::{Diagnostics, Format};
use crate::scan::{self, ScanOptions, Scanned};
use crate::summary::{InputSummary, Summary};
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Read;

/// What the user asked for that changes how inputs are read.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// Read every input as this format instead of detecting it.
    pub format: Option<Format>,
    /// Chunking and streaming sizes.
    pub scan: ScanOptions,
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
}

/// Analyzes every input, in parallel, returning results in input order.
/// A directory argument of which nothing could be read gets a result of
/// its own with that error, after the others.
pub fn analyze(specs: &[InputSpec], opts: &AnalyzeOptions) -> Vec<InputResult> {
    let mut results: Vec<InputResult> = specs.par_iter().map(|s| analyze_one(s, opts)).collect();
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
        ..InputResult::default()
    };
    let outcome = input::with_content(&spec.origin, |content| match content {
        Content::Bytes(bytes) => analyze_bytes(bytes, spec, opts, &mut result),
        Content::Stream(reader) => analyze_stream(reader, spec, opts, &mut result),
    });
    if let Err(why) = outcome {
        result.error = Some(why);
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
    if let (None, Some(why)) = (opts.format, encoding::binary_reason(head)) {
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
    let Scanned { diag, acc } = scan::scan_bytes(&text, format.parser(), &opts.scan, &Summary);
    result.diag = diag;
    result.summary = acc;
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
    let (scanned, error) =
        scan::scan_stream(head, &mut counted, format.parser(), &opts.scan, &Summary);
    result.bytes = counted.count;
    result.diag = scanned.diag;
    result.summary = scanned.acc;
    if let Some(e) = error {
        result.error = Some(format!(
            "read failed after {} bytes: {}; the report covers what was read before",
            counted.count,
            input::io_reason(&e)
        ));
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
