//! The network: what sensors' clocks and the links to the sinks do to events, between the
//! engine and the sinks (docs/realism.md).
//!
//! A run with `kind: network` documents sends every generated event through a [`Stage`]. The
//! stage numbers the event (`eventId`), applies the effects of its datasource's network —
//! content noise first (truncate, swap, rename: what the sensor records), then the node's
//! clock (skew), then transmission (drop, duplicate, outage, delay) — and holds the copies
//! that survive in a queue keyed by **arrival time** (then a tie-break, see `order`; the
//! queue is `arrivals.rs`). An event leaves the queue once nothing that is still to come can
//! arrive before it: when the watermark — the engine's clock, or the wall clock of a
//! `clock: wall` stream — has passed its arrival. So the sinks see events in arrival order,
//! and the order is a pure function of the seed: the ground truth ([`truth`]) can replay it
//! exactly.
//!
//! That rests on one rule: **no copy leaves the sensor before a copy already delivered has
//! arrived.** A copy leaves at the engine's clock (its event's true time); an event swapped
//! with its case's next one cannot be written before that one has happened, so both leave
//! then (an event waiting for its partner holds back nothing else). A copy that leaves at the
//! very instant a delivered one arrived is placed by the newest event's id, after it. So
//! every copy put in the queue sorts after every copy already delivered, and the stream
//! leaves in key order. That is why the copy that closes a case is known when the engine
//! finishes the case, without counting each case's copies as they arrive.
//!
//! The stage has its own random stream (the run's seed, [long-jumped] past the engine's), so
//! with no network document nothing changes, and with one the generated (clean) stream is the
//! same as without it.
//!
//! [long-jumped]: rand_xoshiro::Xoshiro256PlusPlus::long_jump

mod arrivals;
pub mod truth;

use crate::config::network::NetworkSpec;
use crate::config::{ConfigSet, DurationSpec};
use crate::engine::{Event, MaybeMs};
use crate::model::{Chain, DurationSampler, Text};
use crate::shard::Shard;
use crate::sink::{SinkError, SinkSet};
use arrivals::Arrivals;
use rand::{RngExt, SeedableRng};
use rand_distr::Exp1;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroU64;
use truth::{Fault, Truth};

/// Seconds to the minutes a [`DurationSampler`] samples.
const MINUTES_PER_SECOND: f64 = 1.0 / 60.0;
/// Milliseconds per second.
const MS_PER_SECOND: f64 = 1000.0;

/// The compiled effects of one network document.
#[derive(Clone, Debug)]
pub struct Effects {
    /// The document's name.
    pub name: String,
    /// Clock offset (ms) and drift (ppm).
    pub skew: Option<(f64, f64)>,
    pub delay: Option<Delay>,
    pub duplicate: f64,
    pub drop: f64,
    /// Time between outages and their length.
    pub outage: Option<(DurationSampler, DurationSampler)>,
    pub rename: f64,
    pub swap: f64,
    pub truncate: f64,
}

impl Effects {
    fn compile(name: &str, spec: &NetworkSpec) -> Effects {
        let seconds = |d: &DurationSpec| DurationSampler::compile(&d.scaled(MINUTES_PER_SECOND));
        Effects {
            name: name.to_string(),
            skew: spec
                .clock
                .map(|c| (c.offset_secs * MS_PER_SECOND, c.drift_ppm)),
            delay: spec.delay.as_ref().map(|d| match *d {
                DurationSpec::Exponential { mean } => Delay::Exponential {
                    mean_ms: mean * MS_PER_SECOND,
                },
                _ => Delay::Sampled(seconds(d)),
            }),
            duplicate: spec.duplicate,
            drop: spec.drop,
            outage: spec
                .outage
                .as_ref()
                .map(|o| (seconds(&o.every), seconds(&o.lasting))),
            rename: spec.rename_activity,
            swap: spec.swap_adjacent,
            truncate: spec.truncate,
        }
    }
}

/// A network's delay distribution. The exponential, the common model of transmission time,
/// is sampled here with its own call site: behind the shared [`DurationSampler::sample_ms`]
/// its calls took turns with the engine's at one indirect branch, and both mispredicted.
#[derive(Clone, Debug)]
pub enum Delay {
    Exponential { mean_ms: f64 },
    Sampled(DurationSampler),
}

impl Delay {
    /// A delay in whole milliseconds (rounded half up, as durations are), never negative.
    #[inline]
    fn sample_ms(&self, rng: &mut Xoshiro256PlusPlus) -> i64 {
        match self {
            Delay::Exponential { mean_ms } => {
                let x: f64 = rng.sample(Exp1);
                (x * mean_ms + 0.5) as i64
            }
            Delay::Sampled(d) => d.sample_ms(rng),
        }
    }
}

/// A sequence of independent trials that each succeed with probability `p`, drawn as the
/// gaps between successes (geometric, `P(gap = k) = (1 - p)^k p`): one draw per success
/// instead of one per trial. With `p` of a percent or so, that takes most of the network's
/// random draws off the per-event path; the successes are distributed exactly as with a
/// uniform draw per trial (only the random stream is consumed differently).
#[derive(Clone, Copy, Debug)]
struct Trials {
    /// Trials still to fail before the next success.
    left: u64,
    /// `1 / ln(1 - p)` (negative; -0 when `p` is 1: every trial succeeds).
    scale: f64,
}

