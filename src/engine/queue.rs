//! The queue of open cases: `(timestamp, slot)` pairs, smallest timestamp first, ties smallest
//! slot first, exactly the order of the `BinaryHeap` of packed pairs the engine had, so that
//! output stays byte-identical.
//!
//! A tournament tree over the slots ([`TreeQueue`]): every slot has a leaf holding its pair
//! packed into one integer in that order (or "not queued"), every inner node the smallest of
//! its four children, so the root is the first slot. Changing a slot's leaf recomputes the
//! nodes above it: log4(slots) levels, each loading the three siblings, whose places the
//! slot alone fixes, and keeping the smallest with conditional moves, not branches. So no level waits
//! on a compare to know what to load, and nothing mispredicts at any number of cases. What
//! it replaced, measured (BENCHMARKS.md): a `BinaryHeap`, whose sifts mispredict about every
//! other level, and from 64 cases a radix heap, whose bucket walks mispredicted ~0.6 times
//! per event at 1,000 cases and cost ~140 instructions.
//!
//! The engine always fills every slot (it opens cases until `maxConcurrentCases` are open and
//! reuses freed slots), so a tree as wide as the slots has no empty subtrees to skip, and the
//! work per event is a fixed number of levels: 2 at 5 cases (16 leaves), 5 at 1,000
//! (1,024 leaves).
//!
//! Why not a crate: the heaps on crates.io (`std`'s `BinaryHeap`, `radix-heap`, `priority-queue`,
//! `keyed_priority_queue`) branch on compares in their sifts or buckets; the branch-free walk
//! over fixed slots is the point here, and it is a dozen lines.

use crate::time;

/// Open cases by the timestamp of their next event. Each slot is queued at most once at a
/// time; a timestamp pushed is never below the queue's start nor above [`time::MAX_MS`].
pub trait Queue {
    /// Slots queued.
    fn len(&self) -> usize;

    /// Queues `slot` (not queued now) at `timestamp_ms`.
    fn push(&mut self, timestamp_ms: i64, slot: u32);

    /// The smallest timestamp queued and, among its slots, the smallest; `None` when empty.
    /// It stays queued until [`requeue_first`](Self::requeue_first) or
    /// [`remove_first`](Self::remove_first).
    fn first(&mut self) -> Option<(i64, u32)>;

    /// Moves the first slot to `timestamp_ms`. Only after [`first`](Self::first) returned
    /// `Some`.
    fn requeue_first(&mut self, timestamp_ms: i64);

    /// Removes the first slot. Only after [`first`](Self::first) returned `Some`.
    fn remove_first(&mut self);
}

/// The queue for a run: the engine matches on it once per event and runs code made for
/// each kind.
#[derive(Debug)]
pub enum CaseQueue {
    /// Pairs packed into a `u64`: nearly every run (see [`Narrow::fits`]).
    Narrow(TreeQueue<Narrow>),
    /// Pairs packed into a `u128`: any timestamps, any number of slots.
    Wide(TreeQueue<Wide>),
}

impl CaseQueue {
    /// A queue for up to `max_open` cases at once, whose timestamps start at `start_ms`.
    pub fn new(max_open: usize, start_ms: i64) -> CaseQueue {
        // The engine caps its clock at `time::MAX_MS`, so a start above it is never pushed.
        let start_ms = start_ms.min(time::MAX_MS);
        match Narrow::fits(max_open, start_ms) {
            Some(narrow) => CaseQueue::Narrow(TreeQueue::new(narrow, max_open)),
            // Grown as cases open rather than all at once: a library caller may pass anything.
            None => CaseQueue::Wide(TreeQueue::new(Wide, max_open.min(1 << 16))),
        }
    }
}

/// For callers that do not mind a dispatch per call (the engine's hot path does).
impl Queue for CaseQueue {
    fn len(&self) -> usize {
        match self {
            CaseQueue::Narrow(tree) => tree.len(),
            CaseQueue::Wide(tree) => tree.len(),
        }
    }

    fn push(&mut self, timestamp_ms: i64, slot: u32) {
        match self {
            CaseQueue::Narrow(tree) => tree.push(timestamp_ms, slot),
            CaseQueue::Wide(tree) => tree.push(timestamp_ms, slot),
        }
    }

    fn first(&mut self) -> Option<(i64, u32)> {
        match self {
            CaseQueue::Narrow(tree) => tree.first(),
            CaseQueue::Wide(tree) => tree.first(),
        }
    }

    fn requeue_first(&mut self, timestamp_ms: i64) {
        match self {
            CaseQueue::Narrow(tree) => tree.requeue_first(timestamp_ms),
            CaseQueue::Wide(tree) => tree.requeue_first(timestamp_ms),
        }
    }

