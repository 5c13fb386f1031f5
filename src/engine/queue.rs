//! The queue of open cases: `(timestamp, slot)` pairs, smallest timestamp first, ties smallest
//! slot first, exactly the order of the `BinaryHeap` of packed pairs the engine had, so that
//! output stays byte-identical.
//!
//! With many open cases a `BinaryHeap` costs log2(n) unpredictable compares per event, which
//! made 1,000 open cases ~40% slower than 5. The engine never schedules an event before the
//! one it just emitted, so the timestamps taken never decrease, and a radix heap can use that:
//! an entry waits in the bucket of the highest digit (6 bits) in which its timestamp differs
//! from the last one taken, and moves only when its bucket becomes the lowest non-empty one,
//! to a lower level: about one move per event at 1,000 cases, instead of ~10 sift levels. With a
//! handful of cases, though, the heap is two levels deep and cheaper than the radix heap's
//! bookkeeping (about 20% on the whole run at 5 cases), so below [`RADIX_FROM`] cases it stays.
//!
//! Keying the radix heap on the packed pair would not be monotone: a case opened now reuses
//! the most recently freed slot, which can be smaller than the slot just taken at the same
//! timestamp. So the buckets are keyed by timestamp alone, and the entries due at the current
//! timestamp wait in a small min-heap of slots.
//!
//! Why not a crate: `radix-heap` (0.4.2, the one on crates.io) is a max-heap that pops equal
//! keys last in, first out, scans its 65 buckets for the lowest non-empty one, and keeps them
//! in `Vec`s that may grow at any pop, while the engine promises no allocation per event.
//! Here each open case is queued at most once under its slot, so the buckets are lists
//! threaded through one per-slot array, which grows only when a new slot appears.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// From this many open cases on (`maxConcurrentCases`), the radix heap (measured: see
/// BENCHMARKS.md).
pub const RADIX_FROM: usize = 64;

/// Open cases by the timestamp of their next event. Each slot is queued at most once at a
/// time, and no timestamp pushed may be below the last one [`first`](Self::first) returned.
pub trait Queue {
    /// Slots queued.
    fn len(&self) -> usize;

    /// Queues `slot` (not queued now) at `timestamp_ms`.
    fn push(&mut self, timestamp_ms: i64, slot: u32);

    /// The smallest timestamp queued and, among its slots, the smallest; `None` when empty.
    /// It stays queued until [`requeue_first`](Self::requeue_first) or
    /// [`remove_first`](Self::remove_first).
    fn first(&mut self) -> Option<(i64, u32)>;

    /// Moves the first slot to `timestamp_ms`: a remove and a push in one (one sift for the
    /// heap). Only after [`first`](Self::first) returned `Some`.
    fn requeue_first(&mut self, timestamp_ms: i64);

    /// Removes the first slot. Only after [`first`](Self::first) returned `Some`.
    fn remove_first(&mut self);
}

/// The queue for a run: the engine matches on it once per event and runs code made for
/// each kind.
#[derive(Debug)]
pub enum CaseQueue {
    Heap(HeapQueue),
    // Boxed: its buckets take 16 KiB.
    Radix(Box<RadixQueue>),
}

impl CaseQueue {
    /// A queue for up to `max_open` cases at once.
    pub fn new(max_open: usize) -> CaseQueue {
        // Grown as cases open rather than all at once: a library caller may pass anything.
        let capacity = max_open.min(1 << 16);
        if max_open < RADIX_FROM {
            CaseQueue::Heap(HeapQueue(BinaryHeap::with_capacity(capacity)))
        } else {
            CaseQueue::Radix(Box::new(RadixQueue::with_capacity(capacity)))
        }
    }
}

/// For callers that do not mind a dispatch per call (the engine's hot path does).
impl Queue for CaseQueue {
    fn len(&self) -> usize {
        match self {
            CaseQueue::Heap(heap) => heap.len(),
            CaseQueue::Radix(radix) => radix.len(),
        }
    }

    fn push(&mut self, timestamp_ms: i64, slot: u32) {
        match self {
            CaseQueue::Heap(heap) => heap.push(timestamp_ms, slot),
            CaseQueue::Radix(radix) => radix.push(timestamp_ms, slot),
        }
    }

    fn first(&mut self) -> Option<(i64, u32)> {
        match self {
            CaseQueue::Heap(heap) => heap.first(),
            CaseQueue::Radix(radix) => radix.first(),
        }
    }

    fn requeue_first(&mut self, timestamp_ms: i64) {
        match self {
            CaseQueue::Heap(heap) => heap.requeue_first(timestamp_ms),
            CaseQueue::Radix(radix) => radix.requeue_first(timestamp_ms),
        }
    }

