//! Network effects (`kind: network`, docs/realism.md) end to end through the binary: the
//! observed rates of each effect against its probability, delays against their distribution,
//! skew and outages exactly, the ground truth replayed byte for byte, reproducibility, bad
//! input, and every simulation type and grouping format behind a network.
//!
//! Statistical checks state their seed, sample and tolerance: a rate must lie within 5
//! binomial standard errors of its probability (a false failure about once in 3.5 million
//! runs), a mean within 5 standard errors, a spread within 3%.

mod common;

use assert_cmd::Command;
use common::NODES;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/network")
        .join(name)
}

fn def() -> Command {
    Command::cargo_bin("def").unwrap()
}

/// A finished run: the delivered events, the truth's clean events and faults.
struct Outcome {
    dir: tempfile::TempDir,
    delivered: Vec<Value>,
    clean: Vec<Value>,
    faults: Vec<Value>,
}

impl Outcome {
    fn truth(&self) -> PathBuf {
        self.dir.path().join("truth")
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("out.jsonl")
    }

    /// The faults of one kind.
    fn faults(&self, kind: &str) -> Vec<&Value> {
        self.faults.iter().filter(|f| f["fault"] == kind).collect()
    }

    /// Clean events by eventId.
    fn clean_by_id(&self) -> HashMap<u64, &Value> {
        self.clean
            .iter()
            .map(|e| (e["eventId"].as_u64().unwrap(), e))
            .collect()
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `chain` behind `network` (YAML) with a jsonl file sink taking every datasource of
/// `nodes`, as `simulation` (a spec), with ISO 8601 timestamps (milliseconds) and a truth.
fn run(chain: &str, network: &str, nodes: &[&str], simulation: &str, seed: u64) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    std::fs::write(dir.path().join("network.yaml"), network).unwrap();
    std::fs::write(
        dir.path().join("run.yaml"),
        format!(
            "kind: sink\nname: all\nspec: {{type: file, path: {}, format: jsonl, dataSourceRefs: {nodes:?}}}\n---\nkind: simulation\nname: sim\nspec: {simulation}\n",
            out.display()
        ),
    )
    .unwrap();
    def()
        .arg("run")
        .arg(fixture(chain))
        .arg(dir.path().join("network.yaml"))
        .arg(dir.path().join("run.yaml"))
        .args(["--seed", &seed.to_string(), "--quiet"])
        .args(["--timestamp-format", "iso8601"])
        .arg("--truth")
        .arg(dir.path().join("truth"))
        .assert()
        .success();
    let truth = dir.path().join("truth");
    Outcome {
        delivered: lines(&out),
        clean: lines(&truth.join("clean.jsonl")),
        faults: lines(&truth.join("faults.jsonl")),
        dir,
    }
}

const TWO: &[&str] = &["A", "B"];

fn count_based(steps: u64) -> String {
    format!("{{type: countBased, steps: {steps}, maxConcurrentCases: 50}}")
}

fn ms(v: &Value) -> i64 {
    let text = v.as_str().unwrap();
    def::time::millis(text.parse::<jiff::Timestamp>().unwrap())
}

/// `observed` of `n` trials is within 5 binomial standard errors of `p`.
fn assert_rate(what: &str, observed: usize, n: usize, p: f64) {
    let rate = observed as f64 / n as f64;
    let se = (p * (1.0 - p) / n as f64).sqrt();
    assert!(
        (rate - p).abs() <= 5.0 * se,
        "{what}: {observed}/{n} = {rate:.5}, expected {p} ± {:.5} (5 SE)",
        5.0 * se
    );
}

#[test]
fn drop_and_duplicate_rates_match_their_probabilities_seed_101() {
    // 60,000 events; drop 0.1 of all, duplicate 0.05 of those not dropped.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {groups: [plant, yard], drop: 0.1, duplicate: 0.05}\n",
        TWO,
        &count_based(60_000),
        101,
    );
    let (drops, dups) = (o.faults("drop").len(), o.faults("duplicate").len());
    assert_eq!(o.clean.len(), 60_000);
    assert_rate("drop", drops, o.clean.len(), 0.1);
    assert_rate("duplicate", dups, o.clean.len() - drops, 0.05);
    // The delivered stream has exactly the survivors, the duplicates twice.
    assert_eq!(o.delivered.len(), o.clean.len() - drops + dups);
    let mut copies: HashMap<u64, usize> = HashMap::new();
    for e in &o.delivered {
        *copies.entry(e["eventId"].as_u64().unwrap()).or_default() += 1;
    }
    let dropped: BTreeSet<u64> = o
        .faults("drop")
        .iter()
        .map(|f| f["eventId"].as_u64().unwrap())
        .collect();
    let duplicated: BTreeSet<u64> = o
        .faults("duplicate")
        .iter()
        .map(|f| f["eventId"].as_u64().unwrap())
        .collect();
    for id in 1..=o.clean.len() as u64 {
        let expected = if dropped.contains(&id) {
            0
        } else if duplicated.contains(&id) {
            2
        } else {
            1
        };
        assert_eq!(
            copies.get(&id).copied().unwrap_or(0),
            expected,
            "event {id}"
        );
    }
}