    fn remove_first(&mut self) {
        match self {
            CaseQueue::Narrow(tree) => tree.remove_first(),
            CaseQueue::Wide(tree) => tree.remove_first(),
        }
    }
}

/// How a tree packs a `(timestamp, slot)` pair into one integer that orders like the pair.
pub trait Packing: Copy {
    type Key: Copy + Eq + Ord + std::fmt::Debug;
    /// The leaf of a slot not queued: above every packed pair.
    const NONE: Self::Key;
    /// The most slots this packing holds, if it has a bound.
    fn max_slots(self) -> Option<usize>;
    fn pack(self, timestamp_ms: i64, slot: u32) -> Self::Key;
    fn timestamp_ms(self, key: Self::Key) -> i64;
    fn slot(self, key: Self::Key) -> u32;
    /// The smaller key, chosen without a branch (a conditional move; checked in the
    /// machine code): which one wins is a coin toss. `std::hint::select_unpredictable` would
    /// say so outright, but needs Rust 1.88, above this crate's `rust-version`.
    fn min(a: Self::Key, b: Self::Key) -> Self::Key;
}

/// `(timestamp - start) << shift | slot` in a `u64`, where `2^shift` slots fit: half the
/// memory of [`Wide`] and one compare per step instead of two.
#[derive(Clone, Copy, Debug)]
pub struct Narrow {
    start_ms: i64,
    shift: u32,
}

impl Narrow {
    /// The packing for `max_open` slots and timestamps from `start_ms` (at most
    /// [`time::MAX_MS`]) to [`time::MAX_MS`], if one fits in 64 bits with [`Packing::NONE`]
    /// to spare. It does for every run that starts after the year -7000 with fewer than
    /// 2^15 cases open.
    fn fits(max_open: usize, start_ms: i64) -> Option<Narrow> {
        let shift = max_open.max(1).next_power_of_two().trailing_zeros();
        let span = (time::MAX_MS as i128 - start_ms as i128) as u128;
        // The largest key, `span << shift | (2^shift - 1)`, must stay below `u64::MAX`.
        (shift < 64 && span < (1u128 << (64 - shift)) - 1).then_some(Narrow { start_ms, shift })
    }
}

impl Packing for Narrow {
    type Key = u64;
    const NONE: u64 = u64::MAX;

    fn max_slots(self) -> Option<usize> {
        Some(1 << self.shift)
    }

    #[inline(always)]
    fn pack(self, timestamp_ms: i64, slot: u32) -> u64 {
        debug_assert!((self.start_ms..=time::MAX_MS).contains(&timestamp_ms));
        (timestamp_ms.wrapping_sub(self.start_ms) as u64) << self.shift | slot as u64
    }

    #[inline(always)]
    fn timestamp_ms(self, key: u64) -> i64 {
        self.start_ms.wrapping_add((key >> self.shift) as i64)
    }

    #[inline(always)]
    fn slot(self, key: u64) -> u32 {
        (key & ((1 << self.shift) - 1)) as u32
    }

    #[inline(always)]
    fn min(a: u64, b: u64) -> u64 {
        a.min(b)
    }
}

/// The timestamp (sign bit flipped, so it orders as unsigned) above the slot in a `u128`.
#[derive(Clone, Copy, Debug)]
pub struct Wide;

impl Packing for Wide {
    type Key = u128;
    /// Above every pair, whose slot is never `u32::MAX`.
    const NONE: u128 = u128::MAX;

    fn max_slots(self) -> Option<usize> {
        None
    }

    #[inline(always)]
    fn pack(self, timestamp_ms: i64, slot: u32) -> u128 {
        ((timestamp_ms as u64 ^ 1 << 63) as u128) << 32 | slot as u128
    }

    #[inline(always)]
    fn timestamp_ms(self, key: u128) -> i64 {
        ((key >> 32) as u64 ^ 1 << 63) as i64
    }

    #[inline(always)]
    fn slot(self, key: u128) -> u32 {
        key as u32
    }

    #[inline(always)]
    fn min(a: u128, b: u128) -> u128 {
        // Half by half: a choice of a whole `u128` compiled to a branch.
        let less = a < b;
        let low = if less { a as u64 } else { b as u64 };
        let high = if less {
            (a >> 64) as u64
        } else {
            (b >> 64) as u64
        };
        (high as u128) << 64 | low as u128
    }
}

/// The tournament tree (see the module docs), four children to a node: half the levels of
/// a binary tree, and each level's step on the walk's chain is still one compare, since the
/// three siblings' minimum does not depend on it (measured against the binary tree: see
/// BENCHMARKS.md).
#[derive(Debug)]
pub struct TreeQueue<P: Packing> {
    packing: P,
    /// Node `i`'s children are `groups[i]`; node `i` itself is `groups[i / 4][i % 4]`. The
    /// root is node 1, the leaf of `slot` is node `leaves + slot`, and nodes that are neither
    /// (the rest of group 0, and the gaps between levels) stay [`Packing::NONE`].
    groups: Vec<[P::Key; 4]>,
    /// Leaves: a power of four, at least 4.
    leaves: usize,
    len: usize,
}

