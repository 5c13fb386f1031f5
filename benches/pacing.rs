//! Stream pacing benchmark: achieved vs target rate, lateness and CPU use of real-time streams.
//!
//! Runs the bundled assembly line as a `stream` into a blackhole (or file) sink at each rate,
//! for a fixed time, through the library, and prints one row per rate: events emitted, target
//! events, achieved/target, lateness percentiles against the deadlines, and the CPU time the
//! process used per wall-clock second (user + system, from /proc/self/stat).
//!
//! ```sh
//! cargo bench --bench pacing                          # 100 .. 1,000,000/s, 10 s each
//! cargo bench --bench pacing -- --secs 30 --rates 10000
//! cargo bench --bench pacing -- --sink file           # into a JSON-lines file in /tmp
//! ```
//!
//! A plain program rather than a Criterion bench: what matters is the behaviour of one long
//! run against the wall clock, not the mean of many short iterations.

use def::simulation::RunOptions;
use def::EventFactory;
use std::time::{Duration, Instant};

const CHAIN: &str = include_str!("../examples/assembly-line.yaml");

fn main() {
    let mut secs = 10.0;
    let mut rates = vec![100.0, 1_000.0, 10_000.0, 100_000.0, 1_000_000.0];
    let mut sink = "blackhole".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--secs" => secs = args.next().and_then(|s| s.parse().ok()).unwrap_or(secs),
            "--rates" => {
                rates = args
                    .next()
                    .map(|s| s.split(',').filter_map(|r| r.parse().ok()).collect())
                    .unwrap_or(rates)
            }
            "--sink" => sink = args.next().unwrap_or(sink),
            _ => {} // `cargo bench` passes `--bench`
        }
    }
    println!(
        "{:>10} {:>6} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "rate/s", "secs", "events", "target", "achieved", "p50", "p99", "p99.9", "max", "cpu"
    );
    for rate in rates {
        let out = std::env::temp_dir().join("def-pacing-bench.jsonl");
        let sink_yaml = match sink.as_str() {
            "file" => format!("{{type: file, path: {out:?}"),
            _ => "{type: blackhole".to_string(),
        };
        let config = format!(
            "kind: sink\nname: bench\nspec: {sink_yaml}, dataSourceRefs: [GoodsDelivery, \
             MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]}}\n\
             ---\nkind: simulation\nname: bench-stream\nspec:\n  type: stream\n  maxConcurrentCases: 5\n  \
             load: {{loadBehavior: constant, load: {rate}}}\n"
        );
        let cpu_before = cpu_time();
        let started = Instant::now();
        // The example's datasources only: its console sink and countBased run are not wanted.
        let chain: Vec<&str> = CHAIN
            .split("\n---")
            .filter(|doc| doc.contains("kind: datasource"))
            .collect();
        let report = EventFactory::new()
            .add_str("assembly-line.yaml", &chain.join("\n---"))
            .add_str("bench.yaml", &config)
            .options(RunOptions {
                seed: Some(1),
                simulation: Some("bench-stream".into()),
                duration_secs: Some(secs),
                ..RunOptions::default()
            })
            .run();
        let wall = started.elapsed();
        let cpu = cpu_time().saturating_sub(cpu_before);
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                eprintln!("rate {rate}: {e}");
                std::process::exit(1);
            }
        };
        let Some(p) = report.pacing else {
            eprintln!("rate {rate}: not a stream");
            std::process::exit(1);
        };
        let us = |d: Duration| format!("{}µs", d.as_micros());
        println!(
            "{:>10} {:>6.1} {:>11} {:>11} {:>8.3}% {:>9} {:>9} {:>9} {:>9} {:>6.1}%",
            rate,
            p.elapsed.as_secs_f64(),
            report.events,
            p.target_events,
            report.events as f64 * 100.0 / p.target_events.max(1) as f64,
            us(p.lateness.p50),
            us(p.lateness.p99),
            us(p.lateness.p999),
            us(p.lateness.max),
            cpu.as_secs_f64() * 100.0 / wall.as_secs_f64(),
        );
        let _ = std::fs::remove_file(&out);
    }
}

/// User + system CPU time of this process so far (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // The kernel's USER_HZ is 100 on every mainstream Linux build.
    Duration::from_millis(ticks * 10)
}
