//! Kafka: def's one producer, shared by the `kafka` sink and the load backend's Kafka output.
//!
//! Both send JSON records to Kafka topics with the same librdkafka settings, partitioning,
//! backpressure and delivery accounting, so the client lives here once and each of them is a
//! thin adapter: the sink turns generated events into records ([`crate::sink::kafka`]), the
//! backend forwards the events it was posted (`crate::backend::output`).
//!
//! - `settings.rs`: def's librdkafka defaults ([`PRODUCER_DEFAULTS`]), overridden by the
//!   user's producer map.
//! - `partition.rs`: where a record goes within its topic ([`Partitioning`]); Kafka's murmur2
//!   for `case` ([`case_partition`]).
//! - `producer.rs`: the [`Producer`]: open, check the broker and topics within the connect
//!   timeout, send without ever dropping a record, poll, and settle into a
//!   [`crate::sink::Delivery`].
//!
//! Two related pieces live elsewhere on purpose: topic templates (`{node}`, `{group}`) are
//! resolved by [`resolve_topic`] in `config`, because `def validate` checks them in builds
//! without Kafka; and the delivery counts are a [`crate::sink::DeliveryCounter`], free of
//! librdkafka, so that other sinks with delivery reports can count the same way.
//!
//! The module is behind the `kafka` feature: librdkafka is a C library built from source.

mod partition;
mod producer;
mod settings;

pub use crate::config::resolve_topic;
pub use partition::{case_partition, Partitioning};
pub use producer::{Producer, SettingsError, TopicProblem};
pub use settings::PRODUCER_DEFAULTS;

#[cfg(test)]
mod tests {
    use super::resolve_topic;

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
}
