//! Helpers shared by the integration tests: the assembly line's datasource names, and for the
//! tests that talk to the real Kafka-compatible broker (`tests/kafka.rs`, `tests/backend.rs`):
//! finding the broker, naming and creating topics, and reading a topic back by assigning its
//! partitions (Tansu, the test broker, does not complete consumer-group joins).

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use futures_executor::block_on;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub const DEFAULT_BOOTSTRAP: &str = "127.0.0.1:19092";
/// How long no further record must come before a topic counts as read to its end.
pub const QUIET: Duration = Duration::from_millis(1500);
pub const NODES: [&str; 7] = [
    "GoodsDelivery",
    "MaterialPreparation",
    "AssemblyLineSetup",
    "Assembling",
    "QualityControl",
    "Packaging",
    "Shipping",
];

/// The broker's address, or `None` if the tests were asked to skip; panics if there is no
/// broker and nobody asked to skip.
pub fn broker() -> Option<String> {
    let address = std::env::var("DEF_KAFKA_BOOTSTRAP").unwrap_or(DEFAULT_BOOTSTRAP.to_string());
    let answers = address
        .to_socket_addrs()
        .map(|mut addrs| {
            addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
        })
        .unwrap_or(false);
    if answers {
        return Some(address);
    }
    if std::env::var("DEF_KAFKA_SKIP").is_ok_and(|v| v == "1") {
        eprintln!("skipped: no Kafka broker at {address} and DEF_KAFKA_SKIP=1");
        return None;
    }
    panic!(
        "no Kafka broker answers at {address}: run `scripts/broker.sh start` (or point \
         DEF_KAFKA_BOOTSTRAP at a broker), or set DEF_KAFKA_SKIP=1 to skip the Kafka tests"
    );
}

/// A topic-name prefix no other test or earlier run has used on this broker.
pub fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("deftest.{name}.{}.{nanos}", std::process::id())
}

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
