//! Records to Kafka, keyed by case id, through def's [`Producer`]: the event's JSON as it
//! arrived, to the topic the server resolved for it.

use crate::backend::queue::Frame;
use crate::backend::topics::{Topics, MAX_TOPICS};
use crate::config::{Diagnostic, KafkaSinkSpec};
use crate::kafka::Producer;
use crate::sink::Delivery;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The Kafka output: the producer, and the topic table it learns names from.
pub struct KafkaOutput {
    producer: Producer,
    topics: Arc<Topics>,
}

impl KafkaOutput {
    /// Opens the producer and checks the broker within the connect timeout: that it has a
    /// fixed topic, or, with a template (topics known only as events come), that it answers.
    pub(super) fn open(
        spec: &KafkaSinkSpec,
        topics: Arc<Topics>,
    ) -> Result<KafkaOutput, Diagnostic> {
        let producer = Producer::open(spec, MAX_TOPICS).map_err(|e| {
            Diagnostic::error(format!("librdkafka refused the producer settings: {e}")).help(
                "check the --producer KEY=VALUE options against librdkafka's CONFIGURATION.md",
            )
        })?;
        let timeout = Duration::from_secs_f64(spec.connect_timeout_secs);
        let probe = if topics.templated() {
            producer.reach_broker(timeout)
        } else {
            producer
                .partitions(&spec.topic, Instant::now() + timeout)
                .map(|_| ())
        };
        probe.map_err(|p| {
            p.into_diagnostic("backend", &spec.bootstrap_server, &spec.topic, timeout)
        })?;
        Ok(KafkaOutput { producer, topics })
    }

    /// Sends event `i` of `frame`. Never gives up while the queue is full: failures are
    /// counted, and the report says what was not delivered.
    #[inline]
    pub(super) fn write(&mut self, frame: &Frame, i: usize) -> Result<(), String> {
        let topic = frame.events[i].topic as usize;
        // The server resolves new topics as events come; learn their names in order.
        while self.producer.topics().len() <= topic {
            let next = self.producer.topics().len();
            let name = self.topics.name(next as u32);
            if self.producer.topic(&name) != Some(next) {
                return Err(format!(
                    "topic `{name}` cannot be topic {next} of at most {MAX_TOPICS}"
                ));
            }
        }
        self.producer
            .send(topic, frame.key(i), frame.value(i), |_| Ok(()))
    }

    pub(super) fn poll(&self) {
        self.producer.poll();
    }

    pub(super) fn progress(&self) -> (u64, u64) {
        self.producer.counter().totals()
    }

    pub(super) fn finish(mut self) -> Delivery {
        self.producer.settle()
    }
}
