//! The MQTT sink against a real broker (Eclipse Mosquitto): events go through the `def` binary
//! to the broker and are read back by a subscriber (rumqttc) that subscribed to
//! `{baseTopic}/#` before the run started. Every run also writes the same events to a file
//! sink, and the events read back — process, case and activity from the topic, the rest from
//! the payload — are compared with that file.
//!
//! The broker: `scripts/mosquitto.sh start` (which `scripts/test.sh` does). `DEF_MQTT_HOST` and
//! `DEF_MQTT_PORT` say where it listens (default `127.0.0.1:18830`). With no broker these tests
//! FAIL, saying how to start one, unless `DEF_MQTT_SKIP=1` asks to skip them. The test of a
//! broker that goes away starts a Mosquitto of its own (the `mosquitto` binary, or
//! `DEF_MOSQUITTO`) on a free port, so that it can kill it.
//!
//! Each test uses a base topic named after the test, the process and the time, so tests can
//! share the broker and be run again against it.
#![cfg(feature = "mqtt")]

mod common;

use assert_cmd::Command;
use common::{unique, NODES};
use def::config::ConfigSet;
use def::sink::mqtt_xes::XesTopic;
use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEFAULT_HOST: &str = "127.0.0.1";
const DEFAULT_PORT: u16 = 18830;
/// The bundled example's simulation, the default `process`.
const SIMULATION: &str = "countBasedSimulation";
/// How long no further message must come before a subscription counts as read to its end.
const QUIET: Duration = Duration::from_millis(1000);

/// The broker's host and port, or `None` if the tests were asked to skip; panics if there is
/// no broker and nobody asked to skip.
fn broker() -> Option<(String, u16)> {
    let host = std::env::var("DEF_MQTT_HOST").unwrap_or(DEFAULT_HOST.to_string());
    let port = std::env::var("DEF_MQTT_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    if answers(&host, port) {
        return Some((host, port));
    }
    if skip() {
        eprintln!("skipped: no MQTT broker at {host}:{port} and DEF_MQTT_SKIP=1");
        return None;
    }
    panic!(
        "no MQTT broker answers at {host}:{port}: run `scripts/mosquitto.sh start` (or point \
         DEF_MQTT_HOST and DEF_MQTT_PORT at a broker), or set DEF_MQTT_SKIP=1 to skip the MQTT \
         tests"
    );
}

fn skip() -> bool {
    std::env::var("DEF_MQTT_SKIP").is_ok_and(|v| v == "1")
}

fn answers(host: &str, port: u16) -> bool {
    (host, port)
        .to_socket_addrs()
        .map(|mut addrs| {
            addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
        })
        .unwrap_or(false)
}

/// A port that was just free: nothing listens there.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

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

/// Writes `chain` and two sinks over `nodes` into `dir`: an MQTT sink `mq` with `extra`
/// lines, and a file sink `events.jsonl`.
fn write_config(dir: &Path, chain: &str, nodes: &[&str], mqtt: &str) {
    std::fs::write(dir.join("chain.yaml"), chain).unwrap();
    let refs = format!(
        "[{}]",
        nodes
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let sinks = format!(
        "kind: sink\nname: mq\nspec:\n  type: mqtt\n{mqtt}  dataSourceRefs: {refs}\n---\n\
         kind: sink\nname: file-sink\nspec:\n  type: file\n  path: \"{}\"\n  dataSourceRefs: {refs}\n",
        dir.join("events.jsonl").display()
    );
    std::fs::write(dir.join("sinks.yaml"), sinks).unwrap();
}

/// The `mqtt:` lines of a sink on the test broker.
fn mqtt_lines(host: &str, port: u16, base: &str, qos: u8) -> String {
    format!("  host: \"{host}\"\n  port: {port}\n  baseTopic: \"{base}\"\n  qos: {qos}\n")
}

/// Runs `def run` with `args` on the config in `dir`; asserts success and returns stderr.
fn run_def(dir: &Path, args: &[&str]) -> String {
    let output = Command::cargo_bin("def")
        .unwrap()
        .arg("run")
        .args(args)
        .arg(dir)
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "def run failed: {stderr}");
    stderr
}

