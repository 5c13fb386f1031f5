//! The [`Producer`]: one librdkafka producer, the topics it sends to, and their delivery counts.
//!
//! Every record carries its topic's index as the delivery opaque, and librdkafka's delivery
//! report adds it to that topic's acknowledged or failed count in a [`DeliveryCounter`]. At the
//! end [`Producer::settle`] flushes for at most the flush timeout, purges whatever is still
//! queued (so it fails and counts), and reports per-topic counts.
//!
//! We drive a [`BaseProducer`] and poll it ourselves on the sending thread rather than use a
//! `ThreadedProducer` (one more thread polling on a small machine) or a `FutureProducer` (a
//! future and a channel per record).

use super::partition::Partitioning;
use super::settings::client_config;
use crate::config::{Diagnostic, KafkaSinkSpec};
use crate::sink::{Delivery, DeliveryCounter};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer as _, ProducerContext, PurgeConfig,
};
use std::time::{Duration, Instant};

/// Serve delivery reports after this many records (a power of two), so that they are handled
/// in step with production without a poll call per record.
const POLL_EVERY: u64 = 256;

/// How long one wait for room in a full queue serves delivery reports.
const FULL_QUEUE_WAIT: Duration = Duration::from_millis(10);

/// librdkafka's callbacks: delivery reports and client errors go into the counter.
struct Reports(DeliveryCounter);

impl ClientContext for Reports {
    /// librdkafka's own log lines stay quiet: what matters reaches us as errors or failed
    /// deliveries and is reported at the end.
    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _message: &str) {}

    fn error(&self, error: KafkaError, reason: &str) {
        self.0.remember(format_args!("{error}: {reason}"));
    }
}

impl ProducerContext for Reports {
    /// The index of the record's topic.
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, topic: usize) {
        match result {
            Ok(_) => self.0.delivered(topic),
            Err((error, _)) => self.0.failed(topic, error),
        }
    }
}

/// librdkafka refused the producer settings (an unknown key, a bad value).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

/// Why a topic's metadata could not be had.
#[derive(Debug)]
pub enum TopicProblem {
    /// The broker did not answer: a runtime failure, not a mistake in the config.
    Unreachable(String),
    /// The broker answered without the topic (and maybe said why).
    Missing(Option<String>),
}

impl TopicProblem {
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TopicProblem::Unreachable(_))
    }

    /// The problem as an error of `sink` (a sink's name, or `backend`) sending to `topic` on
    /// the brokers `servers`, which were given `timeout` to answer.
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
                "start the broker or fix `bootstrapServer` (host:port, several separated by \
                 commas); `connectTimeout` (seconds) sets how long to wait",
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

/// A Kafka producer with its topics: a record's topic is an index into [`Producer::topics`].
pub struct Producer {
    client: BaseProducer<Reports>,
    /// Topic names; a record's delivery opaque (and counter index) is its index here.
    topics: Vec<String>,
    /// The most topics the counter has room for.
    max_topics: usize,
    partitioning: Partitioning,
    /// Records handed to librdkafka.
    queued: u64,
    flush_timeout: Duration,
}

impl Producer {
    /// Creates the producer for `spec` (def's defaults, the producer map, the bootstrap server
    /// and client id; the spec's partitioning and flush timeout), with room for `max_topics`
    /// topics. It does not talk to the broker yet: see [`Producer::partitions`] and
    /// [`Producer::reach_broker`].
    ///
    /// # Errors
    ///
    /// [`SettingsError`] if librdkafka refuses the settings (an unknown key, a bad value).
    pub fn open(spec: &KafkaSinkSpec, max_topics: usize) -> Result<Producer, SettingsError> {
        let client = client_config(spec)
            .create_with_context(Reports(DeliveryCounter::new(max_topics)))
            .map_err(|e| SettingsError(e.to_string()))?;
        Ok(Producer {
            client,
            topics: Vec::new(),
            max_topics,
            partitioning: spec.partition.into(),
            queued: 0,
            flush_timeout: Duration::from_secs_f64(spec.flush_timeout_secs),
        })
    }

    /// The index of topic `name`, added if new; `None` if it would be one topic too many.
    pub fn topic(&mut self, name: &str) -> Option<usize> {
        if let Some(i) = self.topics.iter().position(|t| t == name) {
            return Some(i);
        }
        if self.topics.len() >= self.max_topics {
            return None;
        }
        self.topics.push(name.to_string());
        Some(self.topics.len() - 1)
    }

    /// The topic names, in the order they were added.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }

    pub fn partitioning(&self) -> Partitioning {
        self.partitioning
    }

    /// The delivery counts so far (reports are served by [`Producer::poll`] and sending).
    pub fn counter(&self) -> &DeliveryCounter {
        &self.client.context().0
    }