#[test]
fn rename_and_swap_rates_match_their_probabilities_seed_102() {
    // 60,000 events; every node has three distinct activities, so every event can be renamed
    // (p = 0.2); an event can start a swap (p = 0.1) unless it ends its case or is the second
    // of a swap already.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {datasources: [A, B], renameActivity: 0.2, swapAdjacent: 0.1}\n",
        TWO,
        &count_based(60_000),
        102,
    );
    let renames = o.faults("rename");
    assert_rate("rename", renames.len(), o.clean.len(), 0.2);
    let clean = o.clean_by_id();
    for r in &renames {
        let event = clean[&r["eventId"].as_u64().unwrap()];
        assert_eq!(r["from"], event["activity"]);
        assert_ne!(r["from"], r["to"]);
        // The new activity is one of the same node's.
        let of_node: &[&str] = if event["node"] == "A" {
            &["a1", "a2", "finish at A"]
        } else {
            &["b1", "b2", "finish at B"]
        };
        assert!(of_node.contains(&r["to"].as_str().unwrap()), "{r}");
    }
    // Swaps come in pairs: the first names the second, the second the first. An event still
    // waiting for its partner when the run ends names none and keeps its time.
    let (swaps, unpaired): (Vec<_>, Vec<_>) = o
        .faults("swap")
        .into_iter()
        .partition(|f| f.get("with").is_some());
    assert!(
        unpaired.len() <= 50,
        "at most one per open case: {}",
        unpaired.len()
    );
    for f in &unpaired {
        let event = clean[&f["eventId"].as_u64().unwrap()];
        assert_eq!(ms(&f["timestamp"]), ms(&event["timestamp"]));
        assert!(ms(&f["sent"]) >= ms(&event["timestamp"]));
    }
    let firsts: BTreeMap<u64, u64> = swaps
        .iter()
        .map(|f| (f["eventId"].as_u64().unwrap(), f["with"].as_u64().unwrap()))
        .filter(|(a, b)| a < b)
        .collect();
    assert_eq!(firsts.len() * 2, swaps.len());
    let seconds: BTreeSet<u64> = firsts.values().copied().collect();
    let eligible = o
        .clean
        .iter()
        .filter(|e| !e["activity"].as_str().unwrap().starts_with("finish"))
        .filter(|e| !seconds.contains(&e["eventId"].as_u64().unwrap()))
        .count();
    assert_rate("swap", firsts.len(), eligible, 0.1);
    for (a, b) in &firsts {
        let (ea, eb) = (clean[a], clean[b]);
        // The pair is one case's consecutive events, and their times are traded.
        assert_eq!(ea["caseid"], eb["caseid"]);
        let swapped_a = swaps.iter().find(|f| f["eventId"] == *a).unwrap();
        let swapped_b = swaps.iter().find(|f| f["eventId"] == *b).unwrap();
        assert_eq!(ms(&swapped_a["timestamp"]), ms(&eb["timestamp"]));
        assert_eq!(ms(&swapped_b["timestamp"]), ms(&ea["timestamp"]));
        // Both left when the later of the two had happened.
        assert_eq!(ms(&swapped_a["sent"]), ms(&eb["timestamp"]));
        assert_eq!(ms(&swapped_b["sent"]), ms(&eb["timestamp"]));
    }
}

