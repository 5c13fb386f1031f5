//! The load backend end to end: `def backend` (the binary) on a free loopback port, fed by
//! `def run` with a `loadTest` simulation and the `http` sink, emitting into a file or into the
//! real broker; and the HTTP API's answers to bad, oversized, overflowing and random requests.
//!
//! The Kafka tests need the broker of `scripts/broker.sh start` (`DEF_KAFKA_BOOTSTRAP`, default
//! `127.0.0.1:19092`); without it they FAIL saying how to start one, unless `DEF_KAFKA_SKIP=1`.
//! Records are read by assigning partitions (Tansu does not complete consumer-group joins).
#![cfg(feature = "backend")]

mod common;

use assert_cmd::Command as AssertCommand;
use common::NODES;
#[cfg(feature = "kafka")]
use common::{
    broker,
    topics::{consume, create_topic},
    unique,
};
use def::backend::output::OutputSpec;
use def::backend::{Backend, BackendConfig, Limits, Shutdown};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// The broker's address, `None` if asked to skip; panics with how to start one otherwise.
/// `def backend` running as a child process.
struct BackendProcess {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

impl BackendProcess {
    /// Starts `def backend --listen 127.0.0.1:0 <args>` and reads its URL from stderr.
    fn start(args: &[&str]) -> BackendProcess {
        BackendProcess::start_with(&["--listen", "127.0.0.1:0"], args, &[])
    }

