//! Criterion benches of the hot pieces: one engine step, one choice, one duration sample,
//! one event encoded, and routing. `baseline/xoshiro_3_draws` is the floor measured in the
//! same run: the random draws one event needs, and nothing else.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use def::config::{ConfigSet, DurationSpec, SelectionSpec, TimestampFormat};
use def::engine::Engine;
use def::model::{Chain, DurationSampler, Selector};
use def::sink::{BlackholeSink, EventEncoder, NamedSink, SinkSet, UiSink};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::collections::BTreeMap;
use std::hint::black_box;

fn engine(c: &mut Criterion) {
    let chain = Chain::compile(&ConfigSet::example()).unwrap();
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    for max_open in [5usize, 1000] {
        let mut engine = Engine::new(&chain, 1, 0, max_open);
        group.bench_function(format!("next_event/maxConcurrentCases={max_open}"), |b| {
            b.iter(|| black_box(engine.next_event().timestamp_ms))
        });
    }
    let sinks = vec![NamedSink::taking_all(
        "blackhole",
        "blackhole",
        Box::new(BlackholeSink::default()),
        &chain,
    )];
    let mut sinks = SinkSet::route(sinks, &chain, BTreeMap::new()).unwrap();
    let mut engine = Engine::new(&chain, 1, 0, 5);
    group.bench_function("next_event+dispatch/blackhole", |b| {
        b.iter(|| {
            let event = engine.next_event();
            sinks.dispatch(&event).unwrap();
        })
    });
    // The `ui` sink's recording (its ring and counts), with nobody drawing.
    let refs: Vec<String> = chain
        .nodes
        .iter()
        .map(|n| n.name.as_str().to_string())
        .collect();
    let (ui, _handle) = UiSink::new("UI", &chain, &refs, TimestampFormat::Original);
    let sinks = vec![NamedSink::taking_all("ui", "ui", Box::new(ui), &chain)];
    let mut sinks = SinkSet::route(sinks, &chain, BTreeMap::new()).unwrap();
    let mut engine = Engine::new(&chain, 1, 0, 5);
    group.bench_function("next_event+dispatch/ui", |b| {
        b.iter(|| {
            let event = engine.next_event();
            sinks.dispatch(&event).unwrap();
        })
    });
    let mut engine = Engine::new(&chain, 1, 1_700_000_000_000, 5);
    let mut encoder = EventEncoder::new(TimestampFormat::Original);
    let mut buffer = Vec::with_capacity(1 << 16);
    group.bench_function("next_event+json_line", |b| {
        b.iter(|| {
            let event = engine.next_event();
            encoder.json_line(&event, &mut buffer);
            if buffer.len() > 60_000 {
                buffer.clear();
            }
        })
    });
    group.finish();
}

fn pieces(c: &mut Criterion) {
    let mut group = c.benchmark_group("pieces");
    group.throughput(Throughput::Elements(1));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    group.bench_function("baseline/xoshiro_3_draws", |b| {
        b.iter(|| black_box(rng.next_u64() ^ rng.next_u64() ^ rng.next_u64()))
    });
    let weighted = Selector::compile(
        &SelectionSpec::GenericProbability {
            distribution: vec![0.3, 0.4, 0.15, 0.05, 0.1],
        },
        5,
    );
    group.bench_function("choose/genericProbability-5", |b| {
        b.iter(|| black_box(weighted.choose(1, &mut rng)))
    });
    let drifting = Selector::compile(
        &SelectionSpec::DriftingProbability {
            start: vec![0.1, 0.7, 0.2],
            end: vec![0.1, 0.2, 0.7],
            steps: 1000,
        },
        3,
    );
    group.bench_function("choose/driftingProbability-3", |b| {
        b.iter(|| black_box(drifting.choose(500, &mut rng)))
    });
    for (name, spec) in [
        (
            "uniform",
            DurationSpec::Uniform {
                lower: 3.0,
                upper: 7.0,
            },
        ),
        (
            "gaussian",
            DurationSpec::Gaussian {
                mu: 720.0,
                sigma: 120.0,
            },
        ),
        ("exponential", DurationSpec::Exponential { mean: 10.0 }),
    ] {
        let sampler = DurationSampler::compile(&spec);
        group.bench_function(format!("duration/{name}"), |b| {
            b.iter(|| black_box(sampler.sample_ms(&mut rng)))
        });
    }
    group.finish();
}

fn config(c: &mut Criterion) {
    c.bench_function("config/load_and_validate_reference", |b| {
        b.iter(|| {
            let mut set = ConfigSet::new();
            set.add_directory("tests/fixtures/reference");
            let diags = set.validate();
            assert!(!diags.has_errors());
            black_box(set.datasources.len())
        })
    });
    c.bench_function("config/load_validate_compile_example", |b| {
        b.iter(|| {
            let set = ConfigSet::example();
            assert!(!set.validate().has_errors());
            black_box(Chain::compile(&set).unwrap().nodes.len())
        })
    });
}

criterion_group!(benches, engine, pieces, config);
criterion_main!(benches);
