//! The engine: cases walking the chain, interleaved in timestamp order.
//!
//! A case is a token on a datasource with its own clock. Open cases sit in a queue keyed by
//! the timestamp of their *next* event (ties by slot, see `queue.rs`): when a token arrives at
//! a datasource we choose its entry and sample the duration at once, so the queue knows when
//! that event will happen. The engine always emits the earliest pending event, so the stream
//! is ordered by simulated time and cases interleave the way parallel work does. Whenever fewer
//! than `maxConcurrentCases` are open, a new case starts at the timestamp of the most recently
//! emitted event.
//!
//! One event costs one update of that queue (the case's new time, or its removal), one
//! alias-table choice and one duration sample: no allocation, no name lookup.
//!
//! A sharded engine ([`Engine::for_shard`], see [`crate::shard`]) differs in two numbers
//! only, both fixed when it is made: its cases are numbered from K + 1 in steps of N, and its
//! generator starts K·2^128 draws into the seed's stream. Shard 0 of 1 is the plain engine.

mod queue;

use crate::model::{Chain, Edge, Node, Target, Text};
use crate::shard::Shard;
use crate::time;
use queue::{CaseQueue, Queue};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::num::{NonZeroI64, NonZeroU64};

/// One event, borrowing its strings from the chain.
#[derive(Clone, Copy, Debug)]
pub struct Event<'c> {
    /// Milliseconds since the Unix epoch (simulated time, or wall time with `clock: wall`).
    pub timestamp_ms: i64,
    /// The number `N` of the case id `case_N`.
    pub case: u64,
    /// The engine's slot for the case: unique among the cases open at the time, reused once
    /// the case has ended. What lets a stage after the engine keep per-case state in a table
    /// rather than a map ([`crate::network`]).
    pub slot: u32,
    pub node: &'c Node,
    pub edge: &'c Edge,
    /// The activity written: the edge's, or another of its node's after a network renamed
    /// it ([`crate::network`]).
    pub label: &'c Text,
    /// The event is the last of its case that the sinks will see: the engine's last one, or,
    /// behind a network that reorders and loses events, the last one delivered.
    pub closes_case: bool,
    /// When the event was meant to be emitted (stream runs with `emittedAt`).
    pub emitted_at_ms: MaybeMs,
    /// The event's number in the run (runs with a network document): every event as
    /// generated has its own; a duplicate delivery carries its original's.
    pub event_id: Option<NonZeroU64>,
    /// When the event reached the sinks, in event time (runs with a network document).
    pub arrival_ms: MaybeMs,
}

/// A time in milliseconds, or none, in 8 bytes where `Option<i64>` takes 16: an event is
/// copied through the network stage and handed between threads, and two of these keep it at
/// 72 bytes instead of 88. Times are within the clock's bounds (|t| < 2^49 ms,
/// [`crate::time::MAX_MS`]), so `i64::MIN` is free to mean none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaybeMs(Option<NonMinI64>);

/// An `i64` other than `i64::MIN`, stored as `NonZeroI64` by flipping the sign bit, so that
/// `Option` of it needs no extra word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NonMinI64(NonZeroI64);

impl MaybeMs {
    /// No time.
    pub const NONE: MaybeMs = MaybeMs(None);

    /// The time `ms` (`i64::MIN`, outside the clock's bounds, reads back as none).
    #[inline]
    pub fn some(ms: i64) -> MaybeMs {
        MaybeMs(NonZeroI64::new(ms ^ i64::MIN).map(NonMinI64))
    }

    /// The time, if there is one.
    #[inline]
    pub fn get(self) -> Option<i64> {
        self.0.map(|NonMinI64(v)| v.get() ^ i64::MIN)
    }

    /// Whether there is a time.
    pub fn is_some(self) -> bool {
        self.0.is_some()
    }
}