    fn remove_first(&mut self) {
        match self {
            CaseQueue::Heap(heap) => heap.remove_first(),
            CaseQueue::Radix(radix) => radix.remove_first(),
        }
    }
}

/// The engine's queue before the radix heap, for a few open cases.
#[derive(Debug)]
pub struct HeapQueue(BinaryHeap<Reverse<Due>>);

impl Queue for HeapQueue {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn push(&mut self, timestamp_ms: i64, slot: u32) {
        self.0.push(Reverse(Due::new(timestamp_ms, slot)));
    }

    #[inline]
    fn first(&mut self) -> Option<(i64, u32)> {
        self.0
            .peek()
            .map(|Reverse(due)| (due.timestamp_ms(), due.slot()))
    }

    #[inline]
    fn requeue_first(&mut self, timestamp_ms: i64) {
        let mut top = self.0.peek_mut().expect("a first slot");
        let slot = top.0.slot();
        *top = Reverse(Due::new(timestamp_ms, slot));
    }

    #[inline]
    fn remove_first(&mut self) {
        self.0.pop();
    }
}

/// A heap entry: ordered by time, ties broken by slot. Packed into one `u128` (the key above
/// the slot) because one wide compare beats a field-by-field one in the heap's sifts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due(u128);

impl Due {
    #[inline]
    fn new(timestamp_ms: i64, slot: u32) -> Due {
        Due((key(timestamp_ms) as u128) << 32 | slot as u128)
    }

    #[inline]
    fn timestamp_ms(self) -> i64 {
        timestamp((self.0 >> 32) as u64)
    }

    #[inline]
    fn slot(self) -> u32 {
        self.0 as u32
    }
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

/// The end of a bucket's list, and no first slot.
const NIL: u32 = u32::MAX;
/// Bits per digit: a level has one bucket per digit value, found through a `u64` mask.
const DIGIT: u32 = 6;
/// Levels of digits in a 64-bit key: 11 (the top one has 4 bits), rounded up to a power of
/// two so that indexing with `level & (LEVELS - 1)` needs no bounds check.
const LEVELS: usize = 16;
const _: () = assert!(64_usize.div_ceil(DIGIT as usize) <= LEVELS);

#[derive(Clone, Copy, Debug)]
struct Bucket {
    /// The smallest key in the bucket, `u64::MAX` when empty.
    min: u64,
    /// The first slot in the bucket.
    head: u32,
}

const EMPTY: Bucket = Bucket {
    min: u64::MAX,
    head: NIL,
};

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    /// The next slot in the same bucket.
    next: u32,
}

/// The radix heap, for many open cases.
#[derive(Debug)]
pub struct RadixQueue {
    /// The key of the last slot [`CaseQueue::first`] returned (0 before that): every queued
    /// key is at least this.
    last: u64,
    /// The slot [`CaseQueue::first`] returned, due at `last`, or `NIL`.
    first: u32,
    /// The other slots due at `last`, smallest first. Its capacity is kept at the number of
    /// slots so that it never grows on the hot path.
    now: BinaryHeap<Reverse<u32>>,
    /// The slots due after `last`.
    buckets: Buckets,
    /// By slot: the key and the bucket link of a queued slot.
    entries: Vec<Entry>,
    /// Slots queued, `first` included.
    len: usize,
}

/// The buckets of a [`RadixQueue`], apart from its entries so that the loop that spreads a
/// bucket borrows both at once (and the compiler sees they do not overlap).
#[derive(Debug)]
struct Buckets {
    /// Bucket `[level][digit]` lists the slots whose key is above `last`, first differs from
    /// it in the digit at `level` and has `digit` there.
    lists: [[Bucket; 64]; LEVELS],
    /// By level, bit `digit` set when that bucket is not empty; `levels` has bit `level` set
    /// when any is. The lowest bucket is found in two `trailing_zeros`.
    digits: [u64; LEVELS],
    levels: u32,
}

impl Buckets {
    /// Puts `slot` at `key` (above `last`) into its bucket.
    #[inline(always)]
    fn link(&mut self, entries: &mut [Entry], last: u64, key: u64, slot: u32) {
        debug_assert!(key > last, "timestamp below the last one `first` returned");
        let level = (63 - (key ^ last).leading_zeros()) / DIGIT;
        let digit = (key >> (DIGIT * level)) as usize & 63;
        let level = level as usize & (LEVELS - 1);
        let bucket = &mut self.lists[level][digit];
        entries[slot as usize] = Entry {
            key,
            next: bucket.head,
        };
        bucket.head = slot;
        bucket.min = bucket.min.min(key);
        self.digits[level] |= 1 << digit;
        self.levels |= 1 << level;
    }