fn json(text: &[u8]) -> Value {
    serde_json::from_slice(text)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(text)))
}

/// One event as both sides can tell it: case, activity, timestamp, node, group.
type Fact = (String, String, String, String, String);

/// The file sink's events, in the order def wrote them.
fn file_facts(dir: &Path) -> Vec<Fact> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let e = json(line.as_bytes());
            let s = |k: &str| e[k].as_str().unwrap().to_string();
            (
                s("caseid"),
                s("activity"),
                s("timestamp"),
                s("node"),
                s("group"),
            )
        })
        .collect()
}

/// A message the subscriber received.
struct Message {
    topic: String,
    payload: Vec<u8>,
}

/// A subscription to `{base}/#` on the broker, read on a thread of its own.
struct Subscriber {
    client: Client,
    messages: mpsc::Receiver<Message>,
}

impl Subscriber {
    /// Subscribes (QoS 2: each message arrives at the QoS it was published with) and returns
    /// once the broker has acknowledged the subscription.
    fn new(host: &str, port: u16, base: &str) -> Subscriber {
        let mut options = MqttOptions::new(unique("sub").replace('.', "-"), host, port);
        options
            .set_keep_alive(Duration::from_secs(30))
            .set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut connection) = Client::new(options, 64);
        client
            .subscribe(format!("{base}/#"), QoS::ExactlyOnce)
            .unwrap();
        let (tx, messages) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for notice in connection.iter() {
                match notice {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let message = Message {
                            topic: p.topic,
                            payload: p.payload.to_vec(),
                        };
                        if tx.send(message).is_err() {
                            break;
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = ready_tx.send(());
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        });
        ready
            .recv_timeout(Duration::from_secs(10))
            .expect("the broker acknowledges the subscription");
        Subscriber { client, messages }
    }

    /// Reads until `expected` messages have come, then on until none has come for [`QUIET`]
    /// (so that a message too many would be read as well); at most two minutes.
    fn collect(&self, expected: usize) -> Vec<Message> {
        let mut got = Vec::with_capacity(expected);
        let end = Instant::now() + Duration::from_secs(120);
        loop {
            let wait = if got.len() >= expected {
                QUIET
            } else {
                end.saturating_duration_since(Instant::now())
            };
            match self.messages.recv_timeout(wait) {
                Ok(m) => got.push(m),
                Err(_) => return got,
            }
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.try_disconnect();
    }
}

/// The messages as facts (process checked against `process`), in arrival order.
fn message_facts(messages: &[Message], base: &str, process: &str) -> Vec<Fact> {
    messages
        .iter()
        .map(|m| {
            let topic = XesTopic::parse(&m.topic, base).unwrap();
            assert_eq!(topic.process, process, "{}", m.topic);
            let payload = json(&m.payload);
            let object = payload.as_object().unwrap();
            assert!(
                object
                    .keys()
                    .all(|k| ["timestamp", "node", "group"].contains(&k.as_str())),
                "payload {payload}"
            );
            let s = |k: &str| payload[k].as_str().unwrap().to_string();
            (
                topic.case,
                topic.activity,
                s("timestamp"),
                s("node"),
                s("group"),
            )
        })
        .collect()
}

/// Facts grouped by case, each case's in order.
fn by_case(facts: &[Fact]) -> BTreeMap<String, Vec<Fact>> {
    let mut cases: BTreeMap<String, Vec<Fact>> = BTreeMap::new();
    for fact in facts {
        cases.entry(fact.0.clone()).or_default().push(fact.clone());
    }
    cases
}

/// `events` events at `qos` through `def run`: the subscriber gets each exactly once, with
/// topics and payloads that give back the file sink's events; at QoS ≥ 1 each case's events
/// arrive in the order def emitted them. Returns def's stderr.
fn round_trip(name: &str, qos: u8, events: usize) -> Option<String> {
    let (host, port) = broker()?;
    let base = unique(name);
    let subscriber = Subscriber::new(&host, port, &base);
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &chain_yaml(),
        &NODES,
        &mqtt_lines(&host, port, &base, qos),
    );
    let stderr = run_def(dir.path(), &["--seed", "7", "--steps", &events.to_string()]);