impl<'c> Event<'c> {
    /// The engine's event: its edge's activity, closing the case if the edge leads to `<end>`.
    #[inline]
    pub fn new(
        timestamp_ms: i64,
        case: u64,
        slot: u32,
        node: &'c Node,
        edge: &'c Edge,
    ) -> Event<'c> {
        Event {
            timestamp_ms,
            case,
            slot,
            node,
            edge,
            label: &edge.activity,
            closes_case: edge.target == Target::End,
            emitted_at_ms: MaybeMs::NONE,
            event_id: None,
            arrival_ms: MaybeMs::NONE,
        }
    }

    /// The activity written (see [`Event::label`]).
    pub fn activity(&self) -> &'c str {
        self.label.as_str()
    }

    /// True if this event finishes its case for the sinks (see [`Event::closes_case`]).
    #[inline]
    pub fn ends_case(&self) -> bool {
        self.closes_case
    }
}

/// The state of an open case.
#[derive(Clone, Copy, Debug)]
struct Case {
    id: u64,
    node: u32,
    edge: u32,
}

/// Generates the event stream of a chain. Deterministic for a given seed and start time.
pub struct Engine<'c> {
    queue: CaseQueue,
    walk: Walk<'c>,
}

/// The engine apart from its queue, so that it can run code made for the queue's kind.
struct Walk<'c> {
    chain: &'c Chain,
    rng: Xoshiro256PlusPlus,
    cases: Vec<Case>,
    free_slots: Vec<u32>,
    max_open: usize,
    next_case: u64,
    /// The first case's number and the step between case numbers (1 and 1 unsharded).
    first_case: u64,
    case_stride: u64,
    last_ms: i64,
    /// Selections made so far per node; `<start>` is the last entry.
    selections: Vec<u64>,
    finished: u64,
}

impl<'c> Engine<'c> {
    /// An engine at `start_ms` with at most `max_open` cases open at once (at least 1).
    pub fn new(chain: &'c Chain, seed: u64, start_ms: i64, max_open: usize) -> Engine<'c> {
        Engine::for_shard(chain, seed, start_ms, max_open, Shard::WHOLE)
    }

    /// The engine of one shard of a workload: its cases are numbered K+1, K+1+N, ..., and its
    /// random stream is the seed's, jumped K·2^128 draws ahead, so that no two shards share an
    /// id or a random number. `max_open` is this shard's own bound (its share).
    pub fn for_shard(
        chain: &'c Chain,
        seed: u64,
        start_ms: i64,
        max_open: usize,
        shard: Shard,
    ) -> Engine<'c> {
        let max_open = max_open.max(1);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        shard.jump(&mut rng);
        Engine {
            queue: CaseQueue::new(max_open, start_ms),
            walk: Walk {
                chain,
                rng,
                cases: Vec::with_capacity(max_open.min(1 << 16)),
                free_slots: Vec::new(),
                max_open,
                next_case: shard.first_case(),
                first_case: shard.first_case(),
                case_stride: u64::from(shard.count()),
                last_ms: start_ms,
                selections: vec![0; chain.nodes.len() + 1],
                finished: 0,
            },
        }
    }

    /// The next event of the stream. The stream never ends: new cases keep opening.
    /// Inlined into the caller's loop: as a call it cost ~25 instructions per event, mostly
    /// saving registers and returning the event through memory.
    #[inline(always)]
    pub fn next_event(&mut self) -> Event<'c> {
        // One match per event, not one per queue operation.
        match &mut self.queue {
            CaseQueue::Narrow(tree) => self.walk.next_event(tree),
            CaseQueue::Wide(tree) => self.walk.next_event(tree),
        }
    }

    /// Cases open right now.
    pub fn open_cases(&self) -> usize {
        self.queue.len()
    }

    /// Cases that reached `<end>`.
    pub fn finished_cases(&self) -> u64 {
        self.walk.finished
    }

    /// Cases opened so far.
    pub fn started_cases(&self) -> u64 {
        (self.walk.next_case - self.walk.first_case) / self.walk.case_stride
    }

    /// The timestamp of the most recent event (the start time before the first).
    pub fn clock_ms(&self) -> i64 {
        self.walk.last_ms
    }

    /// True once the simulated clock has reached the last writable instant
    /// (9999-12-31T23:59:59.999Z): from then on every event carries that timestamp.
    pub fn clock_exhausted(&self) -> bool {
        self.walk.last_ms >= time::MAX_MS
    }
}

