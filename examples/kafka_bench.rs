//! Throughput of def's Kafka sink against a bare rdkafka producer, on the same broker, in the
//! same process run.
//!
//! "Bare" sends pre-serialised events (the same keys and JSON values def produces, encoded
//! before the clock starts) with a `BaseProducer` and the same librdkafka settings, polling the
//! same way, then flushes. "def" runs the bundled assembly-line chain count-based into a Kafka
//! sink through the library, timed from the first event to the last acknowledgement (the run's
//! own `elapsed`, which includes generating and encoding the events). Each round gives both a
//! fresh topic with the same partition count; the two take turns at going first so that a busy
//! machine and a filling broker hurt both alike, and the best and the median round of each are reported.
//!
//! ```text
//! scripts/broker.sh start
//! cargo run --release --example kafka_bench -- [events=500000] [rounds=3] [partitions=3]
//! ```
//!
//! `DEF_KAFKA_BOOTSTRAP` says where the broker is (default `127.0.0.1:19092`); extra
//! librdkafka settings for both producers: `DEF_BENCH_PRODUCER="compression.type=none,acks=1"`.

use def::config::TimestampFormat;
use def::engine::Engine;
use def::kafka::PRODUCER_DEFAULTS;
use def::model::Chain;
use def::simulation::RunOptions;
use def::sink::EventEncoder;
use def::EventFactory;
use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use std::time::{Duration, Instant};

const SEED: u64 = 7;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(500_000), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let partitions: i32 = args.next().map_or(Ok(3), |a| a.parse())?;
    anyhow::ensure!(
        events > 0 && rounds > 0,
        "events and rounds must be at least 1"
    );
    let bootstrap =
        std::env::var("DEF_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:19092".to_string());
    let extra: Vec<(String, String)> = std::env::var("DEF_BENCH_PRODUCER")
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();

    let chain_yaml = chain_yaml()?;
    let payloads = serialise(&chain_yaml, events)?;
    let bytes: usize = payloads.iter().map(|(k, v)| k.len() + v.len()).sum();
    println!(
        "{events} events ({:.0} bytes each on average), {partitions} partitions, broker {bootstrap}, settings: defaults{}",
        bytes as f64 / events as f64,
        extra
            .iter()
            .map(|(k, v)| format!(" {k}={v}"))
            .collect::<String>()
    );

    let stamp = std::process::id();
    let (mut bares, mut defs) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let bare_topic = format!("bench.bare.{stamp}.{round}");
        let def_topic = format!("bench.def.{stamp}.{round}");
        create_topic(&bootstrap, &bare_topic, partitions)?;
        create_topic(&bootstrap, &def_topic, partitions)?;
        // The broker slows as its in-memory store grows: take turns at going first.
        let (bare, def) = if round % 2 == 0 {
            let bare = bare_producer(&bootstrap, &extra, &bare_topic, &payloads)?;
            (
                bare,
                def_run(&bootstrap, &extra, &def_topic, &chain_yaml, events)?,
            )
        } else {
            let def = def_run(&bootstrap, &extra, &def_topic, &chain_yaml, events)?;
            (
                bare_producer(&bootstrap, &extra, &bare_topic, &payloads)?,
                def,
            )
        };
        println!(
            "round {round}: bare {bare:>10.0} events/s   def {def:>10.0} events/s   def/bare {:.1}%",
            100.0 * def / bare
        );
        bares.push(bare);
        defs.push(def);
    }
    let (best_bare, best_def) = (best(&bares), best(&defs));
    let (median_bare, median_def) = (median(&mut bares), median(&mut defs));
    println!(
        "best:   bare {best_bare:.0} events/s, def {best_def:.0} events/s, def/bare {:.1}%",
        100.0 * best_def / best_bare
    );
    println!(
        "median: bare {median_bare:.0} events/s, def {median_def:.0} events/s, def/bare {:.1}%",
        100.0 * median_def / median_bare
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

/// The (key, value) pairs def sends for this seed, encoded up front.
fn serialise(chain_yaml: &str, events: usize) -> anyhow::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut set = def::config::ConfigSet::new();
    set.add_str("chain.yaml", chain_yaml);
    let chain = Chain::compile(&set).map_err(|d| anyhow::anyhow!("{}", d.message))?;
    let mut engine = Engine::new(&chain, SEED, 1_735_689_600_000, 5);
    let mut encoder = EventEncoder::new(TimestampFormat::Original);
    let mut out = Vec::with_capacity(events);
    for _ in 0..events {
        let event = engine.next_event();
        let mut value = Vec::with_capacity(160);
        encoder.json(&event, &mut value);
        out.push((EventEncoder::case_id(event.case).into_bytes(), value));
    }
    Ok(out)
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()?;
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in block_on(admin.create_topics([&new], &options))? {
        result.map_err(|(t, e)| anyhow::anyhow!("creating {t}: {e}"))?;
    }
    Ok(())
}

/// Events per second of a bare producer sending `payloads`, flush included.
fn bare_producer(
    bootstrap: &str,
    extra: &[(String, String)],
    topic: &str,
    payloads: &[(Vec<u8>, Vec<u8>)],
) -> anyhow::Result<f64> {
    let mut config = ClientConfig::new();
    for (k, v) in PRODUCER_DEFAULTS {
        config.set(*k, *v);
    }
    for (k, v) in extra {
        config.set(k, v);
    }
    config.set("bootstrap.servers", bootstrap);
    let producer: BaseProducer = config.create()?;
    // Connect before the clock starts, as def does when it builds its sink.
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let started = Instant::now();
    for (i, (key, value)) in payloads.iter().enumerate() {
        let mut record = BaseRecord::to(topic).key(&key[..]).payload(&value[..]);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => anyhow::bail!("send: {e}"),
            }
        }
        if i % 256 == 255 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(60))?;
    Ok(payloads.len() as f64 / started.elapsed().as_secs_f64())
}

/// Events per second of `def` running the chain into a Kafka sink (generation, encoding,
/// sending and the final flush).
fn def_run(
    bootstrap: &str,
    extra: &[(String, String)],
    topic: &str,
    chain_yaml: &str,
    events: usize,
) -> anyhow::Result<f64> {
    let producer = if extra.is_empty() {
        String::new()
    } else {
        let lines: String = extra
            .iter()
            .map(|(k, v)| format!("    {k}: \"{v}\"\n"))
            .collect();
        format!("  producer:\n{lines}")
    };
    let sink = format!(
        "kind: sink\nname: kafka\nspec:\n  type: kafka\n  bootstrapServer: \"{bootstrap}\"\n  \
         topic: \"{topic}\"\n{producer}  dataSourceRefs: [GoodsDelivery, MaterialPreparation, \
         AssemblyLineSetup, Assembling, QualityControl, Packaging, Shipping]\n"
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
