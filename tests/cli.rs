//! The `def` binary end to end, as a user runs it.

use assert_cmd::Command;
use def::sink::EventRecord;
use predicates::prelude::*;
use std::path::Path;

fn def() -> Command {
    Command::cargo_bin("def").expect("the def binary is built")
}

const REFERENCE: &str = "tests/fixtures/reference";

fn reference(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|p| format!("{REFERENCE}/{p}")).collect()
}

#[test]
fn run_without_arguments_prints_the_example_and_exits_0() {
    let out = def().arg("run").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 100, "the bundled example is 100 events");
    for line in &lines {
        let (prefix, json) = line.split_once(": {").expect("`Sensor <node>: {json}`");
        assert!(prefix.starts_with("Sensor "), "{line}");
        let event: EventRecord = serde_json::from_str(&format!("{{{json}")).expect("event JSON");
        assert_eq!(prefix, format!("Sensor {}", event.node));
        assert_eq!(event.group, "factory");
        assert!(event.caseid.starts_with("case_"));
    }
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("def: 100 events"), "summary: {stderr}");
    assert!(
        stderr.contains("--seed"),
        "a random seed is printed to repeat the run: {stderr}"
    );
}

#[test]
fn same_seed_gives_identical_bytes_and_other_seeds_differ() {
    let run = |seed: &str| {
        def()
            .args(["run", "--quiet", "--seed", seed, "--steps", "5000"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    };
    let a = run("42");
    assert_eq!(a, run("42"));
    assert_ne!(a, run("43"));
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 5000);
}

#[test]
fn the_reference_configs_run_unchanged() {
    let mut args = vec!["run".to_string(), "--seed".into(), "1".into()];
    args.extend(reference(&[
        "datasource/assemblyline",
        "simulation/countbased.yaml",
        "sink/console-sink.yaml",
    ]));
    def()
        .args(&args)
        .assert()
        .success()
        .stdout(predicate::function(|s: &str| s.lines().count() == 100))
        .stderr(predicate::str::contains("unknown datasource `A`"));
}

#[test]
fn file_sink_writes_one_json_line_per_event_and_a_memory_run_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    let config = dir.path().join("run.yaml");
    std::fs::write(
        &config,
        format!(
            "kind: sink\nname: file\nspec:\n  type: file\n  path: {:?}\n  dataSourceRefs: [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]\n---\nkind: simulation\nname: sim\nspec:\n  type: countBased\n  steps: 20000\n  maxConcurrentCases: 50\n  startTime: 2026-01-01T00:00:00Z\n  timestampFormat: iso8601\n",
            out.display().to_string()
        ),
    )
    .unwrap();
    let ds = format!("{REFERENCE}/datasource/assemblyline");
    def()
        .args([
            "run",
            "--quiet",
            "--seed",
            "9",
            ds.as_str(),
            config.to_str().unwrap(),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).unwrap();
    let events: Vec<EventRecord> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(events.len(), 20_000);
    assert_eq!(
        events[0].timestamp.len(),
        "2026-01-01T00:00:00.000+00:00".len()
    );
    assert!(
        events[0].timestamp.starts_with("2026-01-01T"),
        "{}",
        events[0].timestamp
    );
    let mut sorted = events
        .iter()
        .map(|e| e.timestamp.clone())
        .collect::<Vec<_>>();
    sorted.sort();
    assert_eq!(
        sorted,
        events
            .iter()
            .map(|e| e.timestamp.clone())
            .collect::<Vec<_>>(),
        "ISO timestamps sort as the stream runs"
    );
}

#[test]
fn validate_exits_0_on_valid_and_2_on_errors_and_warnings_denied() {
    def()
        .args(["validate", "examples/assembly-line.yaml"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "valid: 8 datasources, 1 sinks, 1 simulations",
        ));
    def()
        .args(["validate", "tests/fixtures/invalid/distribution-sum.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tests/fixtures/invalid/distribution-sum.yaml:14:17",
        ))
        .stderr(predicate::str::contains("sums to 0.9"));
    def()
        .args(["validate", "tests/fixtures/invalid/unknown-ref.yaml"])
        .assert()
        .success();
    def()
        .args([
            "validate",
            "--deny-warnings",
            "tests/fixtures/invalid/unknown-ref.yaml",
        ])
        .assert()
        .code(2);
}

#[test]
fn run_refuses_a_broken_config_with_exit_2_and_runs_nothing() {
    def()
        .args(["run", "tests/fixtures/invalid/unknown-transition.yaml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("did you mean `Packaging`?"));
}

#[test]
fn a_ui_sink_without_a_terminal_prints_console_lines_and_says_so_once() {
    let mut args = vec!["run".to_string(), "--seed".into(), "1".into()];
    args.extend(reference(&[
        "datasource/assemblyline",
        "simulation/countbased.yaml",
        "sink/sink-ui.yaml",
    ]));
    let output = def().args(&args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    // The original console sink's lines, `<id> <node>: <json>`, for the ui sink's datasources.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(!lines.is_empty());
    let nodes = ["Assembling", "QualityControl", "Packaging", "Shipping"];
    for line in &lines {
        let (node, json) = line
            .strip_prefix("UI ")
            .and_then(|l| l.split_once(": "))
            .unwrap_or_else(|| panic!("not a console line: {line}"));
        assert!(nodes.contains(&node), "{line}");
        let event: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(event["node"], node);
    }
    let note = "ui sink `ui-sink` prints console lines on standard output instead of a live view";
    assert_eq!(stderr.matches(note).count(), 1, "{stderr}");
    assert!(
        stderr.contains("standard output is not a terminal"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("sinks: ui-sink (ui) {}", lines.len())),
        "{stderr}"
    );
}

#[test]
fn several_simulations_need_a_choice() {
    let mut args = vec!["run".to_string()];
    args.extend(reference(&[
        "datasource/assemblyline",
        "simulation",
        "sink/test-sink.yaml",
    ]));
    def()
        .args(&args)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "choose one with --simulation NAME",
        ));
    args.extend([
        "--simulation".into(),
        "countBasedSimulation".into(),
        "--quiet".into(),
    ]);
    def().args(&args).assert().success();
}

#[test]
fn a_missing_file_is_a_config_error() {
    assert!(!Path::new("no/such/file.yaml").exists());
    def()
        .args(["run", "no/such/file.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read no/such/file.yaml"));
}

#[test]
fn flags_the_simulation_does_not_use_are_warned_about_and_zero_steps_refused() {
    def()
        .args(["run", "--quiet", "--seed", "1", "--duration", "1"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "--duration applies to stream simulations; this one is countBased",
        ));
    def().args(["run", "--steps", "0"]).assert().code(2);
}

#[test]
fn a_closed_pipe_stops_the_run_quietly() {
    // `def run | head -1`: the reader goes away; def stops generating and exits 0.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .args(["run", "--steps", "100000000", "--seed", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stopped early"), "{stderr}");
}

#[test]
fn rates_beyond_reach_are_refused_not_chased_for_ever() {
    let mut args = vec!["run".to_string()];
    args.extend(reference(&[
        "datasource/assemblyline",
        "simulation/stream.yaml",
        "sink/test-sink.yaml",
    ]));
    def()
        .args(&args)
        .env("LOAD", "1e12")
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "above the largest rate def accepts",
        ));
}