    let messages = subscriber.collect(events);
    assert_eq!(messages.len(), events, "messages received at QoS {qos}");
    let from_mqtt = message_facts(&messages, &base, SIMULATION);
    let from_file = file_facts(dir.path());
    assert_eq!(from_file.len(), events);
    let (mut sorted_mqtt, mut sorted_file) = (from_mqtt.clone(), from_file.clone());
    sorted_mqtt.sort_unstable();
    sorted_file.sort_unstable();
    assert!(
        sorted_mqtt == sorted_file,
        "the events over MQTT differ from the events in the file"
    );
    if qos >= 1 {
        let (mqtt_cases, file_cases) = (by_case(&from_mqtt), by_case(&from_file));
        assert!(mqtt_cases.len() > 100, "only {} cases", mqtt_cases.len());
        for (case, events) in &file_cases {
            assert_eq!(&mqtt_cases[case], events, "{case}: order over MQTT");
        }
    }
    // The summary counts the sink's deliveries under its topic filter.
    assert!(
        stderr.contains(&format!("{base}/{SIMULATION}/# {events}")),
        "{stderr}"
    );
    Some(stderr)
}

#[test]
fn qos_1_delivers_every_event_once_in_case_order() {
    round_trip("qos1", 1, 20_000);
}

#[test]
fn qos_0_delivers_every_event_once_on_loopback() {
    round_trip("qos0", 0, 20_000);
}

#[test]
fn qos_2_delivers_every_event_once_in_case_order() {
    round_trip("qos2", 2, 3_000);
}

/// A process, datasource and activities with `/`, `+`, `#`, `%`, a space and a tab: the
/// broker takes every topic, and each parses back into the names as they were written.
#[test]
fn names_topics_cannot_carry_are_escaped_and_parse_back() {
    let Some((host, port)) = broker() else { return };
    let base = unique("escape");
    let subscriber = Subscriber::new(&host, port, &base);
    let chain = r#"
kind: datasource
name: "<start>"
spec: {name: "<start>", selection: uniform, eventData: [{activity: "", transition: "Drill #2", duration: 0}]}
---
kind: datasource
name: Drill
spec:
  name: "Drill #2"
  group: "shop/floor"
  selection: genericProbability
  distribution: [0.4, 0.3, 0.3]
  eventData:
    - {activity: "drill/hole +1", transition: "Drill #2", duration: 2}
    - {activity: "100% #done", transition: "<end>", duration: 1}
    - {activity: "tab\there %2F", transition: "<end>", duration: 1}
---
kind: simulation
name: quick
spec: {type: countBased, steps: 500, maxConcurrentCases: 3}
"#;
    let process = "line/1 + #2 50%";
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        chain,
        &["Drill"],
        &format!(
            "{}  process: \"{process}\"\n",
            mqtt_lines(&host, port, &base, 1)
        ),
    );
    run_def(dir.path(), &["--seed", "3"]);

    let messages = subscriber.collect(500);
    assert_eq!(messages.len(), 500);
    assert!(messages
        .iter()
        .any(|m| m.topic.ends_with("/drill%2Fhole %2B1")));
    assert!(messages.iter().all(|m| m
        .topic
        .starts_with(&format!("{base}/line%2F1 %2B %232 50%25/case_"))));
    let mut from_mqtt = message_facts(&messages, &base, process);
    let mut from_file = file_facts(dir.path());
    from_mqtt.sort_unstable();
    from_file.sort_unstable();
    assert_eq!(from_mqtt, from_file);
    let activities: std::collections::BTreeSet<&str> =
        from_mqtt.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(
        activities.into_iter().collect::<Vec<_>>(),
        ["100% #done", "drill/hole +1", "tab\there %2F"]
    );
}

