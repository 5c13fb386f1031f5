//! `stream` simulations end to end: the `def` binary run as a user runs it, into a file.
//!
//! Counts are exact wherever the schedule fixes them (`--max-events`, `--duration`, finite
//! loads); where only wall time decides (a signal mid-run), the file must hold exactly the
//! count the summary reports. Timing is asserted only with generous bounds: the machine is
//! shared and busy; the precise figures are in the benchmarks.

use assert_cmd::Command;
use def::sink::EventRecord;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CHAIN: &str = r#"
kind: datasource
name: "<start>"
spec: {name: "<start>", selection: uniform, eventData: [{activity: "", transition: Drill, duration: 0}]}
---
kind: datasource
name: Drill
spec:
  name: Drill
  group: workshop
  selection: genericProbability
  distribution: [0.75, 0.25]
  eventData:
    - {activity: "drill hole", transition: Drill, duration: 2}
    - {activity: "done", transition: "<end>", duration: 1}
"#;

/// A config folder with the chain, a file sink writing `out.jsonl`, and a stream simulation
/// whose spec lines are `simulation` (indented as under `spec:`).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(simulation: &str) -> Setup {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let out = dir.path().join("out.jsonl");
        let config = format!(
            "{CHAIN}---\nkind: sink\nname: out\nspec: {{type: file, path: {out:?}, dataSourceRefs: [Drill]}}\n\
             ---\nkind: simulation\nname: s\nspec:\n  type: stream\n{simulation}\n"
        );
        std::fs::write(dir.path().join("config.yaml"), config).expect("config written");
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn def(&self) -> Command {
        let mut cmd = Command::cargo_bin("def").expect("the def binary is built");
        cmd.arg("run")
            .arg(self.path("config.yaml"))
            .args(["--seed", "7"])
            .env_remove("LOAD");
        cmd
    }

    fn events(&self) -> Vec<EventRecord> {
        read_events(&self.path("out.jsonl"))
    }
}

fn read_events(path: &Path) -> Vec<EventRecord> {
    let text = std::fs::read_to_string(path).expect("the output file");
    text.lines()
        .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
        .collect()
}

/// The event count of the summary line `def: N events in ...`.
fn summary_count(stderr: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("def: ") && l.contains(" events in "))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    line["def: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {line}"))
}

#[test]
fn a_stream_at_2000_per_second_for_3_seconds_writes_6000_events() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 2000}");
    let started = Instant::now();
    let out = setup.def().args(["--duration", "3"]).assert().success();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    // The duration bounds the schedule: exactly 2000 * 3 events, however slow the machine.
    assert_eq!(setup.events().len(), 6000);
    assert_eq!(summary_count(&stderr), 6000);
    assert!(
        stderr.contains("def: stream target 6000 events"),
        "{stderr}"
    );
    // Generous: the run lasts the duration, not much longer (startup, a busy machine).
    assert!(took >= Duration::from_secs(3), "took {took:?}");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_stream_stopped_by_wall_time_is_near_its_rate() {
    // 2,000/s stopped by SIGINT after about 2 s: the count follows the clock, within a
    // generous ±30% of 2,000 per second of the run's own measured length.
    let setup = Setup::new("  load: {loadBehavior: constant, load: 2000}");
    let (count, stderr) = interrupt_after(&setup, Duration::from_secs(2));
    let secs: f64 = stderr
        .lines()
        .find_map(|l| l.split(" events in ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("the summary's seconds");
    let expected = 2000.0 * secs;
    assert!(
        (count as f64 - expected).abs() < 0.3 * expected,
        "{count} events in {secs} s"
    );
}

/// Starts a long stream, sends SIGINT after `after`, and checks the exit and the count.
fn interrupt_after(setup: &Setup, after: Duration) -> (u64, String) {
    let bin = assert_cmd::cargo::cargo_bin("def");
    let child = std::process::Command::new(bin)
        .arg("run")
        .arg(setup.path("config.yaml"))
        .args(["--seed", "7"])
        .env_remove("LOAD")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("def starts");
    std::thread::sleep(after);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("def exits");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let count = summary_count(&stderr);
    assert!(stderr.contains("stopped early"), "{stderr}");
    assert_eq!(setup.events().len() as u64, count, "{stderr}");
    (count, stderr)
}

#[test]
fn sigint_mid_run_leaves_exactly_the_reported_events_in_the_file() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 50000}");
    let (count, _) = interrupt_after(&setup, Duration::from_millis(1500));
    assert!(count > 0);
}

#[test]
fn max_events_stops_exactly() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 100000}");
    let out = setup
        .def()
        .args(["--max-events", "12345"])
        .assert()
        .success();
    assert_eq!(setup.events().len(), 12345);
    assert_eq!(
        summary_count(&String::from_utf8_lossy(&out.get_output().stderr)),
        12345
    );
}

