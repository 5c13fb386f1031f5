//! The Kafka sink against a real broker: events go through the `def` binary into Kafka and are
//! read back by assigning every partition (Tansu, the test broker, does not complete consumer
//! group joins, and assignment reads exactly what is stored anyway).
//!
//! The broker: `scripts/broker.sh start` (which `.ci/run` does). `DEF_KAFKA_BOOTSTRAP` says
//! where it listens (default `127.0.0.1:19092`). With no broker these tests FAIL, saying how
//! to start one, unless `DEF_KAFKA_SKIP=1` asks to skip them.
//!
//! Each test uses topics named after the process and the time, so tests can share a broker and
//! be run again against it. Every run also writes the same events to a file sink: the events
//! read back from Kafka are compared with that file, event by event.
#![cfg(feature = "kafka")]

mod common;

use assert_cmd::Command;
use common::topics::{consume, create_topic};
use common::{broker, unique, NODES};
use def::kafka::case_partition;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// The bundled example's datasources and simulation, without its console sink.
fn chain_yaml() -> String {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/assembly-line.yaml"),
    )
    .expect("the bundled example");
    example
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: sink"))
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// Writes the config (datasources, a Kafka sink with `kafka_extra` lines, and a file sink
/// `events.jsonl` over the same datasources) into `dir`.
fn write_config(dir: &Path, bootstrap: &str, topic: &str, kafka_extra: &str) {
    std::fs::write(dir.join("chain.yaml"), chain_yaml()).unwrap();
    let refs = format!("[{}]", NODES.map(|n| format!("\"{n}\"")).join(", "));
    let sinks = format!(
        "kind: sink\nname: kafka-sink\nspec:\n  type: kafka\n  bootstrapServer: \"{bootstrap}\"\n  \
         topic: \"{topic}\"\n{kafka_extra}  dataSourceRefs: {refs}\n---\n\
         kind: sink\nname: file-sink\nspec:\n  type: file\n  path: \"{}\"\n  dataSourceRefs: {refs}\n",
        dir.join("events.jsonl").display()
    );
    std::fs::write(dir.join("sinks.yaml"), sinks).unwrap();
}

/// Runs `def run` on the config in `dir` and returns its stderr.
fn run_def(dir: &Path, steps: u64) -> String {
    let output = Command::cargo_bin("def")
        .unwrap()
        .args(["run", "--seed", "7", "--steps", &steps.to_string()])
        .arg(dir)
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "def run failed: {stderr}");
    stderr
}

/// The file sink's events, one JSON text per line.
fn file_events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// 100,000 events through `def run`: exactly the events of the file sink arrive, each once,
/// keyed by their case id.
#[test]
fn hundred_thousand_events_arrive_exactly_once() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique("exact");
    create_topic(&bootstrap, &topic, 3);
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bootstrap, &topic, "");
    run_def(dir.path(), 100_000);

    let records = consume(&bootstrap, &topic, 100_000);
    assert_eq!(records.len(), 100_000);
    for r in &records {
        assert_eq!(json(&r.value)["caseid"], r.key.as_str(), "key = case id");
    }
    let mut from_kafka: Vec<&str> = records.iter().map(|r| r.value.as_str()).collect();
    let mut from_file = file_events(dir.path());
    assert_eq!(from_file.len(), 100_000);
    from_kafka.sort_unstable();
    from_file.sort_unstable();
    assert!(
        from_kafka
            .iter()
            .zip(&from_file)
            .all(|(k, f)| *k == f.as_str()),
        "the events in Kafka differ from the events in the file"
    );
}