#[test]
fn a_swapped_pair_leaves_when_its_later_event_happens_and_holds_back_nothing_seed_109() {
    // 30,000 events, no delay: every copy arrives when it leaves.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {datasources: [A, B], swapAdjacent: 0.3, truncate: 0.3, duplicate: 0.2}\n",
        TWO,
        &count_based(30_000),
        109,
    );
    assert_eq!(apply(&o.truth()), std::fs::read(o.output()).unwrap());
    let clean = o.clean_by_id();
    let swaps: HashMap<u64, &Value> = o
        .faults("swap")
        .into_iter()
        .map(|f| (f["eventId"].as_u64().unwrap(), f))
        .collect();
    let truncated: BTreeSet<u64> = o
        .faults("truncate")
        .iter()
        .map(|f| f["eventId"].as_u64().unwrap())
        .collect();
    let (mut pairs, mut partner_lost) = (0, 0);
    for (i, d) in o.delivered.iter().enumerate() {
        let id = d["eventId"].as_u64().unwrap();
        let true_ms = ms(&clean[&id]["timestamp"]);
        let Some(swap) = swaps.get(&id) else {
            // Nothing waits for another case's swap: every other event arrives at its time.
            assert_eq!(ms(&d["arrivalTime"]), true_ms, "{d}");
            continue;
        };
        assert_eq!(ms(&d["arrivalTime"]), ms(&swap["sent"]), "{d}");
        let Some(with) = swap.get("with").and_then(Value::as_u64) else {
            continue;
        };
        if truncated.contains(&with) {
            // Its partner was lost: it keeps its time and leaves when the partner happened.
            partner_lost += 1;
            assert_eq!(ms(&d["timestamp"]), true_ms);
            assert_eq!(ms(&swap["sent"]), ms(&clean[&with]["timestamp"]));
        } else if with < id {
            // The second of a pair, with the first's time, arrives just before the first
            // (or both of its copies do).
            pairs += 1;
            let next = o.delivered[i + 1..]
                .iter()
                .find(|e| e["eventId"] != d["eventId"])
                .unwrap();
            assert_eq!(next["eventId"], with, "{d} then {next}");
            assert!(ms(&d["timestamp"]) <= ms(&next["timestamp"]));
            assert_eq!(ms(&swap["sent"]), true_ms);
        }
    }
    assert!(
        pairs > 1_000 && partner_lost > 10,
        "{pairs} pairs, {partner_lost} lost"
    );
}

#[test]
fn truncation_takes_heads_and_tails_at_its_rate_seed_103() {
    // 60,000 events, about 12,000 cases; truncate 0.3 of cases, each end half the time.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {groups: [plant, yard], truncate: 0.3}\n",
        TWO,
        &count_based(60_000),
        103,
    );
    let cases: BTreeSet<&str> = o
        .clean
        .iter()
        .map(|e| e["caseid"].as_str().unwrap())
        .collect();
    let truncs = o.faults("truncate");
    let heads = truncs.iter().filter(|f| f["side"] == "head").count();
    let tails = truncs.len() - heads;
    assert_rate("head truncation", heads, cases.len(), 0.15);
    // Tails of the at most 50 cases still open at the end are not cut yet: within the
    // tolerance (50 of 12,000 is 0.004 × 0.15).
    assert_rate("tail truncation", tails, cases.len(), 0.15);
    let clean = o.clean_by_id();
    let mut first_of: HashMap<&str, u64> = HashMap::new();
    let mut last_of: HashMap<&str, u64> = HashMap::new();
    for e in &o.clean {
        let (case, id) = (
            e["caseid"].as_str().unwrap(),
            e["eventId"].as_u64().unwrap(),
        );
        first_of.entry(case).or_insert(id);
        last_of.insert(case, id);
    }
    for t in &truncs {
        let id = t["eventId"].as_u64().unwrap();
        let case = clean[&id]["caseid"].as_str().unwrap();
        if t["side"] == "head" {
            assert_eq!(first_of[case], id, "a head is the case's first event");
        } else {
            assert_eq!(last_of[case], id, "a tail is the case's last event");
            assert!(clean[&id]["activity"]
                .as_str()
                .unwrap()
                .starts_with("finish"));
        }
    }
}

