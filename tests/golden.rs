//! Golden outputs: the bytes `def` writes for the reference configs, the bundled example and a
//! chain with every selection and duration type, under fixed seeds and start times.
//!
//! They were recorded before the code was reorganised and must not change: a refactor that
//! moves a byte fails here. Small outputs are kept whole (readable diffs); large ones as a
//! line count and an FNV-1a hash. To re-record after a deliberate change (say which and why
//! in the commit), run `DEF_BLESS=1 cargo test --test golden`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

const REFERENCE: &str = "tests/fixtures/reference";
const GOLDEN: &str = "tests/fixtures/golden";
const ASSEMBLY: &str = "tests/fixtures/reference/datasource/assemblyline";
const START: &str = "2026-01-01T08:00:00Z";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `def` from the repository root and returns (stdout, stderr, exit code).
fn def(args: &[&str], env: &[(&str, &str)]) -> (Vec<u8>, String, i32) {
    let mut cmd = Command::cargo_bin("def").expect("the def binary is built");
    cmd.current_dir(root()).args(args).env_remove("LOAD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("def runs");
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// 64-bit FNV-1a: enough to tell two outputs apart, and stable across Rust versions (unlike
/// `DefaultHasher`).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Compares `actual` with the golden file `name` (or writes it under `DEF_BLESS=1`). Outputs
/// over 64 KiB are compared by their digest.
fn check(name: &str, actual: &[u8]) {
    let big = actual.len() > 64 * 1024;
    let path = root().join(GOLDEN).join(if big {
        format!("{name}.digest")
    } else {
        name.to_string()
    });
    let content = if big {
        format!(
            "lines {}\nbytes {}\nfnv1a {:016x}\n",
            actual.iter().filter(|&&b| b == b'\n').count(),
            actual.len(),
            fnv1a(actual)
        )
        .into_bytes()
    } else {
        actual.to_vec()
    };
    if std::env::var("DEF_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &content).expect("write golden file");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "no golden file {} ({e}); record it with DEF_BLESS=1",
            path.display()
        )
    });
    if expected != content {
        let shown = |b: &[u8]| String::from_utf8_lossy(&b[..b.len().min(2000)]).into_owned();
        panic!(
            "{name} differs from its golden file {}\n--- expected (start)\n{}\n--- actual (start)\n{}",
            path.display(),
            shown(&expected),
            shown(&content)
        );
    }
}

fn reference(part: &str) -> String {
    format!("{REFERENCE}/{part}")
}

fn run_ok(args: &[&str], env: &[(&str, &str)]) -> Vec<u8> {
    let (stdout, stderr, code) = def(args, env);
    assert_eq!(code, 0, "def {args:?} failed: {stderr}");
    stdout
}

#[test]
fn bundled_example_console() {
    check("example-console.txt", &run_ok(&["run", "--seed", "1"], &[]));
    check(
        "example-iso8601.txt",
        &run_ok(
            &[
                "run",
                "--seed",
                "7",
                "--start-time",
                START,
                "--timestamp-format",
                "iso8601",
                "--steps",
                "300",
            ],
            &[],
        ),
    );
}

#[test]
fn reference_count_based_to_the_reference_console_sink() {
    let out = run_ok(
        &[
            "run",
            ASSEMBLY,
            &reference("simulation/countbased.yaml"),
            &reference("sink/console-sink.yaml"),
            "--seed",
            "3",
            "--start-time",
            START,
        ],
        &[],
    );
    check("reference-countbased-console.txt", &out);
}

#[test]
fn reference_stream_events_with_the_simulated_clock() {
    // A stream's pacing varies, its events do not: the simulated clock stamps them.
    let out = run_ok(
        &[
            "run",
            ASSEMBLY,
            &reference("simulation/stream.yaml"),
            &reference("sink/console-sink.yaml"),
            "--seed",
            "5",
            "--start-time",
            START,
            "--max-events",
            "400",
        ],
        &[("LOAD", "20000")],
    );
    check("reference-stream-console.txt", &out);
}

#[test]
fn jsonl_file_sink_at_many_concurrent_cases() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let config = dir.path().join("sink.yaml");
    std::fs::write(
        &config,
        format!(
            "kind: sink\nname: jsonl\nspec:\n  type: file\n  path: {}\n  dataSourceRefs: \
             [GoodsDelivery, MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, \
             Packaging, Shipping]\n---\nkind: simulation\nname: many\nspec:\n  type: countBased\n  \
             steps: 200000\n  maxConcurrentCases: 1000\n",
            file.display()
        ),
    )
    .unwrap();
    run_ok(
        &[
            "run",
            ASSEMBLY,
            config.to_str().unwrap(),
            "--seed",
            "11",
            "--start-time",
            START,
        ],
        &[],
    );
    check("assembly-1000-cases.jsonl", &std::fs::read(&file).unwrap());
}

#[test]
fn every_selection_and_duration_type() {
    let config = format!("{GOLDEN}/every-kind.yaml");
    check(
        "every-kind.jsonl",
        &run_ok(&["run", &config, "--seed", "9"], &[]),
    );
    check(
        "every-kind-analyze.json",
        &run_ok(&["analyze", &config, "--json"], &[]),
    );
    check(
        "every-kind.dot",
        &run_ok(&["graph", &config, "--format", "dot"], &[]),
    );
}

#[test]
fn analysis_and_graphs_of_the_reference_and_analysis_fixtures() {
    let mut inputs: Vec<(String, String)> = vec![
        ("assembly".into(), ASSEMBLY.into()),
        ("example".into(), "examples/assembly-line.yaml".into()),
    ];
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/analysis"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    for f in fixtures {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = Path::new("tests/fixtures/analysis").join(f.file_name().unwrap());
        inputs.push((stem, rel.to_string_lossy().into_owned()));
    }
    for (stem, input) in &inputs {
        check(
            &format!("{stem}-analyze.json"),
            &run_ok(&["analyze", input, "--json"], &[]),
        );
        for (format, ext) in [("dot", "dot"), ("mermaid", "mmd"), ("svg", "svg")] {
            check(
                &format!("{stem}.{ext}"),
                &run_ok(&["graph", input, "--format", format], &[]),
            );
        }
    }
}

#[test]
fn validation_messages_of_the_invalid_fixtures() {
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root().join("tests/fixtures/invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fixtures.sort();
    let mut all = String::new();
    for f in fixtures {
        let rel = Path::new("tests/fixtures/invalid").join(f.file_name().unwrap());
        let (_, stderr, code) = def(&["validate", rel.to_str().unwrap()], &[]);
        all.push_str(&format!("==> {} (exit {code})\n{stderr}\n", rel.display()));
    }
    check("invalid-validate.txt", all.as_bytes());
}

#[test]
fn graph_with_sinks() {
    let args = [
        "graph",
        ASSEMBLY,
        "tests/fixtures/reference/sink/console-sink.yaml",
        "tests/fixtures/reference/sink/kafka-sink.yaml",
        "tests/fixtures/reference/simulation/countbased.yaml",
        "--sinks",
        "--format",
    ];
    for (format, ext) in [("dot", "dot"), ("mermaid", "mmd"), ("svg", "svg")] {
        let mut all = args.to_vec();
        all.push(format);
        check(&format!("assembly-sinks.{ext}"), &run_ok(&all, &[]));
    }
}
