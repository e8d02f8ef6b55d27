//! Cutting input into chunks that hold whole records.
//!
//! A cut is only ever made before a line the format calls a record start, so
//! a multi-line record (an exception, a trace-listener footer, an indented
//! JSON object) is never split and every chunk parses on its own. Because the
//! record-start test looks at one line only, the records — and so the results
//! — are the same for every chunk size.

use std::ops::Range;

/// Cuts `bytes` into ranges of about `target` bytes, each starting at a
/// record start (except the first, which starts at 0).
pub fn cut(bytes: &[u8], target: usize, is_start: &dyn Fn(&[u8]) -> bool) -> Vec<Range<usize>> {
    let target = target.max(1);
    let mut out = Vec::with_capacity(bytes.len() / target + 1);
    let mut start = 0;
    while start < bytes.len() {
        match next_record_start(bytes, start + target, is_start) {
            Some(at) => {
                out.push(start..at);
                start = at;
            }
            None => {
                out.push(start..bytes.len());
                break;
            }
        }
    }
    out
}

/// The first record start at or after `from` (which need not be a line
/// start). Lines are only tested when complete, so a record start never
/// depends on bytes not yet read.
fn next_record_start(bytes: &[u8], from: usize, is_start: &dyn Fn(&[u8]) -> bool) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    let mut line = if bytes[from - 1] == b'\n' {
        from
    } else {
        from + memchr::memchr(b'\n', &bytes[from..])? + 1
    };
    loop {
        let end = line + memchr::memchr(b'\n', &bytes[line..])?;
        if is_start(crate::parse::strip_cr(&bytes[line..end])) {
            return Some(line);
        }
        line = end + 1;
    }
}

/// The last record start after position 0 whose line is complete: where a
/// streaming reader can cut a buffer and carry the rest over.
pub fn last_record_start(bytes: &[u8], is_start: &dyn Fn(&[u8]) -> bool) -> Option<usize> {
    let mut end = memchr::memrchr(b'\n', bytes)?;
    while let Some(nl) = memchr::memrchr(b'\n', &bytes[..end]) {
        let line = nl + 1;
        if is_start(crate::parse::strip_cr(&bytes[line..end])) {
            return Some(line);
        }
        end = nl;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts_with_x(l: &[u8]) -> bool {
        l.first() == Some(&b'x')
    }

    #[test]
    fn cuts_only_before_record_starts() {
        let text = b"x1\n c\n c\nx2\nx3\n c\n";
        for target in 1..text.len() + 2 {
            let ranges = cut(text, target, &starts_with_x);
            assert_eq!(ranges.first().unwrap().start, 0);
            assert_eq!(ranges.last().unwrap().end, text.len());
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(text[pair[1].start], b'x', "target {target}");
            }
        }
        assert_eq!(cut(text, 1, &starts_with_x), vec![0..9, 9..12, 12..18]);
    }

    #[test]
    fn last_start_ignores_incomplete_lines() {
        assert_eq!(
            last_record_start(b"x1\n c\nx2\n c\nx3", &starts_with_x),
            Some(6)
        );
        assert_eq!(last_record_start(b"x1\n c\n", &starts_with_x), None);
        assert_eq!(last_record_start(b"", &starts_with_x), None);
    }
}