#[test]
fn delays_follow_their_distribution_and_order_delivery_seed_104() {
    // 60,000 events, delay gaussian mu 20 s sigma 5 s: mean within 5 SE (5 × 5 s / √n),
    // spread within 3%; arrival − time is the delay of each event exactly.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {groups: [plant, yard], delay: {type: gaussian, mu: 20, sigma: 5}}\n",
        TWO,
        &count_based(60_000),
        104,
    );
    let delays: Vec<f64> = o
        .faults("delay")
        .iter()
        .map(|f| f["delayMs"].as_i64().unwrap() as f64 / 1000.0)
        .collect();
    assert_eq!(delays.len(), 60_000);
    let n = delays.len() as f64;
    let mean = delays.iter().sum::<f64>() / n;
    let sd = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    assert!((mean - 20.0).abs() < 5.0 * 5.0 / n.sqrt(), "mean {mean}");
    assert!((sd / 5.0 - 1.0).abs() < 0.03, "sd {sd}");
    let delay_of: HashMap<u64, i64> = o
        .faults("delay")
        .iter()
        .map(|f| {
            (
                f["eventId"].as_u64().unwrap(),
                f["delayMs"].as_i64().unwrap(),
            )
        })
        .collect();
    let clean = o.clean_by_id();
    let mut last = i64::MIN;
    let mut late = 0;
    let mut max_id = 0;
    for e in &o.delivered {
        let id = e["eventId"].as_u64().unwrap();
        let arrival = ms(&e["arrivalTime"]);
        assert!(arrival >= last, "delivered out of arrival order");
        last = arrival;
        assert_eq!(arrival - ms(&clean[&id]["timestamp"]), delay_of[&id]);
        assert_eq!(e["timestamp"], clean[&id]["timestamp"]);
        if id < max_id {
            late += 1;
        }
        max_id = max_id.max(id);
    }
    // Delays of 20 ± 5 s against 50 cases' events reorder some.
    assert!(late > 0, "nothing arrived late");
}

#[test]
fn skew_and_drift_are_exact_seed_105() {
    // Node A's clock is 2.5 s behind and gains 400 ppm from the run's start; B's is exact.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {datasources: [A], clock: {offset: -2.5, driftPpm: 400}}\n",
        TWO,
        &count_based(20_000),
        105,
    );
    let start = ms(&Value::String("2025-01-01T00:00:00Z".into()));
    let clean = o.clean_by_id();
    let mut skewed = 0;
    for e in &o.delivered {
        let id = e["eventId"].as_u64().unwrap();
        let t = ms(&clean[&id]["timestamp"]);
        let written = ms(&e["timestamp"]);
        let expected = if e["node"] == "A" {
            skewed += 1;
            (-2500.0 + (t - start) as f64 * 400e-6).round() as i64
        } else {
            0
        };
        assert_eq!(written - t, expected, "event {id}");
        // Arrival is in true time: without a delay, the generation time.
        assert_eq!(ms(&e["arrivalTime"]), t);
    }
    assert!(skewed > 5000);
    assert_eq!(o.faults("skew").len(), skewed);
}