    /// Starts `def backend <listen> <args>` with `env` set and reads its URL from stderr.
    fn start_with(listen: &[&str], args: &[&str], env: &[(&str, &str)]) -> BackendProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_def"))
            .arg("backend")
            .args(listen)
            .args(args)
            .env_remove("DEF_BACKEND_TOKEN")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("def backend starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .map(|u| u.trim_end_matches(',').to_string())
            .unwrap_or_else(|| panic!("no URL in the backend's first line: {first}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        BackendProcess { child, url, stderr }
    }

    /// `http://127.0.0.1:PORT` without the base path.
    fn root(&self) -> String {
        let rest = &self.url["http://".len()..];
        format!("http://{}", &rest[..rest.find('/').unwrap_or(rest.len())])
    }

    fn metric(&self, name: &str) -> f64 {
        metric(&self.root(), name)
    }

    /// `/stop` (dropping the queue), then [`BackendProcess::terminate`].
    fn terminate_dropping(self) -> (bool, String) {
        assert_eq!(post(&format!("{}/stop", self.url), b"").0, 200);
        self.terminate()
    }

    /// Sends SIGTERM and waits for the exit; returns (success, stderr).
    fn terminate(mut self) -> (bool, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the backend did not end within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        let stderr = self.stderr.lock().unwrap().clone();
        (status.success(), stderr)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// POSTs `body` and returns (status, Retry-After, body text).
fn post(url: &str, body: &[u8]) -> (u16, Option<String>, String) {
    let mut response = agent().post(url).send(body).expect("the backend answers");
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), retry, text)
}

fn get(url: &str) -> (u16, String) {
    let mut response = agent().get(url).call().expect("the backend answers");
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), text)
}

fn metric(root: &str, name: &str) -> f64 {
    let (_, text) = get(&format!("{root}/metrics"));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("def_backend_{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// The reference datasources, the test's loadTest simulation, an http sink to `url`, and a
/// file sink `generated.jsonl` over the same datasources (what the generator made, in order).
fn write_config(dir: &Path, url: &str) {
    let refs = format!("[{}]", NODES.map(|n| format!("\"{n}\"")).join(", "));
    let sinks = format!(
        "kind: sink\nname: http-sink\nspec:\n  type: http\n  timeframe: 1000\n  url: \"{url}\"\n  \
         dataSourceRefs: {refs}\n---\n\
         kind: sink\nname: file-sink\nspec:\n  type: file\n  path: \"{}\"\n  dataSourceRefs: {refs}\n",
        dir.join("generated.jsonl").display()
    );
    std::fs::write(dir.join("sinks.yaml"), sinks).unwrap();
}

/// Runs the short load test (1000 events in 5 frames) into the backend at `url`.
fn run_load_test(dir: &Path, url: &str) {
    let (code, stderr, _) = run_load_test_failing(dir, url);
    assert_eq!(code, Some(0), "def run failed: {stderr}");
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `caseid` of an event's JSON (the Kafka key the backend sends it with).
#[cfg(feature = "kafka")]
fn caseid(line: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["caseid"].as_str().unwrap().to_string()
}

/// Waits until the backend has emitted `n` events (bounded).
fn wait_emitted(backend: &BackendProcess, n: f64, within: Duration) {
    let deadline = Instant::now() + within;
    while backend.metric("emitted_events_total") < n {
        assert!(
            Instant::now() < deadline,
            "not all {n} events emitted in {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Without a broker: every event the generator made reaches the file, once, in the order it
/// was made (one emitter, frames in order), byte for byte; SIGTERM then exits 0.
#[test]
fn load_test_into_a_file_arrives_complete_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emitted.jsonl");
    let backend = BackendProcess::start(&["--output", &format!("file:{}", out.display())]);
    run_load_test(dir.path(), &backend.url);
    assert_eq!(backend.metric("received_events_total"), 1000.0);
    assert_eq!(backend.metric("received_frames_total"), 5.0);
    wait_emitted(&backend, 1000.0, Duration::from_secs(30));
    let (ok, stderr) = backend.terminate();
    assert!(ok, "the backend failed: {stderr}");
    assert!(stderr.contains("emitted 1000 in 5 frames"), "{stderr}");
    let generated = lines(&dir.path().join("generated.jsonl"));
    assert_eq!(generated.len(), 1000);
    assert_eq!(lines(&out), generated);
}

/// SIGTERM before `/start`: by default the queue is drained (emitted, paced), with
/// `--drop-on-stop` it is dropped and the count reported. Frames of 10 ms keep it short.
#[test]
fn sigterm_drains_the_queue_or_drops_it_on_request() {
    for drop_on_stop in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("emitted.jsonl");
        let output = format!("file:{}", out.display());
        let mut args = vec!["--output", output.as_str()];
        if drop_on_stop {
            args.push("--drop-on-stop");
        }
        let backend = BackendProcess::start(&args);
        let body = br#"{"duration": 10000, "events": [{"caseid":"case_1"},{"caseid":"case_2"},{"caseid":"case_1"}]}"#;
        for _ in 0..4 {
            assert_eq!(post(&format!("{}/register", backend.url), body).0, 200);
        }
        let (ok, stderr) = backend.terminate();
        assert!(ok, "{stderr}");
        let emitted = lines(&out);
        if drop_on_stop {
            assert!(emitted.is_empty());
            assert!(
                stderr.contains("dropping 12 queued events (4 frames)"),
                "{stderr}"
            );
            assert!(stderr.contains("dropped 12"), "{stderr}");
        } else {
            assert_eq!(emitted.len(), 12);
            assert_eq!(emitted[2], r#"{"caseid":"case_1"}"#);
            assert!(stderr.contains("dropped 0"), "{stderr}");
        }
        // What a kill would have lost is in the summary.
        assert!(
            stderr.contains("queued at shutdown: 12 events in 4 frames (0.040 s)"),
            "{stderr}"
        );
    }
}

/// Bad requests get their status and reason, and the backend keeps serving.
#[test]
fn bad_requests_are_answered_and_the_backend_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = format!("file:{}", dir.path().join("e.jsonl").display());
    let backend = BackendProcess::start(&[
        "--output",
        &out,
        "--max-queued-events",
        "100",
        "--max-body-bytes",
        "20000",
    ]);
    let register = format!("{}/register", backend.url);
    let frame = |n: usize| {
        let events: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"caseid":"case_{i}"}}"#))
            .collect();
        format!(
            r#"{{"duration": 1000000, "events": [{}]}}"#,
            events.join(",")
        )
    };

    let (status, _, text) = post(&register, b"{\"duration\": 1000, \"events\": [");
    assert_eq!(status, 400);
    assert!(text.contains("not a frame"), "{text}");
    let (status, _, text) = post(&register, br#"{"duration": "soon", "events": []}"#);
    assert_eq!(status, 400);
    assert!(text.contains("invalid type"), "{text}");
    let (status, _, text) = post(&register, br#"{"duration": 5, "events": [1, 2]}"#);
    assert_eq!(status, 400);
    assert!(text.contains("event 0 is not an event object"), "{text}");

    let (status, _, _) = post(&register, &vec![b' '; 20_001]);
    assert_eq!(status, 413);
    let (status, _, text) = post(&register, frame(101).as_bytes());
    assert_eq!(status, 413);
    assert!(text.contains("101 events"), "{text}");

    // Not started: the queue fills up to 100 events, then 429 with Retry-After.
    assert_eq!(post(&register, frame(60).as_bytes()).0, 200);
    assert_eq!(post(&register, frame(40).as_bytes()).0, 200);
    let (status, retry, text) = post(&register, frame(1).as_bytes());
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(text.contains("queue is full"), "{text}");

    let (status, text) = get(&format!("{}/nowhere", backend.root()));
    assert_eq!(status, 404);
    assert!(text.contains("/loadgenerator/register"), "{text}");
    assert_eq!(
        post(
            &format!("{}/loadgenerator/registerx", backend.root()),
            b"{}"
        )
        .0,
        404
    );

    assert_eq!(
        get(&format!("{}/health", backend.root())),
        (200, "ok\n".into())
    );
    assert_eq!(backend.metric("queued_events"), 100.0);
    assert_eq!(backend.metric("received_frames_total"), 2.0);
    let (_, metrics) = get(&format!("{}/metrics", backend.root()));
    for line in [
        "def_backend_rejected_requests_total{code=\"400\"} 3",
        "def_backend_rejected_requests_total{code=\"413\"} 2",
        "def_backend_rejected_requests_total{code=\"429\"} 1",
        "def_backend_rejected_requests_total{code=\"404\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} not in\n{metrics}");
    }
    // /stop drops the queue and says how much.
    let (status, _, text) = post(&format!("{}/stop", backend.url), b"");
    assert_eq!(status, 200);
    assert_eq!(text, r#"{"dropped_events":100,"dropped_frames":2}"#);
    assert_eq!(post(&register, frame(1).as_bytes()).0, 200);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// A generator whose backend is not there fails with exit 1 and says so (after its bounded
/// retry time of 10 s).
#[test]
fn an_unreachable_backend_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &format!("http://127.0.0.1:{port}/loadgenerator"),
    );
    let output = AssertCommand::cargo_bin("def")
        .unwrap()
        .args(["run", "--seed", "1"])
        .arg(fixture("reference/datasource/assemblyline"))
        .arg(fixture("backend/loadtest.yaml"))
        .arg(dir.path().join("sinks.yaml"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no answer from the load backend"),
        "{stderr}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random bodies (bytes, and JSON-like text built from the frame's own pieces) never take
    /// the backend down: each gets a 2xx/4xx answer and `/health` stays ok.
    #[test]
    fn random_register_bodies_never_crash_the_backend(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        pieces in proptest::collection::vec(
            prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"),
                Just("\"duration\""), Just("\"events\""), Just("\"caseid\""), Just("\"case_1\""),
                Just("-1"), Just("1e400"), Just("18446744073709551616"), Just("0"),
                Just("null"), Just("\"\\ud800\""), Just("true"),
            ],
            0..40,
        ),
    ) {
        let backend = shared_backend();
        let url = format!("{}/register", backend.url());
        for body in [bytes, pieces.concat().into_bytes()] {
            let (status, _, _) = post(&url, &body);
            prop_assert!(status == 200 || status == 400 || status == 413 || status == 429, "status {}", status);
        }
        prop_assert_eq!(get(&format!("http://{}/health", backend.address())).0, 200);
    }
}

/// One in-process backend for all proptest cases (stdout would mix into the test output, so
/// a file in the temp folder).
fn shared_backend() -> &'static Backend {
    static BACKEND: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
    BACKEND.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("def-backend-fuzz-{}.jsonl", std::process::id()));
        Backend::start(BackendConfig {
            limits: Limits {
                events: 1000,
                ..Limits::default()
            },
            max_body_bytes: 1 << 20,
            ..BackendConfig::new("127.0.0.1:0".parse().unwrap(), OutputSpec::File(path))
        })
        .expect("an in-process backend")
    })
}

/// The in-process backend's shutdown report counts what it got (no broker needed).
#[test]
fn an_in_process_backend_reports_and_drains() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let backend = Backend::start(BackendConfig {
        base_path: "/".into(),
        limits: Limits {
            events: 100,
            ..Limits::default()
        },
        max_body_bytes: 1 << 20,
        ..BackendConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            OutputSpec::File(path.clone()),
        )
    })
    .unwrap();
    let body = br#"{"duration": 0, "events": [{"caseid":"case_7","n":1},{"n":2}]}"#;
    assert_eq!(post(&format!("{}/register", backend.url()), body).0, 200);
    let report = backend.shutdown(Shutdown::Drain);
    assert_eq!(report.received_events, 2);
    assert_eq!(report.emitted.emitted, 2);
    assert_eq!(report.emitted.output.delivered, 2);
    assert_eq!(report.undelivered(), 0);
    assert_eq!(lines(&path), [r#"{"caseid":"case_7","n":1}"#, r#"{"n":2}"#]);
}

/// `def run` (loadTest, 5 frames × 200 events × 1 s) → `def backend` → the broker: exactly the
/// generated events arrive, keyed by case id, each case in order; and they are paced: every
/// 1-second frame window holds 200 ± 10% records by their Kafka timestamps (1 ms resolution,
/// a shared machine), every 250 ms quarter 50 ± 20%, and the whole span is 5 s ± 0.3 s.
#[cfg(feature = "kafka")]
#[test]
fn load_test_into_kafka_is_exact_ordered_per_case_and_paced() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique("paced");
    create_topic(&bootstrap, &topic, 3);
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--bootstrap-server",
        &bootstrap,
        "--topic",
        &topic,
        "--partition",
        "case:3",
        "--producer",
        "linger.ms=1",
    ]);
    run_load_test(dir.path(), &backend.url);
    wait_emitted(&backend, 1000.0, Duration::from_secs(30));
    let (ok, stderr) = backend.terminate();
    assert!(ok, "the backend failed: {stderr}");
    assert!(stderr.contains("delivered 1000, failed 0"), "{stderr}");

    let records = consume(&bootstrap, &topic, 1000);
    assert_eq!(records.len(), 1000);
    let generated = lines(&dir.path().join("generated.jsonl"));
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in &generated {
        want.entry(caseid(line)).or_default().push(line.clone());
    }
    let mut got: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in &records {
        assert_eq!(caseid(&r.value), r.key, "key = case id");
        got.entry(r.key.clone())
            .or_default()
            .push((r.timestamp_ms, r.value.clone()));
    }
    // One case lives in one partition, so its records come in offset order = emission order.
    let got: BTreeMap<String, Vec<String>> = got
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().map(|(_, s)| s).collect()))
        .collect();
    assert_eq!(got, want);

    let mut stamps: Vec<i64> = records.iter().map(|r| r.timestamp_ms).collect();
    stamps.sort_unstable();
    // Frame k's events are due at start + k s + (j / 200) s for j = 1..=200: the first at 5 ms.
    let start = stamps[0] - 5;
    let span = (stamps[999] - stamps[0]) as f64 / 1000.0;
    assert!(
        (4.7..=5.3).contains(&span),
        "span {span} s, want 4.995 s ± 0.3"
    );
    for frame in 0..5 {
        let window = |from: i64, to: i64| stamps.iter().filter(|&&t| t > from && t <= to).count();
        let n = window(start + frame * 1000, start + (frame + 1) * 1000);
        assert!(
            (180..=220).contains(&n),
            "frame {frame}: {n} records, want 200 ± 10%"
        );
        for q in 0..4 {
            let from = start + frame * 1000 + q * 250;
            let n = window(from, from + 250);
            assert!(
                (40..=60).contains(&n),
                "frame {frame} quarter {q}: {n}, want 50 ± 20%"
            );
        }
    }
}

