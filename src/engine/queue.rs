//! The queue of open cases: a monotone priority queue of `(timestamp, slot)` pairs (a radix
//! heap), popped smallest timestamp first, ties smallest slot first.
//!
//! Why not `BinaryHeap`: its pop costs log2(n) unpredictable compares, which made 1,000 open
//! cases ~40% slower than 5. The engine never schedules an event before the one it just
//! emitted, so the timestamps popped never decrease, and a radix heap can use that: an entry
//! waits in the bucket of the highest bit in which its timestamp differs from the last one
//! popped, and moves only when its bucket becomes the lowest non-empty one, to a lower bucket:
//! a few cheap moves per entry, whatever the number of open cases.
//!
//! The order must stay exactly (timestamp, slot), as the `BinaryHeap` of packed pairs had it,
//! for byte-identical output. Keying the radix heap on the packed pair would not be monotone:
//! a case opened now reuses the most recently freed slot, which can be smaller than the slot
//! just popped at the same timestamp. So the buckets are keyed by timestamp alone, and the
//! entries due at the current timestamp wait in a small min-heap of slots.
//!
//! Why not a crate: `radix-heap` (0.4.2, the one on crates.io) is a max-heap that pops equal
//! keys last in, first out, and keeps its buckets in `Vec`s that may grow at any pop, while
//! the engine promises no allocation per event. Here each open case is queued at most once
//! under its slot, so the buckets are lists threaded through one per-slot array, which grows
//! only when a new slot appears.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The end of a bucket's list.
const NIL: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    /// The next slot in the same bucket.
    next: u32,
}

/// Open cases by the timestamp of their next event. Each slot is queued at most once at a
/// time, and no timestamp pushed may be below the last one popped.
#[derive(Debug)]
pub struct CaseQueue {
    /// The key of the last pop (0 before the first): every queued key is at least this.
    last: u64,
    /// Slots due at `last`, smallest first. Its capacity is kept at the number of slots so
    /// that it never grows on the hot path.
    now: BinaryHeap<Reverse<u32>>,
    /// Bucket `b` lists the slots whose key is above `last` and first differs from it at
    /// bit `b`; `mins[b]` is its smallest key, `u64::MAX` when empty.
    heads: [u32; 64],
    mins: [u64; 64],
    /// Bit `b` set when bucket `b` is not empty: the lowest one is found in one instruction.
    nonempty: u64,
    /// By slot: the key and the bucket link of a queued slot.
    entries: Vec<Entry>,
    len: usize,
}

/// Timestamps as unsigned keys in the same order (the sign bit flipped).
#[inline]
fn key(timestamp_ms: i64) -> u64 {
    timestamp_ms as u64 ^ (1 << 63)
}

#[inline]
fn timestamp(key: u64) -> i64 {
    (key ^ (1 << 63)) as i64
}

