//! Byte-order marks, UTF-16 and binary data.
//!
//! Parsers work on UTF-8. A UTF-8 BOM is skipped; UTF-16 (what Windows
//! PowerShell 5.1's `>` writes) is converted once, up front — whole for a
//! mapped file, as it streams for stdin or an archive member. Data that is
//! mostly control bytes is not a log and is refused before parsing.

use std::io::{self, Read};

/// The encoding an input's first bytes declare or show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (or ASCII) without BOM.
    Utf8,
    /// UTF-8 with a byte-order mark (skipped).
    Utf8Bom,
    /// UTF-16 little endian; `bom` tells whether one is there to skip.
    Utf16Le {
        /// A BOM is present.
        bom: bool,
    },
    /// UTF-16 big endian, with BOM.
    Utf16Be,
}

impl Encoding {
    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8 (BOM)",
            Encoding::Utf16Le { .. } => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
        }
    }

    /// Bytes of BOM to skip.
    pub fn bom_len(self) -> usize {
        match self {
            Encoding::Utf8 | Encoding::Utf16Le { bom: false } => 0,
            Encoding::Utf8Bom => 3,
            Encoding::Utf16Le { bom: true } | Encoding::Utf16Be => 2,
        }
    }

    /// True for the UTF-16 encodings, which need converting.
    pub fn is_utf16(self) -> bool {
        matches!(self, Encoding::Utf16Le { .. } | Encoding::Utf16Be)
    }
}

/// Sniffs the encoding from the first bytes: a BOM, or ASCII text whose
/// every other byte is NUL (UTF-16LE written without a BOM).
pub fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0xEF, 0xBB, 0xBF, ..] => Encoding::Utf8Bom,
        [0xFF, 0xFE, ..] => Encoding::Utf16Le { bom: true },
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        _ if looks_utf16le(head) => Encoding::Utf16Le { bom: false },
        _ => Encoding::Utf8,
    }
}

fn looks_utf16le(head: &[u8]) -> bool {
    let pairs = head.len().min(1024) / 2;
    if pairs < 4 {
        return false;
    }
    let ascii = head
        .chunks_exact(2)
        .take(pairs)
        .filter(|p| p[1] == 0 && p[0] != 0)
        .count();
    ascii * 10 >= pairs * 9
}

/// Converts UTF-16 (without its BOM) to UTF-8; unpaired surrogates become
/// U+FFFD, a final odd byte is dropped.
pub fn utf16_to_utf8(bytes: &[u8], big_endian: bool) -> Vec<u8> {
    let units = bytes.chunks_exact(2).map(|p| {
        if big_endian {
            u16::from_be_bytes([p[0], p[1]])
        } else {
            u16::from_le_bytes([p[0], p[1]])
        }
    });
    let mut out = String::with_capacity(bytes.len() / 2 + bytes.len() / 8);
    out.extend(char::decode_utf16(units).map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER)));
    out.into_bytes()
}

/// Why `head` looks like binary data, or `None` for text: more than a tenth
/// of control bytes other than tab, line breaks, form feed and ESC.
pub fn binary_reason(head: &[u8]) -> Option<String> {
    let sample = &head[..head.len().min(8192)];
    if sample.is_empty() {
        return None;
    }
    let control = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)) || b == 0x7f)
        .count();
    (control * 10 > sample.len()).then(|| {
        format!(
            "binary data ({}% of the first {} bytes are control bytes); not a log file",
            control * 100 / sample.len(),
            sample.len()
        )
    })
}

/// Converts a UTF-16 stream to UTF-8 as it is read.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> Utf16Reader<R> {
    /// Wraps `inner`, which must be positioned after any BOM.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
        }
    }

    /// Converts what `raw` holds, keeping back an odd byte and a trailing
    /// high surrogate whose partner has not been read yet.
    fn convert(&mut self, at_end: bool) {
        let mut usable = self.raw.len() & !1;
        if !at_end && usable >= 2 {
            let p = &self.raw[usable - 2..usable];
            let last = if self.big_endian {
                u16::from_be_bytes([p[0], p[1]])
            } else {
                u16::from_le_bytes([p[0], p[1]])
            };
            if (0xD800..0xDC00).contains(&last) {
                usable -= 2;
            }
        }
        self.out = utf16_to_utf8(&self.raw[..usable], self.big_endian);
        self.pos = 0;
        self.raw.drain(..usable);
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            let mut block = [0u8; 1 << 15];
            let n = self.inner.read(&mut block)?;
            self.raw.extend_from_slice(&block[..n]);
            self.convert(n == 0);
            if n == 0 && self.out.is_empty() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    #[test]
    fn sniffs_boms_and_bomless_utf16() {
        assert_eq!(sniff(b"\xEF\xBB\xBFinfo"), Encoding::Utf8Bom);
        assert_eq!(sniff(b"\xFF\xFEi\0"), Encoding::Utf16Le { bom: true });
        assert_eq!(sniff(b"\xFE\xFF\0i"), Encoding::Utf16Be);
        assert_eq!(
            sniff(&utf16le("info: A[1]")),
            Encoding::Utf16Le { bom: false }
        );
        assert_eq!(sniff(b"info: A[1]"), Encoding::Utf8);
    }

    #[test]
    fn streaming_conversion_matches_whole_conversion() {
        let text = "info: A[1]\n      caf\u{e9} \u{1F600} end\n".repeat(3000);
        let bytes = utf16le(&text);
        assert_eq!(utf16_to_utf8(&bytes, false), text.as_bytes());
        let mut out = String::new();
        // A reader that returns 3 bytes at a time splits pairs and surrogates.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(3).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        Utf16Reader::new(Trickle(&bytes), false)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
    }

    #[test]
    fn binary_detection() {
        assert!(binary_reason(b"info: A[1]\n\tok\x1b[0m\r\n").is_none());
        assert!(binary_reason(&[0u8, 1, 2, 3, 0, 0, 7, 8]).is_some());
        let mostly_text = [
            b"info: A[1] hello world, a long line of text\n".as_slice(),
            b"\0",
        ]
        .concat();
        assert!(binary_reason(&mostly_text).is_none());
    }
}