#[test]
fn max_events_in_the_spec_stops_exactly() {
    let setup = Setup::new("  maxEvents: 321\n  load: {loadBehavior: constant, load: 100000}");
    setup.def().assert().success();
    assert_eq!(setup.events().len(), 321);
}

#[test]
fn duration_stops_with_the_integral_of_the_load() {
    // 1,000/s for 1 s then 3,000/s for 1 s, repeating: by 2.5 s, 1000 + 3000 + 500 events.
    let setup = Setup::new(
        "  load:\n    loadBehavior: steps\n    repeat: true\n    steps: [{rate: 1000, seconds: 1}, {rate: 3000, seconds: 1}]",
    );
    let started = Instant::now();
    setup.def().args(["--duration", "2.5"]).assert().success();
    assert!(started.elapsed() >= Duration::from_millis(2500));
    assert_eq!(setup.events().len(), 4500);
}

#[test]
fn duration_in_the_spec_and_a_gradual_load() {
    // Ticks 0, 1, 2 of a gradual load from 100 to 500 over 4 ticks: 100 + 200 + 300.
    let setup = Setup::new(
        "  duration: 3\n  load: {loadBehavior: gradual, tickCount: 4, minimalLoad: 100, load: 500}",
    );
    setup.def().assert().success();
    assert_eq!(setup.events().len(), 600);
}

#[test]
fn a_trace_is_replayed_and_then_the_stream_ends() {
    let setup = Setup::new("  load: {loadBehavior: trace, path: trace.csv}");
    std::fs::write(setup.path("trace.csv"), "second,rate\n0,100\n1,300\n2,50\n").unwrap();
    let started = Instant::now();
    setup.def().assert().success();
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(setup.events().len(), 450);
}

#[test]
fn load_environment_variable_overrides_a_constant_load() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 10}");
    setup
        .def()
        .env("LOAD", "700")
        .args(["--duration", "1"])
        .assert()
        .success();
    assert_eq!(setup.events().len(), 700);
}

#[test]
fn a_load_environment_variable_that_is_not_a_rate_is_a_config_error() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 10}");
    for bad in ["-5", "fast", ""] {
        let out = setup.def().env("LOAD", bad).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            stderr.contains("LOAD") && stderr.contains("0 or more"),
            "LOAD={bad}: {stderr}"
        );
    }
}

#[test]
fn load_is_ignored_with_a_warning_for_a_shaped_load() {
    let setup = Setup::new("  load: {loadBehavior: sinus, mean: 100, amplitude: 50, phase: 2}");
    let out = setup
        .def()
        .env("LOAD", "5000")
        .args(["--duration", "2"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("LOAD=5000 is ignored"), "{stderr}");
    // Ticks 0 and 1 of the sinus: 100 + 150.
    assert_eq!(setup.events().len(), 250);
}

#[test]
fn wall_clock_and_emitted_at_stamp_events_with_real_times() {
    let setup = Setup::new(
        "  clock: wall\n  emittedAt: true\n  timestampFormat: iso8601\n  load: {loadBehavior: constant, load: 200}",
    );
    let before = jiff::Timestamp::now();
    setup.def().args(["--duration", "1"]).assert().success();
    let after = jiff::Timestamp::now();
    let events = setup.events();
    assert_eq!(events.len(), 200);
    let parse = |s: &str| -> jiff::Timestamp { s.parse().expect("an ISO 8601 timestamp") };
    let slack = jiff::SignedDuration::from_millis(50);
    let mut last = before - slack;
    for e in &events {
        let stamp = parse(&e.timestamp);
        let intended = parse(e.emitted_at.as_deref().expect("emittedAt is written"));
        assert!(stamp >= before - slack && stamp <= after, "{e:?}");
        assert!(
            intended <= stamp + slack,
            "emitted before it was due: {e:?}"
        );
        assert!(stamp >= last, "wall timestamps do not go back");
        last = stamp;
    }
}

#[test]
fn simulated_clock_without_emitted_at_writes_the_original_event() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 1000}");
    setup.def().args(["--max-events", "50"]).assert().success();
    let events = setup.events();
    assert_eq!(events.len(), 50);
    assert!(events.iter().all(|e| e.emitted_at.is_none()));
    // Seeded runs start their simulated clock at 2025-01-01, whatever the wall time.
    assert!(
        events[0].timestamp.starts_with("2025-01-01"),
        "{:?}",
        events[0]
    );
}

#[test]
fn a_bad_duration_is_refused() {
    let setup = Setup::new("  load: {loadBehavior: constant, load: 10}");
    for bad in ["--duration=-1", "--duration=soon", "--duration=inf"] {
        let out = setup.def().arg(bad).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains("number of seconds"), "{bad}: {stderr}");
    }
}
