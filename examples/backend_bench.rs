//! The load backend's emission: its highest sustained rate into a file and into the broker,
//! and the rate it achieves against the rate frames ask for (1k, 10k, 100k events/s).
//!
//! Everything runs in one process through the library: an in-process [`Backend`] on a free
//! loopback port gets all frames registered over HTTP *before* `/start` (so generation and
//! HTTP are not measured), then the clock runs from `/start` until the last event is emitted
//! (and, for Kafka, until the shutdown's flush has every acknowledgement).
//!
//! ```text
//! scripts/broker.sh start     # for the Kafka rows; without a broker they are skipped
//! cargo run --release --example backend_bench -- [seconds-per-rate=3]
//! ```
//!
//! `DEF_KAFKA_BOOTSTRAP` says where the broker is (default `127.0.0.1:19092`).

use def::backend::output::OutputSpec;
use def::backend::{Backend, BackendConfig, Limits, Shutdown};
use def::config::{KafkaSinkSpec, PartitionSpec};
use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The most events one `/register` body carries here (about 13 MB of JSON).
const FRAME_LIMIT: u64 = 100_000;

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::args().nth(1).map_or(Ok(3), |a| a.parse())?;
    let bootstrap =
        std::env::var("DEF_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19092".to_string());
    let broker = bootstrap
        .to_socket_addrs()
        .map(|mut a| a.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok()))
        .unwrap_or(false);
    let dir = tempfile::tempdir()?;
    let mut outputs = vec![("file", OutputSpec::File(dir.path().join("out.jsonl")))];
    if broker {
        outputs.push(("kafka", OutputSpec::Kafka(kafka_spec(&bootstrap, "max")?)));
    } else {
        println!("(no broker at {bootstrap}: Kafka rows skipped)");
    }

    println!("highest sustained emission rate (1,000,000 events, frames of 100,000 events over 1 µs each, i.e. unpaced):");
    for (name, output) in &outputs {
        let r = measure(output.clone(), 1_000_000, 10, Duration::from_micros(1))?;
        println!(
            "  {name:5}  emitted in {:.3} s = {:>9.0} events/s; all delivered after {:.3} s = {:>9.0} events/s",
            r.emit_secs,
            1e6 / r.emit_secs,
            r.total_secs,
            1e6 / r.total_secs
        );
    }

    println!("emitted against requested rate ({seconds} frames of 1 s each):");
    for (name, output) in &outputs {
        for rate in [1_000u64, 10_000, 100_000] {
            let output = match output {
                OutputSpec::Kafka(_) => {
                    OutputSpec::Kafka(kafka_spec(&bootstrap, &format!("r{rate}"))?)
                }
                other => other.clone(),
            };
            let r = measure(output, rate * seconds, seconds, Duration::from_secs(1))?;
            let achieved = (rate * seconds) as f64 / r.emit_secs;
            println!(
                "  {name:5}  requested {rate:>7}/s  emitted {achieved:>10.1}/s ({:.2}%)  lateness p99 {:.2} ms, max {:.2} ms",
                100.0 * achieved / rate as f64,
                r.p99_ms,
                r.max_ms
            );
        }
    }
    Ok(())
}

struct Measured {
    emit_secs: f64,
    total_secs: f64,
    p99_ms: f64,
    max_ms: f64,
}

/// Registers `events` in `frames` frames of `duration` each, starts, and times emission.
fn measure(
    output: OutputSpec,
    events: u64,
    frames: u64,
    duration: Duration,
) -> anyhow::Result<Measured> {
    let backend = Backend::start(BackendConfig {
        limits: Limits {
            events: events + 1,
            ..Limits::default()
        },
        max_body_bytes: 1 << 30,
        ..BackendConfig::new("127.0.0.1:0".parse()?, output)
    })
    .map_err(|d| anyhow::anyhow!("{}", d.render()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let url = backend.url();
    let per_frame = events / frames;
    let mut case = 0u64;
    for _ in 0..frames {
        let mut left = per_frame;
        // A frame larger than FRAME_LIMIT is sent as several frames sharing its duration.
        let parts = per_frame.div_ceil(FRAME_LIMIT).max(1);
        for _ in 0..parts {
            let n = left.min(FRAME_LIMIT);
            left -= n;
            let mut body = format!(
                "{{\"duration\":{},\"events\":[",
                duration.as_micros() as u64 / parts
            );
            for i in 0..n {
                case += 1;
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!(
                    "{{\"timestamp\":\"2025-01-01 00:00:00\",\"activity\":\"Assemble part\",\"caseid\":\"case_{}\",\"node\":\"Assembling\",\"group\":\"factory\"}}",
                    case % 5000
                ));
            }
            body.push_str("]}");
            agent
                .post(format!("{url}/register"))
                .send(body.as_bytes())?;
        }
    }
    let start = Instant::now();
    agent.post(format!("{url}/start")).send_empty()?;
    while backend.metrics().emitted_events.load(Ordering::Relaxed) < events {
        std::thread::sleep(Duration::from_micros(200));
    }
    let emit_secs = start.elapsed().as_secs_f64();
    let report = backend.shutdown(Shutdown::Drain);
    let total_secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.emitted.output.delivered == events && report.undelivered() == 0,
        "delivered {} of {events}",
        report.emitted.output.delivered
    );
    Ok(Measured {
        emit_secs,
        total_secs,
        p99_ms: report.emitted.lateness.p99.as_secs_f64() * 1e3,
        max_ms: report.emitted.lateness.max.as_secs_f64() * 1e3,
    })
}

fn kafka_spec(bootstrap: &str, name: &str) -> anyhow::Result<KafkaSinkSpec> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let topic = format!("defbench.backend.{name}.{nanos}");
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let new = NewTopic::new(&topic, 3, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in block_on(admin.create_topics([&new], &options))? {
        result.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
    }
    Ok(KafkaSinkSpec {
        bootstrap_server: bootstrap.to_string(),
        client_id: None,
        topic,
        partition: PartitionSpec::Case { partition_count: 3 },
        producer: Default::default(),
        connect_timeout_secs: 5.0,
        flush_timeout_secs: 60.0,
    })
}
