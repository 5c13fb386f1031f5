//! A map keyed by case number, for the formats that keep something per open case.
//!
//! Case numbers count up from 1, so hashing them takes one multiplication by an odd constant
//! (Fibonacci hashing): its low bits, which pick the bucket, are a permutation of the
//! number's low bits, so consecutive cases never collide, and its high bits, which the table
//! keeps as a tag, mix all of them. The standard SipHash would be slower for nothing: no one
//! chooses these keys.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes a `u64` case number.
#[derive(Clone, Copy, Default)]
pub struct CaseHasher(u64);

impl Hasher for CaseHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Something per open case. Removing a case leaves the table's capacity, so once it holds as
/// many cases as are ever open at once it stops allocating.
pub type CaseMap<V> = HashMap<u64, V, BuildHasherDefault<CaseHasher>>;
