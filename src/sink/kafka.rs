//! `kafka`: events to Kafka topics, through def's [`Producer`].
//!
//! Everything that needs a name or a string is settled when the sink is built: the topic
//! template is resolved once per datasource into a small table indexed by node, the broker is
//! asked for each topic's metadata (bounded by `connectTimeout`, so a broker that is down is a
//! clear error in seconds, not a hang), and partition settings are checked against the topics'
//! partition counts. Writing an event then encodes it into a reused buffer, writes the key
//! `case_N` into another, and hands both to the producer, which copies them into librdkafka's
//! queue.
//!
//! Delivery is counted, not assumed: at the end the producer flushes for at most
//! `flushTimeout`, purges whatever is still queued (counting it as failed), and the sink
//! reports per-topic counts and why anything failed; any failure makes the run exit non-zero.
//! Once any record has failed, the sink stops the run (see `stop_on_failure`).

use super::{Delivery, EventEncoder, Sink, SinkBuildError, SinkError};
use crate::config::{Diagnostic, KafkaSinkSpec, Place, TimestampFormat};
use crate::engine::Event;
use crate::kafka::{resolve_topic, Producer};
use crate::model::Chain;
use crate::sink::DeliveryCounter;
use std::time::{Duration, Instant};

/// `node_topic` entry of a datasource this sink does not take.
const NO_TOPIC: u32 = u32::MAX;

/// The Kafka sink.
pub struct KafkaSink {
    name: String,
    producer: Producer,
    /// `node_topic[node.index]` is the producer's index of that datasource's topic, or
    /// [`NO_TOPIC`].
    node_topic: Vec<u32>,
    encoder: EventEncoder,
    /// The record value, reused.
    value: Vec<u8>,
    /// The record key `case_N`, reused; the prefix stays.
    key: Vec<u8>,
    itoa: itoa::Buffer,
}

impl KafkaSink {
    /// Builds the producer, resolves the topic of every datasource in `refs`, and checks with
    /// the broker (within the spec's `connectTimeout`) that each topic exists and has the
    /// partitions the partition setting needs.
    ///
    /// # Errors
    ///
    /// [`SinkBuildError::Config`] for a topic template that gives no legal topic, settings
    /// librdkafka refuses, or a topic that is missing or has too few partitions;
    /// [`SinkBuildError::Unavailable`] if the broker does not answer within `connectTimeout`.
    /// Each diagnostic is placed at the field it is about, where `at` knows it.
    pub fn build(
        name: &str,
        spec: &KafkaSinkSpec,
        chain: &Chain,
        refs: &[String],
        timestamps: TimestampFormat,
        at: &dyn Fn(&str) -> Option<Place>,
    ) -> Result<KafkaSink, SinkBuildError> {
        let placed = |d: Diagnostic, field: &str| match at(field) {
            Some(place) => d.at(&place),
            None => d,
        };
        // Templates first: a config mistake is reported before librdkafka is involved.
        let mut node_names: Vec<(usize, String)> = Vec::new();
        for node in &chain.nodes {
            let takes = refs
                .iter()
                .any(|r| r == node.name.as_str() || *r == node.doc_name);
            if !takes {
                continue;
            }
            let topic = resolve_topic(&spec.topic, node.name.as_str(), node.group.as_str())
                .map_err(|message| {
                    placed(
                        Diagnostic::error(format!(
                            "sink `{name}`, datasource `{}`: {message}",
                            node.name.as_str()
                        ))
                        .help("change `topic`, e.g. `events` or `factory.{node}`"),
                        "topic",
                    )
                })?;
            node_names.push((node.index as usize, topic));
        }

        // At most one topic per datasource.
        let mut producer = Producer::open(spec, node_names.len()).map_err(|e| {
            placed(
                Diagnostic::error(format!(
                    "sink `{name}`: librdkafka refused the settings: {e}"
                ))
                .help(
                    "check the `producer:` map against librdkafka's CONFIGURATION.md \
                     (keys like `linger.ms`, values as strings or numbers)",
                ),
                "producer",
            )
        })?;
        let mut node_topic = vec![NO_TOPIC; chain.nodes.len()];
        for (node, topic) in &node_names {
            // Room for every datasource's topic was made above.
            let index = producer.topic(topic).unwrap_or_default();
            node_topic[*node] = index as u32;
        }

        let timeout = Duration::from_secs_f64(spec.connect_timeout_secs);
        let deadline = Instant::now() + timeout;
        let needed = producer.partitioning().partitions_needed();
        for topic in producer.topics() {
            let partitions = producer.partitions(topic, deadline).map_err(|problem| {
                let unreachable = problem.is_unreachable();
                let d = problem.into_diagnostic(name, &spec.bootstrap_server, topic, timeout);
                if unreachable {
                    SinkBuildError::Unavailable(placed(d, "bootstrapServer"))
                } else {
                    SinkBuildError::Config(placed(d, "topic"))
                }
            })?;
            if partitions < needed {
                return Err(placed(
                    Diagnostic::error(format!(
                        "sink `{name}`: topic `{topic}` has {partitions} partition(s), but the \
                         `partition` setting needs {needed}"
                    ))
                    .help(
                        "create the topic with more partitions, or lower `partition` / `partitionCount`",
                    ),
                    "partition",
                )
                .into());
            }
        }

        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(b"case_");
        Ok(KafkaSink {
            name: name.to_string(),
            producer,
            node_topic,
            encoder: EventEncoder::new(timestamps),
            value: Vec::with_capacity(512),
            key,
            itoa: itoa::Buffer::new(),
        })
    }