    /// Empties the lowest non-empty bucket and returns it; `None` when all are empty.
    #[inline(always)]
    fn take_lowest(&mut self) -> Option<Bucket> {
        if self.levels == 0 {
            return None;
        }
        let level = self.levels.trailing_zeros() as usize & (LEVELS - 1);
        let digit = self.digits[level].trailing_zeros() as usize & 63;
        self.digits[level] &= !(1 << digit);
        // Without a branch: whether the level is now empty is a coin toss with few cases.
        self.levels &= !(((self.digits[level] == 0) as u32) << level);
        Some(std::mem::replace(&mut self.lists[level][digit], EMPTY))
    }
}

impl RadixQueue {
    fn with_capacity(capacity: usize) -> RadixQueue {
        RadixQueue {
            last: 0,
            first: NIL,
            now: BinaryHeap::with_capacity(capacity),
            buckets: Buckets {
                lists: [[EMPTY; 64]; LEVELS],
                digits: [0; LEVELS],
                levels: 0,
            },
            entries: Vec::with_capacity(capacity),
            len: 0,
        }
    }
}

impl Queue for RadixQueue {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn push(&mut self, timestamp_ms: i64, slot: u32) {
        let key = key(timestamp_ms);
        if slot as usize >= self.entries.len() {
            self.grow(slot);
        }
        self.len += 1;
        if key != self.last {
            self.link(key, slot);
        } else if self.first != NIL && slot < self.first {
            // Due now, before the first slot handed out.
            self.now.push(Reverse(self.first));
            self.first = slot;
        } else {
            self.now.push(Reverse(slot));
        }
    }

    #[inline(always)]
    fn first(&mut self) -> Option<(i64, u32)> {
        if self.first == NIL {
            self.first = match self.now.pop() {
                Some(Reverse(slot)) => slot,
                None => self.advance()?,
            };
        }
        Some((timestamp(self.last), self.first))
    }

    #[inline(always)]
    fn requeue_first(&mut self, timestamp_ms: i64) {
        let key = key(timestamp_ms);
        let slot = std::mem::replace(&mut self.first, NIL);
        debug_assert!(slot != NIL, "no first slot");
        if key != self.last {
            self.link(key, slot);
        } else {
            self.now.push(Reverse(slot));
        }
    }

    #[inline(always)]
    fn remove_first(&mut self) {
        debug_assert!(self.first != NIL, "no first slot");
        self.first = NIL;
        self.len -= 1;
    }
}

impl RadixQueue {
    /// Moves `last` to the smallest key queued and returns the smallest slot due then (the
    /// others due then go to `now`, empty when this is called). That key is the smallest in
    /// the lowest non-empty bucket: a lower level or digit means a smaller key. The rest of
    /// that bucket shares its digits down to the bucket's level with the new `last`, so it
    /// moves to lower levels; every other bucket stays as it is.
    #[inline(always)]
    fn advance(&mut self) -> Option<u32> {
        let Bucket { min, head } = self.buckets.take_lowest()?;
        self.last = min;
        let (buckets, entries, now) = (&mut self.buckets, &mut self.entries[..], &mut self.now);
        // The smallest slot due at `min` skips `now`: usually it is the only one.
        let mut best = NIL;
        let mut slot = head;
        while slot != NIL {
            let Entry { key, next } = entries[slot as usize];
            if key != min {
                buckets.link(entries, min, key, slot);
            } else if slot < best {
                if best != NIL {
                    now.push(Reverse(best));
                }
                best = slot;
            } else {
                now.push(Reverse(slot));
            }
            slot = next;
        }
        Some(best)
    }

