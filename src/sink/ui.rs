//! `ui`: the events of some datasources, kept for a live view.
//!
//! The library draws nothing: a [`UiSink`] records what a display needs into a shared state,
//! and whoever holds its [`UiHandle`] (the command line's dashboard) reads it at its own pace.
//! The sink's `write` is on the hot path of count-based runs that make tens of millions of
//! events a second, so it takes no lock and allocates nothing: the per-datasource counts are
//! atomics that only the simulation's thread writes, and recent events go into a ring of
//! atomic slots written by that thread alone (a sequence-lock ring: a reader copies what it
//! wants and keeps only the slots the writer cannot have touched meanwhile). On x86-64 every
//! one of these stores is a plain `mov`.
//!
//! A display drawing 20 frames a second shows a screenful of events per frame, not millions:
//! so the ring is filled in bursts on request. Each time the display reads the recent events
//! it asks for more, and the sink records the next [`RECENT`]` - 1` consecutive events it
//! takes; between bursts an event costs its count and one check. A slow stream is recorded
//! whole (a burst outlasts a frame); a fast run shows a run of consecutive events at most a
//! frame old.
//!
//! Where there is no display (stdout is not a terminal), the command line asks
//! [`super::SinkSet::build`] for [`UiMode::Console`] instead, and a `ui` sink prints the
//! original console sink's lines.

use super::{Delivery, Sink, SinkError};
use crate::engine::Event;
use crate::model::{Chain, Edge};
use crate::time::{TimestampFormat, TimestampWriter};
use std::sync::atomic::{fence, AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// Events a [`UiHandle`] keeps for display (a power of two).
pub const RECENT: usize = 256;

/// What `ui` sinks do in a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UiMode {
    /// Record into a [`UiHandle`] for a live view.
    #[default]
    Live,
    /// Print the original console sink's lines (`<id> <node>: <json>`) on standard output:
    /// for runs without a terminal to draw on.
    Console,
}

/// One event in the ring. Written by the sink's thread only; read by anyone.
#[derive(Default)]
struct Slot {
    timestamp_ms: AtomicI64,
    case: AtomicU64,
    /// The node's index in the high 32 bits, the edge's index within the node in the low.
    place: AtomicU64,
}

struct Shared {
    id: String,
    timestamps: TimestampFormat,
    /// Events taken so far.
    head: AtomicU64,
    /// Events recorded into the ring so far; recorded event `i` is (or was) in slot
    /// `i % RECENT`.
    recorded: AtomicU64,
    /// The display asks for a burst of recent events.
    wanted: AtomicBool,
    slots: Box<[Slot]>,
    /// Events per node index of the chain (zero for nodes the sink does not take).
    counts: Box<[AtomicU64]>,
    /// The node names and each node's activities, by index, to decode the ring.
    nodes: Vec<String>,
    activities: Vec<Vec<String>>,
    /// The node indices the sink takes, in the chain's order.
    takes: Vec<u32>,
}

/// One recent event, decoded for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UiEvent {
    /// Written in the run's timestamp format.
    pub timestamp: String,
    /// The number `N` of `case_N`.
    pub case: u64,
    pub node: String,
    pub activity: String,
}

/// A shared view of what a [`UiSink`] recorded: cheap to clone, safe to read from any thread
/// while the run goes.
#[derive(Clone)]
pub struct UiHandle(Arc<Shared>);

impl std::fmt::Debug for UiHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiHandle")
            .field("id", &self.0.id)
            .field("total", &self.total())
            .finish()
    }
}

impl UiHandle {
    /// The sink's label (its `id`, or its name when it has none).
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// Events the sink took so far.
    pub fn total(&self) -> u64 {
        self.0.head.load(Ordering::Acquire)
    }

    /// Events so far per datasource the sink takes (by node name, in the chain's order).
    pub fn counts(&self) -> Vec<(String, u64)> {
        self.0
            .takes
            .iter()
            .map(|&n| {
                (
                    self.0.nodes[n as usize].clone(),
                    self.0.counts[n as usize].load(Ordering::Relaxed),
                )
            })
            .collect()
    }