impl<'c> Walk<'c> {
    #[inline(always)]
    fn next_event<Q: Queue>(&mut self, queue: &mut Q) -> Event<'c> {
        while queue.len() < self.max_open {
            self.open_case(queue);
        }
        let chain = self.chain;
        let (timestamp_ms, slot) = queue.first().expect("at least one case is open");
        let case = self.cases[slot as usize];
        let node = &chain.nodes[case.node as usize];
        let edge = &node.edges[case.edge as usize];
        self.last_ms = timestamp_ms;
        match edge.target {
            Target::End => {
                queue.remove_first();
                self.free_slots.push(slot);
                self.finished += 1;
            }
            Target::Node(next) => {
                let (edge_index, at) = schedule(
                    &chain.nodes[next as usize],
                    &mut self.selections[next as usize],
                    &mut self.rng,
                    timestamp_ms,
                );
                self.cases[slot as usize] = Case {
                    id: case.id,
                    node: next,
                    edge: edge_index,
                };
                queue.requeue_first(at);
            }
        }
        Event::new(timestamp_ms, case.id, slot, node, edge)
    }

    /// Opens a new case at the time of the most recent event, through `<start>`.
    fn open_case<Q: Queue>(&mut self, queue: &mut Q) {
        let chain = self.chain;
        let start_slot = chain.nodes.len();
        self.selections[start_slot] += 1;
        let pick = chain
            .start
            .selector
            .choose(self.selections[start_slot], &mut self.rng);
        let Target::Node(first) = chain.start.edges[pick].target else {
            unreachable!("compile rejects <start> -> <end>")
        };
        let (edge, at) = schedule(
            &chain.nodes[first as usize],
            &mut self.selections[first as usize],
            &mut self.rng,
            self.last_ms,
        );
        let case = Case {
            id: self.next_case,
            node: first,
            edge,
        };
        self.next_case += self.case_stride;
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.cases[slot as usize] = case;
                slot
            }
            None => {
                self.cases.push(case);
                (self.cases.len() - 1) as u32
            }
        };
        queue.push(at, slot);
    }
}

