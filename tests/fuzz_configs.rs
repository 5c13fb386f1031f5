//! A bounded fuzz of the config path: YAML mutations of the reference configs
//! (`tests/fixtures/reference/**`, `examples/assembly-line.yaml`, and complete configs
//! assembled from the reference files and every kind's example) must never make def panic.
//!
//! Each case takes one config and applies one to three mutations: deleting, duplicating,
//! swapping or inserting lines, replacing a scalar by a value of another type or an extreme one
//! (huge numbers, -1, 0, `1e400`, NaN, an empty or very long string), renaming a key (to
//! another field's name, a misspelling, nothing), changing indentation, cutting the text short.
//! Each mutant goes through the library in-process — `ConfigSet::add_str`, `validate`,
//! `analysis::warnings`, and on a chain without errors `analysis::analyze` and the graphs, as
//! `def validate`, `def analyze` and `def graph` do — and every 8th through the `def validate`
//! binary, which must exit 0, 1 or 2 and never print "panicked". On the way it checks that the
//! JSON Schema (`def schema`) never rejects a file the reader takes: an editor must not flag a
//! config def reads.
//!
//! Bounded for CI: `DEF_FUZZ_CASES` cases (default 600: about 7 s in a debug build, 15 s on a
//! busy machine) from a fixed seed, so a run is the same every time. To search further
//! locally, raise the count and change the seed:
//!
//! ```sh
//! DEF_FUZZ_CASES=20000 DEF_FUZZ_SEED=$RANDOM cargo test --release --test fuzz_configs -- --nocapture
//! ```
//!
//! A failure prints the shrunk mutant; keep it as a regression test below and fix the reader.

use def::analysis::{self, graph::Graph, svg};
use def::config::schema::{json_schema, yaml_to_json};
use def::config::yaml::parse_documents;
use def::config::{ConfigSet, Kind, LoadBehavior, SimulationType, SinkType};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const DEFAULT_CASES: u32 = 600;
const DEFAULT_SEED: u64 = 0xDEF_C0FF1C;
/// Every how many cases the binary runs too.
const BINARY_EVERY: usize = 8;

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    match text.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={text:?} is not a whole number"),
    }
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// How many configs at the end of [`corpus`] are complete (a chain, a simulation, a sink).
const COMPLETE: usize = 6;

/// The configs mutated: each reference file alone, then the complete ones: every reference
/// datasource with a simulation and a sink as one multi-document text, the reference chain
/// with every sink, simulation and load kind (from their examples), the golden every-kind
/// chain, and the bundled example.
fn corpus() -> Vec<String> {
    let reference = root().join("tests/fixtures/reference");
    let mut files = Vec::new();
    yaml_files(&reference, &mut files);
    let mut corpus: Vec<String> = files.iter().map(|f| read(f)).collect();
    let mut datasources = Vec::new();
    yaml_files(&reference.join("datasource"), &mut datasources);
    let chain: Vec<String> = datasources.iter().map(|f| read(f)).collect();
    for (simulation, sink) in [
        ("countbased", "console-sink"),
        ("stream", "kafka-sink"),
        ("loadtest", "loadtest-sink"),
    ] {
        let mut docs = chain.clone();
        docs.push(read(
            &reference.join(format!("simulation/{simulation}.yaml")),
        ));
        docs.push(read(&reference.join(format!("sink/{sink}.yaml"))));
        corpus.push(docs.join("\n---\n"));
    }
    // Every sink, simulation and load kind, from their own examples.
    let mut docs = chain.clone();
    for kind in SinkType::ALL {
        let spec = format!(
            "{}\ndataSourceRefs: [GoodsDelivery, Shipping]",
            kind.example()
        );
        docs.push(document("sink", kind.name(), &spec));
    }
    for kind in SimulationType::ALL {
        docs.push(document("simulation", kind.name(), kind.example()));
    }
    for kind in LoadBehavior::ALL {
        let spec = format!("type: stream\nload: {}", kind.example());
        docs.push(document("simulation", kind.name(), &spec));
    }
    corpus.push(docs.join("\n---\n"));
    corpus.push(read(&root().join("tests/fixtures/golden/every-kind.yaml")));
    corpus.push(read(&root().join("examples/assembly-line.yaml")));
    corpus
}