impl CaseQueue {
    /// An empty queue with room for slots `0..capacity`.
    pub fn with_capacity(capacity: usize) -> CaseQueue {
        CaseQueue {
            last: 0,
            now: BinaryHeap::with_capacity(capacity),
            heads: [NIL; 64],
            mins: [u64::MAX; 64],
            nonempty: 0,
            entries: Vec::with_capacity(capacity),
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues `slot` (not queued now) at `timestamp_ms`, which must not be below the last
    /// timestamp popped.
    #[inline]
    pub fn push(&mut self, timestamp_ms: i64, slot: u32) {
        let key = key(timestamp_ms);
        debug_assert!(key >= self.last, "timestamp below the last one popped");
        if slot as usize >= self.entries.len() {
            self.grow(slot);
        }
        self.len += 1;
        if key == self.last {
            self.now.push(Reverse(slot));
        } else {
            self.link(key, slot);
        }
    }

    /// The smallest timestamp queued and, among its slots, the smallest; `None` when empty.
    #[inline]
    pub fn pop(&mut self) -> Option<(i64, u32)> {
        let slot = match self.now.pop() {
            Some(Reverse(slot)) => slot,
            None => self.advance()?,
        };
        self.len -= 1;
        Some((timestamp(self.last), slot))
    }

    /// Moves `last` to the smallest key queued, the smallest key of the lowest non-empty
    /// bucket, and spreads that bucket over the lower ones (relative to the new `last`, its
    /// other keys differ below its bit). Returns the smallest slot due then; the other slots
    /// due then go to `now`, which is empty when this is called.
    #[inline]
    fn advance(&mut self) -> Option<u32> {
        if self.nonempty == 0 {
            return None;
        }
        let b = self.nonempty.trailing_zeros() as usize;
        let min = self.mins[b];
        let mut slot = self.heads[b];
        self.heads[b] = NIL;
        self.mins[b] = u64::MAX;
        self.nonempty &= !(1 << b);
        self.last = min;
        // The smallest slot due at `min` skips `now`: usually it is the only one.
        let mut best = NIL;
        while slot != NIL {
            let Entry { key, next } = self.entries[slot as usize];
            if key != min {
                self.link(key, slot);
            } else if slot < best {
                if best != NIL {
                    self.now.push(Reverse(best));
                }
                best = slot;
            } else {
                self.now.push(Reverse(slot));
            }
            slot = next;
        }
        Some(best)
    }

    /// Puts `slot` at `key` (above `last`) into its bucket.
    #[inline]
    fn link(&mut self, key: u64, slot: u32) {
        let b = 63 - (key ^ self.last).leading_zeros() as usize;
        self.entries[slot as usize] = Entry {
            key,
            next: self.heads[b],
        };
        self.heads[b] = slot;
        self.mins[b] = self.mins[b].min(key);
        self.nonempty |= 1 << b;
    }

    /// Makes room for `slot`: only when a new slot appears, never in steady state.
    #[cold]
    fn grow(&mut self, slot: u32) {
        assert!(slot != NIL, "slot {slot} is reserved");
        self.entries
            .resize(slot as usize + 1, Entry { key: 0, next: NIL });
        // `now` never holds more slots than there are.
        self.now.reserve(self.entries.len() - self.now.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keys_order_like_their_timestamps() {
        let times = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(key(pair[0]) < key(pair[1]));
            assert_eq!(timestamp(key(pair[0])), pair[0]);
        }
    }

    #[test]
    fn ties_pop_by_slot_even_when_a_smaller_slot_comes_later() {
        let mut q = CaseQueue::with_capacity(0);
        q.push(10, 5);
        q.push(10, 3);
        q.push(12, 0);
        assert_eq!(q.pop(), Some((10, 3)));
        // A slot smaller than the one just popped, at the same timestamp.
        q.push(10, 1);
        q.push(10, 4);
        assert_eq!(q.pop(), Some((10, 1)));
        assert_eq!(q.pop(), Some((10, 4)));
        assert_eq!(q.pop(), Some((10, 5)));
        assert_eq!(q.pop(), Some((12, 0)));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn extreme_timestamps() {
        let mut q = CaseQueue::with_capacity(4);
        q.push(i64::MAX, 0);
        q.push(-1, 1);
        q.push(i64::MIN, 2);
        q.push(0, 3);
        assert_eq!(q.pop(), Some((i64::MIN, 2)));
        assert_eq!(q.pop(), Some((-1, 1)));
        assert_eq!(q.pop(), Some((0, 3)));
        assert_eq!(q.pop(), Some((i64::MAX, 0)));
        assert_eq!(q.pop(), None);
    }

    /// One step of a workload shaped like the engine's: pop the earliest case, then either
    /// requeue it `delay` later or free its slot; open cases at the last popped timestamp
    /// plus a delay, reusing freed slots last in, first out.
    #[derive(Clone, Debug)]
    enum Op {
        Pop { requeue: Option<i64> },
        Open { delay: i64 },
    }

    fn op(max_delay: i64) -> impl Strategy<Value = Op> {
        // Zero often (equal timestamps), mostly within `max_delay`, now and then far ahead.
        let delay = prop_oneof![3 => Just(0i64), 5 => 0..=max_delay, 1 => 0..=i64::MAX / 4];
        prop_oneof![
            3 => proptest::option::weighted(0.8, delay.clone()).prop_map(|requeue| Op::Pop { requeue }),
            2 => delay.prop_map(|delay| Op::Open { delay }),
        ]
    }

    fn workload() -> impl Strategy<Value = Vec<Op>> {
        prop_oneof![Just(1i64), Just(3), Just(1000), Just(1 << 40)]
            .prop_flat_map(|max_delay| proptest::collection::vec(op(max_delay), 0..600))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn pops_like_a_binary_heap_of_packed_pairs(
            start in prop_oneof![Just(0i64), any::<i64>().prop_map(|t| t / 2), Just(i64::MIN)],
            ops in workload(),
        ) {
            let mut q = CaseQueue::with_capacity(2);
            let mut model: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
            let mut free: Vec<u32> = Vec::new();
            let mut slots = 0u32;
            let mut last = start;
            for op in ops {
                match op {
                    Op::Open { delay } => {
                        let slot = free.pop().unwrap_or_else(|| {
                            slots += 1;
                            slots - 1
                        });
                        let at = last.saturating_add(delay);
                        q.push(at, slot);
                        model.push(Reverse((at, slot)));
                    }
                    Op::Pop { requeue } => {
                        let got = q.pop();
                        let want = model.pop().map(|Reverse(pair)| pair);
                        prop_assert_eq!(got, want);
                        let Some((at, slot)) = got else { continue };
                        prop_assert!(at >= last);
                        last = at;
                        match requeue {
                            Some(delay) => {
                                let at = at.saturating_add(delay);
                                q.push(at, slot);
                                model.push(Reverse((at, slot)));
                            }
                            None => free.push(slot),
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
            while let Some(Reverse(pair)) = model.pop() {
                prop_assert_eq!(q.pop(), Some(pair));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