    /// Asks the broker for `topic`'s partition count until `deadline`. Asking also lets a
    /// broker with auto-creation create the topic; a topic being created is asked for again.
    ///
    /// # Errors
    ///
    /// [`TopicProblem::Unreachable`] if the broker does not answer by `deadline`,
    /// [`TopicProblem::Missing`] if it answers without the topic.
    pub fn partitions(&self, topic: &str, deadline: Instant) -> Result<i32, TopicProblem> {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let metadata = self
                .client
                .client()
                .fetch_metadata(Some(topic), remaining.max(Duration::from_millis(1)))
                .map_err(|e| TopicProblem::Unreachable(e.to_string()))?;
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

    /// Asks the broker for its metadata in general: is it there at all? (For topics that are
    /// known only once events name them.)
    ///
    /// # Errors
    ///
    /// [`TopicProblem::Unreachable`] if the broker does not answer within `timeout`.
    pub fn reach_broker(&self, timeout: Duration) -> Result<(), TopicProblem> {
        self.client
            .client()
            .fetch_metadata(None, timeout)
            .map(|_| ())
            .map_err(|e| TopicProblem::Unreachable(e.to_string()))
    }

    /// Hands a record for topic index `topic` to librdkafka, which copies key and payload.
    ///
    /// Backpressure, never loss: while librdkafka's queue is full, serves delivery reports
    /// (which frees room) and tries again. If the broker is gone, queued records time out
    /// after `message.timeout.ms`, which frees room too. Every few hundred records it serves
    /// delivery reports anyway. After each of those polls `keep_going` sees the counts and
    /// may stop the sending with its error (e.g. once any record failed).
    ///
    /// # Errors
    ///
    /// `keep_going`'s error, or why librdkafka refused the record for another reason than a
    /// full queue (e.g. a payload over `message.max.bytes`).
    ///
    /// # Panics
    ///
    /// If `topic` is not an index into [`Producer::topics`].
    #[inline]
    pub fn send(
        &mut self,
        topic: usize,
        key: Option<&[u8]>,
        payload: &[u8],
        mut keep_going: impl FnMut(&DeliveryCounter) -> Result<(), String>,
    ) -> Result<(), String> {
        let name = &self.topics[topic];
        let mut record = BaseRecord::with_opaque_to(name, topic).payload(payload);
        record.key = key;
        record.partition = self.partitioning.partition(key.unwrap_or_default());
        loop {
            match self.client.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    self.client.poll(FULL_QUEUE_WAIT);
                    keep_going(self.counter())?;
                }
                Err((e, _)) => {
                    return Err(format!("cannot queue an event for topic `{name}`: {e}"))
                }
            }
        }
        self.queued += 1;
        if self.queued % POLL_EVERY == 0 {
            self.poll();
            keep_going(self.counter())?;
        }
        Ok(())
    }

    /// Serves the delivery reports that have come, without waiting.
    pub fn poll(&self) {
        self.client.poll(Duration::ZERO);
    }

    /// Flushes within the flush timeout (what is still queued then is purged, so it fails and
    /// counts) and tallies deliveries per topic; a record without a delivery report counts as
    /// failed. [`Delivery::error`] says why if anything failed.
    pub fn settle(&mut self) -> Delivery {
        if self.client.flush(self.flush_timeout).is_err() {
            self.client.purge(PurgeConfig::default().queue().inflight());
            let _ = self.client.flush(Duration::from_secs(1));
        }
        let timeout = self.flush_timeout;
        self.counter().tally(&self.topics, self.queued, || {
            format!("not acknowledged within {:.1} s", timeout.as_secs_f64())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PartitionSpec;
    use rdkafka::mocking::MockCluster;

    fn spec(bootstrap: String, producer: &[(&str, &str)]) -> KafkaSinkSpec {
        KafkaSinkSpec {
            bootstrap_server: bootstrap,
            client_id: None,
            topic: "t".into(),
            partition: PartitionSpec::Case { partition_count: 2 },
            producer: producer
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            connect_timeout_secs: 5.0,
            flush_timeout_secs: 10.0,
        }
    }

    /// A queue with room for 8 records takes 3000: sending waits for room, nothing is dropped.
    #[test]
    fn a_full_queue_waits_and_drops_nothing() {
        let cluster = MockCluster::new(1).unwrap();
        cluster.create_topic("full", 2, 1).unwrap();
        let spec = spec(
            cluster.bootstrap_servers(),
            &[("linger.ms", "0"), ("queue.buffering.max.messages", "8")],
        );
        let mut producer = Producer::open(&spec, 1).unwrap();
        let topic = producer.topic("full").unwrap();
        assert_eq!(producer.topic("full"), Some(topic));
        assert_eq!(producer.topic("other"), None, "room for one topic only");
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(producer.partitions("full", deadline).unwrap(), 2);
        let mut waits = 0;
        for case in 0..3000 {
            let key = format!("case_{case}");
            producer
                .send(topic, Some(key.as_bytes()), b"{}", |_| {
                    waits += 1;
                    Ok(())
                })
                .unwrap();
        }
        assert!(waits > 0, "the queue never filled");
        let delivery = producer.settle();
        assert_eq!((delivery.delivered, delivery.failed), (3000, 0));
        assert_eq!(delivery.destinations["full"], 3000);
        assert_eq!(delivery.error, None);
    }

    /// No broker: an `Unreachable` problem within the timeout, not a hang.
    #[test]
    fn a_closed_port_is_unreachable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let producer = Producer::open(&spec(format!("127.0.0.1:{port}"), &[]), 1).unwrap();
        let started = Instant::now();
        let problem = producer
            .reach_broker(Duration::from_millis(500))
            .unwrap_err();
        assert!(problem.is_unreachable(), "{problem:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn refused_settings_are_an_error() {
        let spec = spec("127.0.0.1:1".into(), &[("no.such.setting", "1")]);
        let error = Producer::open(&spec, 1).err().unwrap();
        assert!(error.to_string().contains("no.such.setting"), "{error}");
    }
}
