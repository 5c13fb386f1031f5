//! The events in flight, by arrival: a radix heap on `(arrival, order)` keys.
//!
//! The stage only ever pushes a key above every key it has taken: an event leaves once the
//! watermark has passed its arrival, and every later event arrives at or after the watermark,
//! with a higher `eventId` (see [`super`]). That makes the keys monotone, and a radix heap can
//! use it: an entry waits in the bucket of the highest bit in which its key differs from the
//! last key taken, and moves to a lower bucket only when its own becomes the lowest non-empty
//! one, a few moves in its life instead of a `BinaryHeap`'s log2(n) sift steps at every pop
//! (which made the stage's heap the larger part of its cost at 1,000 open cases).
//!
//! The engine's case queue (`engine/queue.rs`) is a radix heap too, but keyed by timestamp
//! alone with its own tie rule; this one orders ties by the event's `eventId` and copy, as
//! the ground truth's replay does. The buckets are `Vec`s that keep their capacity, so once a
//! run has seen its largest backlog it allocates no more.

/// Bits of a key: the arrival (64) and the order (`eventId * 2 + copy`, 64).
const BUCKETS: usize = 129;

/// A key: the arrival time, made unsigned so that it orders as the signed time, above the
/// order.
#[inline]
pub(super) fn key(arrival_ms: i64, order: u64) -> u128 {
    (u128::from((arrival_ms as u64) ^ (1 << 63)) << 64) | u128::from(order)
}

/// The arrival time of a key.
#[inline]
pub(super) fn arrival_of(key: u128) -> i64 {
    (((key >> 64) as u64) ^ (1 << 63)) as i64
}

/// Slots by key, smallest key first. No key pushed may be below the last one popped.
pub(super) struct Arrivals {
    buckets: Vec<Vec<(u128, u32)>>,
    /// The last key popped (0 before the first).
    last: u128,
    len: usize,
    /// The smallest key queued, when known.
    min: Option<u128>,
}

impl Default for Arrivals {
    fn default() -> Arrivals {
        Arrivals {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            last: 0,
            len: 0,
            min: None,
        }
    }
}

impl Arrivals {
    #[inline]
    fn bucket(&self, key: u128) -> usize {
        BUCKETS - 1 - (key ^ self.last).leading_zeros() as usize
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.len
    }

    /// Queues `slot` under `key` (at least the last key popped).
    #[inline]
    pub(super) fn push(&mut self, key: u128, slot: u32) {
        debug_assert!(key >= self.last, "a key below the last one taken");
        let bucket = self.bucket(key);
        self.buckets[bucket].push((key, slot));
        self.min = match self.min {
            Some(min) => Some(min.min(key)),
            None if self.len == 0 => Some(key),
            None => None,
        };
        self.len += 1;
    }

    /// The smallest key queued.
    #[inline]
    pub(super) fn peek(&mut self) -> Option<u128> {
        if self.len == 0 {
            return None;
        }
        if self.min.is_none() {
            self.min = self
                .lowest()
                .and_then(|b| self.buckets[b].iter().map(|e| e.0).min());
        }
        self.min
    }

    /// Takes the entry with the smallest key.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<(u128, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let lowest = self.lowest()?;
            let mut entries = std::mem::take(&mut self.buckets[lowest]);
            self.last = match self.min {
                Some(min) => min,
                None => entries.iter().map(|e| e.0).min()?,
            };
            for &(key, slot) in &entries {
                let bucket = self.bucket(key);
                self.buckets[bucket].push((key, slot));
            }
            // Keep the bucket's allocation.
            entries.clear();
            self.buckets[lowest] = entries;
        }
        let entry = self.buckets[0].pop()?;
        self.len -= 1;
        self.min = (!self.buckets[0].is_empty()).then_some(self.last);
        Some(entry)
    }

    /// The lowest non-empty bucket.
    fn lowest(&self) -> Option<usize> {
        self.buckets.iter().position(|b| !b.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn keys_order_as_arrival_then_order() {
        let mut keys = [
            key(-5, 9),
            key(-5, 10),
            key(0, 1),
            key(3, 0),
            key(i64::MIN, 7),
            key(i64::MAX, 0),
        ];
        keys.sort_unstable();
        let back: Vec<i64> = keys.iter().map(|&k| arrival_of(k)).collect();
        assert_eq!(back, [i64::MIN, -5, -5, 0, 3, i64::MAX]);
    }

    #[test]
    fn pops_in_the_order_of_a_binary_heap_under_monotone_pushes_seed_5() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut radix = Arrivals::default();
        let mut heap = BinaryHeap::new();
        let mut floor = -1_000i64;
        let mut order = 0u64;
        for _ in 0..200_000 {
            if rng.random::<f64>() < 0.55 {
                order += 1;
                let k = key(floor + rng.random_range(0..5_000), order);
                radix.push(k, order as u32);
                heap.push(Reverse((k, order as u32)));
            } else {
                let peeked = radix.peek();
                assert_eq!(peeked, heap.peek().map(|Reverse(e)| e.0));
                let popped = radix.pop();
                assert_eq!(popped, heap.pop().map(|Reverse(e)| e));
                if let Some((k, _)) = popped {
                    floor = floor.max(arrival_of(k) + 1);
                }
            }
            assert_eq!(radix.len(), heap.len());
        }
        while let Some(Reverse(e)) = heap.pop() {
            assert_eq!(radix.pop(), Some(e));
        }
        assert_eq!(radix.pop(), None);
    }
}
