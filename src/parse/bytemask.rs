//! Bit masks of the bytes of a 64-byte block that equal a byte (bit i for
//! byte i), and whether any falls below one. The scanners built on them
//! (line ends, JSON strings) look at 64 bytes per step and then jump from
//! set bit to set bit, where a call to `memchr` per item paid its setup
//! every time. Also a text's first bytes as one word, for compares that
//! would otherwise call `memcmp`.

/// The first 8 bytes of `b` as a little-endian word (zeros past its end):
/// one load when `b` has them (a copy of a length known only at run time
/// is a call to `memcpy`).
#[inline]
pub(crate) fn first_word(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(w) => u64::from_le_bytes(*w),
        None => {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_le_bytes(w)
        }
    }
}

/// The first (up to) 8 bytes of `b` as a word, with the mask of the bytes
/// it has: a text starts with `b`'s first 8 bytes when its
/// [`first_word`] and the mask give the word.
pub(crate) fn masked_word(b: &[u8]) -> (u64, u64) {
    let n = b.len().min(8);
    let mask = if n == 8 { u64::MAX } else { (1 << (8 * n)) - 1 };
    (first_word(b) & mask, mask)
}

/// A block: 64 bytes of the input, or its last bytes padded.
pub(crate) type Block = [u8; 64];

/// Calls `f` with the block of `bytes` at `base` (borrowed, or for the
/// last bytes a copy with the missing tail filled with `pad`).
#[inline]
pub(crate) fn with_block<R>(bytes: &[u8], base: usize, pad: u8, f: impl FnOnce(&Block) -> R) -> R {
    match bytes.get(base..base + 64) {
        Some(b) => f(b.try_into().expect("64 bytes")),
        None => {
            let mut block = [pad; 64];
            let rest = bytes.get(base..).unwrap_or_default();
            block[..rest.len()].copy_from_slice(rest);
            f(&block)
        }
    }
}

/// Bits of the bytes equal to `byte`.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn eq(block: &Block, byte: u8) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let p = block.as_ptr().cast::<__m128i>();
    // SAFETY: SSE2 is part of every x86_64 target, and lane i reads bytes
    // 16i..16i+16 of the 64-byte block.
    unsafe {
        let want = _mm_set1_epi8(byte as i8);
        let lane = |i: usize| _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(i)), want));
        join(lane(0), lane(1), lane(2), lane(3))
    }
}

/// Bits of the bytes equal to `a` or `b`, and whether any byte is below
/// `limit` (at least 1): what a JSON reader needs of a block, in one pass
/// over its lanes.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn either_and_any_below(block: &Block, a: u8, b: u8, limit: u8) -> (u64, bool) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8, _mm_setzero_si128,
    };
    let p = block.as_ptr().cast::<__m128i>();
    // SAFETY: as in `eq`.
    unsafe {
        let (va, vb) = (_mm_set1_epi8(a as i8), _mm_set1_epi8(b as i8));
        let top = _mm_set1_epi8(limit.wrapping_sub(1) as i8);
        let mut low = _mm_setzero_si128();
        let mut lane = |i: usize| {
            let v = _mm_loadu_si128(p.add(i));
            low = _mm_or_si128(low, _mm_cmpeq_epi8(_mm_max_epu8(v, top), top));
            _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)))
        };
        let mask = join(lane(0), lane(1), lane(2), lane(3));
        (mask, _mm_movemask_epi8(low) != 0)
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn either_and_any_below(block: &Block, a: u8, b: u8, limit: u8) -> (u64, bool) {
    (
        eq(block, a) | eq(block, b),
        block.iter().any(|&c| c < limit),
    )
}

/// How many leading bytes of `bytes` are plain text: ASCII and not NUL
/// (1..=0x7F). The answer is a multiple of 256 or the whole length, so it
/// may stop short of the first other byte by up to 255 bytes.
///
/// A chunk of a log used to be read twice before parsing: once to validate
/// its UTF-8 and once to look for NUL bytes. Log text is nearly always
/// plain ASCII, which one pass over it shows; only the rest (from the
/// first 256-byte block that is not plain) needs the two full checks.
#[cfg(target_arch = "x86_64")]
pub(crate) fn plain_prefix(bytes: &[u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpgt_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_setzero_si128,
    };
    const STEP: usize = 256;
    let mut at = 0;
    while at + STEP <= bytes.len() {
        let p = bytes[at..at + STEP].as_ptr().cast::<__m128i>();
        // SAFETY: SSE2 is part of every x86_64 target, and lane i reads
        // bytes 16i..16i+16 of the STEP bytes at `at`, which exist.
        let all = unsafe {
            let zero = _mm_setzero_si128();
            // Signed: a byte above zero is one of 1..=0x7F.
            let mut ok = _mm_cmpgt_epi8(_mm_loadu_si128(p), zero);
            for i in 1..STEP / 16 {
                ok = _mm_and_si128(ok, _mm_cmpgt_epi8(_mm_loadu_si128(p.add(i)), zero));
            }
            _mm_movemask_epi8(ok) == 0xFFFF
        };
        if !all {
            return at;
        }
        at += STEP;
    }
    if bytes[at..].iter().all(|&b| (1..0x80).contains(&b)) {
        bytes.len()
    } else {
        at
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn plain_prefix(bytes: &[u8]) -> usize {
    match bytes.iter().position(|&b| !(1..0x80).contains(&b)) {
        Some(i) => i / 256 * 256,
        None => bytes.len(),
    }
}

/// Four 16-bit lane masks as one.
#[cfg(target_arch = "x86_64")]
#[inline]
fn join(a: i32, b: i32, c: i32, d: i32) -> u64 {
    let l = |m: i32, i: u32| u64::from(m as u16) << (16 * i);
    l(a, 0) | l(b, 1) | l(c, 2) | l(d, 3)
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn eq(block: &Block, byte: u8) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |m, (i, &c)| m | u64::from(c == byte) << i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_a_byte_by_byte_check() {
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255).collect();
        for base in (0..bytes.len()).step_by(37) {
            let block = with_block(&bytes, base, b' ', |b| *b);
            for byte in [0u8, b'\n', b'"', b'\\', 0x7f, 0x80, 0xff] {
                let want = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (i, &c)| m | u64::from(c == byte) << i);
                assert_eq!(eq(&block, byte), want, "eq {byte} at {base}");
            }
            for limit in [1u8, 0x20, 0x80, 0xff] {
                let want = block
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (i, &c)| m | u64::from(c < limit) << i);
                assert_eq!(
                    either_and_any_below(&block, b'"', 0x80, limit),
                    (eq(&block, b'"') | eq(&block, 0x80), want != 0)
                );
            }
        }
        assert_eq!(&with_block(b"ab", 0, b'x', |b| *b)[..4], b"abxx");
    }

    #[test]
    fn plain_prefix_stops_at_the_block_of_the_first_other_byte() {
        for len in [0usize, 1, 255, 256, 257, 511, 512, 1000, 1300] {
            let text = vec![b'a'; len];
            assert_eq!(plain_prefix(&text), len, "all plain, {len}");
            for at in [0, 1, 200, 255, 256, 300, 511, 512, 999, 1299] {
                if at >= len {
                    continue;
                }
                for other in std::iter::once(0u8).chain(0x80..=0xFF) {
                    let mut t = text.clone();
                    t[at] = other;
                    let got = plain_prefix(&t);
                    assert_eq!(got, at / 256 * 256, "{other:#x} at {at} of {len}");
                    assert!(t[..got].iter().all(|&b| (1..0x80).contains(&b)));
                }
            }
        }
    }
}