/// A backend built without the `kafka` feature refuses a Kafka output at start, saying why
/// (file and stdout outputs work as ever).
#[cfg(not(feature = "kafka"))]
#[test]
fn a_kafka_output_without_kafka_support_is_a_clear_error() {
    let spec = def::config::KafkaSinkSpec {
        bootstrap_server: "127.0.0.1:1".into(),
        client_id: None,
        topic: "events".into(),
        partition: def::config::PartitionSpec::Default,
        producer: BTreeMap::new(),
        connect_timeout_secs: 1.0,
        flush_timeout_secs: 1.0,
    };
    let error = Backend::start(BackendConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        OutputSpec::Kafka(spec),
    ))
    .err()
    .expect("no Kafka output without Kafka support");
    assert!(
        error.message.contains("no Kafka support"),
        "{}",
        error.message
    );
}

/// A frame longer than `--max-frame-duration` (here `u64::MAX` µs, which used to hold every
/// later frame and the shutdown forever) gets 400 with the reason; the backend keeps serving
/// and emits the next frame.
#[test]
fn a_frame_longer_than_the_limit_gets_400_and_the_backend_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", out.display()),
        "--max-frame-duration",
        "60",
    ]);
    let register = format!("{}/register", backend.url);
    for duration in ["18446744073709551615", "60000001"] {
        let body = format!(r#"{{"duration": {duration}, "events":[{{"caseid":"x"}}]}}"#);
        let (status, _, text) = post(&register, body.as_bytes());
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains(&format!("the frame lasts {duration} µs"))
                && text.contains("--max-frame-duration 60 s"),
            "{text}"
        );
    }
    let (status, _, _) = post(&register, br#"{"duration": 60000000, "events":[]}"#);
    assert_eq!(status, 200, "exactly the limit is fine");
    assert_eq!(post(&format!("{}/stop", backend.url), b"").0, 200);
    let body = br#"{"duration": 1000, "events":[{"caseid":"y"}]}"#;
    assert_eq!(post(&register, body).0, 200);
    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    wait_emitted(&backend, 1.0, Duration::from_secs(10));
    let (_, metrics) = get(&format!("{}/metrics", backend.root()));
    assert!(
        metrics.contains("def_backend_rejected_requests_total{code=\"400\"} 2"),
        "{metrics}"
    );
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
    assert_eq!(lines(&out), [r#"{"caseid":"y"}"#]);
}

/// A drain that outlasts `--drain-timeout` ends: three 10 s frames of 2 events (the first
/// event due 5 s into the first frame) are queued; SIGTERM with a 0.5 s drain drops all 6,
/// says so, and exits 1 well before the 30 s the frames would last.
#[test]
fn a_drain_timeout_ends_the_shutdown_and_reports_the_dropped_events() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", out.display()),
        "--drain-timeout",
        "0.5",
    ]);
    let body = br#"{"duration": 10000000, "events":[{"caseid":"a"},{"caseid":"b"}]}"#;
    for _ in 0..3 {
        assert_eq!(post(&format!("{}/register", backend.url), body).0, 200);
    }
    let began = Instant::now();
    let (ok, stderr) = backend.terminate();
    assert!(
        began.elapsed() < Duration::from_secs(8),
        "took {:?}",
        began.elapsed()
    );
    assert!(!ok, "a drain cut short exits 1: {stderr}");
    assert!(
        stderr.contains("emitting 6 queued events (3 frames, 30.000 s; for at most 0.5 s"),
        "{stderr}"
    );
    assert!(
        stderr.contains("queued at shutdown: 6 events in 3 frames (30.000 s)"),
        "{stderr}"
    );
    assert!(stderr.contains("emitted 0 in 0 frames"), "{stderr}");
    assert!(stderr.contains("dropped 6\n"), "{stderr}");
    assert!(
        stderr.contains("did not finish within --drain-timeout 0.5 s; dropped 6 queued events"),
        "{stderr}"
    );
    assert!(lines(&out).is_empty());
}

