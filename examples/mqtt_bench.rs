//! Throughput of def's MQTT sink against a bare rumqttc publisher (and, if it is installed,
//! `mosquitto_pub`), on the same broker, in the same process run, at one QoS.
//!
//! "Bare" publishes pre-built MQTT-XES messages (the topics and payloads def sends for the same
//! seed, built before the clock starts) with a rumqttc client of the same settings as def's
//! (request queue, in-flight window), timed from the first PUBLISH to the last PUBACK (QoS 1),
//! PUBCOMP (QoS 2), or PUBLISH written to the socket (QoS 0). "def" runs the bundled
//! assembly-line chain count-based into an `mqtt` sink through the library, timed by the run's
//! own `elapsed`, which includes generating and encoding the events and waiting for the last
//! acknowledgement. "mosquitto_pub" is Mosquitto's own client publishing the same payloads as
//! lines (`-l`) to one topic, timed around the whole process (connect included). Nothing
//! subscribes, so the broker only receives. The contenders take turns at going first; the best
//! and the median round of each are reported.
//!
//! ```text
//! scripts/mosquitto.sh start
//! cargo run --release --example mqtt_bench -- [events=200000] [rounds=3] [qos=1]
//! ```
//!
//! `DEF_MQTT_HOST` and `DEF_MQTT_PORT` say where the broker is (default `127.0.0.1:18830`).

use def::config::TimestampFormat;
use def::engine::Engine;
use def::model::Chain;
use def::simulation::RunOptions;
use def::sink::mqtt_xes::escaped;
use def::sink::EventEncoder;
use def::EventFactory;
use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SEED: u64 = 7;
/// def's client settings (src/sink/mqtt.rs).
const REQUEST_QUEUE: usize = 1024;
const INFLIGHT_QOS1: u16 = 1000;
const INFLIGHT_QOS2: u16 = 20;
/// The bundled example's simulation: the default process level.
const PROCESS: &str = "countBasedSimulation";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(200_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let qos: u8 = args.next().map_or(Ok(1), |a| a.parse())?;
    anyhow::ensure!(
        events > 0 && rounds > 0 && qos <= 2,
        "events and rounds must be at least 1, qos 0, 1 or 2"
    );
    let host = std::env::var("DEF_MQTT_HOST").unwrap_or_else(|_| "127.0.0.1".to_string());
    let port: u16 = std::env::var("DEF_MQTT_PORT").map_or(Ok(18830), |p| p.parse())?;

    let chain_yaml = chain_yaml()?;
    let messages = serialise(&chain_yaml, events)?;
    let bytes: usize = messages.iter().map(|(t, p)| t.len() + p.len()).sum();
    let has_mosquitto_pub = Command::new("mosquitto_pub")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    println!(
        "{events} events (topic + payload {:.0} bytes on average), QoS {qos}, broker {host}:{port}{}",
        bytes as f64 / events as f64,
        if has_mosquitto_pub {
            ""
        } else {
            " (no mosquitto_pub: that column is skipped)"
        }
    );

    let stamp = std::process::id();
    let (mut bares, mut defs, mut subs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let base = |who: &str| format!("bench/{stamp}/{round}/{who}");
        let bare = || bare_publisher(&host, port, qos, &base("bare"), &messages);
        let def = || def_run(&host, port, qos, &base("def"), &chain_yaml, events);
        let (b, d) = if round % 2 == 0 {
            let b = bare()?;
            (b, def()?)
        } else {
            let d = def()?;
            (bare()?, d)
        };
        let m = if has_mosquitto_pub {
            Some(mosquitto_pub(&host, port, qos, &base("pub"), &messages)?)
        } else {
            None
        };
        println!(
            "round {round}: bare {b:>9.0} events/s   def {d:>9.0} events/s   def/bare {:>5.1}%{}",
            100.0 * d / b,
            m.map(|m| format!("   mosquitto_pub {m:>9.0} events/s"))
                .unwrap_or_default()
        );
        bares.push(b);
        defs.push(d);
        subs.extend(m);
    }
    let (best_bare, best_def) = (best(&bares), best(&defs));
    let (median_bare, median_def) = (median(&mut bares), median(&mut defs));
    println!(
        "best:   bare {best_bare:.0} events/s, def {best_def:.0} events/s, def/bare {:.1}%{}",
        100.0 * best_def / best_bare,
        if subs.is_empty() {
            String::new()
        } else {
            format!(", mosquitto_pub {:.0} events/s", best(&subs))
        }
    );
    println!(
        "median: bare {median_bare:.0} events/s, def {median_def:.0} events/s, def/bare {:.1}%{}",
        100.0 * median_def / median_bare,
        if subs.is_empty() {
            String::new()
        } else {
            format!(", mosquitto_pub {:.0} events/s", median(&mut subs))
        }
    );
    Ok(())
}