impl<P: Packing> TreeQueue<P> {
    fn new(packing: P, slots: usize) -> TreeQueue<P> {
        let leaves = leaves_for(slots);
        TreeQueue {
            packing,
            // Level k holds nodes 4^k to 2·4^k - 1, so 2·leaves nodes in all.
            groups: vec![[P::NONE; 4]; leaves / 2],
            leaves,
            len: 0,
        }
    }

    #[inline(always)]
    fn root(&self) -> P::Key {
        self.groups[0][1]
    }

    /// Sets the leaf of `slot` (below `leaves`) and the nodes above it.
    #[inline(always)]
    fn set(&mut self, slot: u32, key: P::Key) {
        let groups = &mut self.groups[..];
        // `groups.len()` is a power of two, so masking changes no index, but it shows the
        // compiler that none is out of bounds: no check per level.
        let mask = groups.len() - 1;
        let mut i = self.leaves + slot as usize;
        groups[(i >> 2) & mask][i & 3] = key;
        let mut min = key;
        while i > 1 {
            let (group, j) = (&groups[(i >> 2) & mask], i & 3);
            let siblings = P::min(
                group[(j + 1) & 3],
                P::min(group[(j + 2) & 3], group[(j + 3) & 3]),
            );
            min = P::min(min, siblings);
            i >>= 2;
            groups[(i >> 2) & mask][i & 3] = min;
        }
    }

    /// Makes room for `slot`: a tree four times as wide (or more), filled from the leaves.
    /// Only when a new slot appears beyond the ones asked for, never in steady state.
    #[cold]
    fn grow(&mut self, slot: u32) {
        assert!(
            slot != u32::MAX
                && self
                    .packing
                    .max_slots()
                    .is_none_or(|max| (slot as usize) < max),
            "slot {slot} does not fit this queue"
        );
        let leaves = leaves_for(slot as usize + 1);
        let mut grown = TreeQueue {
            packing: self.packing,
            groups: vec![[P::NONE; 4]; leaves / 2],
            leaves,
            len: self.len,
        };
        let old = self.leaves / 4;
        grown.groups[leaves / 4..leaves / 4 + old].copy_from_slice(&self.groups[old..2 * old]);
        // Inner nodes are below `leaves / 2` (the level above the leaves ends there).
        for i in (1..leaves / 2).rev() {
            let [a, b, c, d] = grown.groups[i];
            grown.groups[i / 4][i % 4] = a.min(b).min(c.min(d));
        }
        *self = grown;
    }
}

/// The leaves of a tree for `slots`: a power of four, at least 4 so that the root has a
/// level below it.
fn leaves_for(slots: usize) -> usize {
    let mut leaves = 4;
    while leaves < slots {
        leaves *= 4;
    }
    leaves
}

impl<P: Packing> Queue for TreeQueue<P> {
    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn push(&mut self, timestamp_ms: i64, slot: u32) {
        if slot as usize >= self.leaves {
            self.grow(slot);
        }
        self.len += 1;
        self.set(slot, self.packing.pack(timestamp_ms, slot));
    }

    #[inline(always)]
    fn first(&mut self) -> Option<(i64, u32)> {
        let root = self.root();
        (root != P::NONE).then(|| (self.packing.timestamp_ms(root), self.packing.slot(root)))
    }

    #[inline(always)]
    fn requeue_first(&mut self, timestamp_ms: i64) {
        let slot = self.packing.slot(self.root());
        self.set(slot, self.packing.pack(timestamp_ms, slot));
    }