/// A `Content-Length` over `--max-body-bytes` is refused from the header, at once, before the
/// body: 999999999999 announced with 1 byte sent gets 413 (not a wait for the rest).
#[test]
fn a_content_length_over_the_limit_gets_413_at_once() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", dir.path().join("e.jsonl").display()),
        "--max-body-bytes",
        "20000",
    ]);
    let address = backend.root()["http://".len()..].to_string();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    write!(
        stream,
        "POST /loadgenerator/register HTTP/1.1\r\nhost: {address}\r\n\
         content-type: application/json\r\ncontent-length: 999999999999\r\n\r\n{{"
    )
    .unwrap();
    let mut answer = Vec::new();
    // The backend closes the connection after the answer; a timeout here means no answer.
    let read = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{read:?}: no prompt 413: {answer}"
    );
    assert!(
        answer.contains("999999999999 bytes") && answer.contains("--max-body-bytes 20000"),
        "{answer}"
    );
    // And it keeps serving.
    let body = br#"{"duration": 1000, "events":[{"caseid":"y"}]}"#;
    assert_eq!(post(&format!("{}/register", backend.url), body).0, 200);
    assert_eq!(backend.metric("rejected_requests_total{code=\"413\"}"), 1.0);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// Frames larger than the backend's `--max-body-bytes` (200 events ≈ 26 KB against 20,000
/// bytes) are split by the http sink into smaller frames whose durations add up: every event
/// arrives, once, in order, in more frames than the generator made.
#[test]
fn an_oversized_frame_from_def_run_is_split() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emitted.jsonl");
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", out.display()),
        "--max-body-bytes",
        "20000",
    ]);
    run_load_test(dir.path(), &backend.url);
    assert_eq!(backend.metric("received_events_total"), 1000.0);
    let frames = backend.metric("received_frames_total");
    assert!(frames >= 10.0, "{frames} frames: not split");
    wait_emitted(&backend, 1000.0, Duration::from_secs(30));
    let (ok, stderr) = backend.terminate();
    assert!(ok, "the backend failed: {stderr}");
    assert_eq!(lines(&out), lines(&dir.path().join("generated.jsonl")));
}

/// Runs the short load test into `url` and returns (exit code, stderr, seconds taken).
fn run_load_test_failing(dir: &Path, url: &str) -> (Option<i32>, String, f64) {
    run_load_test_with(dir, url, &[])
}

/// [`run_load_test_failing`] with environment variables for `def run`.
fn run_load_test_with(dir: &Path, url: &str, env: &[(&str, &str)]) -> (Option<i32>, String, f64) {
    write_config(dir, url);
    let began = Instant::now();
    let output = AssertCommand::cargo_bin("def")
        .unwrap()
        .env_remove("DEF_BACKEND_TOKEN")
        .envs(env.iter().copied())
        .args(["run", "--seed", "11"])
        .arg(fixture("reference/datasource/assemblyline"))
        .arg(fixture("backend/loadtest.yaml"))
        .arg(dir.join("sinks.yaml"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        began.elapsed().as_secs_f64(),
    )
}

/// A single event larger than the backend takes cannot be split: the run fails at once with
/// the size and the fix.
#[test]
fn an_event_over_the_body_limit_fails_the_run_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", dir.path().join("e.jsonl").display()),
        "--max-body-bytes",
        "60",
    ]);
    let (code, stderr, secs) = run_load_test_failing(dir.path(), &backend.url);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(secs < 8.0, "took {secs} s");
    assert!(
        stderr.contains("refused a frame of") && stderr.contains("with one event as too large"),
        "{stderr}"
    );
    assert!(stderr.contains("--max-body-bytes"), "{stderr}");
    let _ = backend.terminate();
}

/// A server that takes connections and drops them unread (as a backend does that will not
/// take a body): the sink retries once, then fails with the body's size, instead of calling
/// it unreachable after 10 s of retries.
#[test]
fn a_connection_cut_while_sending_is_a_clear_error() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = [0u8; 64];
            let _ = stream.read(&mut head);
            // Dropped with unread data: the kernel resets the connection.
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let (code, stderr, secs) =
        run_load_test_failing(dir.path(), &format!("http://{address}/loadgenerator"));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(secs < 8.0, "took {secs} s: {stderr}");
    assert!(
        stderr.contains("closed the connection twice while a") && stderr.contains("bytes request"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("no answer from the load backend"),
        "{stderr}"
    );
}