#[test]
fn outages_silence_a_node_for_their_length_then_deliver_the_backlog_seed_106() {
    // Node B's uplink fails every 2 h (of event time) for exactly 30 min; no delay.
    let o = run(
        "two-nodes.yaml",
        "kind: network\nname: n\nspec: {datasources: [B], outage: {every: 7200, lasting: 1800}}\n",
        TWO,
        &count_based(30_000),
        106,
    );
    let outages = o.faults("outage");
    assert!(outages.len() > 100, "{} events in outages", outages.len());
    let mut windows = BTreeSet::new();
    for f in &outages {
        let (start, end) = (ms(&f["start"]), ms(&f["end"]));
        assert_eq!(end - start, 1_800_000, "an outage lasts its `lasting`");
        windows.insert((start, end));
    }
    let clean = o.clean_by_id();
    let in_outage: BTreeSet<u64> = outages
        .iter()
        .map(|f| f["eventId"].as_u64().unwrap())
        .collect();
    for e in &o.delivered {
        let id = e["eventId"].as_u64().unwrap();
        let arrival = ms(&e["arrivalTime"]);
        if e["node"] != "B" {
            continue;
        }
        // No arrival from B strictly inside an outage: it is silent, then bursts at the end.
        assert!(
            !windows.iter().any(|&(s, end)| s < arrival && arrival < end),
            "event {id} arrived during an outage"
        );
        let t = ms(&clean[&id]["timestamp"]);
        if in_outage.contains(&id) {
            let (_, end) = windows.iter().find(|&&(s, end)| s <= t && t < end).unwrap();
            assert_eq!(arrival, *end);
        } else {
            assert_eq!(arrival, t);
        }
    }
    // Consecutive outages are `every` apart (end to start).
    let starts: Vec<(i64, i64)> = windows.into_iter().collect();
    for w in starts.windows(2) {
        assert!(w[1].0 - w[0].1 >= 7_200_000 - 1, "{w:?}");
    }
}

/// `def truth apply DIR`.
fn apply(truth: &Path) -> Vec<u8> {
    let out = def().args(["truth", "apply"]).arg(truth).assert().success();
    out.get_output().stdout.clone()
}