    #[inline(always)]
    fn link(&mut self, key: u64, slot: u32) {
        self.buckets.link(&mut self.entries, self.last, key, slot);
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
            assert!(Due::new(pair[0], 7) < Due::new(pair[1], 0));
            assert_eq!(Due::new(pair[0], 7).timestamp_ms(), pair[0]);
        }
        assert!(Due::new(3, 1) < Due::new(3, 2));
        assert_eq!(Due::new(-3, u32::MAX - 1).slot(), u32::MAX - 1);
    }

    fn both() -> [CaseQueue; 2] {
        [
            CaseQueue::Heap(HeapQueue(BinaryHeap::new())),
            CaseQueue::Radix(Box::new(RadixQueue::with_capacity(0))),
        ]
    }

    fn take(q: &mut CaseQueue) -> Option<(i64, u32)> {
        let first = q.first();
        if first.is_some() {
            q.remove_first();
        }
        first
    }

    #[test]
    fn ties_go_by_slot_even_when_a_smaller_slot_comes_later() {
        for mut q in both() {
            q.push(10, 5);
            q.push(10, 3);
            q.push(12, 0);
            assert_eq!(take(&mut q), Some((10, 3)));
            // Slots smaller than the one just taken, at the same timestamp: one while a
            // first slot is handed out, one after.
            assert_eq!(q.first(), Some((10, 5)));
            q.push(10, 1);
            assert_eq!(q.first(), Some((10, 1)));
            q.requeue_first(10);
            q.push(10, 4);
            assert_eq!(take(&mut q), Some((10, 1)));
            assert_eq!(take(&mut q), Some((10, 4)));
            assert_eq!(take(&mut q), Some((10, 5)));
            assert_eq!(q.first(), Some((12, 0)));
            q.requeue_first(20);
            assert_eq!(take(&mut q), Some((20, 0)));
            assert_eq!(take(&mut q), None);
            assert_eq!(q.len(), 0);
        }
    }

    #[test]
    fn extreme_timestamps() {
        for mut q in both() {
            q.push(i64::MAX, 0);
            q.push(-1, 1);
            q.push(i64::MIN, 2);
            q.push(0, 3);
            assert_eq!(take(&mut q), Some((i64::MIN, 2)));
            assert_eq!(take(&mut q), Some((-1, 1)));
            assert_eq!(take(&mut q), Some((0, 3)));
            assert_eq!(take(&mut q), Some((i64::MAX, 0)));
            assert_eq!(take(&mut q), None);
        }
    }

    #[test]
    fn few_cases_get_the_heap_many_the_radix_heap() {
        assert!(matches!(CaseQueue::new(RADIX_FROM - 1), CaseQueue::Heap(_)));
        assert!(matches!(CaseQueue::new(RADIX_FROM), CaseQueue::Radix(_)));
    }

    /// One step of a workload shaped like the engine's: take the earliest case, then either
    /// requeue it `delay` later or free its slot; open a case at the last timestamp seen
    /// plus a delay, reusing freed slots last in, first out; look at the earliest case and
    /// leave it queued (cases may open before it is dealt with).
    #[derive(Clone, Debug)]
    enum Op {
        Take { requeue: Option<i64> },
        Open { delay: i64 },
        Look,
    }

    fn op(max_delay: i64) -> impl Strategy<Value = Op> {
        // Zero often (equal timestamps), mostly within `max_delay`, now and then far ahead.
        let delay = prop_oneof![3 => Just(0i64), 5 => 0..=max_delay, 1 => 0..=i64::MAX / 4];
        prop_oneof![
            6 => proptest::option::weighted(0.8, delay.clone()).prop_map(|requeue| Op::Take { requeue }),
            4 => delay.prop_map(|delay| Op::Open { delay }),
            1 => Just(Op::Look),
        ]
    }

    fn workload() -> impl Strategy<Value = Vec<Op>> {
        prop_oneof![Just(1i64), Just(3), Just(1000), Just(1 << 40)]
            .prop_flat_map(|max_delay| proptest::collection::vec(op(max_delay), 0..600))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Both kinds against the engine's former queue: a `BinaryHeap` of (timestamp, slot).
        #[test]
        fn takes_like_a_binary_heap_of_pairs(
            start in prop_oneof![Just(0i64), any::<i64>().prop_map(|t| t / 2), Just(i64::MIN)],
            ops in workload(),
        ) {
            for mut q in both() {
                let mut model: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
                let mut free: Vec<u32> = Vec::new();
                let mut slots = 0u32;
                let mut last = start;
                for op in &ops {
                    match *op {
                        Op::Open { delay } => {
                            let slot = free.pop().unwrap_or_else(|| {
                                slots += 1;
                                slots - 1
                            });
                            let at = last.saturating_add(delay);
                            q.push(at, slot);
                            model.push(Reverse((at, slot)));
                        }
                        Op::Look => {
                            let first = q.first();
                            prop_assert_eq!(first, model.peek().map(|r| r.0));
                            if let Some((at, _)) = first {
                                last = at;
                            }
                        }
                        Op::Take { requeue } => {
                            let first = q.first();
                            prop_assert_eq!(first, model.pop().map(|r| r.0));
                            let Some((at, slot)) = first else { continue };
                            prop_assert!(at >= last);
                            last = at;
                            match requeue {
                                Some(delay) => {
                                    let at = at.saturating_add(delay);
                                    q.requeue_first(at);
                                    model.push(Reverse((at, slot)));
                                }
                                None => {
                                    q.remove_first();
                                    free.push(slot);
                                }
                            }
                        }
                    }
                    prop_assert_eq!(q.len(), model.len());
                }
                while let Some(Reverse(pair)) = model.pop() {
                    prop_assert_eq!(take(&mut q), Some(pair));
                }
                prop_assert_eq!(take(&mut q), None);
            }
        }
    }
}