/// The original's http sink posts `json.dumps(frame, indent=4)`. Every event still comes out as
/// one compact line (the probe's reproducer, and an indented frame of two events with spaces and
/// escapes inside strings, which stay); compact events keep their bytes; `/metrics` counts the
/// events that were made compact.
#[test]
fn pretty_printed_events_are_emitted_as_one_compact_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let backend = BackendProcess::start(&["--output", &format!("file:{}", out.display())]);
    let register = format!("{}/register", backend.url);
    assert_eq!(
        post(
            &register,
            b"{\"duration\":1000,\"events\":[{\n\"activity\":\"a\"\n}]}"
        )
        .0,
        200
    );
    let indented = "{\n    \"duration\": 1000,\n    \"events\": [\n        {\n            \
                    \"activity\": \"Goods  Delivery\",\n            \"caseid\": \"case_1\",\n            \
                    \"note\": \"a \\\"quoted\\\" \\\\ word\"\n        },\n        {\n            \
                    \"caseid\": \"case_2\",\n            \"n\": [\n                1,\n                \
                    2.50\n            ]\n        }\n    ]\n}";
    assert_eq!(post(&register, indented.as_bytes()).0, 200);
    let compact = br#"{"duration":1000,"events":[{"caseid":"case_3","a":"x y"}]}"#;
    assert_eq!(post(&register, compact).0, 200);
    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    wait_emitted(&backend, 4.0, Duration::from_secs(10));
    assert_eq!(backend.metric("compacted_events_total"), 3.0);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
    assert_eq!(
        lines(&out),
        [
            r#"{"activity":"a"}"#,
            r#"{"activity":"Goods  Delivery","caseid":"case_1","note":"a \"quoted\" \\ word"}"#,
            r#"{"caseid":"case_2","n":[1,2.50]}"#,
            r#"{"caseid":"case_3","a":"x y"}"#,
        ]
    );
}

/// Into Kafka too: a pretty-printed event's record value is compact, keyed by its case id.
#[cfg(feature = "kafka")]
#[test]
fn pretty_printed_events_reach_kafka_compact() {
    let Some(bootstrap) = broker() else { return };
    let topic = unique("compact");
    create_topic(&bootstrap, &topic, 1);
    let backend = BackendProcess::start(&["--bootstrap-server", &bootstrap, "--topic", &topic]);
    let body = "{\n    \"duration\": 1000,\n    \"events\": [\n        {\n            \
                \"caseid\": \"case_1\",\n            \"activity\": \"Goods Delivery\"\n        }\n    ]\n}";
    assert_eq!(
        post(&format!("{}/register", backend.url), body.as_bytes()).0,
        200
    );
    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    wait_emitted(&backend, 1.0, Duration::from_secs(10));
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
    let records = consume(&bootstrap, &topic, 1);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key, "case_1");
    assert_eq!(
        records[0].value,
        r#"{"caseid":"case_1","activity":"Goods Delivery"}"#
    );
}

/// A request with an optional bearer token; returns (status, headers we look at, body text).
fn request(
    method: &str,
    url: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> (u16, Option<String>, String) {
    let agent = agent();
    let mut response = match method {
        "GET" => {
            let mut r = agent.get(url);
            if let Some(a) = authorization {
                r = r.header("authorization", a);
            }
            r.call()
        }
        _ => {
            let mut r = agent.post(url);
            if let Some(a) = authorization {
                r = r.header("authorization", a);
            }
            r.send(body)
        }
    }
    .expect("the backend answers");
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), www, text)
}