impl Trials {
    /// Trials of probability `p` in (0, 1], the first gap drawn; `None` when `p` is 0 (never).
    fn new(p: f64, rng: &mut Xoshiro256PlusPlus) -> Option<Trials> {
        if p <= 0.0 {
            return None;
        }
        let mut trials = Trials {
            left: 0,
            scale: 1.0 / (-p.min(1.0)).ln_1p(),
        };
        trials.left = trials.gap(rng);
        Some(trials)
    }

    /// A geometric gap by inversion: `floor(ln V / ln(1 - p))`, `V` uniform in (0, 1], so
    /// `P(gap >= k) = P(V <= (1 - p)^k) = (1 - p)^k`. The float-to-int cast saturates.
    #[inline]
    fn gap(&self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        let v = 1.0 - rng.random::<f64>();
        (v.ln() * self.scale) as u64
    }

    /// The next trial: whether it succeeds.
    #[inline]
    fn hit(&mut self, rng: &mut Xoshiro256PlusPlus) -> bool {
        if self.left > 0 {
            self.left -= 1;
            false
        } else {
            self.left = self.gap(rng);
            true
        }
    }
}

/// The trials of one network document's per-event (and per-case) probabilities.
#[derive(Clone, Copy, Debug)]
struct Draws {
    truncate: Option<Trials>,
    swap: Option<Trials>,
    rename: Option<Trials>,
    drop: Option<Trials>,
    duplicate: Option<Trials>,
}

impl Draws {
    fn new(fx: &Effects, rng: &mut Xoshiro256PlusPlus) -> Draws {
        Draws {
            truncate: Trials::new(fx.truncate, rng),
            swap: Trials::new(fx.swap, rng),
            rename: Trials::new(fx.rename, rng),
            drop: Trials::new(fx.drop, rng),
            duplicate: Trials::new(fx.duplicate, rng),
        }
    }
}

/// The next trial of `trials`, if the effect is on.
#[inline]
fn hit(trials: &mut Option<Trials>, rng: &mut Xoshiro256PlusPlus) -> bool {
    trials.as_mut().is_some_and(|t| t.hit(rng))
}

/// The networks of a run, compiled over a chain: which effects apply to each node.
#[derive(Clone, Debug)]
pub struct Plan {
    pub effects: Vec<Effects>,
    /// `by_node[n]`: the index in `effects` of node `n`'s network, if it has one.
    pub by_node: Vec<Option<u32>>,
    /// `alternatives[n]`: node `n`'s edges with distinct activities (what a rename picks from).
    alternatives: Vec<Vec<u32>>,
}

impl Plan {
    /// The networks of a validated config set; `None` when it has none (and `always` is
    /// false: a truth to write needs event ids even without effects), so that a run without
    /// them takes the engine's events straight to the sinks.
    pub fn compile(set: &ConfigSet, chain: &Chain, always: bool) -> Option<Plan> {
        if set.networks.is_empty() && !always {
            return None;
        }
        let mut by_node = vec![None; chain.nodes.len()];
        let mut effects = Vec::new();
        for doc in &set.networks {
            let spec = &doc.spec;
            let index = effects.len() as u32;
            effects.push(Effects::compile(&doc.name.value, spec));
            for node in &chain.nodes {
                let named = spec
                    .datasources
                    .iter()
                    .any(|r| r.value == node.name.as_str() || r.value == node.doc_name);
                let grouped = spec.groups.iter().any(|g| g.value == node.group.as_str());
                // Validation refuses a node matched twice; the first match wins otherwise.
                if (named || grouped) && by_node[node.index as usize].is_none() {
                    by_node[node.index as usize] = Some(index);
                }
            }
        }
        let alternatives = chain
            .nodes
            .iter()
            .map(|node| {
                let mut distinct: Vec<u32> = Vec::new();
                for (i, edge) in node.edges.iter().enumerate() {
                    if !distinct
                        .iter()
                        .any(|&j| node.edges[j as usize].activity == edge.activity)
                    {
                        distinct.push(i as u32);
                    }
                }
                distinct
            })
            .collect();
        Some(Plan {
            effects,
            by_node,
            alternatives,
        })
    }
}

/// Where the stage delivers: the sinks of a run, or a counter in the analysis.
pub trait Receiver {
    type Error;
    /// Takes one delivered event.
    ///
    /// # Errors
    /// The receiver failed.
    fn deliver(&mut self, event: &Event<'_>) -> Result<(), Self::Error>;
    /// A case is over but its last delivered event did not close it (its closing events were
    /// lost): a receiver that holds events per case lets go of this one.
    ///
    /// # Errors
    /// The receiver failed.
    fn case_closed(&mut self, case: u64) -> Result<(), Self::Error>;
}

impl Receiver for SinkSet {
    type Error = SinkError;

    #[inline(always)]
    fn deliver(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        self.dispatch(event)
    }

    fn case_closed(&mut self, case: u64) -> Result<(), SinkError> {
        SinkSet::case_closed(self, case)
    }
}

/// Where a copy of an event stands in the delivered stream: by arrival, then its order
/// ([`order`] plus the copy), unique. Ids start at 1, so [`Key::NONE`] is below every key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    arrival_ms: i64,
    order: u64,
}

