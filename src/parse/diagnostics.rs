//! What a parse noticed about its input besides the events themselves.
//!
//! Nothing is dropped silently: every line that is not part of a record, every
//! invalid byte sequence and every oddity is counted here with the line where
//! it first appeared. Chunks are parsed with chunk-local line numbers and
//! merged in order with [`Diagnostics::append`], which shifts them.

/// How many unparsed lines are listed by number; the rest are only counted.
pub const SAMPLE_LIMIT: usize = 5;

/// Lines longer than this are reported: they usually mean a binary blob or a
/// whole JSON document logged on one line.
pub const LONG_LINE: usize = 1 << 20;

/// A count with the line where it first happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    /// How many times.
    pub count: u64,
    /// The first line, 1-based.
    pub first: Option<u64>,
}

impl Counted {
    /// Counts one more at `line`.
    pub fn add(&mut self, line: u64) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(line);
        }
    }

    fn append(&mut self, later: Counted, offset: u64) {
        self.count += later.count;
        if self.first.is_none() {
            self.first = later.first.map(|l| l + offset);
        }
    }
}

/// Per-input (or per-chunk) parse diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Records parsed into events.
    pub records: u64,
    /// Lines read.
    pub lines: u64,
    /// Lines that belong to no record or to a record that could not be parsed.
    pub unparsed_lines: u64,
    /// The first few unparsed lines: (line, why).
    pub unparsed_samples: Vec<(u64, &'static str)>,
    /// Lines with invalid UTF-8 (kept, with U+FFFD in place of the bad bytes).
    pub invalid_utf8: Counted,
    /// Lines containing NUL bytes.
    pub nul_lines: Counted,
    /// Lines longer than [`LONG_LINE`].
    pub long_lines: Counted,
    /// The longest line seen, in bytes.
    pub longest_line: u64,
    /// Records whose timestamp text could not be read as a time.
    pub bad_timestamps: Counted,
    /// A record cut off by the end of the input (line where it starts).
    pub truncated: Option<u64>,
    /// Records split because they exceeded the streaming record limit.
    pub oversized_records: Counted,
    /// Other things that could not be read, in words, with the line (the
    /// capture's number) they concern: an archive member refused or cut
    /// off, a damaged archive directory.
    pub problems: Vec<(Option<u64>, String)>,
}

impl Diagnostics {
    /// Counts `count` unparsed lines starting at `line`.
    pub fn unparsed(&mut self, line: u64, count: u64, why: &'static str) {
        self.unparsed_lines += count;
        if self.unparsed_samples.len() < SAMPLE_LIMIT {
            self.unparsed_samples.push((line, why));
        }
    }

    /// Appends the diagnostics of the input that follows, whose local line
    /// numbers start after `self.lines`.
    pub fn append(&mut self, later: Diagnostics) {
        let offset = self.lines;
        self.records += later.records;
        self.lines += later.lines;
        self.unparsed_lines += later.unparsed_lines;
        for (line, why) in later.unparsed_samples {
            if self.unparsed_samples.len() < SAMPLE_LIMIT {
                self.unparsed_samples.push((line + offset, why));
            }
        }
        self.invalid_utf8.append(later.invalid_utf8, offset);
        self.nul_lines.append(later.nul_lines, offset);
        self.long_lines.append(later.long_lines, offset);
        self.longest_line = self.longest_line.max(later.longest_line);
        self.bad_timestamps.append(later.bad_timestamps, offset);
        if let Some(t) = later.truncated {
            self.truncated = Some(t + offset);
        }
        self.oversized_records
            .append(later.oversized_records, offset);
        self.problems.extend(
            later
                .problems
                .into_iter()
                .map(|(line, why)| (line.map(|l| l + offset), why)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_shifts_line_numbers() {
        let mut a = Diagnostics {
            lines: 10,
            ..Default::default()
        };
        let mut b = Diagnostics {
            lines: 5,
            ..Default::default()
        };
        b.unparsed(2, 1, "x");
        b.invalid_utf8.add(3);
        a.append(b);
        assert_eq!(a.lines, 15);
        assert_eq!(a.unparsed_samples, vec![(12, "x")]);
        assert_eq!(a.invalid_utf8.first, Some(13));
    }
}
