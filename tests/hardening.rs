//! Regression tests for the findings of a hostile probe (issue "Hardening"), end to end
//! through the `def` binary where the finding was: hostile loads and traces, huge diagnostics,
//! odd files, a full stderr, failing sinks, and the CLI's polish.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const ASSEMBLY: &str = "tests/fixtures/reference/datasource/assemblyline";
const CONSOLE: &str = "tests/fixtures/reference/sink/console-sink.yaml";
const COUNT_BASED: &str = "tests/fixtures/reference/simulation/countbased.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn def() -> Command {
    let mut cmd = Command::cargo_bin("def").expect("the def binary is built");
    cmd.current_dir(root())
        .env_remove("LOAD")
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `def args` and returns (exit code, stdout, stderr), failing after `limit`.
fn run(args: &[&str], limit: Duration) -> (i32, String, String) {
    let out = def().args(args).timeout(limit).output().expect("def runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A copy of the assembly line's datasources in `dir/name`, each file's text passed through
/// `edit`.
fn assembly_copy(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let copy = dir.join(name);
    std::fs::create_dir(&copy).unwrap();
    for f in std::fs::read_dir(root().join(ASSEMBLY)).unwrap() {
        let f = f.unwrap().path();
        let text = edit(std::fs::read_to_string(&f).unwrap());
        std::fs::write(copy.join(f.file_name().unwrap()), text).unwrap();
    }
    copy
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A stream simulation with `load` (YAML), into the console sink.
fn stream(dir: &Path, load: &str) -> String {
    write(
        dir,
        "stream.yaml",
        &format!("kind: simulation\nname: s\nspec:\n  type: stream\n  load: {load}\n"),
    )
}

fn trace_sim(dir: &Path, rows: &str) -> String {
    write(dir, "load.csv", rows);
    stream(dir, "{loadBehavior: trace, path: load.csv}")
}

#[test]
fn trace_seconds_beyond_the_documented_range_are_errors_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    for rows in [
        "18446744073709551616,5\n",
        "10000000000000,300\n",
        "9223372036854775807,5\n",
        "1.5,5\n",
    ] {
        let sim = trace_sim(dir.path(), rows);
        let started = Instant::now();
        let (code, _, stderr) = run(
            &["validate", ASSEMBLY, CONSOLE, &sim],
            Duration::from_secs(20),
        );
        assert_eq!(code, 2, "{rows}: {stderr}");
        assert!(
            stderr.contains("is not a whole number from 0 to 1000000000"),
            "{rows}: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}

#[test]
fn a_sparse_trace_far_out_costs_its_rows_not_its_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let sim = trace_sim(dir.path(), "0,2000\n100000000,5\n");
    // It used to allocate 100 million rates (4.7 GB); now two rows. The run takes its first
    // 500 events (a quarter of a second) and stops.
    let (code, stdout, stderr) = run(
        &[
            "run",
            ASSEMBLY,
            CONSOLE,
            &sim,
            "--max-events",
            "500",
            "--seed",
            "1",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 500);
}

#[test]
fn loads_that_never_emit_are_warned_about_and_stop_at_the_first_signal() {
    let dir = tempfile::tempdir().unwrap();
    for load in [
        "{loadBehavior: sinus, mean: 0, amplitude: 0, phase: 3}",
        "{loadBehavior: steps, steps: [{rate: 0, seconds: 1}], repeat: true}",
        "{loadBehavior: constant, load: 0}",
    ] {
        let sim = stream(dir.path(), load);
        let (code, _, stderr) = run(
            &["validate", ASSEMBLY, CONSOLE, &sim],
            Duration::from_secs(20),
        );
        assert_eq!(code, 0, "{load}: {stderr}");
        assert!(stderr.contains("never emits an event"), "{load}: {stderr}");

        // The run idles (no spinning core) and the first SIGTERM ends it gracefully.
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
            .current_dir(root())
            .args(["run", ASSEMBLY, CONSOLE, &sim, "--seed", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(700));
        let sent = Instant::now();
        unsafe_kill(child.id(), 15);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "{load}: still running 10 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(status.code(), Some(0), "{load}: {stderr}");
        assert!(stderr.contains("def: 0 events"), "{load}: {stderr}");
    }
}

/// Sends `signal` to `pid` with the `kill` command (no libc binding needed in tests).
fn unsafe_kill(pid: u32, signal: i32) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_rate_of_1e_minus_20_idles_instead_of_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let sim = stream(dir.path(), "{loadBehavior: constant, load: 1}");
    let mut cmd = def();
    cmd.env("LOAD", "1e-20")
        .args(["run", ASSEMBLY, CONSOLE, &sim, "--duration", "0.3"])
        .timeout(Duration::from_secs(20));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("def: 0 events"), "{stderr}");
}

#[test]
fn twenty_thousand_bad_references_give_a_bounded_report() {
    let dir = tempfile::tempdir().unwrap();
    let refs: Vec<String> = (0..20_000).map(|i| format!("Missing{i}")).collect();
    let sink = write(
        dir.path(),
        "sink.yaml",
        &format!(
            "kind: sink\nname: s\nspec:\n  type: console\n  dataSourceRefs: [GoodsDelivery, \
             MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, \
             Shipping, {}]\n",
            refs.join(", ")
        ),
    );
    let (code, _, stderr) = run(
        &["validate", ASSEMBLY, COUNT_BASED, &sink],
        Duration::from_secs(60),
    );
    assert_eq!(code, 0, "warnings only");
    assert!(
        stderr.len() < 100_000,
        "{} bytes of diagnostics",
        stderr.len()
    );
    assert_eq!(stderr.matches("refers to unknown datasource").count(), 50);
    assert!(
        stderr.contains("... and 19950 more problems in"),
        "{}",
        &stderr[stderr.len() - 300..]
    );
    // Each shown line is a window of the 200 KB line, not all of it.
    assert!(stderr.lines().all(|l| l.chars().count() < 300));
}

#[cfg(unix)]
#[test]
fn symlink_loops_fifos_and_devices_do_not_hang_or_eat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let configs = assembly_copy(dir.path(), "configs", |text| text);
    std::fs::copy(root().join(COUNT_BASED), configs.join("sim.yaml")).unwrap();
    std::fs::copy(root().join(CONSOLE), configs.join("sink.yaml")).unwrap();
    std::os::unix::fs::symlink(&configs, configs.join("loop")).unwrap();
    let (code, _, stderr) = run(
        &["validate", configs.to_str().unwrap()],
        Duration::from_secs(20),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("valid: 8 datasources, 1 sinks, 1 simulations"),
        "{stderr}"
    );

    let fifo = dir.path().join("pipe.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let (code, _, stderr) = run(&["run", path], Duration::from_secs(20));
        assert_eq!(code, 2, "{path}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{path}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_full_stderr_does_not_panic() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .current_dir(root())
        .args(["run", "tests/fixtures/invalid/unknown-field.yaml"])
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .current_dir(root())
        .args(["run", "--seed", "1"])
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 100);
}

#[cfg(target_os = "linux")]
#[test]
fn when_one_sink_fails_every_sink_is_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    // /dev/full takes the open but refuses every write: the file sink fails mid-run.
    let sinks = write(
        dir.path(),
        "sinks.yaml",
        "kind: sink\nname: broken\nspec:\n  type: file\n  path: /dev/full\n  dataSourceRefs: [GoodsDelivery]\n\
         ---\nkind: sink\nname: hole\nspec:\n  type: blackhole\n  dataSourceRefs: [GoodsDelivery, \
         MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]\n",
    );
    let (code, _, stderr) = run(
        &[
            "run",
            ASSEMBLY,
            COUNT_BASED,
            &sinks,
            "--steps",
            "3000000",
            "--seed",
            "1",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("broken (file)"), "{stderr}");
    assert!(stderr.contains("hole (blackhole)"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
}

#[test]
fn a_file_sink_that_cannot_be_created_is_a_runtime_failure_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let sink = write(
        dir.path(),
        "sink.yaml",
        "kind: sink\nname: f\nspec:\n  type: file\n  path: /nonexistent-dir/events.jsonl\n  dataSourceRefs: [Shipping]\n",
    );
    let (code, _, stderr) = run(
        &["run", ASSEMBLY, COUNT_BASED, &sink],
        Duration::from_secs(20),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot create /nonexistent-dir/events.jsonl"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sink.yaml:5:9 (at `spec.path`)"),
        "{stderr}"
    );
}

#[test]
fn no_sink_is_an_error_for_run_and_a_warning_for_validate() {
    let (code, _, stderr) = run(
        &["validate", ASSEMBLY, COUNT_BASED],
        Duration::from_secs(20),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("warning: no sink was loaded"), "{stderr}");
    let (code, stdout, stderr) = run(&["run", ASSEMBLY, COUNT_BASED], Duration::from_secs(20));
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("error: no sink was loaded"), "{stderr}");
}

#[test]
fn warnings_do_not_cascade_from_one_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let configs = assembly_copy(dir.path(), "line", |text| {
        text.replace("lowerBound", "lowerbound")
    });
    let (code, _, stderr) = run(
        &["validate", configs.to_str().unwrap(), COUNT_BASED, CONSOLE],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown field `lowerbound`"), "{stderr}");
    assert!(!stderr.contains("unreachable"), "{stderr}");

    let sink = write(
        dir.path(),
        "sink.yaml",
        &std::fs::read_to_string(root().join(CONSOLE))
            .unwrap()
            .replace("type: console", "type: consol"),
    );
    let (code, _, stderr) = run(
        &["validate", ASSEMBLY, COUNT_BASED, &sink],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown sink type `consol`"), "{stderr}");
    assert!(!stderr.contains("no sink takes"), "{stderr}");
    assert!(stderr.contains("1 errors, 0 warnings"), "{stderr}");

    // `def analyze` is about the chain: nothing about sinks.
    let (code, _, stderr) = run(&["analyze", ASSEMBLY, COUNT_BASED], Duration::from_secs(20));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("sink"), "{stderr}");
}

#[test]
fn run_deny_warnings_refuses_what_validate_deny_warnings_refuses() {
    let chain = "tests/fixtures/analysis/unreachable.yaml";
    let (code, _, stderr) = run(
        &["validate", chain, "--deny-warnings"],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{stderr}");
    let (code, stdout, stderr) = run(
        &["run", chain, "--deny-warnings", "--steps", "10"],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unreachable from `<start>`"), "{stderr}");
    assert!(stdout.is_empty());
}

#[test]
fn validate_without_paths_checks_the_bundled_example() {
    let (code, _, stderr) = run(&["validate"], Duration::from_secs(20));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("valid: 8 datasources, 1 sinks, 1 simulations"),
        "{stderr}"
    );
}

#[test]
fn start_time_errors_say_what_is_accepted() {
    let (code, _, stderr) = run(
        &["run", "--start-time", "2026-01-01T00:00:00+25:00"],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("+25:00 is not one in use"), "{stderr}");
    let (code, _, stderr) = run(
        &["run", "--start-time", "yesterday"],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`2026-01-01T08:00:00Z`"), "{stderr}");
    assert!(
        !stderr.contains("digit"),
        "a date library's internals: {stderr}"
    );
    let (code, _, stderr) = run(&["run", "--duration", "1e400"], Duration::from_secs(20));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn kafka_topic_template_errors_point_at_the_topic_line() {
    let dir = tempfile::tempdir().unwrap();
    let sink = write(
        dir.path(),
        "kafka.yaml",
        "kind: sink\nname: k\nspec:\n  type: kafka\n  bootstrapServer: 127.0.0.1:1\n  topic: \"line.{nod}\"\n  dataSourceRefs: [Packaging]\n",
    );
    let (code, _, stderr) = run(
        &["validate", ASSEMBLY, COUNT_BASED, &sink],
        Duration::from_secs(20),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("kafka.yaml:6:10 (at `spec.topic`)"),
        "{stderr}"
    );
}
