//! The Fx hash (rustc's), for the hash maps and keys of the hot paths.
//!
//! Much faster than the standard library's SipHash on short keys such as
//! category names and connection ids, which come from the user's own log,
//! not from an attacker: the summary counts categories with it, and the
//! drops' ranking indexes the causes' ids by it.

use std::hash::Hasher;

/// The hasher.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl Hasher for FxHasher {
    /// Eight bytes at a time, the last ones padded with zeros.
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.add(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        if !words.remainder().is_empty() {
            self.add(crate::parse::bytemask::first_word(words.remainder()));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