/// Chooses the entry a token takes at `node` and when its event happens.
#[inline(always)]
fn schedule(
    node: &Node,
    selections: &mut u64,
    rng: &mut Xoshiro256PlusPlus,
    clock_ms: i64,
) -> (u32, i64) {
    *selections += 1;
    let edge = node.selector.choose(*selections, rng);
    // Saturating, and capped where timestamps can still be written (see `time::MAX_MS`):
    // huge durations or very long runs stop the clock there instead of wrapping around.
    let at = clock_ms
        .saturating_add(node.edges[edge].duration.sample_ms(rng))
        .min(time::MAX_MS);
    (edge as u32, at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSet;
    use std::collections::HashMap;

    fn chain() -> Chain {
        Chain::compile(&ConfigSet::example()).unwrap()
    }

    #[test]
    fn an_optional_time_reads_back_what_was_put_in_eight_bytes() {
        for ms in [0, 1, -1, time::MIN_MS, time::MAX_MS, i64::MAX, i64::MIN + 1] {
            assert_eq!(MaybeMs::some(ms).get(), Some(ms));
            assert!(MaybeMs::some(ms).is_some());
        }
        assert_eq!(MaybeMs::NONE.get(), None);
        assert_eq!(MaybeMs::default(), MaybeMs::NONE);
        assert_eq!(std::mem::size_of::<MaybeMs>(), 8);
    }

    #[test]
    fn interleaving_keeps_order_bound_and_case_shape() {
        let chain = chain();
        for max_open in [1usize, 5, 1000] {
            let mut engine = Engine::new(&chain, 7, 0, max_open);
            let mut last = i64::MIN;
            let mut cases: HashMap<u64, Vec<Event>> = HashMap::new();
            for _ in 0..200_000 {
                let event = engine.next_event();
                assert!(engine.open_cases() <= max_open);
                assert!(event.timestamp_ms >= last, "timestamps went backwards");
                last = event.timestamp_ms;
                cases.entry(event.case).or_default().push(event);
            }
            let mut unfinished = 0;
            for events in cases.values() {
                // Every case enters at the datasource `<start>` leads to.
                assert_eq!(events[0].node.name.as_str(), "GoodsDelivery");
                // Only the last event of a case may finish it.
                assert!(events[..events.len() - 1].iter().all(|e| !e.ends_case()));
                if !events.last().unwrap().ends_case() {
                    unfinished += 1;
                }
            }
            // Cases still walking when we stopped are open ones (an open case may not have
            // emitted yet); every other case reached `<end>`.
            assert!(unfinished <= engine.open_cases(), "max_open {max_open}");
            assert_eq!(
                engine.started_cases() - engine.finished_cases(),
                engine.open_cases() as u64
            );
            assert_eq!(engine.finished_cases() as usize, cases.len() - unfinished);
        }
    }

    #[test]
    fn case_ids_increase_in_opening_order() {
        let chain = chain();
        let mut engine = Engine::new(&chain, 1, 0, 3);
        let mut seen = Vec::new();
        for _ in 0..10_000 {
            let e = engine.next_event();
            if !seen.contains(&e.case) {
                seen.push(e.case);
            }
        }
        // A case's first event can come after a younger case's, but ids are handed out 1, 2,
        // 3...: every id seen was handed out, and the ones not seen yet are open cases whose
        // first event is still pending.
        let started = engine.started_cases();
        assert!(seen.iter().all(|&id| id >= 1 && id <= started));
        let unseen = started as usize - seen.len();
        assert!(unseen <= engine.open_cases(), "{unseen} ids never appeared");
    }

    #[test]
    fn the_clock_stops_at_the_last_writable_instant_instead_of_wrapping() {
        let mut set = ConfigSet::new();
        set.add_str(
            "huge.yaml",
            "kind: datasource\nname: \"<start>\"\nspec: {name: \"<start>\", selection: uniform, eventData: [{activity: \"\", transition: A, duration: 0}]}\n---\nkind: datasource\nname: A\nspec: {name: A, selection: uniform, eventData: [{activity: a, transition: A, duration: 1e15}]}\n",
        );
        let chain = Chain::compile(&set).unwrap();
        let mut engine = Engine::new(&chain, 1, time::MAX_MS - 1000, 3);
        let mut last = i64::MIN;
        for _ in 0..100 {
            let event = engine.next_event();
            assert!(event.timestamp_ms >= last && event.timestamp_ms <= time::MAX_MS);
            last = event.timestamp_ms;
        }
        assert!(engine.clock_exhausted());
        let mut writer = time::TimestampWriter::new(time::TimestampFormat::Iso8601);
        assert_eq!(writer.format(last), "9999-12-31T23:59:59.999+00:00");
    }

    #[test]
    fn shards_number_their_cases_apart_and_draw_apart() {
        let chain = chain();
        let take = |shard: Shard| {
            let mut engine = Engine::for_shard(&chain, 9, 0, 5, shard);
            let events: Vec<(i64, u64, u32)> = (0..2000)
                .map(|_| {
                    let e = engine.next_event();
                    (e.timestamp_ms, e.case, e.node.index)
                })
                .collect();
            (events, engine.started_cases())
        };
        // Shard 0 of any N walks exactly like the whole run, under other case numbers.
        let (whole, _) = take(Shard::WHOLE);
        let (first, _) = take(Shard::new(0, 3).unwrap());
        let renumbered: Vec<_> = whole
            .iter()
            .map(|&(t, c, n)| (t, 3 * (c - 1) + 1, n))
            .collect();
        assert_eq!(first, renumbered);
        for k in 0..3 {
            let (events, started) = take(Shard::new(k, 3).unwrap());
            assert!(events.iter().all(|e| (e.1 - 1) % 3 == k));
            let max = events.iter().map(|e| e.1).max().unwrap();
            assert!(max <= 3 * (started - 1) + k + 1);
        }
        // Another shard's random stream: another walk.
        let (second, _) = take(Shard::new(1, 3).unwrap());
        let times = |e: &[(i64, u64, u32)]| e.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>();
        assert_ne!(times(&first), times(&second));
    }

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let chain = chain();
        let take = |seed| {
            let mut engine = Engine::new(&chain, seed, 0, 5);
            (0..1000)
                .map(|_| {
                    let e = engine.next_event();
                    (
                        e.timestamp_ms,
                        e.case,
                        e.node.index,
                        e.activity().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(take(42), take(42));
        assert_ne!(take(42), take(43));
    }
}