/// A stream run with `emittedAt`: the payload carries it too.
#[test]
fn a_stream_run_puts_emitted_at_into_the_payload() {
    let Some((host, port)) = broker() else { return };
    let base = unique("stream");
    let subscriber = Subscriber::new(&host, port, &base);
    let chain = chain_yaml().replace(
        "type: countBased\n  steps: 100",
        "type: stream\n  emittedAt: true\n  maxEvents: 300\n  load: {loadBehavior: constant, load: 1000}",
    );
    assert!(
        chain.contains("type: stream"),
        "the example's simulation changed"
    );
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &chain,
        &NODES,
        &mqtt_lines(&host, port, &base, 1),
    );
    run_def(dir.path(), &["--seed", "7"]);
    let messages = subscriber.collect(300);
    assert_eq!(messages.len(), 300);
    for m in &messages {
        let payload = json(&m.payload);
        let keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys.len(), 4, "{payload}");
        assert!(payload["emittedAt"].is_string(), "{payload}");
    }
}

/// A closed port: `def run` exits 1 within the connect timeout and a margin, naming the
/// broker's address and pointing at the `host:` line. Needs no broker.
#[test]
fn a_broker_that_is_down_fails_within_the_connect_timeout() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &chain_yaml(),
        &NODES,
        &format!(
            "{}  connectTimeout: 2\n",
            mqtt_lines("127.0.0.1", port, "deftest", 1)
        ),
    );
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
            "sink `mq`: no answer from the MQTT broker at 127.0.0.1:{port} within 2.0 s"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("(at `spec.host`)"), "{stderr}");
    assert!(stderr.contains("fix `host:`"), "{stderr}");
    assert!(
        elapsed >= Duration::from_secs(2),
        "gave up early: {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

/// The `mosquitto` binary: `DEF_MOSQUITTO`, else on the path, else Debian's place.
fn mosquitto_binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("DEF_MOSQUITTO") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("mosquitto"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/mosquitto")).filter(|p| p.is_file()))
}

/// A Mosquitto of the test's own, killed when dropped.
struct OwnBroker(std::process::Child);

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A broker killed while `def run` sends to it: the run stops with exit 1, naming the sink,
/// what broke, and how many events were acknowledged before; the summary says how many were
/// not.
#[test]
fn a_broker_that_goes_away_mid_run_stops_the_run_with_exit_1() {
    let Some(binary) = mosquitto_binary() else {
        if skip() {
            eprintln!("skipped: no mosquitto binary and DEF_MQTT_SKIP=1");
            return;
        }
        panic!(
            "no mosquitto binary: run `scripts/mosquitto.sh install` (or set DEF_MOSQUITTO), \
             or set DEF_MQTT_SKIP=1 to skip the MQTT tests"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
    )
    .unwrap();
    let mut broker = OwnBroker(
        std::process::Command::new(&binary)
            .arg("-c")
            .arg(&conf)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("mosquitto starts"),
    );
    let up_by = Instant::now() + Duration::from_secs(10);
    while !answers("127.0.0.1", port) {
        assert!(Instant::now() < up_by, "mosquitto did not open port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let base = unique("gone");
    let subscriber = Subscriber::new("127.0.0.1", port, &base);
    write_config(
        dir.path(),
        &chain_yaml(),
        &NODES,
        &mqtt_lines("127.0.0.1", port, &base, 1),
    );
    let mut def = std::process::Command::new(assert_cmd::cargo::cargo_bin("def"))
        .args(["run", "--seed", "7", "--steps", "50000000"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Mid-run: once events are arriving.
    let first = subscriber
        .messages
        .recv_timeout(Duration::from_secs(30))
        .expect("events arrive");
    assert!(first.topic.starts_with(&base));
    for _ in 0..1000 {
        subscriber
            .messages
            .recv_timeout(Duration::from_secs(30))
            .expect("events arrive");
    }
    broker.0.kill().unwrap();
    let stopped_by = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = def.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > stopped_by {
            let _ = def.kill();
            panic!("def run did not stop within 60 s of the broker going away");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut def.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: sink `mq`: the connection to the MQTT broker at 127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("events were acknowledged before that"),
        "{stderr}"
    );
    assert!(stderr.contains("stopping the run"), "{stderr}");
    assert!(stderr.contains("def: mqtt sink `mq`: "), "{stderr}");
}

/// Settings the reader refuses, each at its line: no broker is asked.
#[test]
fn bad_settings_are_config_errors_at_their_lines() {
    let cases = [
        ("qos: 3", "`qos` is 3", "spec.qos"),
        ("port: 70000", "`port` is 70000, above 65535", "spec.port"),
        ("baseTopic: \"a/#\"", "contains `#`", "spec.baseTopic"),
        ("baseTopic: \"a/\"", "ends with `/`", "spec.baseTopic"),
        ("baseTopic: \"$SYS\"", "starts with `$`", "spec.baseTopic"),
        ("host: \"localhost:1883\"", "includes a port", "spec.host"),
        ("process: \"\"", "`process` is empty", "spec.process"),
    ];
    for (line, message, path) in cases {
        let mut fields: BTreeMap<&str, String> = [
            ("host", "host: localhost".to_string()),
            ("baseTopic", "baseTopic: def".to_string()),
        ]
        .into_iter()
        .collect();
        let key = line.split(':').next().unwrap();
        fields.insert(key, line.to_string());
        let spec: Vec<String> = fields.values().map(|f| format!("  {f}")).collect();
        let yaml = format!(
            "kind: sink\nname: mq\nspec:\n  type: mqtt\n{}\n  dataSourceRefs: [A]\n",
            spec.join("\n")
        );
        let mut set = ConfigSet::new();
        set.add_str("sink.yaml", &yaml);
        let errors: Vec<_> = set
            .diagnostics
            .items
            .iter()
            .filter(|d| d.message.contains(message))
            .collect();
        assert_eq!(errors.len(), 1, "{line}: {:?}", set.diagnostics.items);
        assert_eq!(errors[0].yaml_path.as_deref(), Some(path), "{line}");
    }
}

/// A stand-in broker that accepts the connection (CONNACK) and then reads everything and
/// answers nothing: it never acknowledges a PUBLISH. Returns its port.
fn silent_broker() -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buffer = [0u8; 64 * 1024];
                // The CONNECT (its first bytes are enough), then CONNACK: accepted.
                if stream.read(&mut buffer).unwrap_or(0) == 0 {
                    return;
                }
                let _ = stream.write_all(&[0x20, 0x02, 0x00, 0x00]);
                while stream.read(&mut buffer).unwrap_or(0) > 0 {}
            });
        }
    });
    port
}