/// `{type: case, partitionCount: 4}`: every case lies in one partition, the one
/// `case_partition` names, and its events are there in the order def emitted them
/// (timestamp order).
#[test]
fn case_partitioning_keeps_each_case_in_one_partition_in_order() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique("cases");
    create_topic(&bootstrap, &topic, 4);
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &bootstrap,
        &topic,
        "  partition: {type: case, partitionCount: 4}\n",
    );
    run_def(dir.path(), 20_000);

    let records = consume(&bootstrap, &topic, 20_000);
    assert_eq!(records.len(), 20_000);
    let mut by_case: BTreeMap<String, (BTreeSet<i32>, Vec<String>)> = BTreeMap::new();
    for r in &records {
        let entry = by_case.entry(r.key.clone()).or_default();
        entry.0.insert(r.partition);
        entry.1.push(r.value.clone());
    }
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in file_events(dir.path()) {
        let case = json(&line)["caseid"].as_str().unwrap().to_string();
        expected.entry(case).or_default().push(line);
    }
    assert_eq!(by_case.len(), expected.len());
    assert!(by_case.len() > 100, "only {} cases", by_case.len());
    let mut used = BTreeSet::new();
    for (case, (partitions, events)) in &by_case {
        assert_eq!(
            partitions.len(),
            1,
            "{case} is in partitions {partitions:?}"
        );
        let p = *partitions.first().unwrap();
        assert_eq!(p, case_partition(case.as_bytes(), 4), "{case}");
        used.insert(p);
        assert_eq!(events, &expected[case], "{case}: order in its partition");
        let stamps: Vec<String> = events
            .iter()
            .map(|e| json(e)["timestamp"].as_str().unwrap().to_string())
            .collect();
        assert!(
            stamps.windows(2).all(|w| w[0] <= w[1]),
            "{case}: {stamps:?}"
        );
    }
    assert_eq!(used.len(), 4, "cases spread over all 4 partitions");
}

/// `topic: "<prefix>.{node}"`: each datasource's events, and only those, in its own topic
/// (created by the broker on first use).
#[test]
fn a_topic_template_routes_each_datasource_to_its_own_topic() {
    let Some(bootstrap) = broker() else { return };
    let prefix = unique("nodes");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bootstrap, &format!("{prefix}.{{node}}"), "");
    let summary = run_def(dir.path(), 10_000);

    let mut per_node: BTreeMap<String, usize> = BTreeMap::new();
    for line in file_events(dir.path()) {
        *per_node
            .entry(json(&line)["node"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let mut total = 0;
    for node in NODES {
        let expected = per_node.get(node).copied().unwrap_or(0);
        let records = consume(&bootstrap, &format!("{prefix}.{node}"), expected);
        assert!(
            records.iter().all(|r| json(&r.value)["node"] == node),
            "topic {prefix}.{node} holds another datasource's events"
        );
        assert_eq!(
            records.len(),
            per_node.get(node).copied().unwrap_or(0),
            "{node}"
        );
        total += records.len();
        // The summary reports what was delivered to each topic.
        if expected > 0 {
            assert!(
                summary.contains(&format!("{prefix}.{node} {expected}")),
                "no per-topic count for {node} in: {summary}"
            );
        }
    }
    assert_eq!(total, 10_000);
}

/// A closed port: `def run` exits non-zero within a few seconds, saying the broker did not
/// answer and how to fix it. Needs no broker.
#[test]
fn an_unreachable_broker_fails_quickly_with_a_clear_message() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bootstrap = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &bootstrap, "events", "  connectTimeout: 2\n");
    let started = Instant::now();
    let output = Command::cargo_bin("def")
        .unwrap()
        .args(["run", "--seed", "7", "--steps", "1000"])
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A broker that is down is a runtime failure (exit 1), not a config error (exit 2).
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no answer from the Kafka broker at `{bootstrap}` within 2.0 s"
        )),
        "{stderr}"
    );
    // The help names the setting to fix, not a script of this repository.
    assert!(stderr.contains("fix `bootstrapServer`"), "{stderr}");
    assert!(!stderr.contains("scripts/"), "{stderr}");
    // It points at the line the broker address is on.
    assert!(stderr.contains("(at `spec.bootstrapServer`)"), "{stderr}");
    // connectTimeout is 2 s; a wide margin for a busy machine, but not a hang.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}