impl Key {
    /// Below every key.
    const NONE: Key = Key {
        arrival_ms: i64::MIN,
        order: 0,
    };
}

/// A copy of an event on its way, ordered by its key; the event itself waits in the slab at
/// `slot`, so that the queue moves 24 bytes, not 100. The key's fields are flat rather than a
/// nested [`Key`]: the derived comparison of the nested form cost ~40 instructions an event
/// at 1,000 open cases (cachegrind), where the queue compares most.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    arrival_ms: i64,
    order: u64,
    slot: u32,
}

impl InFlight {
    #[inline(always)]
    fn new(key: Key, slot: u32) -> InFlight {
        InFlight {
            arrival_ms: key.arrival_ms,
            order: key.order,
            slot,
        }
    }

    #[inline(always)]
    fn key(&self) -> Key {
        Key {
            arrival_ms: self.arrival_ms,
            order: self.order,
        }
    }
}

/// The events in flight, by slot; freed slots are reused.
#[derive(Default)]
struct Slab<'c> {
    events: Vec<Event<'c>>,
    free: Vec<u32>,
}

impl<'c> Slab<'c> {
    #[inline]
    fn put(&mut self, event: Event<'c>) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.events[slot as usize] = event;
                slot
            }
            None => {
                self.events.push(event);
                (self.events.len() - 1) as u32
            }
        }
    }

    #[inline]
    fn take(&mut self, slot: u32) -> Event<'c> {
        *self.lend(slot)
    }

    /// The event at `slot`, freed but not moved out: it may be changed and read until the
    /// next `put`.
    #[inline]
    fn lend(&mut self, slot: u32) -> &mut Event<'c> {
        self.free.push(slot);
        &mut self.events[slot as usize]
    }
}

/// Which end of a case a truncation takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Head,
    Tail,
}

/// What the stage knows of a case the engine has not finished: 24 bytes (a table of them is
/// looked up at random, one per event, and with 1,000 open cases it shares the L1 cache).
#[derive(Clone, Copy, Debug)]
struct CaseState {
    /// The greatest key of the case's copies sent so far (or [`Key::NONE`]): the copy that
    /// will be delivered last (the stream is delivered in key order).
    last: Key,
    /// An event waiting for the case's next one, to trade times with it: its slot in the
    /// slab, or [`NOT_HELD`].
    held: u32,
    truncate: Option<Side>,
}

/// No event of the case is held.
const NOT_HELD: u32 = u32::MAX;

impl CaseState {
    /// The slot of the event held for a swap, if any; none is held after.
    #[inline(always)]
    fn take_held(&mut self) -> Option<u32> {
        let slot = std::mem::replace(&mut self.held, NOT_HELD);
        (slot != NOT_HELD).then_some(slot)
    }
}

/// A node's outage schedule: the current (or next) outage, `[start, end)`.
#[derive(Clone, Copy, Debug)]
struct Outage {
    start: i64,
    end: i64,
}

impl Outage {
    /// The first outage after this one that ends after `t`, when outages start `every` ms
    /// (at least 1) after the previous one ended and last `lasting` ms: what stepping from
    /// one to the next gives, in one step.
    fn periodic_at(self, every: i64, lasting: i64, t: i64) -> Outage {
        // Times are within the clock's bounds (|t| < 2^49 ms): only a start far past them
        // can overflow, and it saturates.
        let gap = every.max(1);
        let period = gap.saturating_add(lasting);
        let first = self.end.saturating_add(gap);
        let behind = t.saturating_sub(first.saturating_add(lasting));
        // Mostly the next period or the one after: no division for those.
        let k = if behind < 0 {
            0
        } else if behind < period {
            1
        } else {
            behind / period + 1
        };
        let start = first.saturating_add(k.saturating_mul(period));
        Outage {
            start,
            end: start.saturating_add(lasting),
        }
    }
}

/// What a stage did, for the run's report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkReport {
    /// Events generated (each with its own `eventId`).
    pub generated: u64,
    /// Copies delivered to the sinks.
    pub delivered: u64,
    /// Events lost (dropped or truncated).
    pub lost: u64,
    /// Extra copies (duplicates).
    pub duplicated: u64,
}

/// The network stage of a run (see the module docs).
pub struct Stage<'c> {
    /// What happens on the way: the effects, the random stream, the queue of copies.
    link: Link<'c>,
    /// What the stage knows of each open case, by the engine's slot for it.
    cases: Vec<Option<CaseState>>,
    next_id: u64,
    /// Which part of the workload this stage carries: event ids follow its numbering.
    shard: Shard,
    /// The latest generation time seen.
    clock: i64,
    /// The latest watermark released up to: every copy delivered arrived before it.
    released_to: i64,
    /// Events taken by [`Stage::carry_deferred`] since it last delivered.
    deferred: u32,
}

/// How many events [`Stage::carry_deferred`] takes between deliveries.
const DEFER: u32 = 32;

/// The stage apart from its case table, so that both can be borrowed at once.
struct Link<'c> {
    plan: &'c Plan,
    chain: &'c Chain,
    rng: Xoshiro256PlusPlus,
    start_ms: i64,
    queue: Arrivals,
    slab: Slab<'c>,
    /// The keys of the copies that close their cases when delivered: each the last copy of a
    /// finished case still on its way.
    closing: BinaryHeap<Reverse<Key>>,
    /// The key of the copy delivered last ([`Key::NONE`] before the first).
    delivered_up_to: Key,
    outages: Vec<Option<Outage>>,
    /// `draws[i]`: the trials of `plan.effects[i]`.
    draws: Vec<Draws>,
    truth: Option<Truth>,
    report: NetworkReport,
}

