//! The copies of events in flight, smallest key first: a priority queue shaped by how the
//! network's keys come in.
//!
//! A copy leaves at the engine's clock and arrives a delay later, so a new key is mostly above
//! all but the last few keys waiting. Those go into a sorted run, placed by a short scan from
//! its back that shifts the greater keys up as it passes them; popping its front is O(1). The
//! few that would land deeper — a copy with a short delay behind a node's outage backlog, which
//! leaves at the outage's end — go to a binary heap beside it, and the smallest key is the
//! smaller of the two fronts. With long delays or long outages thousands of copies wait, and
//! a binary heap's pop alone would then sift through a dozen levels, mispredicting about
//! every other one.
//!
//! Any keys come out in order (the run's scan only decides where a key waits), so nothing
//! here depends on the stage's key order for correctness, only for speed.

use super::InFlight;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How far from the back of the run a key may be placed; a key that sorts before more
/// waiting keys than this goes to the heap.
const SCAN: usize = 32;

/// Popped items left at the front of `sorted` before they are dropped in one move.
const COMPACT: usize = 1 << 10;

/// The copies in flight (see the module docs).
#[derive(Default)]
pub(super) struct Arrivals {
    /// `sorted[head..]`: keys in ascending order. A `Vec` and an index rather than a
    /// `VecDeque`: no wrap-around arithmetic on every access, and the queue often empties,
    /// which resets both.
    sorted: Vec<InFlight>,
    head: usize,
    /// Keys that sorted too far from the back.
    side: BinaryHeap<Reverse<InFlight>>,
}

impl Arrivals {
    /// Adds a copy.
    #[inline(always)]
    pub fn push(&mut self, item: InFlight) {
        match self.sorted[self.head..].last() {
            Some(last) if *last > item => self.place(item),
            _ => self.sorted.push(item),
        }
    }

    /// Adds a copy that sorts before the run's last: beside the run if more than `SCAN`
    /// waiting keys sort after it, else into the run, shifting the greater keys up one as
    /// the scan passes them (one pass, no `memmove` call for a few elements).
    #[inline(never)]
    fn place(&mut self, item: InFlight) {
        let n = self.sorted.len();
        if n - self.head > SCAN && self.sorted[n - 1 - SCAN] > item {
            self.side.push(Reverse(item));
            return;
        }
        self.sorted.push(item);
        let run = &mut self.sorted[self.head..];
        let mut at = run.len() - 1;
        while at > 0 && run[at - 1] > item {
            run[at] = run[at - 1];
            at -= 1;
        }
        run[at] = item;
    }

    /// Whether the smallest key is the heap's: it has one, and the run is empty or its front
    /// sorts after the heap's top.
    #[inline(always)]
    fn side_first(&self) -> bool {
        match (self.sorted.get(self.head), self.side.peek()) {
            (Some(front), Some(Reverse(top))) => top < front,
            (None, top) => top.is_some(),
            (Some(_), None) => false,
        }
    }

    /// The copy with the smallest key.
    #[inline(always)]
    pub fn peek(&self) -> Option<&InFlight> {
        if self.side_first() {
            self.side.peek().map(|Reverse(top)| top)
        } else {
            self.sorted.get(self.head)
        }
    }

    /// Removes and returns the copy with the smallest key.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<InFlight> {
        self.pop_if(|_| true)
    }

    /// Removes and returns the copy with the smallest key if it arrives before `until`: one
    /// look at each part for what a delivery loop would otherwise peek at, then pop.
    #[inline(always)]
    pub fn pop_before(&mut self, until: i64) -> Option<InFlight> {
        self.pop_if(|item| item.arrival_ms < until)
    }

    /// Removes and returns the copy with the smallest key if `due` says so.
    #[inline(always)]
    fn pop_if(&mut self, due: impl Fn(&InFlight) -> bool) -> Option<InFlight> {
        if !self.side.is_empty() && self.side_first() {
            return match self.side.peek() {
                Some(Reverse(top)) if due(top) => self.side.pop().map(|Reverse(item)| item),
                _ => None,
            };
        }
        let item = *self.sorted.get(self.head)?;
        if !due(&item) {
            return None;
        }
        self.head += 1;
        if self.head == self.sorted.len() {
            self.sorted.clear();
            self.head = 0;
        } else if self.head >= COMPACT && self.head * 2 >= self.sorted.len() {
            self.sorted.drain(..self.head);
            self.head = 0;
        }
        Some(item)
    }

    /// How many copies wait.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.sorted.len() - self.head + self.side.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn item(arrival_ms: i64, order: u64) -> InFlight {
        InFlight {
            arrival_ms,
            order,
            slot: order as u32,
        }
    }

    /// Pushes and pops against a binary heap: the same items come out in the same order. A
    /// pop with a nonzero value pops only what arrives before it.
    fn check(ops: &[(bool, i64)]) {
        let mut arrivals = Arrivals::default();
        let mut model = BinaryHeap::new();
        for (order, &(push, arrival)) in ops.iter().enumerate() {
            if push {
                let it = item(arrival, order as u64);
                arrivals.push(it);
                model.push(Reverse(it));
            } else if arrival == 0 {
                assert_eq!(arrivals.peek(), model.peek().map(|Reverse(m)| m));
                assert_eq!(arrivals.pop(), model.pop().map(|Reverse(m)| m));
            } else {
                // A pop of what arrives before `arrival`.
                let due = model
                    .peek()
                    .is_some_and(|Reverse(m)| m.arrival_ms < arrival);
                let expected = due.then(|| model.pop()).flatten().map(|Reverse(m)| m);
                assert_eq!(arrivals.pop_before(arrival), expected);
            }
            assert_eq!(arrivals.len(), model.len());
        }
        while let Some(Reverse(m)) = model.pop() {
            assert_eq!(arrivals.pop(), Some(m));
        }
        assert_eq!(arrivals.pop(), None);
        assert_eq!(arrivals.peek(), None);
    }

    #[test]
    fn keys_deep_in_the_run_go_beside_it_and_still_come_out_in_order() {
        // 100 keys in order, then keys that sort before most of them (past the scan), then
        // ties on arrival broken by order.
        let mut ops: Vec<(bool, i64)> = (0..100).map(|t| (true, t * 10)).collect();
        ops.extend([(true, 5), (true, 15), (true, -3), (true, 990), (true, 990)]);
        ops.extend((0..50).map(|_| (false, 0)));
        ops.extend((0..40).map(|t| (true, 500 + t)));
        ops.extend((0..200).map(|_| (false, 0)));
        check(&ops);
    }

    proptest! {
        /// Nearly sorted keys (a clock plus a delay, now and then one far back), as the stage
        /// pushes them, interleaved with pops.
        #[test]
        fn nearly_sorted_keys_pop_like_a_binary_heap(
            steps in proptest::collection::vec(
                (0u8..4, 0i64..50, 0i64..5_000, any::<bool>()),
                0..600,
            )
        ) {
            let mut clock = 0i64;
            let ops: Vec<(bool, i64)> = steps
                .iter()
                .map(|&(kind, delay, back, pop)| {
                    clock += delay;
                    match (pop, kind) {
                        (true, 0) => (false, clock),
                        (true, _) => (false, 0),
                        (false, 0) => (true, clock - back),
                        (false, _) => (true, clock + delay * kind as i64),
                    }
                })
                .collect();
            check(&ops);
        }

        /// Any keys at all.
        #[test]
        fn any_keys_pop_like_a_binary_heap(
            ops in proptest::collection::vec((any::<bool>(), any::<i64>()), 0..400)
        ) {
            check(&ops);
        }
    }
}
