//! `kafka`: events to Kafka topics through librdkafka (the `rdkafka` crate).
//!
//! Everything that needs a name or a string is settled when the sink is built: the topic
//! template is resolved once per datasource into a small table indexed by node, the broker is
//! asked for each topic's metadata (bounded by `connectTimeout`, so a broker that is down is a
//! clear error in seconds, not a hang), and partition settings are checked against the topics'
//! partition counts. Writing an event then encodes it into a reused buffer, writes the key
//! `case_N` into another, and hands both to librdkafka, which copies them into its own queue.
//!
//! Delivery is counted, not assumed: every record carries its topic's index as the delivery
//! opaque, and librdkafka's delivery report adds it to that topic's acknowledged or failed
//! count. At the end the sink flushes for at most `flushTimeout`, purges whatever is still
//! queued (counting it as failed), and reports per-topic counts; any failure makes the run
//! exit non-zero.
//!
//! We drive a [`BaseProducer`] and poll it ourselves on the generating thread rather than use a
//! `ThreadedProducer` (one more thread polling on a small machine) or a `FutureProducer` (a
//! future and a channel per record).

use super::{Delivery, EventEncoder, Sink, SinkBuildError, SinkError};
use crate::config::{Diagnostic, KafkaSinkSpec, PartitionSpec, TimestampFormat};
use crate::engine::Event;
use crate::model::Chain;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::ToBytes;
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// librdkafka settings def uses unless the `producer:` map says otherwise.
///
/// - `acks=all` with `enable.idempotence=true`: an acknowledged event is on every in-sync
///   replica, and librdkafka's retries can neither duplicate nor reorder a partition's events,
///   so "delivered N" means exactly N records, in order per case.
/// - `linger.ms=10`, `batch.num.messages=10000`, `batch.size=1000000`: fill large batches; the
///   generator is far faster than a network round trip, so waiting 10 ms costs no throughput.
/// - `compression.type=lz4`: event JSON repeats its keys and names, lz4 shrinks it several-fold
///   for little CPU (set `none` when the broker is on the same machine and CPU is scarce).
/// - `queue.buffering.max.messages=1000000`: room for bursts before the sink has to wait.
/// - `message.timeout.ms=30000`: an event that cannot be delivered fails (and is counted) in
///   30 s rather than librdkafka's default 5 minutes.
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("acks", "all"),
    ("enable.idempotence", "true"),
    ("linger.ms", "10"),
    ("batch.num.messages", "10000"),
    ("batch.size", "1000000"),
    ("compression.type", "lz4"),
    ("queue.buffering.max.messages", "1000000"),
    ("message.timeout.ms", "30000"),
];

/// The client id when the config gives none.
const DEFAULT_CLIENT_ID: &str = "def";

/// Serve delivery reports after this many records (a power of two), so that they are handled
/// in step with production without a poll call per record.
/// Records between two servings of delivery reports (the sink's and the backend's).
pub const POLL_EVERY: u64 = 256;

/// `node_topic` entry of a datasource this sink does not take.
const NO_TOPIC: u32 = u32::MAX;

/// Counts delivery reports per topic; shared with librdkafka's callbacks.
pub struct Accounting {
    pub delivered: Vec<AtomicU64>,
    pub failed: Vec<AtomicU64>,
    /// The first reason a record failed or the client reported an error, for the summary.
    pub first_error: Mutex<Option<String>>,
}

impl Accounting {
    pub fn remember(&self, reason: String) {
        if let Ok(mut slot) = self.first_error.lock() {
            slot.get_or_insert(reason);
        }
    }
}