fn best(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(0.0, f64::max)
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn qos_of(qos: u8) -> QoS {
    match qos {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// The bundled example's datasources and simulation, without its console sink.
fn chain_yaml() -> anyhow::Result<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assembly-line.yaml");
    let example = std::fs::read_to_string(path)?;
    Ok(example
        .split("\n---\n")
        .filter(|doc| !doc.contains("kind: sink"))
        .collect::<Vec<_>>()
        .join("\n---\n"))
}

/// The (topic after the base, payload) pairs def sends for this seed, built up front.
fn serialise(chain_yaml: &str, events: usize) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut set = def::config::ConfigSet::new();
    set.add_str("chain.yaml", chain_yaml);
    let chain = Chain::compile(&set).map_err(|d| anyhow::anyhow!("{}", d.message))?;
    let mut engine = Engine::new(&chain, SEED, 1_735_689_600_000, 5);
    let mut encoder = EventEncoder::new(TimestampFormat::Original);
    let mut out = Vec::with_capacity(events);
    for _ in 0..events {
        let event = engine.next_event();
        let mut json = Vec::with_capacity(160);
        encoder.json(&event, &mut json);
        let mut value: serde_json::Value = serde_json::from_slice(&json)?;
        let object = value.as_object_mut().expect("an object");
        object.remove("activity");
        object.remove("caseid");
        let topic = format!(
            "{}/case_{}/{}",
            escaped(PROCESS),
            event.case,
            escaped(event.activity())
        );
        out.push((topic, serde_json::to_vec(&value)?));
    }
    Ok(out)
}

/// Events per second of a bare rumqttc publisher sending `messages` under `base`, until the
/// last is acknowledged (QoS 0: written).
fn bare_publisher(
    host: &str,
    port: u16,
    qos: u8,
    base: &str,
    messages: &[(String, Vec<u8>)],
) -> anyhow::Result<f64> {
    let mut options = MqttOptions::new(format!("bench-bare-{}", std::process::id()), host, port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_inflight(if qos == 2 {
            INFLIGHT_QOS2
        } else {
            INFLIGHT_QOS1
        })
        .set_max_packet_size(1 << 20, 1 << 20);
    let (client, mut connection) = Client::new(options, REQUEST_QUEUE);
    // Connect before the clock starts, as def does when it builds its sink.
    loop {
        match connection.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => break,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => anyhow::bail!("connect: {e}"),
            Err(e) => anyhow::bail!("connect: {e:?}"),
        }
    }
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&done);
    let driver = std::thread::spawn(move || {
        for notice in connection.iter() {
            match notice {
                Ok(Event::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Outgoing(Outgoing::Publish(_))) if qos == 0 => {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });
    // The whole topics, built before the clock starts too.
    let owned: Vec<(String, Vec<u8>)> = messages
        .iter()
        .map(|(t, p)| (format!("{base}/{t}"), p.clone()))
        .collect();
    let n = owned.len() as u64;
    let started = Instant::now();
    for (topic, payload) in owned {
        client.publish(topic, qos_of(qos), false, payload)?;
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::Relaxed) < n {
        anyhow::ensure!(Instant::now() < deadline, "not all acknowledged in 120 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = started.elapsed();
    client.disconnect()?;
    let _ = driver.join();
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Events per second of `mosquitto_pub -l` publishing the payloads as lines to one topic,
/// process start to exit.
fn mosquitto_pub(
    host: &str,
    port: u16,
    qos: u8,
    base: &str,
    messages: &[(String, Vec<u8>)],
) -> anyhow::Result<f64> {
    let mut lines = Vec::with_capacity(messages.iter().map(|(_, p)| p.len() + 1).sum());
    for (_, payload) in messages {
        lines.extend_from_slice(payload);
        lines.push(b'\n');
    }
    let started = Instant::now();
    let mut child = Command::new("mosquitto_pub")
        .args(["-h", host, "-p", &port.to_string(), "-q", &qos.to_string()])
        .args(["-t", &format!("{base}/{PROCESS}/lines"), "-l"])
        .stdin(Stdio::piped())
        .spawn()?;
    child.stdin.take().expect("piped").write_all(&lines)?;
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "mosquitto_pub: {status}");
    Ok(messages.len() as f64 / started.elapsed().as_secs_f64())
}

/// Events per second of `def` running the chain into an MQTT sink (generation, encoding,
/// sending and waiting for the last acknowledgement).
fn def_run(
    host: &str,
    port: u16,
    qos: u8,
    base: &str,
    chain_yaml: &str,
    events: usize,
) -> anyhow::Result<f64> {
    let sink = format!(
        "kind: sink\nname: mqtt\nspec:\n  type: mqtt\n  host: \"{host}\"\n  port: {port}\n  \
         qos: {qos}\n  baseTopic: \"{base}\"\n  dataSourceRefs: [GoodsDelivery, \
         MaterialPreparation, AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]\n"
    );
    let report = EventFactory::new()
        .add_str("chain.yaml", chain_yaml)
        .add_str("sink.yaml", &sink)
        .options(RunOptions {
            seed: Some(SEED),
            steps: Some(events as u64),
            ..RunOptions::default()
        })
        .run()
        .map_err(|e| anyhow::anyhow!("def run: {e}"))?;
    anyhow::ensure!(
        report.sinks[0].delivery.delivered == events as u64,
        "def delivered {} of {events}",
        report.sinks[0].delivery.delivered
    );
    Ok(report.events_per_second())
}
