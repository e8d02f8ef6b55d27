//! Recognising an input's format from its first bytes, never its name.
//!
//! Users rename files (`log.txt`, `output`, `asrs.log.txt.bak`), so the
//! content decides: each line-based format counts how many of the first lines
//! start one of its records, and the best count wins. The reason is reported
//! so a surprising choice can be understood and overridden with `--format`.

use crate::parse::{Format, strip_cr};

/// How much of an input detection looks at.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// How many lines of the sample are looked at.
const SAMPLE_LINES: usize = 2000;

/// A detected format and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The format.
    pub format: Format,
    /// Why, in words: shown in reports.
    pub reason: String,
}

/// Detects the format of text whose beginning is `sample`; `Err` says why
/// no format fits.
pub fn detect(sample: &[u8]) -> Result<Detection, String> {
    let sample = &sample[..sample.len().min(SAMPLE_BYTES)];
    if sample.starts_with(&crate::parse::saz::ZIP_MAGIC) {
        // Zip archives reach detection only when they hold Fiddler sessions
        // (see `input::expand`) or when their directory is damaged.
        return Ok(Detection {
            format: Format::Saz,
            reason: "a zip archive of Fiddler sessions (raw/N_c.txt)".to_string(),
        });
    }
    if let Some(d) = detect_har(sample) {
        return Ok(d);
    }
    if let Some(d) = detect_json(sample) {
        return Ok(d);
    }
    let candidates = [
        (
            Format::TraceListener,
            "trace listener headers (`Source Type: id : …`)",
        ),
        (
            Format::IloggerSimple,
            "console log headers (`info: Category[EventId]`)",
        ),
        (
            Format::IloggerSystemd,
            "systemd console lines (`<6>Category[EventId] …`)",
        ),
    ];
    let mut counts = [0usize; 3];
    let mut total = 0;
    for line in sample.split(|&b| b == b'\n').take(SAMPLE_LINES) {
        let line = strip_cr(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        total += 1;
        for (n, (format, _)) in candidates.iter().enumerate() {
            if format.parser().is_some_and(|p| p.is_record_start(line)) {
                counts[n] += 1;
            }
        }
    }
    let (best, &count) = counts
        .iter()
        .enumerate()
        .max_by_key(|&(n, c)| (*c, std::cmp::Reverse(n)))
        .expect("three candidates");
    if count == 0 {
        return text_fallback(sample, total);
    }
    let (format, what) = candidates[best];
    Ok(Detection {
        format,
        reason: format!("{count} of the first {total} lines are {what}"),
    })
}

/// The generic `text` reader, for any readable lines no specific format
/// fits; the reason names the logger the record starts look like.
fn text_fallback(sample: &[u8], total: usize) -> Result<Detection, String> {
    if total == 0 {
        return Err("no text lines".to_string());
    }
    let parser = Format::Text.parser().expect("text is a line format");
    let starts: Vec<&[u8]> = sample
        .split(|&b| b == b'\n')
        .take(SAMPLE_LINES)
        .map(strip_cr)
        .filter(|l| parser.is_record_start(l))
        .collect();
    let reason = match starts.first() {
        Some(first) => format!(
            "no specific format fits; {} of the first {total} lines start a record ({})",
            starts.len(),
            crate::parse::text_dialect(first)
        ),
        None => format!(
            "no specific format fits and no line starts with a timestamp or level; the {total} lines are read as one text record"
        ),
    };
    Ok(Detection {
        format: Format::Text,
        reason,
    })
}

/// An HTTP Archive: a JSON document whose first key is `log` (the only
/// top-level member HAR 1.1 and 1.2 define).
fn detect_har(sample: &[u8]) -> Option<Detection> {
    // HAR Viewer's JSONP form: `onInputData({"log": …});`.
    let body = crate::parse::har::jsonp_body_start(sample).unwrap_or(0);
    let rest = sample[body..].trim_ascii_start().strip_prefix(b"{")?;
    rest.trim_ascii_start()
        .starts_with(b"\"log\"")
        .then(|| Detection {
            format: Format::Har,
            reason: "a JSON document whose first key is `log` (HTTP Archive)".to_string(),
        })
}

/// JsonConsoleFormatter output: the first value is an object with ILogger keys.
fn detect_json(sample: &[u8]) -> Option<Detection> {
    let start = sample.iter().position(|b| !b.is_ascii_whitespace())?;
    if sample[start] != b'{' {
        return None;
    }
    let mut keys = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(&sample[start..])
        .into_iter::<serde_json::Map<String, serde_json::Value>>();
    if let Some(Ok(map)) = stream.next() {
        keys = map.keys().cloned().collect();
    } else {
        // The sample may end inside a huge first object: look at its keys.
        for key in ["\"LogLevel\"", "\"Category\"", "\"EventId\""] {
            if memchr::memmem::find(sample, key.as_bytes()).is_some() {
                keys.push(key.trim_matches('"').to_string());
            }
        }
    }
    let ilogger: Vec<&str> = ["LogLevel", "Category", "EventId"]
        .into_iter()
        .filter(|k| keys.iter().any(|have| have == k))
        .collect();
    (ilogger.len() >= 2).then(|| Detection {
        format: Format::IloggerJson,
        reason: format!(
            "JSON objects with {} (JsonConsoleFormatter)",
            ilogger
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(s: &str) -> Option<Format> {
        detect(s.as_bytes()).ok().map(|d| d.format)
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(
            format_of("info: A.B[1]\n      hi\n"),
            Some(Format::IloggerSimple)
        );
        assert_eq!(
            format_of("<6>A.B[1] hi\n<4>A.B[2] x\n"),
            Some(Format::IloggerSystemd)
        );
        assert_eq!(
            format_of("Microsoft.Azure.SignalR Information: 0 : [A]hi\r\n"),
            Some(Format::TraceListener)
        );
        assert_eq!(
            format_of("{\n  \"EventId\": 4,\n  \"LogLevel\": \"Information\",\n"),
            Some(Format::IloggerJson)
        );
        assert_eq!(format_of("{\"a\":1}\n"), Some(Format::Text));
        assert_eq!(
            format_of("{\r\n  \"log\": {\"version\": \"1.2\""),
            Some(Format::Har)
        );
        assert_eq!(format_of("onInputData({\n  \"log\":{\n"), Some(Format::Har));
        assert_eq!(format_of("hello\nworld\n"), Some(Format::Text));
        assert_eq!(format_of("[08:30:05 INF] x\n"), Some(Format::Text));
        assert_eq!(format_of(""), None);
    }
}
