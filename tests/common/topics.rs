//! Topics on the test broker: creating them, and reading them back by assigning their
//! partitions (Tansu, the test broker, does not complete consumer-group joins).

use super::QUIET;
use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::time::{Duration, Instant};

pub fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("an admin client");
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = block_on(admin.create_topics([&new], &options)).expect("CreateTopics answered");
    for result in results {
        result.unwrap_or_else(|(t, e)| panic!("creating topic {t}: {e}"));
    }
}

pub struct Record {
    pub partition: i32,
    pub key: String,
    pub value: String,
    /// The record's Kafka timestamp (create time), in milliseconds.
    pub timestamp_ms: i64,
}

/// Reads the records of `topic` by assigning all its partitions from the beginning: until
/// `expected` have come, then on until none has come for [`QUIET`], so that a record too many
/// (a duplicate) would be read as well. Records are in offset order per partition.
///
/// Why not read up to the high watermarks: Tansu 0.6 reports each partition's high watermark
/// at the start of its last batch, not after it, so they undercount.
pub fn consume(bootstrap: &str, topic: &str, expected: usize) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        // librdkafka wants a group id even to assign; with assignment and no commits it
        // never joins the group.
        .set("group.id", "def-tests")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .expect("a consumer");
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("topic metadata");
    let partitions = metadata.topics()[0].partitions().len() as i32;
    assert!(partitions > 0, "topic {topic} has no partitions");
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&assignment).expect("assign");
    let mut records = Vec::with_capacity(expected);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = Instant::now();
    while records.len() < expected || last.elapsed() < QUIET {
        assert!(
            Instant::now() < deadline,
            "read {} of {expected} records of {topic} in 120 s",
            records.len()
        );
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                last = Instant::now();
                records.push(Record {
                    partition: m.partition(),
                    key: String::from_utf8(m.key().unwrap_or_default().to_vec()).unwrap(),
                    value: String::from_utf8(m.payload().unwrap_or_default().to_vec()).unwrap(),
                    timestamp_ms: m.timestamp().to_millis().unwrap_or(0),
                })
            }
            Some(Err(e)) => panic!("consuming {topic}: {e}"),
            None => {}
        }
    }
    records
}