impl<'c> Stage<'c> {
    /// A stage for a run of `chain` with `seed` from `start_ms`, writing the ground truth to
    /// `truth` if given. For a shard K of N (`--shard`), the random stream is jumped K·2^128
    /// draws further and event ids are numbered as cases are (K+1, K+1+N, ...), so that no two
    /// shards share a fault draw or an `eventId`.
    pub fn new(
        plan: &'c Plan,
        chain: &'c Chain,
        seed: u64,
        start_ms: i64,
        truth: Option<Truth>,
        shard: Shard,
    ) -> Stage<'c> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        // Past the engine's stream (whose shards start at K·2^128 < 2^192 draws): the clean
        // events do not depend on the network.
        rng.long_jump();
        shard.jump(&mut rng);
        let draws = plan
            .effects
            .iter()
            .map(|fx| Draws::new(fx, &mut rng))
            .collect();
        Stage {
            link: Link {
                plan,
                chain,
                rng,
                start_ms,
                queue: Arrivals::default(),
                slab: Slab::default(),
                closing: BinaryHeap::new(),
                delivered_up_to: Key::NONE,
                outages: vec![None; chain.nodes.len()],
                draws,
                truth,
                report: NetworkReport::default(),
            },
            cases: Vec::new(),
            next_id: 0,
            shard,
            clock: i64::MIN,
            released_to: i64::MIN,
            deferred: 0,
        }
    }

    /// The latest generation time seen (the engine's clock).
    pub fn clock(&self) -> i64 {
        self.clock
    }

    /// The earliest arrival among the events in flight.
    pub fn next_arrival(&self) -> Option<i64> {
        self.link.queue.peek().map(|f| f.arrival_ms)
    }

    /// What the stage did so far.
    pub fn report(&self) -> &NetworkReport {
        &self.link.report
    }

    /// The chain the stage carries events of.
    pub fn chain(&self) -> &'c Chain {
        self.link.chain
    }

    /// Takes one event from the engine and delivers what has arrived by the engine's clock.
    ///
    /// # Errors
    /// The receiver failed.
    #[inline(always)]
    pub fn carry<R: Receiver>(&mut self, event: Event<'c>, to: &mut R) -> Result<(), R::Error> {
        self.push(event, to)?;
        self.release(self.clock, to)
    }

    /// As [`Stage::carry`], but delivers only every few events, and before an event that ends
    /// its case (whose closing depends on what has been delivered): for a countBased run,
    /// where the sinks see the same sequence either way (copies leave in key order, and a
    /// case that closes without a copy on its way closes at the same place), and what counts
    /// is not the moment of delivery. One delivery loop over a few copies instead of one
    /// per event, whose end the branch predictor cannot know.
    ///
    /// # Errors
    /// The receiver failed.
    #[inline(always)]
    pub fn carry_deferred<R: Receiver>(
        &mut self,
        event: Event<'c>,
        to: &mut R,
    ) -> Result<(), R::Error> {
        self.deferred += 1;
        if self.deferred >= DEFER || event.closes_case {
            self.deferred = 0;
            // What `carry` would have delivered after the previous event.
            self.release(self.clock, to)?;
        }
        self.push(event, to)
    }

    /// Takes one event from the engine (in generation order) without delivering anything.
    ///
    /// # Errors
    /// The receiver failed (told of a case that closed without a delivered event).
    #[inline(always)]
    pub fn push<R: Receiver>(&mut self, mut event: Event<'c>, to: &mut R) -> Result<(), R::Error> {
        self.next_id += 1;
        let link = &mut self.link;
        link.report.generated += 1;
        let id = self.shard.global(self.next_id);
        event.event_id = NonZeroU64::new(id);
        if let Some(truth) = &mut link.truth {
            truth.clean(&event);
        }
        self.clock = self.clock.max(event.timestamp_ms);
        let fx = link.plan.by_node[event.node.index as usize].map(|i| i as usize);
        let ends = event.closes_case;
        // Whether the delivered stream closes the case is the stage's to say.
        event.closes_case = false;
        let case = event.case;
        let slot = event.slot as usize;
        if slot >= self.cases.len() {
            self.cases.resize(slot + 1, None);
        }
        // The engine reuses a slot only after its case ended, which emptied it here.
        let first = self.cases[slot].is_none();
        let state = self.cases[slot].get_or_insert(CaseState {
            last: Key::NONE,
            held: NOT_HELD,
            truncate: None,
        });
        if first {
            if let Some(fx) = fx {
                if hit(&mut link.draws[fx].truncate, &mut link.rng) {
                    state.truncate = Some(if link.rng.random::<f64>() < 0.5 {
                        Side::Head
                    } else {
                        Side::Tail
                    });
                }
            }
        }
        let truncated = match state.truncate {
            Some(Side::Head) => first,
            Some(Side::Tail) => ends,
            None => false,
        };
        // Copies leave the sensor at the engine's clock: the time of this event, which is
        // also when an event held for a swap learns its partner's fate.
        let now = event.timestamp_ms;
        let sent = if truncated {
            link.report.lost += 1;
            link.fault(id, || Fault::Truncate {
                head: state.truncate == Some(Side::Head),
            });
            match state.take_held() {
                // Its partner is lost: it leaves unswapped, now, in the partner's place.
                Some(slot) => link.send_unswapped(slot, now, Some(id)),
                None => Key::NONE,
            }
        } else if let Some(slot) = state.take_held() {
            let mut held = link.slab.take(slot);
            let (a, b) = (held.timestamp_ms, now);
            held.timestamp_ms = b;
            event.timestamp_ms = a;
            let held_id = id_of(&held);
            let swap = |with, timestamp_ms| Fault::Swap {
                with: Some(with),
                timestamp_ms,
                sent_ms: b,
            };
            link.fault(held_id, || swap(id, b));
            link.fault(id, || swap(held_id, a));
            // Both leave now, the one that took the earlier time first.
            let first = link.send(event, b, order(id, Rank::Own));
            first.max(link.send(held, b, order(id, Rank::AfterPartner)))
        } else if !ends && fx.is_some_and(|fx| hit(&mut link.draws[fx].swap, &mut link.rng)) {
            state.held = link.slab.put(event);
            Key::NONE
        } else {
            link.send(event, now, order(id, Rank::Own))
        };
        state.last = state.last.max(sent);
        if ends {
            // The engine is done with the case (and holds nothing of it back: its last event
            // took any held one along). Its last copy closes it; if none is left on the way,
            // its closing events were lost, and the receiver hears it now.
            let last = state.last;
            self.cases[slot] = None;
            if last > link.delivered_up_to {
                link.closing.push(Reverse(last));
            } else {
                return to.case_closed(case);
            }
        }
        Ok(())
    }

    /// Delivers, in arrival order, every event that arrives before `watermark_ms`: the
    /// engine's clock, or the wall clock of a real-time stream. Every copy still to come
    /// leaves at or after it (events are generated in time order), so none can arrive
    /// earlier.
    ///
    /// # Errors
    /// The receiver failed.
    #[inline(always)]
    pub fn release<R: Receiver>(&mut self, watermark_ms: i64, to: &mut R) -> Result<(), R::Error> {
        self.released_to = self.released_to.max(watermark_ms);
        while let Some(flight) = self.link.queue.pop_before(watermark_ms) {
            self.deliver(flight, to)?;
        }
        Ok(())
    }

    /// Ends the run: the events held for a swap leave unswapped, now, and everything in
    /// flight arrives, in order.
    ///
    /// # Errors
    /// The receiver failed.
    pub fn finish<R: Receiver>(&mut self, to: &mut R) -> Result<(), R::Error> {
        // In id order, so that the run's end does not depend on the table's order.
        let slab = &self.link.slab;
        let mut held: Vec<(u64, usize)> = self
            .cases
            .iter()
            .enumerate()
            .filter_map(|(case_slot, s)| {
                s.filter(|s| s.held != NOT_HELD)
                    .map(|s| (id_of(&slab.events[s.held as usize]), case_slot))
            })
            .collect();
        held.sort_unstable();
        // After everything delivered so far: in a real-time stream the wall clock may have
        // passed the last event's time.
        let now = self.clock.max(self.released_to);
        for (_, case_slot) in held {
            if let Some(state) = &mut self.cases[case_slot] {
                if let Some(slot) = state.take_held() {
                    state.last = state.last.max(self.link.send_unswapped(slot, now, None));
                }
            }
        }
        while let Some(flight) = self.link.queue.pop() {
            self.deliver(flight, to)?;
        }
        Ok(())
    }

    /// Finishes writing the ground truth.
    ///
    /// # Errors
    /// A truth file could not be written.
    pub fn close_truth(&mut self) -> std::io::Result<()> {
        match self.link.truth.take() {
            Some(truth) => truth.close(),
            None => Ok(()),
        }
    }

    #[inline(always)]
    fn deliver<R: Receiver>(&mut self, flight: InFlight, to: &mut R) -> Result<(), R::Error> {
        let (key, slot) = (flight.key(), flight.slot);
        // Delivered from its slot, not moved out: the slot is free again once this returns.
        let event = self.link.slab.lend(slot);
        event.arrival_ms = MaybeMs::some(key.arrival_ms);
        // Copies leave in key order (every key pushed is above every key delivered), so the
        // last copy of a finished case is known when the case finishes.
        let closing = &mut self.link.closing;
        debug_assert!(
            key > self.link.delivered_up_to
                && closing.peek().is_none_or(|Reverse(next)| *next >= key),
            "copies left out of key order"
        );
        if closing.peek() == Some(&Reverse(key)) {
            closing.pop();
            event.closes_case = true;
        }
        self.link.delivered_up_to = key;
        self.link.report.delivered += 1;
        to.deliver(event)
    }
}