    /// Up to `n` (at most [`RECENT`]` - 1`: the oldest slot may be being rewritten) of the
    /// latest events recorded, oldest first, and a request for the next burst (see the
    /// module's documentation). Events the sink overwrote while they were being read are
    /// left out, so a busy run may give fewer.
    pub fn recent(&self, n: usize) -> Vec<UiEvent> {
        let shared = &self.0;
        let ring = RECENT as u64;
        let before = shared.recorded.load(Ordering::Acquire);
        let n = (n as u64).min(ring).min(before);
        let raw: Vec<(u64, i64, u64, u64)> = (before - n..before)
            .map(|i| {
                let slot = &shared.slots[(i % ring) as usize];
                (
                    i,
                    slot.timestamp_ms.load(Ordering::Relaxed),
                    slot.case.load(Ordering::Relaxed),
                    slot.place.load(Ordering::Relaxed),
                )
            })
            .collect();
        // Whatever the writer wrote into a slot we read, it published the head before: the
        // events it may have overwritten are those the head now says were written since.
        fence(Ordering::Acquire);
        let after = shared.recorded.load(Ordering::Relaxed);
        shared.wanted.store(true, Ordering::Relaxed);
        let mut writer = TimestampWriter::new(shared.timestamps);
        raw.into_iter()
            .filter(|&(i, ..)| i + ring > after)
            .map(|(_, timestamp_ms, case, place)| {
                let (node, edge) = ((place >> 32) as usize, (place & 0xffff_ffff) as usize);
                UiEvent {
                    timestamp: writer.format(timestamp_ms),
                    case,
                    node: shared.nodes.get(node).cloned().unwrap_or_default(),
                    activity: shared
                        .activities
                        .get(node)
                        .and_then(|a| a.get(edge))
                        .cloned()
                        .unwrap_or_else(|| "?".to_string()),
                }
            })
            .collect()
    }
}

/// Records events for a live view (see the module's documentation).
pub struct UiSink {
    shared: Arc<Shared>,
    /// The head as this thread last wrote it (the only writer).
    head: u64,
    /// `recorded` as this thread last wrote it.
    recorded: u64,
    /// Events still to record in the current burst.
    burst: u64,
}

impl UiSink {
    /// A sink labelled `id` that takes the nodes of `chain` named in `refs` (by event name or
    /// document name, as the router matches them), and the handle to watch it.
    pub fn new(
        id: &str,
        chain: &Chain,
        refs: &[String],
        timestamps: TimestampFormat,
    ) -> (UiSink, UiHandle) {
        let takes = chain
            .nodes
            .iter()
            .filter(|node| {
                refs.iter()
                    .any(|r| r == node.name.as_str() || *r == node.doc_name)
            })
            .map(|node| node.index)
            .collect();
        let shared = Arc::new(Shared {
            id: id.to_string(),
            timestamps,
            head: AtomicU64::new(0),
            recorded: AtomicU64::new(0),
            // The first events are recorded before the display's first look.
            wanted: AtomicBool::new(true),
            slots: (0..RECENT).map(|_| Slot::default()).collect(),
            counts: chain.nodes.iter().map(|_| AtomicU64::new(0)).collect(),
            nodes: chain
                .nodes
                .iter()
                .map(|n| n.name.as_str().to_string())
                .collect(),
            activities: chain
                .nodes
                .iter()
                .map(|n| {
                    n.edges
                        .iter()
                        .map(|e| e.activity.as_str().to_string())
                        .collect()
                })
                .collect(),
            takes,
        });
        (
            UiSink {
                shared: shared.clone(),
                head: 0,
                recorded: 0,
                burst: 0,
            },
            UiHandle(shared),
        )
    }
}

impl Sink for UiSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let shared = &*self.shared;
        let node = event.node.index;
        if let Some(count) = shared.counts.get(node as usize) {
            // One writer: a load and a store, not a locked read-modify-write.
            count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
        self.head += 1;
        shared.head.store(self.head, Ordering::Release);
        if self.burst == 0 {
            if !shared.wanted.load(Ordering::Relaxed) {
                return Ok(());
            }
            shared.wanted.store(false, Ordering::Relaxed);
            self.burst = RECENT as u64 - 1;
        }
        self.burst -= 1;
        self.record(event);
        Ok(())
    }

    fn finish(&mut self) -> Result<Delivery, SinkError> {
        Ok(Delivery::all(self.head))
    }
}