/// A frame of `n` events `{"caseid":"case_<from + i>"}` lasting `micros`.
fn frame_body(from: usize, n: usize, micros: u64) -> String {
    let events: Vec<String> = (from..from + n)
        .map(|i| format!(r#"{{"caseid":"case_{i}"}}"#))
        .collect();
    format!(r#"{{"duration":{micros},"events":[{}]}}"#, events.join(","))
}

/// Finding: `/stop` during a long frame answered `dropped_events: 0` (the summary later said
/// 2), and the next frame waited for the rest of the stopped one. Now `/stop` ends the frame
/// at once: its answer counts the frame's events not yet emitted, the summary agrees, and the
/// next frame (10 ms) is emitted at once, not after the stopped 10 s frame's end.
#[test]
fn stop_during_a_long_frame_ends_it_at_once_with_exact_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("e.jsonl");
    let backend = BackendProcess::start(&["--output", &format!("file:{}", out.display())]);
    let register = format!("{}/register", backend.url);
    // Two events due 5 s and 10 s into the frame.
    assert_eq!(
        post(&register, frame_body(0, 2, 10_000_000).as_bytes()).0,
        200
    );
    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    std::thread::sleep(Duration::from_millis(300));
    let (status, _, text) = post(&format!("{}/stop", backend.url), b"");
    assert_eq!(status, 200);
    assert_eq!(text, r#"{"dropped_events":2,"dropped_frames":1}"#);
    assert_eq!(backend.metric("queued_events"), 0.0);
    assert_eq!(backend.metric("queued_frames"), 0.0);
    assert_eq!(backend.metric("queued_duration_seconds"), 0.0);

    let began = Instant::now();
    assert_eq!(post(&register, frame_body(7, 1, 10_000).as_bytes()).0, 200);
    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    wait_emitted(&backend, 1.0, Duration::from_secs(5));
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "the next frame waited {:?}",
        began.elapsed()
    );

    // Stopped half-way through a frame of 6 events over 1.2 s: whatever the timing, the answer
    // and the events emitted add up to the frame, and the summary says the same.
    assert_eq!(
        post(&register, frame_body(10, 6, 1_200_000).as_bytes()).0,
        200
    );
    std::thread::sleep(Duration::from_millis(500));
    let (_, _, text) = post(&format!("{}/stop", backend.url), b"");
    let answer: serde_json::Value = serde_json::from_str(&text).unwrap();
    let dropped = answer["dropped_events"].as_u64().unwrap();
    assert_eq!(answer["dropped_frames"], 1, "{text}");
    std::thread::sleep(Duration::from_millis(300));
    let emitted = backend.metric("emitted_events_total") as u64 - 1;
    assert_eq!(dropped + emitted, 6, "{text}; emitted {emitted}");
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains(&format!("dropped {}\n", 2 + dropped)),
        "{stderr}"
    );
    let lines = lines(&out);
    assert_eq!(lines.len() as u64, 1 + emitted);
    assert_eq!(lines[0], r#"{"caseid":"case_7"}"#);
}

/// Finding: the original's http sink ignores status codes, so a 429 lost its frame. With
/// `--when-full block` (the default) a client that never retries posts 40 frames of 5 events
/// back to back against a queue of 10 events: every request is held until its frame fits and
/// answered 200, and all 200 events are emitted, in order, none refused, and the summary counts
/// them. With `--when-full reject` the same client gets 429s (and would lose those frames).
#[test]
fn a_client_that_never_retries_loses_nothing_when_requests_block() {
    for mode in ["block", "reject"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("e.jsonl");
        let backend = BackendProcess::start(&[
            "--output",
            &format!("file:{}", out.display()),
            "--max-queued-events",
            "10",
            "--when-full",
            mode,
        ]);
        assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
        let register = format!("{}/register", backend.url);
        // Frames of 20 ms; with reject 100 ms, so that posting surely outruns emission.
        let micros = if mode == "block" { 20_000 } else { 100_000 };
        let mut refused = 0;
        for f in 0..40 {
            let (status, retry, text) = post(&register, frame_body(f * 5, 5, micros).as_bytes());
            match status {
                200 => {}
                429 if mode == "reject" => {
                    assert_eq!(retry.as_deref(), Some("1"));
                    assert!(
                        text.contains("the queue is full (its events limit)"),
                        "{text}"
                    );
                    refused += 1;
                }
                _ => panic!("{mode}: frame {f}: {status} {text}"),
            }
        }
        let accepted = 200 - 5 * refused;
        wait_emitted(&backend, accepted as f64, Duration::from_secs(15));
        assert_eq!(backend.metric("waiting_requests"), 0.0);
        let (ok, stderr) = backend.terminate();
        assert!(ok, "{stderr}");
        let lines = lines(&out);
        if mode == "block" {
            assert_eq!(refused, 0);
            let want: Vec<String> = (0..200)
                .map(|i| format!(r#"{{"caseid":"case_{i}"}}"#))
                .collect();
            assert_eq!(lines, want);
            assert!(
                stderr.contains("received 200 events in 40 frames; emitted 200 in 40 frames"),
                "{stderr}"
            );
        } else {
            assert!(refused > 0, "reject never refused: the test proves nothing");
            assert_eq!(lines.len(), accepted);
        }
    }
}

/// `--when-full block` waits at most `--block-timeout`, then answers 429 with Retry-After; a
/// full queue before `/start` answers 429 at once (it cannot drain, and def's http sink then
/// sends `/start` early); a shutdown answers a waiting request 503 at once.
#[test]
fn a_blocked_register_ends_with_429_after_the_block_timeout_or_503_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", dir.path().join("e.jsonl").display()),
        "--max-queued-events",
        "2",
        "--block-timeout",
        "0.3",
        "--drop-on-stop",
    ]);
    let register = format!("{}/register", backend.url);
    assert_eq!(
        post(&register, frame_body(0, 2, 10_000_000).as_bytes()).0,
        200
    );
    let (status, retry, text) = post(&register, frame_body(2, 1, 1000).as_bytes());
    assert_eq!((status, retry.as_deref()), (429, Some("1")), "{text}");
    // At once: not the block timeout's "stayed full".
    assert!(text.contains("emission has not started"), "{text}");

    assert_eq!(post(&format!("{}/start", backend.url), b"").0, 200);
    let began = Instant::now();
    let (status, retry, text) = post(&register, frame_body(2, 1, 1000).as_bytes());
    assert!(
        began.elapsed() >= Duration::from_millis(300),
        "did not wait"
    );
    assert_eq!((status, retry.as_deref()), (429, Some("1")), "{text}");
    assert!(
        text.contains("the queue stayed full (its events limit) for --block-timeout 0.3 s"),
        "{text}"
    );
    let backend_ended = {
        // A second backend with a long block timeout: SIGTERM answers the waiting request.
        let backend2 = BackendProcess::start(&[
            "--output",
            &format!("file:{}", dir.path().join("e2.jsonl").display()),
            "--max-queued-events",
            "2",
            "--drop-on-stop",
        ]);
        let url = backend2.url.clone();
        assert_eq!(
            post(
                &format!("{url}/register"),
                frame_body(0, 2, 10_000_000).as_bytes()
            )
            .0,
            200
        );
        assert_eq!(post(&format!("{url}/start"), b"").0, 200);
        let waiter = std::thread::spawn(move || {
            let began = Instant::now();
            let answer = post(
                &format!("{url}/register"),
                frame_body(2, 1, 1000).as_bytes(),
            );
            (answer, began.elapsed())
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        while backend2.metric("waiting_requests") < 1.0 {
            assert!(Instant::now() < deadline, "the request never waited");
            std::thread::sleep(Duration::from_millis(20));
        }
        let (ok, stderr) = backend2.terminate();
        let ((status, _, text), waited) = waiter.join().unwrap();
        assert_eq!(status, 503, "{text}");
        assert!(text.contains("shutting down"), "{text}");
        assert!(waited < Duration::from_secs(10), "waited {waited:?}");
        (ok, stderr)
    };
    assert!(backend_ended.0, "{}", backend_ended.1);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// Finding: empty frames bypassed `--max-queued-events` (20,000 empty frames of 3600 s were
/// accepted). Frames and their duration are bounded too: by default a day of frames (24 of an
/// hour; the 25th gets 429), and with `--max-queued-frames 3 --max-queued-duration 10` the
/// bounds answer like a full queue; a frame longer than the duration bound alone gets 413.
#[test]
fn empty_frames_are_bounded_by_count_and_duration() {
    let dir = tempfile::tempdir().unwrap();
    let output = format!("file:{}", dir.path().join("e.jsonl").display());
    let backend = BackendProcess::start(&["--output", &output, "--when-full", "reject"]);
    let register = format!("{}/register", backend.url);
    let hour = br#"{"duration":3600000000,"events":[]}"#;
    for _ in 0..24 {
        assert_eq!(post(&register, hour).0, 200);
    }
    let (status, _, text) = post(&register, hour);
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("its duration limit"), "{text}");
    assert_eq!(backend.metric("queued_duration_seconds"), 86_400.0);
    assert_eq!(backend.metric("queued_frames"), 24.0);
    let (ok, stderr) = backend.terminate_dropping();
    assert!(ok, "{stderr}");

    let backend = BackendProcess::start(&[
        "--output",
        &output,
        "--when-full",
        "reject",
        "--max-queued-frames",
        "3",
        "--max-queued-duration",
        "10",
    ]);
    let register = format!("{}/register", backend.url);
    let empty = |micros: u64| format!(r#"{{"duration":{micros},"events":[]}}"#);
    assert_eq!(post(&register, empty(4_000_000).as_bytes()).0, 200);
    assert_eq!(post(&register, empty(4_000_000).as_bytes()).0, 200);
    let (status, _, text) = post(&register, empty(4_000_000).as_bytes());
    assert_eq!(status, 429, "{text}");
    assert!(
        text.contains("its duration limit") && text.contains("--max-queued-duration 10 s"),
        "{text}"
    );
    assert_eq!(post(&register, empty(2_000_000).as_bytes()).0, 200);
    let (status, _, text) = post(&register, empty(0).as_bytes());
    assert_eq!(status, 429, "{text}");
    assert!(
        text.contains("its frames limit") && text.contains("--max-queued-frames 3"),
        "{text}"
    );
    let (status, _, text) = post(&register, empty(11_000_000).as_bytes());
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("--max-queued-duration 10 s"), "{text}");
    assert_eq!(backend.metric("queued_frames"), 3.0);
    assert_eq!(backend.metric("queued_duration_seconds"), 10.0);
    let (_, _, text) = post(&format!("{}/stop", backend.url), b"");
    assert_eq!(text, r#"{"dropped_events":0,"dropped_frames":3}"#);
    assert_eq!(backend.metric("queued_duration_seconds"), 0.0);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// Finding: no authentication. With `--token` (here from `DEF_BACKEND_TOKEN`) every route but
/// `GET /health` needs `Authorization: Bearer <token>`: none or a wrong one gets 401 with
/// `WWW-Authenticate: Bearer` (unknown paths too, so nothing is revealed), the right one (any
/// case of `Bearer`) is served. `--help` does not show the token's value.
#[test]
fn a_token_guards_every_route_but_health() {
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start_with(
        &["--listen", "127.0.0.1:0"],
        &[
            "--output",
            &format!("file:{}", dir.path().join("e.jsonl").display()),
        ],
        &[("DEF_BACKEND_TOKEN", "s3cret-token")],
    );
    let root = backend.root();
    let url = &backend.url;
    let good = Some("Bearer s3cret-token");
    let frame = frame_body(0, 1, 1000);
    assert_eq!(request("GET", &format!("{root}/health"), None, b"").0, 200);
    for (method, path) in [
        ("POST", format!("{url}/register")),
        ("POST", format!("{url}/start")),
        ("POST", format!("{url}/stop")),
        ("GET", format!("{root}/metrics")),
        ("GET", format!("{root}/nowhere")),
    ] {
        for auth in [
            None,
            Some("Bearer s3cret-tokeN"),
            Some("Bearer s3cret"),
            Some("Basic s3cret-token"),
            Some("s3cret-token"),
        ] {
            let (status, www, text) = request(method, &path, auth, frame.as_bytes());
            assert_eq!(status, 401, "{method} {path} {auth:?}: {text}");
            assert_eq!(www.as_deref(), Some("Bearer"));
        }
    }
    let (status, _, text) = request("POST", &format!("{url}/register"), None, frame.as_bytes());
    assert_eq!(status, 401);
    assert!(text.contains("Authorization: Bearer"), "{text}");
    let (status, _, text) = request("POST", &format!("{url}/register"), good, frame.as_bytes());
    assert_eq!(status, 200, "{text}");
    let lower = Some("bearer s3cret-token");
    assert_eq!(request("POST", &format!("{url}/start"), lower, b"").0, 200);
    let (status, _, metrics) = request("GET", &format!("{root}/metrics"), good, b"");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("def_backend_rejected_requests_total{code=\"401\"} 26"),
        "{metrics}"
    );
    assert_eq!(request("GET", &format!("{root}/nowhere"), good, b"").0, 404);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");

    let help = AssertCommand::cargo_bin("def")
        .unwrap()
        .args(["backend", "--help"])
        .env("DEF_BACKEND_TOKEN", "s3cret-token")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("DEF_BACKEND_TOKEN"), "{help}");
    assert!(!help.contains("s3cret-token"), "{help}");
}

/// A non-loopback address needs a token: without one (or with an empty one) `def backend`
/// refuses to start (exit 2, saying why and how); `--insecure` or `--token` let it listen.
#[test]
fn a_non_loopback_address_needs_a_token_or_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let output = format!("file:{}", dir.path().join("e.jsonl").display());
    for extra in [&[][..], &["--token", ""][..], &["--token", " x"][..]] {
        let run = AssertCommand::cargo_bin("def")
            .unwrap()
            .args(["backend", "--listen", "0.0.0.0:0", "--output", &output])
            .args(extra)
            .env_remove("DEF_BACKEND_TOKEN")
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{extra:?}: {stderr}");
        if extra.is_empty() {
            assert!(
                stderr.contains("refusing to listen on 0.0.0.0:0 without a token")
                    && stderr.contains("--insecure"),
                "{stderr}"
            );
        } else {
            assert!(stderr.contains("--token"), "{stderr}");
        }
    }
    for extra in [&["--insecure"][..], &["--token", "t0ken"][..]] {
        let backend = BackendProcess::start_with(
            &["--listen", "0.0.0.0:0"],
            &[&["--output", output.as_str()][..], extra].concat(),
            &[],
        );
        let port = backend.root().rsplit(':').next().unwrap().to_string();
        let health = get(&format!("http://127.0.0.1:{port}/health"));
        assert_eq!(health.0, 200);
        let (ok, stderr) = backend.terminate();
        assert!(ok, "{stderr}");
    }
}

/// Finding: no read timeout. With `--read-timeout 0.5`, a request whose body stalls half-way
/// gets 408 and its connection closed; a connection that stalls in its headers, or sends
/// nothing at all, is closed. All within a few seconds, not for ever.
#[test]
fn stalled_requests_are_cut_off_after_the_read_timeout() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", dir.path().join("e.jsonl").display()),
        "--read-timeout",
        "0.5",
    ]);
    let address = backend.root()["http://".len()..].to_string();
    let connect = || {
        let stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(8)))
            .unwrap();
        stream
    };
    // Reads until the backend closes the connection; fails the test if it does not.
    let until_closed = |mut stream: std::net::TcpStream, what: &str| {
        let began = Instant::now();
        let mut answer = Vec::new();
        let read = stream.read_to_end(&mut answer);
        let waited = began.elapsed();
        assert!(
            read.is_ok()
                || matches!(
                    read.as_ref().unwrap_err().kind(),
                    std::io::ErrorKind::ConnectionReset
                ),
            "{what}: not closed: {read:?}"
        );
        assert!(waited < Duration::from_secs(5), "{what}: took {waited:?}");
        String::from_utf8_lossy(&answer).into_owned()
    };

    let mut half_body = connect();
    write!(
        half_body,
        "POST /loadgenerator/register HTTP/1.1\r\nhost: {address}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"duration\":"
    )
    .unwrap();
    let answer = until_closed(half_body, "half a body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("--read-timeout 0.5 s"), "{answer}");

    let mut half_head = connect();
    write!(
        half_head,
        "POST /loadgenerator/register HTTP/1.1\r\nhost: x\r\n"
    )
    .unwrap();
    until_closed(half_head, "half the headers");
    until_closed(connect(), "an idle connection");

    assert_eq!(backend.metric("rejected_requests_total{code=\"408\"}"), 1.0);
    // A kept-alive connection idle past the timeout is closed too; a pooling client (ureq, as
    // def's http sink) notices and connects again.
    let pooled = agent();
    let health = format!("{}/health", backend.root());
    for _ in 0..2 {
        let mut response = pooled.get(&health).call().expect("answered");
        assert_eq!(response.status().as_u16(), 200);
        let _ = response.body_mut().read_to_string();
        std::thread::sleep(Duration::from_millis(1200));
    }
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// Finding: 20,000 idle sockets made `/health` unreachable. With `--max-connections 2` two
/// idle connections take every slot: a `/health` request waits (in the listen backlog)
/// instead of being served or failing, and is answered as soon as one of them closes.
#[test]
fn connections_past_the_limit_wait_until_one_closes() {
    let dir = tempfile::tempdir().unwrap();
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", dir.path().join("e.jsonl").display()),
        "--max-connections",
        "2",
        "--read-timeout",
        "15",
    ]);
    let address = backend.root()["http://".len()..].to_string();
    let first = std::net::TcpStream::connect(&address).unwrap();
    let _second = std::net::TcpStream::connect(&address).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let (tx, rx) = std::sync::mpsc::channel();
    let health = format!("{}/health", backend.root());
    std::thread::spawn(move || {
        let _ = tx.send(get(&health));
    });
    // Waiting, not refused and not served.
    assert!(
        rx.recv_timeout(Duration::from_millis(700)).is_err(),
        "/health was served past the connection limit"
    );
    drop(first);
    let answer = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("/health answered once a connection closed");
    assert_eq!(answer, (200, "ok\n".to_string()));
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}