impl<'c> Link<'c> {
    /// Records a fault in the truth, if one is written; made only then.
    #[inline(always)]
    fn fault<'f>(&mut self, id: u64, fault: impl FnOnce() -> Fault<'f>) {
        if let Some(truth) = &mut self.truth {
            truth.fault(id, &fault());
        }
    }

    /// An event held for a swap whose partner never came: it leaves unswapped at `sent_ms`,
    /// right after its partner's place if it had one (lost to truncation), else at its own
    /// (the run ended first).
    fn send_unswapped(&mut self, slot: u32, sent_ms: i64, partner: Option<u64>) -> Key {
        let held = self.slab.take(slot);
        let id = id_of(&held);
        self.fault(id, || Fault::Swap {
            with: partner,
            timestamp_ms: held.timestamp_ms,
            sent_ms,
        });
        let order = partner.map_or(order(id, Rank::Own), |p| order(p, Rank::AfterPartner));
        self.send(held, sent_ms, order)
    }

    /// The sensor's clock and the link: rename, skew, drop, duplicate, outage, delay; then the
    /// surviving copies go into the queue, leaving at `sent` (true time, never before a
    /// delivered copy's arrival), each keyed `order + copy`. Returns the greatest key among them
    /// ([`Key::NONE`] if none).
    #[inline(always)]
    fn send(&mut self, mut event: Event<'c>, sent: i64, order: u64) -> Key {
        let id = id_of(&event);
        let plan: &'c Plan = self.plan;
        let node = event.node.index as usize;
        let Some(index) = plan.by_node[node] else {
            return self.push_copy(event, sent, order);
        };
        let index = index as usize;
        let fx = &plan.effects[index];
        if self.draws[index].rename.is_some() {
            let choices = &plan.alternatives[node];
            // Only events with another activity to take are trials.
            if choices.len() > 1 && hit(&mut self.draws[index].rename, &mut self.rng) {
                let edges = &event.node.edges;
                let at = choices
                    .iter()
                    .position(|&e| edges[e as usize].activity == *event.label)
                    .unwrap_or(0);
                let mut pick = self.rng.random_range(0..choices.len() - 1);
                if pick >= at {
                    pick += 1;
                }
                let to: &'c Text = &edges[choices[pick] as usize].activity;
                self.fault(id, || Fault::Rename {
                    from: event.label.as_str(),
                    to: to.as_str(),
                });
                event.label = to;
            }
        }
        if let Some((offset_ms, ppm)) = fx.skew {
            // The clock errs on the time it writes (a swapped event's is its partner's).
            let written = event.timestamp_ms;
            let since = (written - self.start_ms) as f64;
            let skew = round(offset_ms + since * ppm * 1e-6);
            event.timestamp_ms = written
                .saturating_add(skew)
                .clamp(crate::time::MIN_MS, crate::time::MAX_MS);
            self.fault(id, || Fault::Skew {
                skew_ms: skew,
                timestamp_ms: event.timestamp_ms,
            });
        }
        if hit(&mut self.draws[index].drop, &mut self.rng) {
            self.report.lost += 1;
            self.fault(id, || Fault::Drop);
            return Key::NONE;
        }
        let copies = if hit(&mut self.draws[index].duplicate, &mut self.rng) {
            self.report.duplicated += 1;
            self.fault(id, || Fault::Duplicate);
            2
        } else {
            1
        };
        let mut leaves = sent;
        if let Some((every, lasting)) = &fx.outage {
            // Before the node's next outage (the common case): nothing to look up.
            let ahead = self.outages[node].is_some_and(|o| sent < o.start);
            if let Some(outage) = (!ahead)
                .then(|| self.outage_at(node, every, lasting, sent))
                .flatten()
            {
                leaves = outage.end;
                self.fault(id, || Fault::Outage {
                    start_ms: outage.start,
                    end_ms: outage.end,
                });
            }
        }
        let mut last = Key::NONE;
        for copy in 0..copies {
            let arrival = match &fx.delay {
                Some(delay) => {
                    let ms = delay.sample_ms(&mut self.rng);
                    let arrival = leaves.saturating_add(ms);
                    self.fault(id, || Fault::Delay {
                        copy,
                        delay_ms: ms,
                        arrival_ms: arrival,
                    });
                    arrival
                }
                None => leaves,
            };
            last = last.max(self.push_copy(event, arrival, order + u64::from(copy)));
        }
        last
    }

    /// The outage node `node` is in at `t`, if any; moves its schedule along.
    fn outage_at(
        &mut self,
        node: usize,
        every: &DurationSampler,
        lasting: &DurationSampler,
        t: i64,
    ) -> Option<Outage> {
        let mut current = match self.outages[node] {
            Some(o) => o,
            None => {
                let start = self.start_ms.saturating_add(every.sample_ms(&mut self.rng));
                Outage {
                    start,
                    end: start.saturating_add(lasting.sample_ms(&mut self.rng)),
                }
            }
        };
        if let (DurationSampler::Constant(every), DurationSampler::Constant(lasting)) =
            (every, lasting)
        {
            // A fixed period: the outage `t` falls in, or the next, found by arithmetic.
            // Between two events of a node hours of event time may pass, and stepping
            // through every period cost more than the rest of the network together.
            if t >= current.end && current.end < crate::time::MAX_MS {
                current = current.periodic_at(*every, *lasting, t);
            }
        } else {
            while t >= current.end && current.end < crate::time::MAX_MS {
                let start = current
                    .end
                    .saturating_add(every.sample_ms(&mut self.rng).max(1));
                current = Outage {
                    start,
                    end: start.saturating_add(lasting.sample_ms(&mut self.rng)),
                };
            }
        }
        self.outages[node] = Some(current);
        (current.start <= t && t < current.end).then_some(current)
    }

    #[inline(always)]
    fn push_copy(&mut self, event: Event<'c>, arrival_ms: i64, order: u64) -> Key {
        let key = Key { arrival_ms, order };
        let slot = self.slab.put(event);
        self.queue.push(InFlight::new(key, slot));
        key
    }
}

