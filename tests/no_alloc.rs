//! The hot path does not allocate: a counting global allocator watches one million events
//! go from the engine through routing into a blackhole and a `ui` sink's ring, through JSON
//! encoding, and through each file format.

use def::config::{ConfigSet, TimestampFormat};
use def::engine::{Engine, MaybeMs};
use def::format::{Csv, CsvColumns, EventFormat, Ocel, Xes};
use def::model::Chain;
use def::sink::{BlackholeSink, EventEncoder, NamedSink, SinkSet, UiSink};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;

struct Counting;

thread_local! {
    /// Allocations by this thread. Counted per thread: the test harness's own threads
    /// allocate whenever they like (reporting another test's result, say).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // Not during the thread's teardown, when the slot is gone.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

/// Allocations by this thread so far.
fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One test at a time, so that no test's work shares the caches or cores with another's.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_million_events_allocate_nothing() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let chain = Chain::compile(&ConfigSet::example()).unwrap();
    let refs: Vec<String> = chain
        .nodes
        .iter()
        .map(|n| n.name.as_str().to_string())
        .collect();
    let (ui, handle) = UiSink::new("UI", &chain, &refs, TimestampFormat::Original);
    let sinks = vec![
        NamedSink::taking_all(
            "blackhole",
            "blackhole",
            Box::new(BlackholeSink::default()),
            &chain,
        ),
        NamedSink::taking_all("ui", "ui", Box::new(ui), &chain),
    ];
    let mut sinks = SinkSet::route(sinks, &chain, BTreeMap::new()).unwrap();
    let mut engine = Engine::new(&chain, 1, 0, 1000);
    let mut encoder = EventEncoder::new(TimestampFormat::Iso8601);
    let mut buffer = Vec::with_capacity(1 << 20);
    // Warm up: the heap and case table reach their size, the buffer its capacity.
    for _ in 0..100_000 {
        let event = engine.next_event();
        sinks.dispatch(&event).unwrap();
        encoder.json_line(&event, &mut buffer);
        buffer.clear();
    }
    let before = allocations();
    for _ in 0..1_000_000 {
        let event = engine.next_event();
        sinks.dispatch(&event).unwrap();
        encoder.json_line(&event, &mut buffer);
        buffer.clear();
    }
    let after = allocations();
    assert_eq!(after - before, 0, "allocations on the hot path");
    assert_eq!(handle.total(), 1_100_000);
}

/// Allocations while `format` takes one million events (after 100,000 to warm up), the
/// buffer written away (cleared) after each as a sink does when it fills.
const WARM: usize = 100_000;
fn allocations_of(format: &mut dyn EventFormat) -> u64 {
    allocations_stamped(format, false)
}

/// As [`allocations_of`], the events stamped with `eventId` and `arrivalTime` as a network
/// stamps them if `network`.
fn allocations_stamped(format: &mut dyn EventFormat, network: bool) -> u64 {
    let mut n = 0u64;
    fn stamp<'c>(event: &mut def::engine::Event<'c>, n: &mut u64, network: bool) {
        if network {
            *n += 1;
            event.event_id = std::num::NonZeroU64::new(*n);
            event.arrival_ms = MaybeMs::some(event.timestamp_ms + 1234);
        }
    }
    let chain = Chain::compile(&ConfigSet::example()).unwrap();
    let mut engine = Engine::new(&chain, 1, 0, 1000);
    let mut buffer = Vec::with_capacity(1 << 20);
    format.begin(&mut buffer);
    buffer.clear();
    for _ in 0..WARM {
        let mut event = engine.next_event();
        stamp(&mut event, &mut n, network);
        format.event(&event, &mut buffer);
        buffer.clear();
    }
    let before = allocations();
    for _ in 0..1_000_000 {
        let mut event = engine.next_event();
        stamp(&mut event, &mut n, network);
        format.event(&event, &mut buffer);
        buffer.clear();
    }
    allocations() - before
}

#[test]
fn formats_with_event_ids_and_arrival_times_allocate_nothing_per_event() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let columns = xes_columns();
    let mut csv = Csv::new(&columns).with_network(true);
    assert_eq!(allocations_stamped(&mut csv, true), 0, "csv");
    let mut json = def::format::JsonLines::new(def::time::TimestampFormat::Iso8601);
    assert_eq!(allocations_stamped(&mut json, true), 0, "json lines");
    assert_eq!(allocations_stamped(&mut Xes::new(), true), 0, "xes");
    let chain = Chain::compile(&ConfigSet::example()).unwrap();
    let activities = activities(&chain);
    let dir = tempfile::tempdir().unwrap();
    let mut ocel = Ocel::create(dir.path(), &activities, false)
        .unwrap()
        .with_network(true);
    assert_eq!(allocations_stamped(&mut ocel, true), 0, "ocel");
}

/// The CSV columns under the XES names.
fn xes_columns() -> CsvColumns {
    CsvColumns {
        caseid: "case:concept:name".into(),
        activity: "concept:name".into(),
        timestamp: "time:timestamp".into(),
        node: "org:resource".into(),
        group: "org:group".into(),
        emitted_at: None,
    }
}

/// Every activity of the chain: OCEL's event types.
fn activities(chain: &Chain) -> Vec<&str> {
    chain
        .nodes
        .iter()
        .flat_map(|n| n.edges.iter().map(|e| e.activity.as_str()))
        .collect()
}

#[test]
fn csv_xes_and_ocel_allocate_nothing_per_event() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let columns = xes_columns();
    assert_eq!(allocations_of(&mut Csv::new(&columns)), 0, "csv");
    let xes = allocations_of(&mut Xes::new());
    assert_eq!(xes, 0, "xes");
    let chain = Chain::compile(&ConfigSet::example()).unwrap();
    let activities = activities(&chain);
    let dir = tempfile::tempdir().unwrap();
    let mut ocel = Ocel::create(dir.path(), &activities, false).unwrap();
    assert_eq!(allocations_of(&mut ocel), 0, "ocel");
}