/// A broker that never acknowledges: at QoS 1 every event counts as not acknowledged once
/// `flushTimeout` has passed, and `def run` exits 1 saying so; at QoS 0, where nothing is
/// acknowledged anyway, the same events count as delivered once written. Needs no broker.
#[test]
fn unacknowledged_events_fail_after_the_flush_timeout_at_qos_1_but_not_at_qos_0() {
    let port = silent_broker();
    let dir = tempfile::tempdir().unwrap();
    for qos in [1, 0] {
        write_config(
            dir.path(),
            &chain_yaml(),
            &NODES,
            &format!(
                "{}  flushTimeout: 1\n",
                mqtt_lines("127.0.0.1", port, "deftest", qos)
            ),
        );
        let started = Instant::now();
        let output = Command::cargo_bin("def")
            .unwrap()
            .args(["run", "--seed", "7", "--steps", "100"])
            .arg(dir.path())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if qos == 1 {
            assert_eq!(output.status.code(), Some(1), "{stderr}");
            assert!(
                stderr.contains(
                    "def: mqtt sink `mq`: 100 of 100 events not acknowledged: not acknowledged \
                     within 1.0 s"
                ),
                "{stderr}"
            );
            assert!(
                stderr.contains("error: 100 events were not acknowledged by the broker in time"),
                "{stderr}"
            );
            assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
        } else {
            assert!(output.status.success(), "{stderr}");
            assert!(stderr.contains("mq (mqtt) 100"), "{stderr}");
        }
        assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    }
}