/// Rounds half away from zero, as `f64::round`, without its libm call on baseline x86-64.
#[inline]
fn round(x: f64) -> i64 {
    if x >= 0.0 {
        (x + 0.5) as i64
    } else {
        -((0.5 - x) as i64)
    }
}

/// Where a copy goes among copies that arrive at the same instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rank {
    /// At its own `eventId`.
    Own,
    /// Just after the event with the given id (the first of a swapped pair, after the
    /// second, whose time it took).
    AfterPartner,
}

/// The key order of copy 0 of an event placed at `id` (copy 1 is one more): `id * 4`, plus 2
/// right after the copies of `id`'s own event.
#[inline(always)]
fn order(id: u64, rank: Rank) -> u64 {
    id * 4 + if rank == Rank::AfterPartner { 2 } else { 0 }
}

fn id_of(event: &Event<'_>) -> u64 {
    event.event_id.map_or(0, NonZeroU64::get)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use std::convert::Infallible;

    /// Keeps (arrival, id, closes) of every delivered event, and the cases closed without one.
    #[derive(Default)]
    struct Keep {
        delivered: Vec<(i64, u64, u64, bool)>,
        closed: Vec<u64>,
    }

    impl Receiver for Keep {
        type Error = Infallible;
        fn deliver(&mut self, e: &Event<'_>) -> Result<(), Infallible> {
            let id = id_of(e);
            self.delivered.push((
                e.arrival_ms.get().unwrap_or(i64::MIN),
                id,
                e.case,
                e.closes_case,
            ));
            Ok(())
        }
        fn case_closed(&mut self, case: u64) -> Result<(), Infallible> {
            self.closed.push(case);
            Ok(())
        }
    }

    fn set(network: &str) -> ConfigSet {
        let mut set = ConfigSet::new();
        // Zero durations: every event of a run happens at the same instant, so only the
        // tie-breaks order them.
        set.add_str(
            "ties.yaml",
            &format!(
                "kind: datasource\nname: \"<start>\"\nspec: {{name: \"<start>\", selection: uniform, eventData: [{{activity: \"\", transition: A, duration: 0}}]}}\n---\nkind: datasource\nname: A\nspec: {{name: A, group: g, selection: genericProbability, distribution: [0.7, 0.3], eventData: [{{activity: a, transition: A, duration: 0}}, {{activity: z, transition: \"<end>\", duration: 0}}]}}\n---\nkind: network\nname: n\nspec: {network}\n"
            ),
        );
        assert!(!set.validate().has_errors(), "{}", set.validate().render());
        set
    }

    fn deliver_all(set: &ConfigSet, events: usize) -> Keep {
        let chain = Chain::compile(set).unwrap();
        let plan = Plan::compile(set, &chain, false).unwrap();
        let mut engine = Engine::new(&chain, 3, 0, 7);
        let mut stage = Stage::new(&plan, &chain, 3, 0, None, Shard::WHOLE);
        let mut keep = Keep::default();
        for _ in 0..events {
            let Ok(()) = stage.carry(engine.next_event(), &mut keep);
        }
        let Ok(()) = stage.finish(&mut keep);
        keep
    }

    #[test]
    fn ties_leave_in_id_order_and_each_finished_case_closes_once() {
        let keep = deliver_all(
            &set("{groups: [g], swapAdjacent: 0.5, duplicate: 0.5, drop: 0.2, truncate: 0.5}"),
            20_000,
        );
        // By arrival, then id, except that the first of a swapped pair comes right after its
        // partner (one case's events).
        let mut swapped = 0;
        for w in keep.delivered.windows(2) {
            assert!(w[0].0 <= w[1].0, "out of order: {w:?}");
            if w[0].0 == w[1].0 && w[0].1 > w[1].1 {
                assert_eq!(w[0].2, w[1].2, "ids out of order across cases: {w:?}");
                swapped += 1;
            }
        }
        assert!(swapped > 1000, "{swapped}");
        // A case is closed once: by its last delivered event, or by word that nothing of it
        // is left on the way.
        let mut closed: Vec<u64> = keep
            .delivered
            .iter()
            .filter(|d| d.3)
            .map(|d| d.2)
            .chain(keep.closed.iter().copied())
            .collect();
        let n = closed.len();
        closed.sort_unstable();
        closed.dedup();
        assert_eq!(closed.len(), n, "a case closed twice");
        // No event of a closed case comes after its closing.
        for (i, d) in keep.delivered.iter().enumerate().filter(|(_, d)| d.3) {
            assert!(keep.delivered[i + 1..].iter().all(|later| later.2 != d.2));
        }
    }

    /// A one-node chain whose events take `duration` (minutes; a case goes on with
    /// probability 0.8), behind `network`.
    fn timed(duration: &str, network: &str) -> ConfigSet {
        let mut set = ConfigSet::new();
        set.add_str(
            "timed.yaml",
            &format!(
                "kind: datasource\nname: \"<start>\"\nspec: {{name: \"<start>\", selection: uniform, eventData: [{{activity: \"\", transition: A, duration: 1}}]}}\n---\nkind: datasource\nname: A\nspec: {{name: A, group: g, selection: genericProbability, distribution: [0.8, 0.2], eventData: [{{activity: a, transition: A, duration: {duration}}}, {{activity: z, transition: \"<end>\", duration: 1}}]}}\n---\nkind: network\nname: n\nspec: {network}\n"
            ),
        );
        assert!(!set.validate().has_errors(), "{}", set.validate().render());
        set
    }

    #[test]
    fn an_event_waiting_for_its_swap_partner_holds_back_no_other() {
        // Every eligible event waits for its case's next one (p = 1); events take a minute.
        let set = timed("1", "{groups: [g], swapAdjacent: 1.0}");
        let chain = Chain::compile(&set).unwrap();
        let plan = Plan::compile(&set, &chain, false).unwrap();
        let mut engine = Engine::new(&chain, 5, 0, 20);
        let mut stage = Stage::new(&plan, &chain, 5, 0, None, Shard::WHOLE);
        let mut keep = Keep::default();
        for _ in 0..10_000 {
            let Ok(()) = stage.carry(engine.next_event(), &mut keep);
            // All that has arrived before the clock is delivered, whatever waits for a
            // partner: at most one event per open case is held, and a minute's events in
            // flight.
            let held = stage
                .cases
                .iter()
                .flatten()
                .filter(|c| c.held != NOT_HELD)
                .count();
            assert!(held <= 20);
            assert!(stage
                .link
                .queue
                .peek()
                .is_none_or(|f| f.arrival_ms >= stage.clock));
        }
        assert!(keep.delivered.len() > 9_000, "{}", keep.delivered.len());
    }

    /// Everything a receiver is told, in order.
    #[derive(Default, PartialEq, Debug)]
    struct Log(Vec<(u64, i64, u64, bool)>);

    impl Receiver for Log {
        type Error = Infallible;
        fn deliver(&mut self, e: &Event<'_>) -> Result<(), Infallible> {
            let arrival = e.arrival_ms.get().unwrap_or(i64::MIN);
            self.0.push((id_of(e), arrival, e.case, e.closes_case));
            Ok(())
        }
        fn case_closed(&mut self, case: u64) -> Result<(), Infallible> {
            self.0.push((0, 0, case, true));
            Ok(())
        }
    }

    #[test]
    fn deferred_delivery_tells_the_receiver_the_same_things_in_the_same_order() {
        // Events that take minutes, so that deliveries happen during the run; heavy losses, so
        // that many cases close with nothing of them on the way.
        let set = timed(
            "{type: exponential, mean: 2}",
            "{groups: [g], delay: {type: exponential, mean: 90}, drop: 0.3, duplicate: 0.2, swapAdjacent: 0.2, truncate: 0.3}",
        );
        let chain = Chain::compile(&set).unwrap();
        let plan = Plan::compile(&set, &chain, false).unwrap();
        let run = |deferred: bool| {
            let mut engine = Engine::new(&chain, 8, 0, 30);
            let mut stage = Stage::new(&plan, &chain, 8, 0, None, Shard::WHOLE);
            let mut log = Log::default();
            for _ in 0..20_000 {
                let event = engine.next_event();
                let Ok(()) = if deferred {
                    stage.carry_deferred(event, &mut log)
                } else {
                    stage.carry(event, &mut log)
                };
            }
            let Ok(()) = stage.finish(&mut log);
            log
        };
        let (eager, deferred) = (run(false), run(true));
        let closed_alone = eager.0.iter().filter(|e| e.0 == 0).count();
        assert!(closed_alone > 100, "{closed_alone}");
        assert_eq!(eager, deferred);
    }

    #[test]
    fn a_periodic_outage_is_found_as_stepping_finds_it() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        for _ in 0..20_000 {
            let every = rng.random_range(0..5_000);
            let lasting = rng.random_range(0..5_000);
            let end = rng.random_range(-1_000_000..1_000_000);
            let current = Outage {
                start: end - lasting,
                end,
            };
            let t = end + rng.random_range(0..200_000);
            let mut stepped = current;
            while t >= stepped.end {
                let start = stepped.end + every.max(1);
                stepped = Outage {
                    start,
                    end: start + lasting,
                };
            }
            let found = current.periodic_at(every, lasting, t);
            assert_eq!(
                (found.start, found.end),
                (stepped.start, stepped.end),
                "{every} {lasting} {end} {t}"
            );
        }
    }

    #[test]
    fn trials_succeed_at_their_probability() {
        // 10^6 trials at each p: the count of successes is binomial; 5 standard deviations.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        for p in [0.001, 0.01, 0.3, 0.9] {
            let mut trials = Trials::new(p, &mut rng).unwrap();
            let n = 1_000_000;
            let hits = (0..n).filter(|_| trials.hit(&mut rng)).count() as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!((hits - n as f64 * p).abs() < 5.0 * sd, "p {p}: {hits}");
        }
        let mut always = Trials::new(1.0, &mut rng).unwrap();
        assert!((0..1000).all(|_| always.hit(&mut rng)));
        assert!(Trials::new(0.0, &mut rng).is_none());
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        for x in [-2.5, -2.4, -0.5, 0.0, 0.4, 0.5, 2.5, 1e12 + 0.5] {
            assert_eq!(round(x), x.round() as i64, "{x}");
        }
    }
}