#[test]
fn the_truth_replays_to_exactly_the_delivered_stream_with_every_effect_seed_107() {
    let network = std::fs::read_to_string(fixture("every-effect.yaml")).unwrap();
    let o = run("chain.yaml", &network, &NODES, &count_based(20_000), 107);
    let sink = std::fs::read(o.output()).unwrap();
    assert_eq!(apply(&o.truth()), sink);
    // Every kind of fault happened.
    for kind in [
        "drop",
        "duplicate",
        "delay",
        "skew",
        "outage",
        "rename",
        "swap",
        "truncate",
    ] {
        assert!(!o.faults(kind).is_empty(), "no {kind}");
    }
    // The run's facts are there to repeat it.
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(o.truth().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(info["seed"], 107);
    assert_eq!(info["timestampFormat"], "iso8601");
    assert_eq!(info["configFiles"].as_array().unwrap().len(), 3);
    assert_eq!(info["configFiles"][0]["sha256"].as_str().unwrap().len(), 64);
    let chain: Value =
        serde_json::from_str(&std::fs::read_to_string(o.truth().join("chain.json")).unwrap())
            .unwrap();
    assert!(chain.get("regimes").is_some() || chain.is_object());
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_faults_another_seed_others() {
    let network = std::fs::read_to_string(fixture("every-effect.yaml")).unwrap();
    let bytes = |o: &Outcome| {
        (
            std::fs::read(o.output()).unwrap(),
            std::fs::read(o.truth().join("faults.jsonl")).unwrap(),
            std::fs::read(o.truth().join("clean.jsonl")).unwrap(),
        )
    };
    let a = bytes(&run("chain.yaml", &network, &NODES, &count_based(5000), 9));
    let b = bytes(&run("chain.yaml", &network, &NODES, &count_based(5000), 9));
    let c = bytes(&run("chain.yaml", &network, &NODES, &count_based(5000), 10));
    assert!(a == b, "same seed, other bytes");
    assert!(a.0 != c.0 && a.1 != c.1);
}

#[test]
fn a_network_leaves_the_generated_stream_as_it_was() {
    // The network draws from its own random stream: the clean events of a run with effects
    // are the events of the same run without them.
    let network = std::fs::read_to_string(fixture("every-effect.yaml")).unwrap();
    let with = run("chain.yaml", &network, &NODES, &count_based(3000), 11);
    let idle = "kind: network\nname: idle\nspec: {groups: [factory]}\n";
    let without = run("chain.yaml", idle, &NODES, &count_based(3000), 11);
    assert_eq!(with.clean, without.clean);
    // An idle network delivers the clean stream, each event arriving when generated.
    assert_eq!(without.delivered.len(), without.clean.len());
    for (d, c) in without.delivered.iter().zip(&without.clean) {
        assert_eq!(d["eventId"], c["eventId"]);
        assert_eq!(d["timestamp"], c["timestamp"]);
        assert_eq!(d["arrivalTime"], c["timestamp"]);
    }
}

#[test]
fn bad_network_documents_are_config_errors_at_their_place() {
    let cases: &[(&str, &[&str])] = &[
        (
            "bad-values.yaml",
            &[
                "bad-values.yaml:5:9",
                "`drop` is 1.5, but a probability is at most 1",
                "bad-values.yaml:6:14",
                "`duplicate` is -0.1, below the smallest allowed value 0",
                "bad-values.yaml:7:38",
                "`lowerBound` is -2, below the smallest allowed value 0",
            ],
        ),
        (
            "unknown-names.yaml",
            &[
                "unknown-names.yaml:4:20",
                "network `misnamed` names unknown datasource `Bee`",
                "unknown-names.yaml:5:19",
                "network `misnamed` names unknown group `yrd`",
                "did you mean `yard`?",
            ],
        ),
        (
            "matched-twice.yaml",
            &[
                "matched-twice.yaml:10:12",
                "datasource `A` is carried by two networks, `first` and `second`",
                "the first match is at",
            ],
        ),
    ];
    for (file, expected) in cases {
        let out = def()
            .arg("validate")
            .arg(fixture("two-nodes.yaml"))
            .arg(fixture(&format!("invalid/{file}")))
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        for piece in *expected {
            assert!(stderr.contains(piece), "{file}: no `{piece}` in\n{stderr}");
        }
    }
}

#[test]
fn xes_traces_stay_whole_behind_a_reordering_network() {
    // Delays reorder a case's events and lose some: each case is still one trace.
    let dir = tempfile::tempdir().unwrap();
    let xes = dir.path().join("out.xes");
    std::fs::write(
        dir.path().join("run.yaml"),
        format!(
            "kind: network\nname: n\nspec: {{groups: [plant, yard], delay: {{type: exponential, mean: 300}}, drop: 0.2, truncate: 0.3, swapAdjacent: 0.2}}\n---\nkind: sink\nname: x\nspec: {{type: file, path: {}, format: xes, dataSourceRefs: [A, B]}}\n---\nkind: simulation\nname: s\nspec: {{type: countBased, steps: 5000, maxConcurrentCases: 20}}\n",
            xes.display()
        ),
    )
    .unwrap();
    def()
        .arg("run")
        .arg(fixture("two-nodes.yaml"))
        .arg(dir.path().join("run.yaml"))
        .args(["--seed", "12", "--quiet"])
        .assert()
        .success();
    let text = std::fs::read_to_string(&xes).unwrap();
    let mut names = Vec::new();
    for trace in text.split("<trace>").skip(1) {
        let name = trace
            .split("key=\"concept:name\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        names.push(name.to_string());
        assert!(trace.contains("def:eventId") && trace.contains("def:arrivalTime"));
    }
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "a case written as two traces");
    // Only the cases still open at the end are marked open.
    let open = text.matches("def:open").count();
    assert!(open <= 20 + 1, "{open} open traces");
}

#[test]
fn streams_and_load_tests_deliver_in_arrival_order() {
    let network = "kind: network\nname: n\nspec: {groups: [plant, yard], delay: {type: uniform, lowerBound: 0, upperBound: 600}, duplicate: 0.1}\n";
    for simulation in [
        "{type: stream, load: {loadBehavior: constant, load: 100000}, maxEvents: 3000, maxConcurrentCases: 20}",
        "{type: loadTest, load: {loadBehavior: constant, load: 500}, steps: 6, maxConcurrentCases: 20}",
    ] {
        let o = run("two-nodes.yaml", network, TWO, simulation, 13);
        assert_eq!(o.clean.len(), 3000, "{simulation}");
        let arrivals: Vec<i64> = o.delivered.iter().map(|e| ms(&e["arrivalTime"])).collect();
        assert!(arrivals.windows(2).all(|w| w[0] <= w[1]), "{simulation}");
        assert_eq!(
            o.delivered.len(),
            3000 + o.faults("duplicate").len(),
            "{simulation}"
        );
        assert_eq!(apply(&o.truth()), std::fs::read(o.output()).unwrap());
    }
}

#[test]
fn a_wall_clock_stream_holds_events_until_their_arrival_instant() {
    // 40 events/s for 1 s on the wall clock, each delayed exactly 0.25 s.
    let network = "kind: network\nname: n\nspec: {groups: [plant, yard], delay: 0.25}\n";
    let o = run(
        "two-nodes.yaml",
        network,
        TWO,
        "{type: stream, clock: wall, load: {loadBehavior: constant, load: 40}, duration: 1, maxConcurrentCases: 5}",
        14,
    );
    assert_eq!(o.delivered.len(), 40);
    for e in &o.delivered {
        assert_eq!(ms(&e["arrivalTime"]) - ms(&e["timestamp"]), 250);
    }
}

#[test]
fn analyze_predicts_deliveries_and_out_of_order_arrivals_seed_108() {
    // Every datasource behind one network: the delivered-events formula is exact there. The
    // run: 60,000 events at 10 cases at once; deliveries per event within 0.01 of the
    // prediction (about 5 standard errors), the out-of-order fraction within 5 combined
    // standard errors of the Monte-Carlo estimate (itself 200,000 events, seed 1).
    let network = "kind: network\nname: n\nspec: {groups: [plant, yard], drop: 0.1, duplicate: 0.05, truncate: 0.3, delay: {type: exponential, mean: 40}}\n";
    let simulation = "{type: countBased, steps: 60000, maxConcurrentCases: 10}";
    let o = run("two-nodes.yaml", network, TWO, simulation, 108);
    let out = def()
        .arg("analyze")
        .arg(fixture("two-nodes.yaml"))
        .arg(o.dir.path().join("network.yaml"))
        .arg(o.dir.path().join("run.yaml"))
        .arg("--json")
        .assert()
        .success();
    let analysis: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let regime = &analysis["regimes"][0];
    let expected = regime["expectedDeliveredEvents"].as_f64().unwrap()
        / regime["expectedEvents"].as_f64().unwrap();
    let observed = o.delivered.len() as f64 / o.clean.len() as f64;
    assert!(
        (observed - expected).abs() < 0.01,
        "{observed} vs {expected}"
    );
    let estimate = &analysis["network"];
    assert_eq!(estimate["method"], "monteCarlo");
    assert_eq!(estimate["maxConcurrentCases"], 10);
    let mut newest = 0;
    let late = o
        .delivered
        .iter()
        .filter(|e| {
            let id = e["eventId"].as_u64().unwrap();
            let late = id < newest;
            newest = newest.max(id);
            late
        })
        .count();
    let fraction = late as f64 / o.delivered.len() as f64;
    let predicted = estimate["outOfOrder"].as_f64().unwrap();
    let se = (predicted * (1.0 - predicted) / o.delivered.len() as f64).sqrt()
        + estimate["standardError"].as_f64().unwrap();
    assert!(
        (fraction - predicted).abs() < 5.0 * se,
        "{fraction} vs {predicted} ± {se}"
    );
}

/// Behind a network, a countBased run carries events on a second thread: a sink failing there
/// still ends the run at once, with every sink and the network in the report, and exit 1.
#[cfg(target_os = "linux")]
#[test]
fn a_sink_failing_behind_a_network_ends_the_run_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let sinks = dir.path().join("sinks.yaml");
    std::fs::write(
        &sinks,
        "kind: sink\nname: broken\nspec:\n  type: file\n  path: /dev/full\n  dataSourceRefs: [GoodsDelivery]\n\
         ---\nkind: sink\nname: hole\nspec:\n  type: blackhole\n  dataSourceRefs: [GoodsDelivery, \
         MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]\n",
    )
    .unwrap();
    let network = dir.path().join("network.yaml");
    std::fs::write(
        &network,
        "kind: network\nname: wan\nspec: {groups: [factory], delay: {type: exponential, mean: 5}, drop: 0.1}\n",
    )
    .unwrap();
    let out = def()
        .args([
            "run",
            "tests/fixtures/reference/datasource/assemblyline",
            "tests/fixtures/reference/simulation/countbased.yaml",
        ])
        .arg(&sinks)
        .arg(&network)
        .args(["--steps", "3000000", "--seed", "1"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("broken (file)"), "{stderr}");
    assert!(stderr.contains("hole (blackhole)"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(stderr.contains("network:"), "{stderr}");
}