    #[inline(always)]
    fn remove_first(&mut self) {
        let slot = self.packing.slot(self.root());
        self.len -= 1;
        self.set(slot, P::NONE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    #[test]
    fn packed_keys_order_like_their_pairs() {
        let wide = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in wide.windows(2) {
            assert!(Wide.pack(pair[0], 7) < Wide.pack(pair[1], 0));
            assert_eq!(Wide.timestamp_ms(Wide.pack(pair[0], 7)), pair[0]);
        }
        assert!(Wide.pack(3, 1) < Wide.pack(3, 2));
        assert_eq!(Wide.slot(Wide.pack(-3, u32::MAX - 1)), u32::MAX - 1);
        assert!(Wide.pack(i64::MAX, u32::MAX - 1) < Wide::NONE);

        let narrow = Narrow::fits(1000, time::MIN_MS).unwrap();
        let times = [time::MIN_MS, -1, 0, 1_700_000_000_000, time::MAX_MS];
        for pair in times.windows(2) {
            assert!(narrow.pack(pair[0], 999) < narrow.pack(pair[1], 0));
            assert_eq!(narrow.timestamp_ms(narrow.pack(pair[0], 999)), pair[0]);
        }
        assert!(narrow.pack(3, 1) < narrow.pack(3, 2));
        assert_eq!(narrow.slot(narrow.pack(3, 1023)), 1023);
        assert!(narrow.pack(time::MAX_MS, 1023) < Narrow::NONE);
        for (a, b) in [(1u64, 2u64), (2, 1), (5, 5)] {
            assert_eq!(Narrow::min(a, b), a.min(b));
            let (a, b) = ((a as u128) << 64 | 9, (b as u128) << 64 | 3);
            assert_eq!(Wide::min(a, b), a.min(b));
        }
    }

    #[test]
    fn narrow_when_it_fits() {
        assert!(matches!(CaseQueue::new(1000, 0), CaseQueue::Narrow(_)));
        assert!(matches!(
            CaseQueue::new(1 << 15, time::MIN_MS),
            CaseQueue::Narrow(_)
        ));
        assert!(matches!(CaseQueue::new(1 << 17, 0), CaseQueue::Wide(_)));
        assert!(matches!(CaseQueue::new(5, i64::MIN), CaseQueue::Wide(_)));
        assert!(matches!(CaseQueue::new(5, i64::MAX), CaseQueue::Narrow(_)));
    }

    /// A narrow queue for 64 slots from `start`, and a wide one that must grow.
    fn both(start: i64) -> Vec<CaseQueue> {
        let mut queues = vec![CaseQueue::Wide(TreeQueue::new(Wide, 0))];
        if let Some(narrow) = Narrow::fits(64, start) {
            queues.push(CaseQueue::Narrow(TreeQueue::new(narrow, 64)));
        }
        queues
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
        let queues = both(0);
        assert_eq!(queues.len(), 2);
        for mut q in queues {
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
        let mut q = CaseQueue::Wide(TreeQueue::new(Wide, 0));
        q.push(i64::MAX, 0);
        q.push(-1, 1);
        q.push(i64::MIN, 2);
        q.push(0, 3);
        assert_eq!(take(&mut q), Some((i64::MIN, 2)));
        assert_eq!(take(&mut q), Some((-1, 1)));
        assert_eq!(take(&mut q), Some((0, 3)));
        assert_eq!(take(&mut q), Some((i64::MAX, 0)));
        assert_eq!(take(&mut q), None);

        let mut q = CaseQueue::new(4, time::MIN_MS);
        assert!(matches!(q, CaseQueue::Narrow(_)));
        q.push(time::MAX_MS, 0);
        q.push(-1, 1);
        q.push(time::MIN_MS, 2);
        q.push(time::MAX_MS, 3);
        assert_eq!(take(&mut q), Some((time::MIN_MS, 2)));
        assert_eq!(take(&mut q), Some((-1, 1)));
        assert_eq!(take(&mut q), Some((time::MAX_MS, 0)));
        assert_eq!(take(&mut q), Some((time::MAX_MS, 3)));
        assert_eq!(take(&mut q), None);
    }

    /// One step of a workload shaped like the engine's: take the earliest case, then either
    /// requeue it `delay` later or free its slot; open a case at the last timestamp seen
    /// plus a delay, reusing freed slots last in, first out; look at the earliest case and
    /// leave it queued (cases may open before it is dealt with). Timestamps stop at
    /// `time::MAX_MS`, as the engine's clock does.
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

        /// Both packings against the engine's former queue: a `BinaryHeap` of (timestamp, slot).
        #[test]
        fn takes_like_a_binary_heap_of_pairs(
            start in prop_oneof![
                Just(0i64),
                (time::MIN_MS..=time::MAX_MS),
                Just(time::MIN_MS),
                Just(time::MAX_MS - 1000),
                Just(i64::MIN),
            ],
            ops in workload(),
        ) {
            for mut q in both(start) {
                let mut model: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
                let mut free: Vec<u32> = Vec::new();
                let mut slots = 0u32;
                let mut last = start;
                let later = |at: i64, delay: i64| at.saturating_add(delay).min(time::MAX_MS);
                for op in &ops {
                    match *op {
                        Op::Open { delay } => {
                            // The narrow queue holds 64 slots, as many as the engine would
                            // open for it.
                            if free.is_empty() && slots == 64 {
                                continue;
                            }
                            let slot = free.pop().unwrap_or_else(|| {
                                slots += 1;
                                slots - 1
                            });
                            let at = later(last, delay);
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
                                    let at = later(at, delay);
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