/// A document in block style.
fn document(kind: &str, name: &str, spec: &str) -> String {
    format!(
        "kind: {kind}\nname: {name}\nspec:\n  {}",
        spec.replace('\n', "\n  ")
    )
}

/// What replaces a scalar: other types, extremes, edge cases of the config's own words.
fn replacements() -> Vec<String> {
    let mut values: Vec<String> = [
        "true",
        "false",
        "null",
        "~",
        "[]",
        "{}",
        "[1, 2]",
        "{a: 1}",
        "abc",
        "\"\"",
        "''",
        "0",
        "1",
        "-1",
        "-0.0",
        "0.5",
        "1e400",
        "-1e400",
        "1e-400",
        "1e308",
        "1e9",
        "1e10",
        "4294967296",
        ".nan",
        ".inf",
        "-.inf",
        "NaN",
        "9223372036854775807",
        "-9223372036854775808",
        "18446744073709551616",
        "99999999999999999999999999999",
        "2147483648",
        "\"<start>\"",
        "\"<end>\"",
        "\"{node}\"",
        "\"{nodes}\"",
        "\"a b!\"",
        "\"é漢字\"",
        "\"\\0\\t\\u2028\"",
        "now",
        "\"2026-01-01T08:00:00Z\"",
        "\"-9999-01-01T00:00:00Z\"",
        "\"9999-12-31T23:59:59Z\"",
        "load",
        "constant",
        "trace",
        "steps",
        "uniform",
        "genericProbability",
        "driftingProbability",
        "[0.5, 0.5]",
        "[1.0]",
        "[0, 0, 1]",
        "[-1, 2]",
        "[.nan]",
        "{type: constant, duration: 1e400}",
        "{type: uniform, lowerBound: 5, upperBound: 1}",
        "{type: gaussian, mu: 1e308, sigma: 1e308}",
        "{type: lognormal, mu: 1000, sigma: 100}",
        "{type: exponential, mean: 0}",
        "{loadBehavior: constant, load: 0}",
        "{loadBehavior: sinus, mean: 1, amplitude: 1, phase: 1e-300}",
        "{loadBehavior: gradual, tickCount: 18446744073709551615, minimalLoad: 0, load: 1e9}",
        "{loadBehavior: steps, steps: [{rate: 1e9, seconds: 1e-6}], repeat: true}",
        "{loadBehavior: steps, steps: [{rate: 1, seconds: 0}]}",
        "{loadBehavior: trace, path: /dev/null}",
        "{loadBehavior: trace, path: .}",
        "{type: case, partitionCount: 9223372036854775807}",
        "{type: constant, partition: 9223372036854775807}",
        "&anchor 1",
        "!!str 1",
        "!!binary aGVsbG8=",
        "|\n  block",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("x".repeat(10_000));
    values.push(format!("\"{}\"", "é".repeat(3_000)));
    values.push("9".repeat(400));
    values.push(format!("[{}]", vec!["0.001"; 1000].join(", ")));
    values
}

/// Keys a renamed key becomes: every field the readers know, misspellings, odd keys.
fn keys() -> Vec<String> {
    fn walk(schema: &serde_json::Value, keys: &mut Vec<String>) {
        match schema {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                    for name in props.keys() {
                        if !keys.contains(name) {
                            keys.push(name.clone());
                        }
                    }
                }
                map.values().for_each(|v| walk(v, keys));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, keys)),
            _ => {}
        }
    }
    // Every property name in the schema: the fields of every family.
    let mut keys = Vec::new();
    walk(&json_schema(), &mut keys);
    keys.extend(
        [
            "",
            "\"\"",
            "Type",
            "kind ",
            "spec.type",
            "<<",
            "? a",
            "1",
            "null",
            "- a",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    keys
}

/// Lines inserted as they are.
const SNIPPETS: &[&str] = &[
    "---",
    "...",
    "kind: sink",
    "kind: simulation",
    "kind: datasource",
    "spec:",
    "spec: {}",
    "  spec: null",
    "name: x",
    "  type: memory",
    "  - ",
    "-",
    "  eventData: []",
    "  dataSourceRefs: [\"<start>\", \"<end>\"]",
    "  load: {loadBehavior: steps, steps: []}",
    "[",
    "{",
    "\"",
    "'",
    "#",
    "%YAML 1.2",
    "\t",
    "a: &x [*x]",
    "<<: {kind: sink}",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Swap(usize, usize),
    /// Replaces the value after a line's `key:` (or `- `) by a replacement.
    Value(usize, String),
    /// Replaces one scalar token of a line's value (a number in a flow list, a word).
    Token(usize, usize, String),
    RenameKey(usize, String),
    Reindent(usize, i8),
    Insert(usize, &'static str),
    /// Cuts the text after a line, mid-line.
    Truncate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let values = prop::sample::select(replacements());
    let keys = prop::sample::select(keys());
    prop_oneof![
        2 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Duplicate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        5 => (any::<usize>(), values.clone()).prop_map(|(l, v)| Mutation::Value(l, v)),
        5 => (any::<usize>(), any::<usize>(), values)
            .prop_map(|(l, t, v)| Mutation::Token(l, t, v)),
        3 => (any::<usize>(), keys).prop_map(|(l, k)| Mutation::RenameKey(l, k)),
        1 => (any::<usize>(), -4i8..=4).prop_map(|(l, d)| Mutation::Reindent(l, d)),
        1 => (any::<usize>(), prop::sample::select(SNIPPETS))
            .prop_map(|(l, s)| Mutation::Insert(l, s)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(l, c)| Mutation::Truncate(l, c)),
    ]
}

/// Where a line's value starts, if it has one on the line: after its `key: `, or after `- `.
/// (A `key:` whose value is the block below keeps it: a scalar there is just a syntax error.)
fn value_start(line: &str) -> Option<usize> {
    if let Some(at) = line.find(": ") {
        return Some(at + 2);
    }
    let indent = line.len() - line.trim_start().len();
    let item = line[indent..].starts_with("- ") && !line.trim_end().ends_with(':');
    item.then_some(indent + 2)
}

/// The byte ranges of a line's scalar tokens.
fn tokens(line: &str) -> Vec<(usize, usize)> {
    let scalar = |c: char| c.is_alphanumeric() || "._-+<>\"'".contains(c);
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (start, scalar(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            lines.push(String::new());
        }
        let n = lines.len();
        match m {
            Mutation::Delete(i) => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let i = i % n;
                lines.insert(i, lines[i].clone());
            }
            Mutation::Swap(a, b) => lines.swap(a % n, b % n),
            Mutation::Value(i, value) => {
                let line = &mut lines[i % n];
                if let Some(at) = value_start(line) {
                    // A block value (`|`) continues on the next line at the key's indent + 2.
                    let indent = " ".repeat(line.len() - line.trim_start().len() + 2);
                    let value = value.replace('\n', &format!("\n{indent}"));
                    line.truncate(at);
                    if !line.ends_with(' ') {
                        line.push(' ');
                    }
                    line.push_str(&value);
                }
            }
            Mutation::Token(i, t, value) => {
                let line = &mut lines[i % n];
                if let Some(at) = value_start(line) {
                    let found = tokens(&line[at..]);
                    if !found.is_empty() {
                        let (start, end) = found[t % found.len()];
                        let value = value.replace('\n', " ");
                        line.replace_range(at + start..at + end, &value);
                    }
                }
            }
            Mutation::RenameKey(i, key) => {
                let line = &mut lines[i % n];
                if let Some(colon) = line.find(':') {
                    let indent = line.len() - line.trim_start().len();
                    let dash = if line[indent..].starts_with("- ") {
                        2
                    } else {
                        0
                    };
                    if indent + dash <= colon {
                        line.replace_range(indent + dash..colon, key);
                    }
                }
            }
            Mutation::Reindent(i, delta) => {
                let line = &mut lines[i % n];
                if *delta >= 0 {
                    line.insert_str(0, &" ".repeat(*delta as usize));
                } else {
                    let spaces = line.len() - line.trim_start_matches(' ').len();
                    line.replace_range(..spaces.min(delta.unsigned_abs() as usize), "");
                }
            }
            Mutation::Insert(i, snippet) => lines.insert(i % (n + 1), snippet.to_string()),
            Mutation::Truncate(i, c) => {
                let i = i % n;
                lines.truncate(i + 1);
                let line = &mut lines[i];
                let cuts: Vec<usize> = line.char_indices().map(|(at, _)| at).collect();
                if !cuts.is_empty() {
                    line.truncate(cuts[c % cuts.len()]);
                }
            }
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// How far the mutants got, to see that the fuzz reaches past the first error.
#[derive(Default)]
struct Reach {
    parsed: AtomicUsize,
    read_clean: AtomicUsize,
    analysed: AtomicUsize,
    schema_rejected: AtomicUsize,
    binary: AtomicUsize,
}

/// The library path of `def validate`, `def analyze` and `def graph` on one text; and the
/// schema's verdict against the reader's.
fn check_library(
    text: &str,
    validator: &jsonschema::Validator,
    reach: &Reach,
) -> Result<(), String> {
    let mut set = ConfigSet::new();
    set.add_str("fuzz.yaml", text);
    let read_clean = !set.diagnostics.has_errors();
    if read_clean {
        reach.read_clean.fetch_add(1, Ordering::Relaxed);
    }

    let mut diags = set.validate();
    diags.extend(analysis::warnings(&set));
    let _ = diags.render();
    let chain = set.validate_chain();
    if !chain.has_errors() {
        reach.analysed.fetch_add(1, Ordering::Relaxed);
        if let Ok(result) = analysis::analyze(&set) {
            let _ = serde_json::to_string(&result);
        }
        for sinks in [false, true] {
            let graph = Graph::build(&set, sinks);
            let _ = graph.to_dot(&set);
            let _ = graph.to_mermaid(&set);
            let _ = svg::render(&graph);
        }
    }

    // The schema is checked per document of text that parses.
    if let Ok(docs) = parse_documents(text) {
        reach.parsed.fetch_add(1, Ordering::Relaxed);
        let schema_rejects = docs
            .iter()
            .map(yaml_to_json)
            .find(|doc| !validator.is_valid(doc));
        if let Some(doc) = &schema_rejects {
            reach.schema_rejected.fetch_add(1, Ordering::Relaxed);
            if read_clean {
                let why: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
                return Err(format!(
                    "the schema rejects a document the reader takes: {doc}\n{}",
                    why.join("\n")
                ));
            }
        }
    }
    Ok(())
}

/// `def validate` on the text, as a file: exit 0, 1 or 2, never a panic.
fn check_binary(text: &str, dir: &Path) -> Result<(), String> {
    let file = dir.join("fuzz.yaml");
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let out = assert_cmd::Command::cargo_bin("def")
        .map_err(|e| e.to_string())?
        .arg("validate")
        .arg(&file)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("panicked") || !matches!(out.status.code(), Some(0..=2)) {
        return Err(format!(
            "def validate exited with {:?}:\n{stderr}",
            out.status.code()
        ));
    }
    Ok(())
}

#[test]
fn mutated_configs_never_panic() {
    let cases = env_number("DEF_FUZZ_CASES").map_or(DEFAULT_CASES, |n| n as u32);
    let seed = env_number("DEF_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        // A failing case is shrunk, but not for ever.
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let corpus = corpus();
    let validator = jsonschema::draft7::new(&json_schema()).expect("the schema compiles");
    let dir = tempfile::tempdir().unwrap();
    let count = AtomicUsize::new(0);
    let reach = Reach::default();
    // Half the cases mutate a complete config, so that mutants get past the checks across
    // documents to the analysis and the graphs.
    let complete = corpus.len() - COMPLETE..corpus.len();
    let strategy = (
        prop_oneof![
            prop::sample::select((0..complete.start).collect::<Vec<_>>()),
            prop::sample::select(complete.collect::<Vec<_>>()),
        ],
        prop::collection::vec(mutation(), 1..=3),
    );
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |(which, mutations)| {
        let text = apply(&corpus[which], &mutations);
        // The mutant's text goes into the failure, ready to keep as a regression test.
        let fail = |problem: String| {
            TestCaseError::fail(format!("{problem}\n--- the mutant ---\n{text}--- end ---"))
        };
        let library = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_library(&text, &validator, &reach)
        }));
        match library {
            Ok(checked) => checked.map_err(fail)?,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                return Err(fail(format!("the library panicked: {message}")));
            }
        }
        if count.fetch_add(1, Ordering::Relaxed) % BINARY_EVERY == 0 {
            reach.binary.fetch_add(1, Ordering::Relaxed);
            check_binary(&text, dir.path()).map_err(fail)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("seed {seed}: {e}");
    }
    let n = |c: &AtomicUsize| c.load(Ordering::Relaxed);
    // Seen with --nocapture.
    println!(
        "{} mutants (seed {seed}): {} parse as YAML, {} read without errors, {} analysed and \
         drawn, {} rejected by the schema, {} through `def validate`",
        n(&count),
        n(&reach.parsed),
        n(&reach.read_clean),
        n(&reach.analysed),
        n(&reach.schema_rejected),
        n(&reach.binary)
    );
    assert!(
        n(&reach.analysed) > 0,
        "no mutant got as far as the analysis"
    );
}

#[test]
fn the_mutations_do_what_they_say() {
    let text = "a: 1\nb:\n  - c: [1, 2]\n";
    let apply = |m: Mutation| apply(text, &[m]);
    assert_eq!(apply(Mutation::Delete(0)), "b:\n  - c: [1, 2]\n");
    assert_eq!(apply(Mutation::Delete(4)), "a: 1\n  - c: [1, 2]\n");
    assert_eq!(
        apply(Mutation::Value(0, "x".into())),
        "a: x\nb:\n  - c: [1, 2]\n"
    );
    // `b:` has its value below: it is left alone.
    assert_eq!(apply(Mutation::Value(1, "x".into())), text);
    assert_eq!(
        apply(Mutation::Token(2, 1, "x".into())),
        "a: 1\nb:\n  - c: [1, x]\n"
    );
    assert_eq!(
        apply(Mutation::RenameKey(2, "d".into())),
        "a: 1\nb:\n  - d: [1, 2]\n"
    );
    assert_eq!(
        apply(Mutation::Reindent(0, 2)),
        "  a: 1\nb:\n  - c: [1, 2]\n"
    );
    assert_eq!(apply(Mutation::Reindent(2, -4)), "a: 1\nb:\n- c: [1, 2]\n");
    assert_eq!(apply(Mutation::Swap(0, 1)), "b:\na: 1\n  - c: [1, 2]\n");
    assert_eq!(
        apply(Mutation::Insert(1, "---")),
        "a: 1\n---\nb:\n  - c: [1, 2]\n"
    );
    assert_eq!(apply(Mutation::Truncate(0, 2)), "a:\n");
    assert_eq!(tokens("[1, 2]"), vec![(1, 2), (4, 5)]);
    assert!(keys().iter().any(|k| k == "dataSourceRefs"));
    assert!(keys().iter().any(|k| k == "partitionCount"));
}