    /// The resolved topic names, in the order of first use.
    pub fn topics(&self) -> &[String] {
        self.producer.topics()
    }

    fn failed(&self, message: String) -> SinkError {
        SinkError::Failed {
            sink: self.name.clone(),
            message,
        }
    }
}

/// An error once any record has failed: librdkafka has already retried it for
/// `message.timeout.ms`, so the broker is gone or refuses us, and generating more events would
/// only queue more failures. The run stops, and `finish` reports what was not delivered.
fn stop_on_failure(counter: &DeliveryCounter) -> Result<(), String> {
    if counter.totals().1 == 0 {
        return Ok(());
    }
    Err(format!(
        "the broker stopped acknowledging events ({}); stopping the run",
        counter.first_error().unwrap_or_default()
    ))
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
        let sent = self
            .producer
            .send(topic, Some(&self.key), &self.value, stop_on_failure);
        sent.map_err(|message| self.failed(message))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        // Streams call this after each batch: serve delivery reports, but do not wait for the
        // broker, which would stall the stream's clock.
        self.producer.poll();
        stop_on_failure(self.producer.counter()).map_err(|message| self.failed(message))
    }

    /// The counts, and in [`Delivery::error`] why events were not delivered (the command line
    /// prints it).
    fn finish(&mut self) -> Result<Delivery, SinkError> {
        Ok(Delivery {
            acknowledged: true,
            ..self.producer.settle()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::{ConfigSet, PartitionSpec};
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
        let mut sink = KafkaSink::build(
            "k",
            &spec,
            &chain,
            &refs,
            TimestampFormat::Original,
            &|_| None,
        )
        .unwrap();
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
        let mut sink = KafkaSink::build(
            "k",
            &spec,
            &chain,
            &refs,
            TimestampFormat::Original,
            &|_| None,
        )
        .unwrap();
        cluster.broker_down(1).unwrap();
        let mut engine = Engine::new(&chain, 3, 1_700_000_000_000, 5);
        for _ in 0..1_000 {
            sink.write(&engine.next_event()).unwrap();
        }
        let delivery = sink.finish().unwrap();
        assert_eq!(delivery.delivered, 0);
        assert_eq!(delivery.failed, 1_000);
        // Why, for the command line to print; and that these are events *not acknowledged*
        // (the broker may still have stored some), which the summary says in those words.
        assert!(delivery.error.is_some());
        assert!(delivery.acknowledged);
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
        let err = KafkaSink::build(
            "k",
            &spec,
            &chain,
            &refs,
            TimestampFormat::Original,
            &|_| None,
        )
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
}