impl UiSink {
    /// Puts `event` into the ring.
    #[inline]
    fn record(&mut self, event: &Event<'_>) {
        let shared = &*self.shared;
        let node = event.node.index;
        // The edge's index within its node, from its address: no search, no `unsafe`.
        let edge = (event.edge as *const Edge as usize)
            .wrapping_sub(event.node.edges.as_ptr() as usize)
            / std::mem::size_of::<Edge>().max(1);
        let slot = &shared.slots[(self.recorded as usize) & (RECENT - 1)];
        // Orders the count published for the last event before this event's slot writes, so
        // a reader that sees any of them also sees that count (a compiler barrier on x86-64).
        fence(Ordering::Release);
        slot.timestamp_ms
            .store(event.timestamp_ms, Ordering::Relaxed);
        slot.case.store(event.case, Ordering::Relaxed);
        slot.place.store(
            (u64::from(node) << 32) | (edge as u64 & 0xffff_ffff),
            Ordering::Relaxed,
        );
        self.recorded += 1;
        shared.recorded.store(self.recorded, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigSet;
    use crate::engine::Engine;

    fn chain() -> Chain {
        Chain::compile(&ConfigSet::example()).unwrap()
    }

    #[test]
    fn counts_every_event_and_records_a_burst_each_time_it_is_asked() {
        let chain = chain();
        let refs: Vec<String> = chain
            .nodes
            .iter()
            .map(|n| n.name.as_str().to_string())
            .collect();
        let (mut sink, handle) = UiSink::new("UI", &chain, &refs, TimestampFormat::Original);
        let mut engine = Engine::new(&chain, 7, 0, 10);
        let mut written = Vec::new();
        let mut write = |written: &mut Vec<(u64, String, String)>, n: usize| {
            for _ in 0..n {
                let event = engine.next_event();
                written.push((
                    event.case,
                    event.node.name.as_str().to_string(),
                    event.activity().to_string(),
                ));
                sink.write(&event).unwrap();
            }
        };
        let seen = |recent: Vec<UiEvent>| -> Vec<(u64, String, String)> {
            recent
                .iter()
                .map(|e| (e.case, e.node.clone(), e.activity.clone()))
                .collect()
        };
        write(&mut written, 1000);
        // Nobody has looked yet: the first burst, events 0 to RECENT - 2, was recorded.
        let burst = RECENT - 1;
        let recent = handle.recent(10);
        assert_eq!(recent[0].timestamp.len(), "2025-01-01 00:00:00".len());
        assert_eq!(seen(recent), written[burst - 10..burst]);
        // That look asked for more: the next events taken are recorded.
        write(&mut written, 300);
        assert_eq!(
            seen(handle.recent(10)),
            written[1000 + burst - 10..1000 + burst]
        );
        assert_eq!(handle.recent(10_000).len(), RECENT - 1);
        // A slow stream is recorded whole: each look comes before the burst is used up.
        for _ in 0..20 {
            write(&mut written, 3);
            assert_eq!(seen(handle.recent(3)), written[written.len() - 3..]);
        }
        assert_eq!(handle.id(), "UI");
        assert_eq!(handle.total(), 1360);
        let counts = handle.counts();
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 1360);
        for (node, n) in &counts {
            let expected = written.iter().filter(|w| &w.1 == node).count() as u64;
            assert_eq!(*n, expected, "{node}");
        }
        assert_eq!(sink.finish().unwrap().delivered, 1360);
    }

    #[test]
    fn counts_only_the_datasources_it_takes() {
        let chain = chain();
        let first = chain.nodes[1].name.as_str().to_string();
        let (_, handle) = UiSink::new(
            "x",
            &chain,
            std::slice::from_ref(&first),
            TimestampFormat::Original,
        );
        let counts = handle.counts();
        assert_eq!(counts, vec![(first, 0)]);
        assert!(handle.recent(5).is_empty());
    }

    #[test]
    fn a_reader_never_sees_a_torn_event() {
        // The writer races a reader; every event the reader keeps must be one that was
        // written, whole (case numbers and nodes as the engine made them).
        let chain = chain();
        let refs: Vec<String> = chain
            .nodes
            .iter()
            .map(|n| n.name.as_str().to_string())
            .collect();
        let (mut sink, handle) = UiSink::new("UI", &chain, &refs, TimestampFormat::Original);
        let mut engine = Engine::new(&chain, 3, 0, 50);
        let mut truth = std::collections::HashMap::new();
        let reader = std::thread::spawn(move || {
            let mut seen = Vec::new();
            while handle.total() < 200_000 && seen.len() < 300_000 {
                seen.extend(handle.recent(RECENT));
            }
            seen
        });
        for _ in 0..200_000 {
            let event = engine.next_event();
            truth
                .entry((event.case, event.timestamp_ms))
                .or_insert_with(Vec::new)
                .push((
                    event.node.name.as_str().to_string(),
                    event.activity().to_string(),
                ));
            sink.write(&event).unwrap();
        }
        let mut writer = TimestampWriter::new(TimestampFormat::Original);
        let by_text: std::collections::HashMap<(u64, String), Vec<(String, String)>> = truth
            .into_iter()
            .map(|((case, ms), v)| ((case, writer.format(ms)), v))
            .fold(std::collections::HashMap::new(), |mut m, (k, v)| {
                m.entry(k).or_insert_with(Vec::new).extend(v);
                m
            });
        for event in reader.join().unwrap() {
            let options = by_text
                .get(&(event.case, event.timestamp.clone()))
                .unwrap_or_else(|| panic!("an event never written: {event:?}"));
            assert!(
                options.contains(&(event.node.clone(), event.activity.clone())),
                "{event:?} not among {options:?}"
            );
        }
    }
}