/// Hands a record to librdkafka. While its queue is full, serves delivery reports (which frees
/// room) and tries again, calling `after_wait` each time so a caller can give up once deliveries
/// fail: records are never dropped (if the broker is gone, queued records time out after
/// `message.timeout.ms`, which frees room too). Any other refusal goes through `refused`.
/// Shared by the Kafka sink and the load backend's Kafka output.
pub fn send_waiting<K, P, E>(
    producer: &BaseProducer<Accounting>,
    mut record: BaseRecord<'_, K, P, usize>,
    mut after_wait: impl FnMut() -> Result<(), E>,
    refused: impl FnOnce(KafkaError) -> E,
) -> Result<(), E>
where
    K: ToBytes + ?Sized,
    P: ToBytes + ?Sized,
{
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(10));
                after_wait()?;
            }
            Err((e, _)) => return Err(refused(e)),
        }
    }
}

/// Flushes `producer` within `timeout` (what is still queued then is purged, so it fails and
/// counts), and tallies deliveries per topic. `queued` records were handed to the producer;
/// any without a delivery report are counted as failed too. Returns the tally and, if anything
/// failed, why. Shared by the Kafka sink and the load backend's Kafka output.
pub fn settle(
    producer: &BaseProducer<Accounting>,
    topics: &[String],
    queued: u64,
    timeout: Duration,
) -> (Delivery, Option<String>) {
    if producer.flush(timeout).is_err() {
        producer.purge(PurgeConfig::default().queue().inflight());
        let _ = producer.flush(Duration::from_secs(1));
    }
    let context = producer.context();
    let mut delivery = Delivery::default();
    for (i, topic) in topics.iter().enumerate() {
        let delivered = context.delivered[i].load(Ordering::Relaxed);
        delivery.delivered += delivered;
        delivery.failed += context.failed[i].load(Ordering::Relaxed);
        delivery.destinations.insert(topic.clone(), delivered);
    }
    delivery.failed += queued.saturating_sub(delivery.delivered + delivery.failed);
    let why = (delivery.failed > 0).then(|| {
        context
            .first_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_else(|| format!("not acknowledged within {:.1} s", timeout.as_secs_f64()))
    });
    (delivery, why)
}

impl ClientContext for Accounting {
    /// librdkafka's own log lines stay quiet: what matters reaches us as errors or failed
    /// deliveries and is reported at the end.
    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _message: &str) {}

    fn error(&self, error: KafkaError, reason: &str) {
        self.remember(format!("{error}: {reason}"));
    }
}

impl ProducerContext for Accounting {
    /// The index of the record's topic.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, topic: usize) {
        match result {
            Ok(_) => {
                self.delivered[topic].fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                self.failed[topic].fetch_add(1, Ordering::Relaxed);
                self.remember(error.to_string());
            }
        }
    }
}

/// Where records go within a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Partitioning {
    /// librdkafka's partitioner, by key.
    Default,
    Constant(i32),
    /// [`case_partition`] over this many partitions.
    Case(i32),
}