/// `def run` against a queue of one frame (`--max-queued-events 200`, `--when-full block`):
/// the second frame meets a full queue before `/start` and gets 429 at once, so the sink starts
/// emission early; every later frame is held until it fits. All 1000 events arrive, in order,
/// with that single 429.
#[test]
fn def_run_into_a_blocking_backend_with_a_small_queue_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emitted.jsonl");
    let backend = BackendProcess::start(&[
        "--output",
        &format!("file:{}", out.display()),
        "--max-queued-events",
        "200",
    ]);
    run_load_test(dir.path(), &backend.url);
    wait_emitted(&backend, 1000.0, Duration::from_secs(15));
    assert_eq!(backend.metric("rejected_requests_total{code=\"429\"}"), 1.0);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "the backend failed: {stderr}");
    assert_eq!(lines(&out), lines(&dir.path().join("generated.jsonl")));
}

/// The generator side of `--token`: the http sink sends the token (from `token:` or
/// `DEF_BACKEND_TOKEN`) and a refused token fails the run at once, naming the setting.
#[test]
fn def_run_sends_the_backend_token_and_a_wrong_one_fails_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emitted.jsonl");
    let backend = BackendProcess::start_with(
        &["--listen", "127.0.0.1:0"],
        &["--output", &format!("file:{}", out.display())],
        &[("DEF_BACKEND_TOKEN", "s3cret-token")],
    );
    let (code, stderr, secs) = run_load_test_with(dir.path(), &backend.url, &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("401") && stderr.contains("`token:`"),
        "{stderr}"
    );
    assert!(secs < 10.0, "a refused token is not retried: {secs} s");

    let (code, stderr, _) = run_load_test_with(
        dir.path(),
        &backend.url,
        &[("DEF_BACKEND_TOKEN", "s3cret-token")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    // /metrics needs the token too: watch the output file instead.
    let deadline = Instant::now() + Duration::from_secs(30);
    while lines(&out).len() < 1000 {
        assert!(Instant::now() < deadline, "not all 1000 events emitted");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(lines(&out).len(), 1000);
    let (ok, stderr) = backend.terminate();
    assert!(ok, "{stderr}");
}