/// The partition of a case under `{type: case, partitionCount: count}`: Kafka's own murmur2
/// hash of the key (`case_N`), made positive, modulo `count`. It is the hash of Kafka's Java
/// client and of librdkafka's `murmur2` partitioner, so when `count` equals the topic's
/// partition count, other Kafka producers would put a case where def does; and it depends on
/// nothing but the key, so it is stable across runs, machines and versions.
pub fn case_partition(key: &[u8], count: i32) -> i32 {
    ((murmur2(key) & 0x7fff_ffff) % count.max(1) as u32) as i32
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`, seed `0x9747b28c`).
/// Written out because it is twenty lines and the crates that offer murmur2 differ from
/// Kafka's variant in seed or tail handling; the unit tests pin it to Kafka's test vectors.
fn murmur2(data: &[u8]) -> u32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

pub use crate::config::resolve_topic;

/// Builds the librdkafka configuration: our defaults, then the user's `producer:` map, then
/// the keys that have their own place in the spec.
pub fn client_config(spec: &KafkaSinkSpec) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in PRODUCER_DEFAULTS {
        config.set(*key, *value);
    }
    for (key, value) in &spec.producer {
        config.set(key, value);
    }
    config.set("bootstrap.servers", &spec.bootstrap_server);
    config.set(
        "client.id",
        spec.client_id.as_deref().unwrap_or(DEFAULT_CLIENT_ID),
    );
    config
}

/// The Kafka sink.
pub struct KafkaSink {
    name: String,
    producer: BaseProducer<Accounting>,
    /// Topic names; a record's delivery opaque is its index here.
    topics: Vec<String>,
    /// `node_topic[node.index]` is the index of that datasource's topic, or [`NO_TOPIC`].
    node_topic: Vec<u32>,
    partitioning: Partitioning,
    encoder: EventEncoder,
    /// The record value, reused.
    value: Vec<u8>,
    /// The record key `case_N`, reused; the prefix stays.
    key: Vec<u8>,
    itoa: itoa::Buffer,
    /// Records handed to librdkafka.
    queued: u64,
    flush_timeout: Duration,
}

impl KafkaSink {
    /// Builds the producer, resolves the topic of every datasource in `refs`, and checks with
    /// the broker (within the spec's `connectTimeout`) that each topic exists and has the
    /// partitions the partition setting needs.
    pub fn build(
        name: &str,
        spec: &KafkaSinkSpec,
        chain: &Chain,
        refs: &[String],
        timestamps: TimestampFormat,
    ) -> Result<KafkaSink, SinkBuildError> {
        let mut topics: Vec<String> = Vec::new();
        let mut node_topic = vec![NO_TOPIC; chain.nodes.len()];
        for node in &chain.nodes {
            let takes = refs
                .iter()
                .any(|r| r == node.name.as_str() || *r == node.doc_name);
            if !takes {
                continue;
            }
            let topic = resolve_topic(&spec.topic, node.name.as_str(), node.group.as_str())
                .map_err(|message| {
                    Diagnostic::error(format!(
                        "sink `{name}`, datasource `{}`: {message}",
                        node.name.as_str()
                    ))
                    .help("change `topic`, e.g. `events` or `factory.{node}`")
                })?;
            let index = match topics.iter().position(|t| *t == topic) {
                Some(i) => i,
                None => {
                    topics.push(topic);
                    topics.len() - 1
                }
            };
            node_topic[node.index as usize] = index as u32;
        }

        let partitioning = match spec.partition {
            PartitionSpec::Default => Partitioning::Default,
            PartitionSpec::Constant(p) => Partitioning::Constant(p),
            PartitionSpec::Case { partition_count } => Partitioning::Case(partition_count),
        };
        let accounting = Accounting {
            delivered: topics.iter().map(|_| AtomicU64::new(0)).collect(),
            failed: topics.iter().map(|_| AtomicU64::new(0)).collect(),
            first_error: Mutex::new(None),
        };
        let producer: BaseProducer<Accounting> = client_config(spec)
            .create_with_context(accounting)
            .map_err(|e| {
                Diagnostic::error(format!(
                    "sink `{name}`: librdkafka refused the settings: {e}"
                ))
                .help(
                    "check the `producer:` map against librdkafka's CONFIGURATION.md \
                         (keys like `linger.ms`, values as strings or numbers)",
                )
            })?;

        let timeout = Duration::from_secs_f64(spec.connect_timeout_secs);
        let deadline = Instant::now() + timeout;
        for topic in &topics {
            let partitions = topic_partitions(&producer, topic, deadline).map_err(|problem| {
                let unreachable = matches!(problem, TopicProblem::Unreachable(_));
                let d = problem.into_diagnostic(name, &spec.bootstrap_server, topic, timeout);
                if unreachable {
                    SinkBuildError::Unreachable(d)
                } else {
                    SinkBuildError::Config(d)
                }
            })?;
            let needed = match partitioning {
                Partitioning::Default => 1,
                Partitioning::Constant(p) => p.saturating_add(1),
                Partitioning::Case(n) => n,
            };
            if partitions < needed {
                return Err(Diagnostic::error(format!(
                    "sink `{name}`: topic `{topic}` has {partitions} partition(s), but the \
                     `partition` setting needs {needed}"
                ))
                .help(
                    "create the topic with more partitions, or lower `partition` / `partitionCount`",
                )
                .into());
            }
        }

        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(b"case_");
        Ok(KafkaSink {
            name: name.to_string(),
            producer,
            topics,
            node_topic,
            partitioning,
            encoder: EventEncoder::new(timestamps),
            value: Vec::with_capacity(512),
            key,
            itoa: itoa::Buffer::new(),
            queued: 0,
            flush_timeout: Duration::from_secs_f64(spec.flush_timeout_secs),
        })
    }

    /// The resolved topic names, in the order of first use.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    fn failed(&self, message: String) -> SinkError {
        SinkError::Failed {
            sink: self.name.clone(),
            message,
        }
    }

    /// An error once any record has failed: librdkafka has already retried it for
    /// `message.timeout.ms`, so the broker is gone or refuses us, and generating more events
    /// would only queue more failures. The run stops, and `finish` reports what was not
    /// delivered.
    fn check_failures(&self) -> Result<(), SinkError> {
        let context = self.producer.context();
        let failed: u64 = context.failed[..self.topics.len()]
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .sum();
        if failed == 0 {
            return Ok(());
        }
        let why = context
            .first_error
            .lock()
            .ok()
            .and_then(|e| e.clone())
            .unwrap_or_default();
        Err(self.failed(format!(
            "the broker stopped acknowledging events ({why}); stopping the run"
        )))
    }
}

/// Why a topic's metadata could not be had.
pub enum TopicProblem {
    Unreachable(KafkaError),
    Missing(Option<String>),
}

impl TopicProblem {
    pub fn into_diagnostic(
        self,
        sink: &str,
        servers: &str,
        topic: &str,
        timeout: Duration,
    ) -> Diagnostic {
        match self {
            TopicProblem::Unreachable(e) => Diagnostic::error(format!(
                "sink `{sink}`: no answer from the Kafka broker at `{servers}` within {:.1} s ({e})",
                timeout.as_secs_f64()
            ))
            .help(
                "start the broker or fix `bootstrapServer`; `scripts/broker.sh start` runs a \
                 local one; `connectTimeout` (seconds) sets how long to wait",
            ),
            TopicProblem::Missing(why) => Diagnostic::error(format!(
                "sink `{sink}`: the broker at `{servers}` has no topic `{topic}`{}",
                why.map(|w| format!(" ({w})")).unwrap_or_default()
            ))
            .help(
                "create the topic (e.g. `tansu topic create` or `kafka-topics.sh --create`), \
                 or enable auto-creation on the broker",
            ),
        }
    }
}

/// Asks the broker for a topic's partition count until `deadline`. Asking also lets a broker
/// with auto-creation create the topic; a topic that is being created is asked for again.
pub fn topic_partitions(
    producer: &BaseProducer<Accounting>,
    topic: &str,
    deadline: Instant,
) -> Result<i32, TopicProblem> {
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let metadata = producer
            .client()
            .fetch_metadata(Some(topic), remaining.max(Duration::from_millis(1)))
            .map_err(TopicProblem::Unreachable)?;
        let found = metadata.topics().iter().find(|t| t.name() == topic);
        let why = match found {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                return Ok(t.partitions().len() as i32)
            }
            Some(t) => t.error().map(|e| RDKafkaErrorCode::from(e).to_string()),
            None => None,
        };
        if Instant::now() + Duration::from_millis(100) >= deadline {
            return Err(TopicProblem::Missing(why));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Sink for KafkaSink {
    #[inline]
    fn write(&mut self, event: &Event<'_>) -> Result<(), SinkError> {
        let topic = match self.node_topic.get(event.node.index as usize) {
            Some(&t) if t != NO_TOPIC => t as usize,
            _ => {
                return Err(self.failed(format!(
                    "datasource `{}` is not routed to this sink",
                    event.node.name.as_str()
                )))
            }
        };
        self.value.clear();
        self.encoder.json(event, &mut self.value);
        self.key.truncate(b"case_".len());
        self.key
            .extend_from_slice(self.itoa.format(event.case).as_bytes());
        let partition = match self.partitioning {
            Partitioning::Default => None,
            Partitioning::Constant(p) => Some(p),
            Partitioning::Case(n) => Some(case_partition(&self.key, n)),
        };
        let mut record = BaseRecord::with_opaque_to(&self.topics[topic], topic)
            .key(&self.key[..])
            .payload(&self.value[..]);
        record.partition = partition;
        send_waiting(
            &self.producer,
            record,
            || self.check_failures(),
            |e| {
                self.failed(format!(
                    "cannot queue an event for topic `{}`: {e}",
                    self.topics[topic]
                ))
            },
        )?;
        self.queued += 1;
        if self.queued % POLL_EVERY == 0 {
            self.producer.poll(Duration::ZERO);
            self.check_failures()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // Streams call this after each batch: serve delivery reports, but do not wait for the
        // broker, which would stall the stream's clock.
        self.producer.poll(Duration::ZERO);
        self.check_failures()
    }

    fn finish(&mut self) -> Result<Delivery, SinkError> {
        let (delivery, why) = settle(
            &self.producer,
            &self.topics,
            self.queued,
            self.flush_timeout,
        );
        if let Some(why) = why {
            // The run reports the count; this line says why.
            eprintln!(
                "def: kafka sink `{}`: {} of {} events not delivered: {why}",
                self.name, delivery.failed, self.queued
            );
        }
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::ConfigSet;
    use crate::engine::Engine;
    use rdkafka::mocking::MockCluster;
    use std::collections::BTreeMap;

    fn spec(bootstrap: String, topic: &str, partition: PartitionSpec) -> KafkaSinkSpec {
        KafkaSinkSpec {
            bootstrap_server: bootstrap,
            client_id: None,
            topic: topic.into(),
            partition,
            // The mock broker is in-process: no reason to wait for batches.
            producer: [("linger.ms".to_string(), "0".to_string())]
                .into_iter()
                .collect(),
            connect_timeout_secs: 5.0,
            flush_timeout_secs: 10.0,
        }
    }

    fn all_nodes(chain: &Chain) -> Vec<String> {
        chain.nodes.iter().map(|n| n.doc_name.clone()).collect()
    }

    /// librdkafka's in-process mock cluster: delivery reports are counted per topic, and a
    /// template gives one topic per datasource.
    #[test]
    fn counts_acknowledged_deliveries_per_topic_on_a_mock_cluster() {
        let cluster = MockCluster::new(1).unwrap();
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        for node in &chain.nodes {
            cluster
                .create_topic(&format!("mock.{}", node.name.as_str()), 2, 1)
                .unwrap();
        }
        let spec = spec(
            cluster.bootstrap_servers(),
            "mock.{node}",
            PartitionSpec::Case { partition_count: 2 },
        );
        let refs = all_nodes(&chain);
        let mut sink =
            KafkaSink::build("k", &spec, &chain, &refs, TimestampFormat::Original).unwrap();
        assert_eq!(sink.topics().len(), chain.nodes.len());
        let mut engine = Engine::new(&chain, 3, 1_700_000_000_000, 5);
        let mut expected: BTreeMap<String, u64> = BTreeMap::new();
        for _ in 0..5_000 {
            let event = engine.next_event();
            *expected
                .entry(format!("mock.{}", event.node.name.as_str()))
                .or_default() += 1;
            sink.write(&event).unwrap();
        }
        let delivery = sink.finish().unwrap();
        assert_eq!(delivery.delivered, 5_000);
        assert_eq!(delivery.failed, 0);
        assert_eq!(delivery.destinations, expected);
    }

    /// A broker that goes away after the sink was built: the records fail when `flushTimeout`
    /// runs out, and every one of them is counted as undelivered.
    #[test]
    fn counts_undelivered_events_when_the_broker_goes_away() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("gone", 1, 1).unwrap();
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let mut spec = spec(cluster.bootstrap_servers(), "gone", PartitionSpec::Default);
        spec.flush_timeout_secs = 1.0;
        let refs = all_nodes(&chain);
        let mut sink =
            KafkaSink::build("k", &spec, &chain, &refs, TimestampFormat::Original).unwrap();
        cluster.broker_down(1).unwrap();
        let mut engine = Engine::new(&chain, 3, 1_700_000_000_000, 5);
        for _ in 0..1_000 {
            sink.write(&engine.next_event()).unwrap();
        }
        let delivery = sink.finish().unwrap();
        assert_eq!(delivery.delivered, 0);
        assert_eq!(delivery.failed, 1_000);
    }

    #[test]
    fn refuses_a_topic_with_too_few_partitions() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("narrow", 2, 1).unwrap();
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let spec = spec(
            cluster.bootstrap_servers(),
            "narrow",
            PartitionSpec::Case { partition_count: 4 },
        );
        let refs = all_nodes(&chain);
        let err = KafkaSink::build("k", &spec, &chain, &refs, TimestampFormat::Original)
            .err()
            .unwrap();
        // The broker answered: a topic that cannot hold the partitioning is a config error.
        let SinkBuildError::Config(err) = err else {
            panic!("expected a config error, got {err:?}")
        };
        assert!(
            err.message.contains("topic `narrow` has 2 partition(s)"),
            "{}",
            err.message
        );
    }

    /// Kafka's own test vectors (`UtilsTest.testMurmur2`).
    #[test]
    fn murmur2_matches_kafka() {
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (key, expected) in cases {
            assert_eq!(
                murmur2(key) as i32,
                *expected,
                "{}",
                String::from_utf8_lossy(key)
            );
        }
    }

    #[test]
    fn case_partition_is_in_range_and_spreads() {
        let mut counts = [0u32; 4];
        for case in 0..4000u64 {
            let key = format!("case_{case}");
            let p = case_partition(key.as_bytes(), 4);
            assert!((0..4).contains(&p));
            counts[p as usize] += 1;
        }
        // 4000 keys over 4 partitions: each gets 1000 ± a generous 20%.
        for c in counts {
            assert!((800..=1200).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn topic_templates_resolve_and_are_checked() {
        assert_eq!(
            resolve_topic("factory.{node}", "Assembling", "factory").unwrap(),
            "factory.Assembling"
        );
        assert_eq!(resolve_topic("{group}-{node}", "A", "g").unwrap(), "g-A");
        assert_eq!(resolve_topic("events", "A", "g").unwrap(), "events");
        let unknown = resolve_topic("x.{nodes}", "A", "g").unwrap_err();
        assert!(unknown.contains("`{nodes}`"), "{unknown}");
        let illegal = resolve_topic("x.{node}", "Quality Control", "g").unwrap_err();
        assert!(illegal.contains("`x.Quality Control`"), "{illegal}");
        assert!(resolve_topic("", "A", "g").is_err());
    }

    #[test]
    fn user_settings_override_the_defaults() {
        let spec = KafkaSinkSpec {
            bootstrap_server: "127.0.0.1:1".into(),
            client_id: None,
            topic: "t".into(),
            partition: PartitionSpec::Default,
            producer: [("compression.type".to_string(), "none".to_string())]
                .into_iter()
                .collect(),
            connect_timeout_secs: 1.0,
            flush_timeout_secs: 1.0,
        };
        let config = client_config(&spec);
        assert_eq!(config.get("compression.type"), Some("none"));
        assert_eq!(config.get("acks"), Some("all"));
        assert_eq!(config.get("client.id"), Some("def"));
        assert_eq!(config.get("bootstrap.servers"), Some("127.0.0.1:1"));
    }
}
